/**
 * The MQTT 5 wire of one connection: the client's packets (3.1.1 shapes with v5 extras) to v5 bytes and back, and
 * the topic aliases, which belong to a connection (both maps start empty on each one). Outgoing, a topic gets an
 * alias while the server's Topic Alias Maximum has room, the least recently used one is reassigned after that, and a
 * topic sent again goes as its alias alone. Incoming, an alias is learnt from a PUBLISH that names both and resolved
 * for one that names only the alias; an alias beyond this client's maximum, or one never learnt, is a protocol error.
 * This module is loaded only by a client that asks for protocol version 5 (a 3.1.1 application never carries it).
 */

import { ProtocolError } from "../../mqtt/errors.js";
import type { Packet, PacketProperties, PublishPacket } from "../../mqtt/packets.js";
import { PublishError } from "../errors.js";
import { ClientDecoder5 } from "../../mqtt/v5/decode.js";
import { encodeClientPacket5, writeClientPacket5 } from "../../mqtt/v5/encode.js";
import type { Packet as Packet5, Properties } from "../../mqtt/v5/packets.js";
import type { Sink } from "../../mqtt/writer.js";
import type { WireCodec } from "../wire.js";
import { connectError, disconnectError, publishRefused, subscribeRefused } from "./errors5.js";
import { messageProperties } from "./properties5.js";

/** What a v5 wire is told when created. */
export interface Wire5Options {
  /** Largest packet accepted from the server (sent as Maximum Packet Size). */
  maxPacketSize: number;
  /** Most topic aliases the server may use towards this client (sent as Topic Alias Maximum). */
  topicAliasMaximum: number;
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

  constructor(private readonly options: Wire5Options) {
    this.decoder = new ClientDecoder5({ maxPacketSize: options.maxPacketSize });
  }

  /** Encodes a client packet as v5 into `sink`. */
  write(packet: Packet, sink: Sink): void {
    writeClientPacket5(this.outgoingPacket(packet), sink);
  }

  readonly connectError = connectError;
  readonly disconnectError = disconnectError;
  readonly publishRefused = publishRefused;
  readonly subscribeRefused = subscribeRefused;

  /** The PublishError for a PUBLISH larger than the server's Maximum Packet Size (its size as sent without an alias). */
  tooLarge(packet: PublishPacket): PublishError | undefined {
    const max = this.server.maximumPacketSize;
    if (max === undefined || packet.payload.length < max - 65_535 - 65_535) return undefined; // cannot be over: skip encoding
    const size = encodeClientPacket5({ ...packet, properties: packet.properties as Properties | undefined }).length;
    return size > max ? new PublishError("payload-too-large", `a PUBLISH of ${size} bytes on ${JSON.stringify(packet.topic)} exceeds the server's Maximum Packet Size (${max})`) : undefined;
  }

  /** Decodes bytes from the server into client packets. */
  feed(chunk: Uint8Array, onPacket: (packet: Packet) => void): void {
    this.decoder.feed(chunk, (p) => onPacket(this.incomingPacket(p)));
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
      case "connect":
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
      case "connack":
        this.aliasRoom = p.properties?.topicAliasMaximum ?? 0;
        this.server = { maximumQoS: p.properties?.maximumQoS, retainAvailable: p.properties?.retainAvailable, maximumPacketSize: p.properties?.maximumPacketSize };
        return { type: "connack", sessionPresent: p.sessionPresent, returnCode: p.reasonCode, properties: p.properties };
      case "publish": {
        const topic = this.resolve(p.topic, p.properties?.topicAlias);
        const message = p.properties ? messageProperties(p.properties) : undefined;
        return message ? { ...p, topic, messageProperties: message } : { ...p, topic };
      }
      case "suback":
        return { type: "suback", packetId: p.packetId, granted: p.reasonCodes.map((c) => (c < 0x80 ? (c as 0 | 1 | 2) : 0x80)), reasonCodes: p.reasonCodes, properties: p.properties };
      case "unsuback":
        return { type: "unsuback", packetId: p.packetId, reasonCodes: p.reasonCodes, properties: p.properties };
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
