/**
 * The MQTT 5 wire of one connection: the client's packets (3.1.1 shapes with v5 extras) to v5 bytes and back, the
 * topic aliases, which belong to a connection (both maps start empty on each one), and the connection's enhanced
 * authentication. Outgoing, a topic gets an alias while the server's Topic Alias Maximum has room, the least recently
 * used one is reassigned after that, and a topic sent again goes as its alias alone. Incoming, an alias is learnt
 * from a PUBLISH that names both and resolved for one that names only the alias; an alias beyond this client's
 * maximum, or one never learnt, is a protocol error. With an auth handler, the server's AUTH challenges before the
 * CONNACK are answered here, and an accepting CONNACK, with everything behind it, reaches the client only once the
 * handler verified the server: nothing is sent or delivered before.
 * This module is loaded only by a client that asks for protocol version 5 (a 3.1.1 application never carries it).
 */

import { ProtocolError } from "../../mqtt/errors.js";
import type { AuthPacket, ConnackPacket, Packet, PacketProperties, PublishPacket } from "../../mqtt/packets.js";
import { show } from "../../mqtt/show.js";
import type { AuthHandler } from "../auth/auth-handler.js";
import { PublishError, type ConnectError } from "../errors.js";
import type { Link } from "../link.js";
import { ClientDecoder5 } from "../../mqtt/v5/decode.js";
import { encodeClientPacket5, writeClientPacket5 } from "../../mqtt/v5/encode.js";
import type { Packet as Packet5, Properties } from "../../mqtt/v5/packets.js";
import type { Sink } from "../../mqtt/writer.js";
import type { WireCodec } from "../wire.js";
import { authProperties, step } from "./auth5.js";
import { InboundQuota, sendDisconnectFor } from "./inbound5.js";
import { connectError, publishRefused, unsubscribeRefused } from "./errors5.js";
import { messageProperties } from "./properties5.js";

/** What a v5 wire is told when created. */
export interface Wire5Options {
  /** The server this connection goes to (a Server Reference may be relative to it). */
  server: string;
  /** Largest packet accepted from the server (sent as Maximum Packet Size). */
  maxPacketSize: number;
  /** Most topic aliases the server may use towards this client (sent as Topic Alias Maximum). */
  topicAliasMaximum: number;
  /** Most QoS 1/2 messages the server may send before this client answers them (sent as Receive Maximum). */
  receiveMaximum: number;
  /** The server went beyond the Receive Maximum (once per connection; its messages are taken all the same). */
  beyondReceiveMaximum(message: string): void;
  /** The CONNECT properties (with the Authentication Method and first Data when authenticating). */
  connectProperties: PacketProperties;
  /** The enhanced-authentication handler of this attempt (its start() already ran), if any. */
  auth?: AuthHandler;
  /** An accepting CONNACK is about to reach the client (its window follows the server's Receive Maximum). */
  accepting(ack: ConnackPacket): void;
  /** The client took an accepting CONNACK (the server may have set the keepalive). */
  accepted(ack: ConnackPacket): void;
  /** The error a refusing CONNACK fails the attempt with (a Server Reference may name the next attempt's server). */
  refused(err: ConnectError): ConnectError;
}

/** Topics shorter than this are sent as they are: an alias (3 bytes of property) would save nothing. */
const ALIAS_FROM_LENGTH = 4;

/** One connection's v5 codec. */
export class Wire5 implements WireCodec {
  private readonly decoder: ClientDecoder5;
  /** The server's Topic Alias Maximum (from its CONNACK): 0 until then, or when it takes none. */
  private aliasRoom = 0;
  /** What the server's CONNACK said it takes (fields it did not send are absent). */
  server: { maximumQoS?: 0 | 1; retainAvailable?: boolean; maximumPacketSize?: number } = {};
  /** Outgoing: topic -> alias, in least-recently-used order (a Map keeps insertion order; a use re-inserts). */
  private readonly outgoing = new Map<string, number>();
  /** Incoming: alias -> topic. */
  private readonly incoming = new Map<number, string>();

  /** After an accepting CONNACK under enhanced authentication: it and what follows, until the server is verified. */
  private held: Packet[] | undefined;
  /** Whether the CONNACK came (the first one is this wire's to handle). */
  private connacked = false;
  /** Whether the server still has to prove itself (enhanced authentication, until the CONNACK's data verifies). */
  private authenticating: boolean;
  readonly connectProperties: PacketProperties;
  /** The server this connection goes to. */
  readonly url: string;

