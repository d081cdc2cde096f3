/** Client options: their types, defaults and validation. */

import type { QoS } from "../mqtt/packets.js";
import { EdgemqError } from "../mqtt/errors.js";
import { show } from "../mqtt/show.js";
import { assertTopicName } from "../mqtt/topic.js";
import { checkString, utf8Length } from "../mqtt/utf8.js";
import { MemoryStore } from "../store/memory.js";
import type { Store } from "../store/store.js";
import type { TlsOptions, Transport, WebSocketConstructor } from "../transport/transport.js";
import { unsupportedScheme } from "../transport/index.js";
import type { ReconnectOptions } from "./backoff.js";
import type { ResumeContext } from "./client-types.js";
import { systemClock, type Clock, type Random } from "./clock.js";
import { OptionsError } from "./errors.js";
import { fields, given, integer, ofType, toBytes } from "./checks.js";
import type { OfflineQueueOptions } from "./outbox.js";
import type { AuthHandler } from "./auth/auth-handler.js";

/** User properties as the API takes and gives them: a repeated key is an array of its values. */
export type UserProperties = Record<string, string | string[]>;

/** What a beforeConnect hook may change for one connection attempt. */
export interface AttemptSettings {
  /** Fresh user name (e.g. a rotated identity). */
  username?: string;
  /** Fresh password or token. */
  password?: Payload;
  /** Clean session flag for this attempt (e.g. clean only until a first handshake completed). */
  clean?: boolean;
  /** TLS settings for this attempt (e.g. a renewed client certificate). */
  tls?: TlsOptions;
}

/** The credentials part of AttemptSettings (kept as its own name for readability). */
export type Credentials = AttemptSettings;

/** The will message: published by the broker if the client disappears without DISCONNECT. */
export interface WillOptions {
  /** Topic the will message is published to. */
  topic: string;
  /** Text (as UTF-8) or bytes, at most 65,535 of them. */
  payload: Payload;
  /** QoS of the will message. Default 0. */
  qos?: QoS;
  /** Whether the broker retains the will message. Default false. */
  retain?: boolean;
}

/** Options of connect() and createClient(). */
export interface ClientOptions {
  /** Broker URL: mqtt://, mqtts://, ws:// or wss://. */
  url?: string;
  /** Failover list, tried in order; used instead of url. */
  servers?: string[];
  /**
   * Client identifier. Default: random. "" lets the broker assign one: under MQTT 3.1.1 only with clean: true; under
   * MQTT 5 with either, and `client.clientId` is then the CONNACK's Assigned Client Identifier (used by reconnects).
   */
  clientId?: string;
  /** true (default): the broker starts a fresh session; false: a persistent session resumed on reconnect. */
  clean?: boolean;
  /** Keepalive interval in seconds; 0 disables. Default 30. */
  keepalive?: number;
  /** User name for the broker. */
  username?: string;
  /** Password for the broker (requires username in MQTT 3.1.1): text (as UTF-8) or bytes. */
  password?: Payload;
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
  /**
   * Runs after every accepted CONNACK, before unacknowledged messages are sent again and queued ones sent: what it
   * publishes through its argument goes first, everything else waits until the promise it returns settles (see
   * ResumeContext). A rejection is reported as an "error" and the connection is dropped (and retried).
   */
  beforeResume?: (resume: ResumeContext) => void | Promise<void>;
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
  /** MQTT protocol version: 4 (3.1.1, default) or 5. */
  protocolVersion?: 4 | 5;
  /** MQTT 5: seconds the broker keeps the session after the connection ends (0: ends with it). */
  sessionExpiryInterval?: number;
  /** MQTT 5: most QoS 1/2 messages the server may send before this client acknowledges them. Default 65,535. */
  receiveMaximum?: number;
  /** MQTT 5: most topic aliases the server may use towards this client. Default 0 (none). */
  topicAliasMaximum?: number;
  /** MQTT 5: user properties of CONNECT. */
  userProperties?: UserProperties;
  /** MQTT 5: enhanced authentication, e.g. scramAuth({ username, password, mechanism: "SCRAM-SHA-256" }). */
  auth?: AuthHandler;
  /** MQTT 5: follow a server's Server Reference ("use another server", "server moved") on the next attempt. Default false. */
  followServerReference?: boolean;
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
  beforeResume: ClientOptions["beforeResume"];
  endTimeout: number;
  requestTimeout: number;
  waitOnFirstConnect: boolean;
  webSocket: WebSocketConstructor | undefined;
  transport: Transport | undefined;
  clock: Clock;
  random: Random;
  /**
   * The options as given, for an MQTT 5 client's v5 half to check when it loads (a wrong v5 option then rejects
   * connect(), publish() and subscribe()); undefined for an MQTT 3.1.1 client.
   */
  v5: Record<string, unknown> | undefined;
}


