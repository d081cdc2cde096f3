/**
 * What the core asks of MQTT 5 without carrying it. A client that asks for protocol version 5 loads, by a dynamic
 * import, its MQTT 5 half (v5/client5.ts): one object per client that implements V5Client below, and a codec per
 * connection (WireCodec). The core keeps only the call sites (`this.v5?.…`); a 3.1.1 application neither loads nor
 * bundles any of it, and its hot path stays direct (the Link's own 3.1.1 codec).
 */

import type { Packet, PacketProperties, SubackPacket } from "../mqtt/packets.js";
import type { Sink } from "../mqtt/writer.js";
import type { Client } from "./client.js";
import type { ConnectionLifecycle } from "./connection.js";
import type { ClientWarning, SubscribeError } from "./errors.js";
import type { Link } from "./link.js";
import type { Payload, ResolvedOptions } from "./options.js";
import type { CheckedPublish } from "./arguments.js";
import type { RequestOptions } from "./request.js";
import type { Session } from "./session.js";
import type { Message, V5SubscriptionOptions } from "./subscription.js";

/** Encoder and incremental decoder of one connection. */
export interface WireCodec {
  /** Encodes a packet into `sink`; throws a ProtocolError and writes nothing for a packet it cannot encode. */
  write(packet: Packet, sink: Sink): void;
  /**
   * Decodes a chunk from the server, calling `onPacket` for each whole packet (perhaps later: an accepting CONNACK
   * and what follows it wait until enhanced authentication verified the server); throws a ProtocolError on bad bytes.
   * A refusing CONNACK fails `link` with its ConnectError instead of reaching the client.
   */
  feed(chunk: Uint8Array, onPacket: (packet: Packet) => void, link: Link): void;
}

/** The parts of a client its MQTT 5 half works with. */
export interface ClientParts {
  client: Client;
  /** Reports a warning as the client does (its "warning" event, else printed once). */
  warn(warning: ClientWarning): void;
  session: Session;
  conn: ConnectionLifecycle;
  o: ResolvedOptions;
}

/** A v5 client's MQTT 5 half: its options (checked when loaded), and what it adds to the client's methods and flows. */
export interface V5Client {
  /** The codec of a new connection attempt to `server` (enhanced authentication started). */
  wire(server: string): Promise<WireCodec>;
  /** publish() with MQTT 5 properties (checked), refused before sending when the server said it does not take it. */
  publish(topic: string, p: CheckedPublish, options: object | null | undefined): Promise<void>;
  /** The MQTT 5 options of subscribe() (OptionsError for a wrong one); undefined when there are none. */
  subscriptionOptions(options: object | null | undefined): V5SubscriptionOptions | undefined;
  /** The filters of a resubscribe, one SUBSCRIBE per subscription identifier (at most 64 filters each). */
  batches<T extends V5SubscriptionOptions>(filters: T[]): T[][];
  /** The SubscribeError of a SUBACK refusing `refused` filters, with its reason codes. */
  subscribeRefused(refused: string[], ack: SubackPacket): SubscribeError;
  /** A packet for MQTT 5 alone (a server's DISCONNECT, AUTH): handled, true; else false. */
  handle(link: Link, p: Packet): boolean;
  /** The DISCONNECT properties of end({ sessionExpiryInterval }) (OptionsError for a wrong value). */
  disconnect(sessionExpiryInterval: unknown): PacketProperties;
  /** See Client.request(). */
  request(topic: string, payload: Payload, options: RequestOptions | null | undefined): Promise<Message>;
  /** See Client.reauthenticate(). */
  reauthenticate(): Promise<void>;
  /** The connection ended: a re-authentication under way fails. */
  lost(): void;
  /** The client closed: pending requests reject with `reason`. */
  close(reason: Error): void;
}
