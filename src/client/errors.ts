/** Typed errors of the client. Every error has a stable string `code`; credentials never appear in messages. */

import { EdgemqError } from "../mqtt/errors.js";

export { EdgemqError, ProtocolError, TopicError } from "../mqtt/errors.js";

const CONNACK_CODES: Record<1 | 2 | 3 | 4 | 5, ConnectErrorCode> = {
  1: "unacceptable-protocol-version",
  2: "identifier-rejected",
  3: "server-unavailable",
  4: "bad-username-or-password",
  5: "not-authorized",
} as const;

const CONNACK_TEXT = {
  1: "the broker does not support MQTT 3.1.1",
  2: "the broker rejected the client identifier",
  3: "the MQTT service is unavailable",
  4: "bad user name or password",
  5: "not authorized to connect",
} as const;

/** Codes of ConnectError. */
export type ConnectErrorCode =
  | "unacceptable-protocol-version"
  | "identifier-rejected"
  | "server-unavailable"
  | "bad-username-or-password"
  | "not-authorized"
  | "connect-timeout"
  | "connection-failed"
  | "connection-refused"
  | "authentication-failed";

/** The connection could not be established: refused by CONNACK (returnCode 1..5), timed out, or the transport failed. */
export class ConnectError extends EdgemqError {
  /** Always "ConnectError". */
  override readonly name = "ConnectError";
  /** Why the connection failed. */
  declare readonly code: ConnectErrorCode;
  /** The CONNACK return code when an MQTT 3.1.1 broker refused, else undefined. */
  readonly returnCode: number | undefined;
  /** The CONNACK reason code (>= 0x80) when an MQTT 5 broker refused, else undefined. */
  declare readonly reasonCode?: number;
  /** The CONNACK's Reason String, when an MQTT 5 broker gave one. */
  declare readonly reasonString?: string;
  /** The CONNACK's Server Reference (another server to use), when an MQTT 5 broker gave one. */
  declare readonly serverReference?: string;
  /** Creates a ConnectError; `returnCode` is the refusing CONNACK code, `cause` the underlying error, if any. */
  constructor(code: ConnectErrorCode, message: string, returnCode?: number, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.returnCode = returnCode;
  }

  /** The error for a refusing CONNACK return code (1..5). */
  static fromReturnCode(returnCode: number): ConnectError {
    const key = returnCode as keyof typeof CONNACK_CODES;
    return new ConnectError(CONNACK_CODES[key], `connection refused: ${CONNACK_TEXT[key]} (CONNACK ${returnCode})`, returnCode);
  }
}

/** Codes of SubscribeError. */
export type SubscribeErrorCode = "subscribe-refused" | "unsubscribe-refused" | "no-filters" | "invalid-qos";

/**
 * The broker refused one or more filters of a SUBSCRIBE (SUBACK 0x80, "subscribe-refused") or, under MQTT 5, of an
 * UNSUBSCRIBE (an UNSUBACK reason code >= 0x80, "unsubscribe-refused": `granted` is then empty), or subscribe()
 * refused its arguments before sending anything: an empty filter list ("no-filters") or a QoS other than 0, 1 or 2
 * ("invalid-qos"); then `refused` and `granted` are empty.
 */
export class SubscribeError extends EdgemqError {
  /** Always "SubscribeError". */
  override readonly name = "SubscribeError";
  /** Why the subscription failed. */
  declare readonly code: SubscribeErrorCode;
  /** The filters the broker refused. */
  readonly refused: string[];
  /** Granted QoS (or 0x80) per requested filter, in request order. */
  readonly granted: number[];
  /** MQTT 5: the SUBACK's (or UNSUBACK's) reason code per requested filter, in request order (undefined under 3.1.1). */
  declare readonly reasonCodes?: number[];
  /** MQTT 5: the SUBACK's (or UNSUBACK's) Reason String, if any. */
  declare readonly reasonString?: string;
  /** Creates a SubscribeError for the `refused` filters; the default message lists them. */
  constructor(refused: string[], granted: number[], code: SubscribeErrorCode = "subscribe-refused", message?: string) {
    super(code, message ?? `the broker refused the subscription to ${refused.map((f) => JSON.stringify(f)).join(", ")}`);
    this.refused = refused;
    this.granted = granted;
  }
}

/** Codes of PublishError. */
export type PublishErrorCode =
  | "queue-full"
  | "payload-too-large"
  | "message-dropped"
  | "message-discarded"
  | "invalid-qos"
  | "invalid-payload"
  | "publish-refused"
  | "message-expired"
  | "qos-not-supported"
  | "retain-not-supported";

/**
 * A publish was refused locally or dropped by the offline queue's overflow policy; nothing was sent. Refused
 * arguments: a payload that is not a string, Uint8Array, ArrayBuffer or ArrayBufferView ("invalid-payload"), a
 * QoS other than 0, 1 or 2 ("invalid-qos").
 */
