/** Client options: their types, defaults and validation. */

import type { QoS } from "../mqtt/packets.js";
import { assertTopicName } from "../mqtt/topic.js";
import { MemoryStore } from "../store/memory.js";
import type { Store } from "../store/store.js";
import type { TlsOptions, Transport, WebSocketConstructor } from "../transport/transport.js";
import { transportFor } from "../transport/index.js";
import type { ReconnectOptions } from "./backoff.js";
import { systemClock, type Clock, type Random } from "./clock.js";
import { OptionsError } from "./errors.js";
import type { OfflineQueueOptions } from "./outbox.js";

/** What a beforeConnect hook may change for one connection attempt. */
export interface AttemptSettings {
  /** Fresh user name (e.g. a rotated identity). */
  username?: string;
  /** Fresh password or token. */
  password?: string | Uint8Array;
  /** Clean session flag for this attempt (e.g. clean only until a first handshake completed). */
  clean?: boolean;
  /** TLS settings for this attempt (e.g. a renewed client certificate). */
  tls?: TlsOptions;
}

/** The credentials part of AttemptSettings (kept as its own name for readability). */
export type Credentials = AttemptSettings;

/** The will message: published by the broker if the client disappears without DISCONNECT. */
export interface WillOptions {
  topic: string;
  payload: string | Uint8Array;
  qos?: QoS;
  retain?: boolean;
}

/** Options of connect() and createClient(). */
export interface ClientOptions {
  /** Broker URL: mqtt://, mqtts://, ws:// or wss://. */
  url?: string;
  /** Failover list, tried in order; used instead of url. */
  servers?: string[];
  /** Client identifier. Default: random. "" is allowed only with clean: true (the broker assigns one). */
  clientId?: string;
  /** true (default): the broker starts a fresh session; false: a persistent session resumed on reconnect. */
  clean?: boolean;
  /** Keepalive interval in seconds; 0 disables. Default 30. */
  keepalive?: number;
  /** User name for the broker. */
  username?: string;
  /** Password for the broker (requires username in MQTT 3.1.1). */
  password?: string | Uint8Array;
  /** The will message. */
  will?: WillOptions;
  /** TLS settings for mqtts:// and wss://; certificate verification is on by default. */
  tls?: TlsOptions;
  /** Reconnect timing, or false to never reconnect after a drop. */
  reconnect?: ReconnectOptions | false;
  /** Milliseconds to wait for the transport and CONNACK. Default 30,000. */
  connectTimeout?: number;
  /** Where in-flight QoS 1/2 state lives. Default: a new MemoryStore. */
  store?: Store;
  /** Outgoing QoS 1/2 messages awaiting acks at once; more wait in the queue. Default 20 (brokers such as mosquitto drop QoS 2 beyond their own in-flight limit, 20 by default). */
  maxInflight?: number;
  /** Bounds of the queue of messages waiting to be sent. */
  offlineQueue?: OfflineQueueOptions;
  /** Largest inbound packet in bytes, refused from its fixed header. Default 1 MiB. */
  maxPacketSize?: number;
  /** Largest outbound PUBLISH packet in bytes; larger publishes reject with "payload-too-large". Default 268,435,460. */
  maxOutgoingPacketSize?: number;
  /** true: incoming QoS 1/2 messages are acknowledged only when msg.ack() is called. Default false. */
  manualAck?: boolean;
  /** Called before every connection attempt (attempt 0 first); may return fresh credentials or a clean flag. */
  beforeConnect?: (attempt: number) => AttemptSettings | void | Promise<AttemptSettings | void>;
  /** Milliseconds end() waits for in-flight acks before disconnecting. Default 10,000. */
  endTimeout?: number;
  /** Milliseconds a SUBSCRIBE or UNSUBSCRIBE may wait for its ack; then it rejects with code "request-timeout". Default 30,000. */
  requestTimeout?: number;
  /** true: connect() keeps retrying with the reconnect backoff until the first CONNACK (or end()). Default false. */
  waitOnFirstConnect?: boolean;
  /** WebSocket constructor for ws:// and wss:// on runtimes without a global WebSocket (Node 20). */
  webSocket?: WebSocketConstructor;
  /** Replaces the built-in transports (tests inject scripted brokers and faults this way). */
  transport?: Transport;
  /** Time source and timers (tests use a fake clock). */
  clock?: Clock;
  /** Random source for jitter and the default client id. */
  random?: Random;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  /** Broker URLs, validated and normalised (parsed again per attempt: a URL object costs ~160 bytes to keep). */
  servers: string[];
  clientId: string;
  clean: boolean;
  keepalive: number;
  username: string | undefined;
  password: Uint8Array | undefined;
  will: { topic: string; payload: Uint8Array; qos: QoS; retain: boolean } | undefined;
  tls: TlsOptions | undefined;
  reconnect: ReconnectOptions | false;
  connectTimeout: number;
  store: Store;
  maxInflight: number;
  offlineQueue: OfflineQueueOptions;
  maxPacketSize: number;
  maxOutgoingPacketSize: number;
  manualAck: boolean;
  beforeConnect: ClientOptions["beforeConnect"];
  endTimeout: number;
  requestTimeout: number;
  waitOnFirstConnect: boolean;
  webSocket: WebSocketConstructor | undefined;
  transport: Transport | undefined;
  clock: Clock;
  random: Random;
}