  /** The client's Receive Maximum, enforced on what the server sends. */
  private readonly quota: InboundQuota;

  constructor(private readonly options: Wire5Options) {
    this.url = options.server;
    this.quota = new InboundQuota(options.receiveMaximum, options.beyondReceiveMaximum);
    this.decoder = new ClientDecoder5({ maxPacketSize: options.maxPacketSize });
    this.connectProperties = options.connectProperties;
    this.authenticating = options.auth !== undefined;
  }

  /** Encodes a client packet as v5 into `sink` (CONNECT with this client's properties). */
  write(packet: Packet, sink: Sink): void {
    writeClientPacket5(packet.type === "connect" ? { ...packet, properties: this.connectProperties as Properties } : this.outgoingPacket(packet), sink);
    this.quota.sent(packet);
  }

  /** The PublishError for a PUBLISH larger than the server's Maximum Packet Size (its size as sent without an alias). */
  tooLarge(packet: PublishPacket): PublishError | undefined {
    const max = this.server.maximumPacketSize;
    if (max === undefined || packet.payload.length < max - 65_535 - 65_535) return undefined; // cannot be over: skip encoding
    const size = encodeClientPacket5({ ...packet, properties: packet.properties as Properties | undefined }).length;
    return size > max ? new PublishError("payload-too-large", `a PUBLISH of ${size} bytes on ${JSON.stringify(packet.topic)} exceeds the server's Maximum Packet Size (${max})`) : undefined;
  }

  /**
   * Decodes bytes from the server into client packets (held while the server is being verified). A protocol error
   * found after the CONNACK is told to the server first: DISCONNECT with its reason code, then the connection fails.
   */
  feed(chunk: Uint8Array, onPacket: (packet: Packet) => void, link: Link): void {
    try {
      this.decoder.feed(chunk, (p5) => {
        const p = this.incomingPacket(p5);
        if (this.held) this.held.push(p);
        else if (p.type === "connack") {
          if (this.connacked) throw new ProtocolError("unexpected-packet-type", "the broker sent a second CONNACK");
          this.connack(p, onPacket, link);
        }
        else if (this.authenticating && p.type === "auth") this.challenge(p, link);
        else onPacket(p);
      });
    } catch (err) {
      if (err instanceof ProtocolError && this.connacked) sendDisconnectFor(link, err);
      throw err;
    }
  }

  /**
   * A CONNACK: a refusing one fails the attempt with its reason (nothing behind it reaches the client); an accepting
   * one reaches the client, under enhanced authentication once the handler verified the server (its Authentication
   * Data), with everything that came behind it held until then. A server that cannot prove itself is ConnectError
   * "authentication-failed".
   */
  private connack(ack: ConnackPacket, onPacket: (packet: Packet) => void, link: Link): void {
    this.connacked = true;
    if (ack.returnCode !== 0) {
      link.fail(this.options.refused(connectError(ack)));
      return;
    }
    const accept = (behind: Packet[]) => {
      this.options.accepting(ack);
      onPacket(ack);
      this.options.accepted(ack);
      for (const p of behind) onPacket(p);
    };
    if (!this.authenticating) return accept([]);
    const held: Packet[] = (this.held = []);
    const handler = this.options.auth!;
    step(async () => handler.done?.(ack.properties?.authenticationData)).then(
      () => {
        this.held = undefined;
        this.authenticating = false;
        accept(held);
      },
      (err: Error) => link.fail(err),
    );
  }

  /** A server AUTH before the CONNACK: answered by the handler, or the connection fails. */
  private challenge(p: AuthPacket, link: Link): void {
    const handler = this.options.auth!;
    if (p.reasonCode !== 0x18 || p.properties?.authenticationMethod !== handler.method) {
      link.fail(new ProtocolError("unexpected-packet-type", `the broker sent AUTH 0x${p.reasonCode.toString(16)} for method ${show(p.properties?.authenticationMethod)} while authenticating with ${handler.method}`));
      return;
    }
    step(() => handler.next(p.properties?.authenticationData)).then(
      (data) => link.send({ type: "auth", reasonCode: 0x18, properties: authProperties(handler, data) }),
      (err: Error) => link.fail(err),
    );
  }