export class PublishError extends EdgemqError {
  /** Always "PublishError". */
  override readonly name = "PublishError";
  /** Why the publish was refused or dropped. */
  declare readonly code: PublishErrorCode;
  /** MQTT 5 "publish-refused": the PUBACK's or PUBREC's reason code (>= 0x80). */
  declare readonly reasonCode?: number;
  /** MQTT 5 "publish-refused": the ack's Reason String, if any. */
  declare readonly reasonString?: string;
  /** Creates a PublishError with the given `code` and `message`. */
  constructor(code: PublishErrorCode, message: string) {
    super(code, message);
  }
}

/** An operation could not finish because the client was closed (end()) or the connection was lost for good. */
export class ClientClosedError extends EdgemqError {
  /** Always "ClientClosedError". */
  override readonly name = "ClientClosedError";
  /** Always "client-closed". */
  declare readonly code: "client-closed";
  /** Creates a ClientClosedError (default message "the client is closed"). */
  constructor(message = "the client is closed") {
    super("client-closed", message);
  }
}

/** The connection was lost: the transport closed, keepalive expired, or the peer broke the protocol. */
export class ConnectionLostError extends EdgemqError {
  /** Always "ConnectionLostError". */
  override readonly name = "ConnectionLostError";
  /** "keepalive-timeout" when the keepalive expired, "server-disconnect" for an MQTT 5 server's DISCONNECT, else "connection-lost". */
  declare readonly code: "connection-lost" | "keepalive-timeout" | "server-disconnect";
  /** MQTT 5 "server-disconnect": the DISCONNECT's reason code. */
  declare readonly reasonCode?: number;
  /** MQTT 5 "server-disconnect": its Reason String, if any. */
  declare readonly reasonString?: string;
  /** MQTT 5 "server-disconnect": its Server Reference (another server to use), if any. */
  declare readonly serverReference?: string;
  /** Creates a ConnectionLostError; `cause` is the underlying error, if any. */
  constructor(code: "connection-lost" | "keepalive-timeout" | "server-disconnect", message: string, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
  }
}

/** Options that cannot work together, values of the wrong type or out of range (`cause`: what reading them threw). */
export class OptionsError extends EdgemqError {
  /** Always "OptionsError". */
  override readonly name = "OptionsError";
  /** Always "invalid-options". */
  declare readonly code: "invalid-options";
  /** Creates an OptionsError; `cause` is what reading the options threw, if anything. */
  constructor(message: string, cause?: unknown) {
    super("invalid-options", message, cause === undefined ? undefined : { cause });
  }
}

/** Codes of ClientWarning. */
export type WarningCode = "slow-consumer" | "message-too-large" | "store-damaged" | "store-degraded" | "qos-downgraded" | "receive-maximum-exceeded";

/**
 * A non-fatal condition, reported as a "warning" event: an iterator too slow for its QoS 0 messages
 * ("slow-consumer", once per episode), an inbound message over maxPacketSize that was skipped and acknowledged
 * ("message-too-large"), damaged store records that were skipped ("store-damaged"), a store that works but not as
 * it should (a failed compaction: "store-degraded"), a broker that took QoS 2
 * messages at QoS 1 ("qos-downgraded", once per connection), an MQTT 5 broker that sent more QoS 1/2 messages than the
 * client's Receive Maximum before they were answered ("receive-maximum-exceeded", once per connection).
 */
export class ClientWarning extends EdgemqError {
  /** Always "ClientWarning". */
  override readonly name = "ClientWarning";
  /** What condition is reported. */
  declare readonly code: WarningCode;
  /** The topic concerned (message-too-large, qos-downgraded). */
  readonly topic: string | undefined;
  /** The message's size in bytes (message-too-large). */
  readonly size: number | undefined;
  /** The subscription's filters (slow-consumer). */
  readonly filters: readonly string[] | undefined;
  /** Creates a ClientWarning; `details` fills `topic`, `size` and `filters`. */
  constructor(code: WarningCode, message: string, details: { topic?: string; size?: number; filters?: readonly string[] } = {}) {
    super(code, message);
    this.topic = details.topic;
    this.size = details.size;
    this.filters = details.filters;
  }
}

/** An event listener threw; the original error (or value) is the `cause`, stack intact. */
export class ListenerError extends EdgemqError {
  /** Always "ListenerError". */
  override readonly name = "ListenerError";
  /** Always "listener-error". */
  declare readonly code: "listener-error";
  /** The event whose listener threw. */
  readonly event: string;
  /** Creates a ListenerError for `event`, with what the listener threw as the `cause`. */
  constructor(event: string, thrown: unknown) {
    super("listener-error", `a "${event}" listener threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`, { cause: thrown });
    this.event = event;
  }
}

/** A SUBSCRIBE or UNSUBSCRIBE got no answer within requestTimeout. */
export class RequestTimeoutError extends EdgemqError {
  /** Always "RequestTimeoutError". */
  override readonly name = "RequestTimeoutError";
  /** Always "request-timeout". */
  declare readonly code: "request-timeout";
  /** Creates a RequestTimeoutError with the given `message`. */
  constructor(message: string) {
    super("request-timeout", message);
  }
}