const encoder = new TextEncoder();

/** Shared defaults object: every field falls back to its default in Outbox. */
const NO_QUEUE_OPTIONS: OfflineQueueOptions = Object.freeze({});

/** Bytes of a string or byte payload. */
export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/** Applies defaults and checks every option; throws OptionsError naming the option. */
export function resolveOptions(o: ClientOptions): ResolvedOptions {
  const random = o.random ?? Math.random;
  const urls = o.servers && o.servers.length > 0 ? o.servers : o.url ? [o.url] : [];
  if (urls.length === 0) throw new OptionsError("url (or servers) is required");
  const servers = urls.map((u) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new OptionsError(`invalid broker URL ${JSON.stringify(u)}`);
    }
    if (!o.transport && !transportFor(url)) throw new OptionsError(`unsupported URL scheme ${url.protocol} (use mqtt:, mqtts:, ws: or wss:)`);
    return url.href;
  });
  const clean = o.clean ?? true;
  const clientId = o.clientId ?? `edgemq-${Math.floor(random() * 2 ** 48).toString(36)}`;
  checkEmptyClientId(clientId, clean);
  const keepalive = o.keepalive ?? 30;
  integer("keepalive", keepalive, 0, 65_535);
  if (o.password !== undefined && o.username === undefined) {
    throw new OptionsError("password requires username in MQTT 3.1.1");
  }
  let will: ResolvedOptions["will"];
  if (o.will) {
    try {
      assertTopicName(o.will.topic);
    } catch (err) {
      throw new OptionsError(`will.topic: ${(err as Error).message}`);
    }
    will = { topic: o.will.topic, payload: toBytes(o.will.payload), qos: o.will.qos ?? 0, retain: o.will.retain ?? false };
    if (![0, 1, 2].includes(will.qos)) throw new OptionsError("will.qos must be 0, 1 or 2");
  }
  // 20 = mosquitto's default max_inflight_messages: it silently drops incoming QoS 2 messages beyond it.
  const maxInflight = o.maxInflight ?? 20;
  integer("maxInflight", maxInflight, 1, 65_535);
  const connectTimeout = o.connectTimeout ?? 30_000;
  integer("connectTimeout", connectTimeout, 1, 2 ** 31 - 1);
  const requestTimeout = o.requestTimeout ?? 30_000;
  integer("requestTimeout", requestTimeout, 1, 2 ** 31 - 1);
  if (o.waitOnFirstConnect && o.reconnect === false) throw new OptionsError("waitOnFirstConnect retries with the reconnect backoff: it cannot be used with reconnect: false");
  const maxPacketSize = o.maxPacketSize ?? 1 << 20;
  integer("maxPacketSize", maxPacketSize, 16, 268_435_460);
  const maxOutgoingPacketSize = o.maxOutgoingPacketSize ?? 268_435_460;
  integer("maxOutgoingPacketSize", maxOutgoingPacketSize, 16, 268_435_460);
  const queue = o.offlineQueue ?? NO_QUEUE_OPTIONS;
  if (queue.maxMessages !== undefined) integer("offlineQueue.maxMessages", queue.maxMessages, 0, Number.MAX_SAFE_INTEGER);
  if (queue.maxBytes !== undefined) integer("offlineQueue.maxBytes", queue.maxBytes, 0, Number.MAX_SAFE_INTEGER);
  if (queue.overflow !== undefined && queue.overflow !== "reject" && queue.overflow !== "drop-oldest") {
    throw new OptionsError('offlineQueue.overflow must be "reject" or "drop-oldest"');
  }
  if (o.reconnect) {
    const r = o.reconnect;
    if (r.initialDelay !== undefined) integer("reconnect.initialDelay", r.initialDelay, 0, 2 ** 31 - 1);
    if (r.maxDelay !== undefined) integer("reconnect.maxDelay", r.maxDelay, 0, 2 ** 31 - 1);
    if (r.multiplier !== undefined && !(r.multiplier >= 1)) throw new OptionsError("reconnect.multiplier must be >= 1");
    if (r.jitter !== undefined && !(r.jitter >= 0 && r.jitter <= 1)) throw new OptionsError("reconnect.jitter must be in 0..1");
  }
  return {
    servers,
    clientId,
    clean,
    keepalive,
    username: o.username,
    password: o.password === undefined ? undefined : toBytes(o.password),
    will,
    tls: o.tls,
    reconnect: o.reconnect === false ? false : (o.reconnect ?? {}),
    connectTimeout,
    store: o.store ?? new MemoryStore(),
    maxInflight,
    offlineQueue: queue,
    maxPacketSize,
    maxOutgoingPacketSize,
    manualAck: o.manualAck ?? false,
    beforeConnect: o.beforeConnect,
    endTimeout: o.endTimeout ?? 10_000,
    requestTimeout,
    waitOnFirstConnect: o.waitOnFirstConnect === true,
    webSocket: o.webSocket,
    transport: o.transport,
    clock: o.clock ?? systemClock,
    random,
  };
}

/** Throws OptionsError for an empty client id with clean: false (also checked per attempt, where beforeConnect may set clean). */
export function checkEmptyClientId(clientId: string, clean: boolean): void {
  if (clientId === "" && !clean) throw new OptionsError('clientId "" requires clean: true (MQTT 3.1.1 section 3.1.3.1)');
}

function integer(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(`${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}
