/**
 * edgemq: the MQTT client core, 3.1.1 and 5.0 (connect, publish, subscribe, stores, transports). This file only re-exports.
 *
 * @example
 * ```ts
 * import { connect } from "edgemq";
 *
 * const client = await connect({ servers: ["mqtt://localhost:1883"], clientId: "gw-1" });
 * await client.publish("sensors/1/temp", "21.5", { qos: 1 });
 * await client.end();
 * ```
 *
 * @module edgemq
 */
export * from "./mqtt/index.js";
export { Client, connect, createClient, type ClientEvents, type ClientStats, type PublishOptions, type ResumeContext } from "./client/client.js";
export type { MessageProperties } from "./client/client-types.js";
export type { RequestOptions } from "./client/request.js";
export { scramAuth, type ScramAuthOptions, type ScramAuthHandler, type ScramMechanism } from "./client/auth/scram.js";
export type { AuthHandler } from "./client/auth/auth-handler.js";
export type { UserProperties } from "./client/options.js";
export type { Properties as V5Properties, UserProperty } from "./mqtt/v5/packets.js";
export type { AttemptSettings, Payload, ClientOptions, Credentials, WillOptions } from "./client/options.js";
export type { ReconnectOptions } from "./client/backoff.js";
export type { OfflineQueueOptions } from "./client/outbox.js";
export { Subscription, type Message, type SubscribeOptions, type V5SubscriptionOptions } from "./client/subscription.js";
export { systemClock, type Clock, type Random } from "./client/clock.js";
export { Emitter } from "./client/events.js";
export type { Listener } from "./client/events.js";
export type { Delivery } from "./client/inbound.js";
export type { BodyDecoder, BodyTable, PacketReader } from "./mqtt/reader.js";
export {
  ClientClosedError,
  ConnectError,
  ConnectionLostError,
  OptionsError,
  PublishError,
  SubscribeError,
  ClientWarning,
  ListenerError,
  RequestTimeoutError,
  type WarningCode,
  type ConnectErrorCode,
  type PublishErrorCode,
  type SubscribeErrorCode,
} from "./client/errors.js";
export { AuthError, type AuthErrorCode } from "./client/auth/auth-error.js";
export { MemoryStore } from "./store/memory.js";
export { FileStore, type FileStoreOptions } from "./store/file.js";
export { StoreError, type OutgoingRecord, type Store, type StoreSnapshot } from "./store/store.js";
export type { StoreErrorCode } from "./store/store.js";
export { tcpTransport, webSocketTransport } from "./transport/index.js";
export type {
  Connection,
  ConnectionHandlers,
  TlsOptions,
  Transport,
  TransportOptions,
  WebSocketConstructor,
  WebSocketLike,
} from "./transport/transport.js";
