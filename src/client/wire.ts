/**
 * What the core asks of MQTT 5 without carrying it: a connection's codec (packets in the client's shapes to bytes
 * and back, topic aliases, the errors reason codes become) and the checks of the v5 options. The 3.1.1 codec is the
 * Link's own (the hot path stays direct); MQTT 5's (v5/) implements these and is loaded, by a dynamic import, only by
 * a client that asks for protocol version 5.
 */

import type { AuthPacket, ConnackPacket, DisconnectPacket, Packet, PacketProperties, PubackPacket, PublishPacket, PubrecPacket, SubackPacket } from "../mqtt/packets.js";
import type { AuthHandler } from "./auth/auth-handler.js";
import type { Sink } from "../mqtt/writer.js";
import type { ConnectError, ConnectionLostError, PublishError, SubscribeError } from "./errors.js";
import type { V5SubscriptionOptions } from "./subscription.js";

/** Encoder and incremental decoder of one connection. */
export interface WireCodec {
  /** Encodes a packet into `sink`; throws a ProtocolError and writes nothing for a packet it cannot encode. */
  write(packet: Packet, sink: Sink): void;
  /** Decodes a chunk from the server, calling `onPacket` for each whole packet; throws a ProtocolError on bad bytes. */
  feed(chunk: Uint8Array, onPacket: (packet: Packet) => void): void;
  /** The error of a refusing CONNACK. */
  connectError(ack: ConnackPacket): ConnectError;
  /** The error a server's DISCONNECT ends the connection with. */
  disconnectError(p: DisconnectPacket): ConnectionLostError;
  /** The error of a PUBACK or PUBREC with a failure reason. */
  publishRefused(topic: string, ack: PubackPacket | PubrecPacket): PublishError;
  /** The error of a SUBACK refusing `refused` filters. */
  subscribeRefused(refused: string[], ack: SubackPacket): SubscribeError;
  /** The PublishError for a PUBLISH larger than the server's Maximum Packet Size, else undefined. */
  tooLarge(packet: PublishPacket): PublishError | undefined;
}

/** A v5 client's options, checked, and what is built from them. */
export interface V5Api {
  /** A codec for a new connection. */
  wire(maxPacketSize: number): WireCodec;
  /** The CONNECT properties. */
  connectProperties(maxPacketSize: number): PacketProperties;
  /**
   * The PUBLISH properties of publish() options (OptionsError for a wrong one; undefined when there are none),
   * after refusing a message the connected server said it does not take (PublishError).
   */
  publishProperties(options: object | null | undefined, qos: 0 | 1 | 2, retain: boolean, size: number): PacketProperties | undefined;
  /** The v5 options of subscribe() (OptionsError for a wrong one); undefined when there are none. */
  subscriptionOptions(noLocal: unknown, retainAsPublished: unknown, retainHandling: unknown, subscriptionIdentifier: unknown): V5SubscriptionOptions | undefined;
  /** With followServerReference, the server the next attempt goes to after `reason` (a Server Reference), else undefined. */
  redirect(reason: Error | undefined, from: string): string | undefined;
  /** Starts the enhanced-authentication exchange of an attempt (ConnectError "authentication-failed" if start() throws). */
  authenticate(handler: AuthHandler): Promise<Authentication>;
  /** Starts a re-authentication with `handler`; `send` writes on the connection. */
  reauthenticate(handler: AuthHandler, send: (p: Packet) => void): Reauthentication;
}

/** The enhanced authentication of one connection attempt. */
export interface Authentication {
  /** Authentication Method and Data for CONNECT. */
  readonly connectProperties: PacketProperties;
  /** A server AUTH before CONNACK: answered through `send`, or `fail` with the error. */
  challenge(p: AuthPacket, send: (p: Packet) => void, fail: (err: Error) => void): void;
  /** The CONNACK's authentication data: resolves when the handler verified the server. */
  verify(data: Uint8Array | undefined): Promise<void>;
}

/** A re-authentication under way. */
export interface Reauthentication {
  /** Settles when the server accepted and was verified, or the exchange failed. */
  readonly done: Promise<void>;
  /** An AUTH from the server. */
  receive(p: AuthPacket): void;
  /** Ends it with `err` (the connection was lost). */
  fail(err: Error): void;
}