/** Shared defaults object: every field falls back to its default in Outbox. */
const NO_QUEUE_OPTIONS: OfflineQueueOptions = Object.freeze({});

/** What publish() takes as a payload (and the will payload and password): text as UTF-8, or bytes. */
export type Payload = string | Uint8Array | ArrayBuffer | ArrayBufferView;





/** Options whose type is all that is checked here (undefined and null: not given). */
const TYPES: Record<string, string> = {
  clean: "boolean",
  manualAck: "boolean",
  waitOnFirstConnect: "boolean",
  beforeConnect: "function",
  beforeResume: "function",
  webSocket: "function",
  transport: "function",
  tls: "object",
  will: "object",
  offlineQueue: "object",
};

/** Checks a user name and password (of the options or of a beforeConnect result); returns the password's bytes. */
function credentials(where: string, username: unknown, password: unknown): Uint8Array | undefined {
  if (given(username) && (typeof username !== "string" || checkString(username) || utf8Length(username) > 0xffff)) {
    throw new OptionsError(`${where}username must be a valid MQTT string`);
  }
  return given(password) ? connectBytes(`${where}password`, password) : undefined;
}

/** Bytes of a binary CONNECT field (will payload, password): a string or bytes of at most 65,535 bytes. */
function connectBytes(name: string, value: unknown): Uint8Array {
  const bytes = toBytes(value);
  if (!bytes || bytes.length > 0xffff) throw new OptionsError(`${name} must be a string or bytes (at most 65,535), not ${show(value)}`);
  return bytes;
}

/** What a beforeConnect hook returned, checked like the options (OptionsError names what is wrong). */
export function checkAttempt(settings: unknown): Omit<AttemptSettings, "password"> & { password?: Uint8Array } {
  const [username, password, clean, tls] = fields("beforeConnect's result", settings, "username", "password", "clean", "tls");
  ofType("clean", clean, "boolean");
  ofType("tls", tls, "object");
  return { username, clean, tls, password: credentials("beforeConnect's ", username, password) } as AttemptSettings & { password?: Uint8Array };
}

const STORE_METHODS = ["open", "putOutgoing", "updateOutgoing", "deleteOutgoing", "putIncoming", "deleteIncoming", "clearIncoming", "close"];

/**
 * Applies defaults and checks every option; throws OptionsError naming the option. An option that is undefined or
 * null takes its default. Anything thrown while reading the options (a getter, a Proxy) becomes an OptionsError
 * with the throw as its cause.
 */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  try {
    return resolve(options);
  } catch (err) {
    throw err instanceof EdgemqError ? err : new OptionsError("the options could not be read", err);
  }
}

