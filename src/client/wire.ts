/**
 * A connection's codec when the client does not speak MQTT 3.1.1: packets in the client's shapes to bytes and
 * back. The 3.1.1 codec is the Link's own (the hot path stays direct); MQTT 5's (v5/wire5.ts) implements this and
 * is loaded only by a client that asks for protocol version 5.
 */

import type { ConnackPacket, DisconnectPacket, Packet, PacketProperties, PubackPacket, PubrecPacket, SubackPacket } from "../mqtt/packets.js";
import type { Sink } from "../mqtt/writer.js";
import type { ConnectError, ConnectionLostError, PublishError, SubscribeError } from "./errors.js";
import type { V5Options } from "./options-v5.js";

/** Encoder and incremental decoder of one connection. */
export interface WireCodec {
  /** Encodes a packet into `sink`; throws a ProtocolError and writes nothing for a packet it cannot encode. */
  write(packet: Packet, sink: Sink): void;
  /** Decodes a chunk from the server, calling `onPacket` for each whole packet; throws a ProtocolError on bad bytes. */
  feed(chunk: Uint8Array, onPacket: (packet: Packet) => void): void;
  /** The CONNECT properties for these options. */
  connectProperties(v5: V5Options, maxPacketSize: number): PacketProperties;
  /** The error of a refusing CONNACK. */
  connectError(ack: ConnackPacket): ConnectError;
  /** The error a server's DISCONNECT ends the connection with. */
  disconnectError(p: DisconnectPacket): ConnectionLostError;
  /** The error of a PUBACK or PUBREC with a failure reason. */
  publishRefused(topic: string, ack: PubackPacket | PubrecPacket): PublishError;
  /** The error of a SUBACK refusing `refused` filters. */
  subscribeRefused(refused: string[], ack: SubackPacket): SubscribeError;
}
