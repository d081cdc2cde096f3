/** Errors raised by the wire layer. Every error carries a stable string `code`. */

import { show } from "./show.js";

/** Base class of every edgemq error: `code` is stable across versions, `message` is for humans. */
export class EdgemqError extends Error {
  /** Stable machine-readable reason. */
  readonly code: string;
  /** Creates an error with the given `code` and `message`; `options.cause` is passed to Error. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // Subclasses spell their names out (bundlers rename classes); a subclass of the application's keeps its own.
    this.name = new.target === EdgemqError ? "EdgemqError" : new.target.name;
  }
}

/** Codes of ProtocolError: why bytes from the peer (or a packet to encode) break MQTT 3.1.1 (or, for the v5 codec, MQTT 5.0). */
export type ProtocolErrorCode =
  | "malformed-remaining-length"
  | "packet-too-large"
  | "invalid-packet-type"
  | "unexpected-packet-type"
  | "invalid-flags"
  | "invalid-qos"
  | "invalid-packet-id"
  | "invalid-connack-flags"
  | "invalid-return-code"
  | "invalid-length"
  | "truncated"
  | "invalid-suback-code"
  | "invalid-topic"
  | "invalid-utf8"
  | "invalid-protocol"
  | "invalid-connect-flags"
  | "empty-list"
  | "invalid-field"
  // MQTT 5 (src/mqtt/v5/)
  | "malformed-varint"
  | "unknown-property"
  | "invalid-property-value"
  | "duplicate-property"
  | "property-not-allowed"
  | "missing-property"
  | "invalid-reason-code"
  | "invalid-subscription-options"
  | "invalid-topic-alias";

/** A packet broke the protocol. On receipt the connection must be closed. */
export class ProtocolError extends EdgemqError {
  // Names are spelled out: bundlers rename classes (esbuild's "_ConnectError", a minifier's "e"), and `name` is API.
  /** Always "ProtocolError". */
  override readonly name = "ProtocolError";
  /** Why the packet broke the protocol. */
  declare readonly code: ProtocolErrorCode;
  /** Creates a ProtocolError with the given `code` and `message`. */
  constructor(code: ProtocolErrorCode, message: string) {
    super(code, message);
  }
}

/** Codes of TopicError. */
export type TopicErrorCode = "invalid-topic" | "invalid-topic-filter";

/** A topic name or filter the client refuses to send. */
export class TopicError extends EdgemqError {
  /** Always "TopicError". */
  override readonly name = "TopicError";
  /** "invalid-topic" for a topic name, "invalid-topic-filter" for a filter. */
  declare readonly code: TopicErrorCode;
  /** The offending topic or filter. */
  readonly topic: string;
  /** Creates a TopicError for `topic` (shown in the message, stringified if not a string), explaining `reason`. */
  constructor(code: TopicErrorCode, topic: unknown, reason: string) {
    super(code, `${code === "invalid-topic" ? "invalid topic name" : "invalid topic filter"} ${show(topic)}: ${reason}`);
    this.topic = typeof topic === "string" ? topic : show(topic);
  }
}