function resolve(o: ClientOptions): ResolvedOptions {
  if (!given(o) || typeof o !== "object") throw new OptionsError(`the options must be an object, not ${show(o)}`);
  for (const name in TYPES) ofType(name, o[name as keyof ClientOptions], TYPES[name]!);
  const random = o.random ?? Math.random;
  const serverList: unknown = o.servers;
  const url: unknown = o.url;
  if (given(serverList) && !Array.isArray(serverList)) throw new OptionsError("servers must be an array of URLs");
  const urls: unknown[] = Array.isArray(serverList) && serverList.length > 0 ? [...(serverList as unknown[])] : given(url) ? [url] : [];
  if (urls.length === 0) throw new OptionsError("url (or servers) is required");
  const servers = urls.map((u) => {
    let parsed: URL;
    try {
      parsed = new URL(u as string);
    } catch {
      throw new OptionsError(`invalid broker URL ${show(u)}`);
    }
    const unsupported = o.transport ? undefined : unsupportedScheme(parsed);
    if (unsupported) throw new OptionsError(unsupported);
    return parsed.href;
  });
  const clean = o.clean ?? true;
  const clientId = o.clientId ?? `edgemq-${Math.floor(random() * 2 ** 48).toString(36)}`;
  if (typeof clientId !== "string" || checkString(clientId) || utf8Length(clientId) > 0xffff) throw new OptionsError("clientId must be a valid MQTT string");
  const keepalive = o.keepalive ?? 30;
  integer("keepalive", keepalive, 0, 65_535);
  const username = o.username ?? undefined;
  const password = credentials("", username, o.password);
  const version: unknown = o.protocolVersion ?? 4;
  if (version !== 4 && version !== 5) throw new OptionsError(`protocolVersion must be 4 (MQTT 3.1.1) or 5, got ${show(version)}`);
  // MQTT 5: its options are checked by the v5 half, loaded on first use (client5.ts).
  const v5 = version === 5 ? ({ ...o } as Record<string, unknown>) : undefined;
  if (!v5) checkEmptyClientId(clientId, clean); // MQTT 5: the server assigns one, whatever clean says
  if (!v5 && given(o.auth)) throw new OptionsError("auth needs protocolVersion: 5");
  if (password && username === undefined && !v5) {
    throw new OptionsError("password requires username in MQTT 3.1.1");
  }
  let will: ResolvedOptions["will"];
  if (o.will) {
    const { topic, payload, qos = 0, retain = false } = o.will;
    try {
      assertTopicName(topic);
    } catch (err) {
      throw new OptionsError(`will.topic: ${(err as Error).message}`);
    }
    ofType("will.retain", retain, "boolean");
    will = { topic, payload: connectBytes("will.payload", payload), qos, retain: !!retain };
    if (![0, 1, 2].includes(will.qos)) throw new OptionsError("will.qos must be 0, 1 or 2");
  }
  // 20 = mosquitto's default max_inflight_messages: it silently drops incoming QoS 2 messages beyond it.
  const maxInflight = o.maxInflight ?? 20;
  integer("maxInflight", maxInflight, 1, 65_535);
  const connectTimeout = o.connectTimeout ?? 30_000;
  integer("connectTimeout", connectTimeout, 1, 2 ** 31 - 1);
  const requestTimeout = o.requestTimeout ?? 30_000;
  integer("requestTimeout", requestTimeout, 1, 2 ** 31 - 1);
  const endTimeout = o.endTimeout ?? 10_000;
  integer("endTimeout", endTimeout, 0, 2 ** 31 - 1);
  if (o.waitOnFirstConnect && o.reconnect === false) throw new OptionsError("waitOnFirstConnect retries with the reconnect backoff: it cannot be used with reconnect: false");
  const maxPacketSize = o.maxPacketSize ?? 1 << 20;
  integer("maxPacketSize", maxPacketSize, 16, 268_435_460);
  const maxOutgoingPacketSize = o.maxOutgoingPacketSize ?? 268_435_460;
  integer("maxOutgoingPacketSize", maxOutgoingPacketSize, 16, 268_435_460);
  const queue = o.offlineQueue ?? NO_QUEUE_OPTIONS;
  if (given(queue.maxMessages)) integer("offlineQueue.maxMessages", queue.maxMessages, 0, Number.MAX_SAFE_INTEGER);
  if (given(queue.maxBytes)) integer("offlineQueue.maxBytes", queue.maxBytes, 0, Number.MAX_SAFE_INTEGER);
  if (given(queue.overflow) && queue.overflow !== "reject" && queue.overflow !== "drop-oldest") {
    throw new OptionsError('offlineQueue.overflow must be "reject" or "drop-oldest"');
  }
  const reconnect: unknown = o.reconnect ?? {};
  if (reconnect !== false) {
    // true: the defaults.
    if (reconnect !== true) ofType("reconnect", reconnect, "object");
    const r = reconnect as ReconnectOptions;
    if (given(r.initialDelay)) integer("reconnect.initialDelay", r.initialDelay, 0, 2 ** 31 - 1);
    if (given(r.maxDelay)) integer("reconnect.maxDelay", r.maxDelay, 0, 2 ** 31 - 1);
    if (given(r.stableAfter)) integer("reconnect.stableAfter", r.stableAfter, 0, 2 ** 31 - 1);
    if (given(r.multiplier) && !(r.multiplier! >= 1)) throw new OptionsError("reconnect.multiplier must be >= 1");
    if (given(r.jitter) && !(r.jitter! >= 0 && r.jitter! <= 1)) throw new OptionsError("reconnect.jitter must be in 0..1");
  }
  const store = o.store ?? new MemoryStore();
  if (STORE_METHODS.some((m) => typeof (store as unknown as Record<string, unknown>)[m] !== "function")) throw new OptionsError(`store must be a Store, not ${show(store)}`);
  return {
    servers,
    clientId,
    clean,
    keepalive,
    username,
    password,
    will,
    tls: o.tls ?? undefined,
    reconnect: reconnect === true ? {} : (reconnect as ReconnectOptions | false),
    connectTimeout,
    store,
    maxInflight,
    offlineQueue: queue,
    maxPacketSize,
    maxOutgoingPacketSize,
    manualAck: o.manualAck ?? false,
    beforeConnect: o.beforeConnect ?? undefined,
    beforeResume: o.beforeResume ?? undefined,
    endTimeout,
    requestTimeout,
    waitOnFirstConnect: o.waitOnFirstConnect === true,
    webSocket: o.webSocket ?? undefined,
    transport: o.transport ?? undefined,
    clock: o.clock ?? systemClock,
    random,
    v5,
  };
}

/** Throws OptionsError for an empty client id with clean: false (also checked per attempt, where beforeConnect may set clean). */
export function checkEmptyClientId(clientId: string, clean: boolean): void {
  if (clientId === "" && !clean) throw new OptionsError('clientId "" requires clean: true (MQTT 3.1.1 section 3.1.3.1)');
}