  private outgoingPacket(p: Packet): Packet5 {
    switch (p.type) {
      case "publish":
        // The same shape in v5: copied only when an alias changes its topic or properties.
        return this.aliasRoom === 0 || p.topic.length < ALIAS_FROM_LENGTH ? (p as Packet5) : { ...p, ...this.aliased(p.topic, p.properties) };
      case "puback":
      case "pubrec":
      case "pubrel":
      case "pubcomp":
        return { type: p.type, packetId: p.packetId, reasonCode: p.reasonCode ?? 0, properties: p.properties as Properties | undefined };
      case "disconnect":
      case "auth":
        return { type: p.type, reasonCode: p.reasonCode ?? 0, properties: p.properties as Properties | undefined };
      case "subscribe": {
        // One Subscription Identifier per SUBSCRIBE: the client groups filters by it.
        const id = p.subscriptions[0]?.subscriptionIdentifier;
        const subscriptions = p.subscriptions.map(({ subscriptionIdentifier: _id, ...request }) => request);
        return { type: "subscribe", packetId: p.packetId, subscriptions, properties: id === undefined ? (p.properties as Properties | undefined) : { ...p.properties, subscriptionIdentifier: id } };
      }
      case "unsubscribe":
      case "pingreq":
        return p as Packet5;
      default:
        throw new ProtocolError("unexpected-packet-type", `a client does not send ${p.type.toUpperCase()}`);
    }
  }

  /** The topic and properties a PUBLISH goes out with: as it is, with a new alias, or as its alias alone. */
  private aliased(topic: string, properties: PacketProperties | undefined): { topic: string; properties: Properties | undefined } {
    const props = properties as Properties | undefined;
    if (this.aliasRoom === 0 || topic.length < ALIAS_FROM_LENGTH) return { topic, properties: props };
    const known = this.outgoing.get(topic);
    if (known !== undefined) {
      this.outgoing.delete(topic);
      this.outgoing.set(topic, known);
      return { topic: "", properties: { ...props, topicAlias: known } };
    }
    let alias = this.outgoing.size + 1;
    if (alias > this.aliasRoom) {
      // Reassign the least recently used alias to this topic.
      const [oldest, reused] = this.outgoing.entries().next().value as [string, number];
      this.outgoing.delete(oldest);
      alias = reused;
    }
    this.outgoing.set(topic, alias);
    return { topic, properties: { ...props, topicAlias: alias } };
  }

  private incomingPacket(p: Packet5): Packet {
    switch (p.type) {
      case "connack": {
        this.aliasRoom = p.properties?.topicAliasMaximum ?? 0;
        this.server = { maximumQoS: p.properties?.maximumQoS, retainAvailable: p.properties?.retainAvailable, maximumPacketSize: p.properties?.maximumPacketSize };
        return { type: "connack", sessionPresent: p.sessionPresent, returnCode: p.reasonCode, properties: p.properties };
      }
      case "publish": {
        this.quota.received(p.qos, p.packetId);
        const topic = this.resolve(p.topic, p.properties?.topicAlias);
        const message = p.properties ? messageProperties(p.properties) : undefined;
        return message ? { ...p, topic, messageProperties: message } : { ...p, topic };
      }
      case "puback":
      case "pubrec":
        // A failure reason ends the message (publish-refused); a refused QoS 2 exchange ends there, without PUBREL.
        if (p.reasonCode < 0x80) return p as Packet;
        return { type: "puback", packetId: p.packetId, reasonCode: p.reasonCode, properties: p.properties, refused: (topic) => publishRefused(topic, p) };
      case "suback":
        return { type: "suback", packetId: p.packetId, granted: p.reasonCodes.map((c) => (c < 0x80 ? (c as 0 | 1 | 2) : 0x80)), reasonCodes: p.reasonCodes, properties: p.properties };
      case "unsuback": {
        const ack: Packet = { type: "unsuback", packetId: p.packetId, reasonCodes: p.reasonCodes, properties: p.properties };
        if (p.reasonCodes.some((c) => c >= 0x80)) ack.refused = (filters) => unsubscribeRefused(filters, ack);
        return ack;
      }
      default:
        return p as Packet;
    }
  }

  /** The topic of an incoming PUBLISH, learning or resolving its alias. */
  private resolve(topic: string, alias: number | undefined): string {
    if (alias === undefined) return topic;
    if (alias > this.options.topicAliasMaximum) {
      throw new ProtocolError("invalid-topic-alias", `the server used topic alias ${alias}, beyond this client's Topic Alias Maximum (${this.options.topicAliasMaximum})`);
    }
    if (topic !== "") {
      this.incoming.set(alias, topic);
      return topic;
    }
    const known = this.incoming.get(alias);
    if (known === undefined) throw new ProtocolError("invalid-topic-alias", `the server used topic alias ${alias} before giving its topic`);
    return known;
  }
}
