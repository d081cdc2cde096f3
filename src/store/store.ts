/** Where in-flight QoS 1/2 state lives, so a restarted client (or process) can finish what it started. */

import { EdgemqError } from "../mqtt/errors.js";
import type { PacketProperties } from "../mqtt/packets.js";

/** An outgoing QoS 1/2 message the broker has not finished acknowledging. */
export interface OutgoingRecord {
  /** Acceptance order; replay follows it. */
  seq: number;
  /** 0 until the PUBLISH is first sent. */
  packetId: number;
  /** "publish": awaiting PUBACK/PUBREC; "pubrel": PUBREC seen, awaiting PUBCOMP. */
  state: "publish" | "pubrel";
  /** Topic name. */
  topic: string;
  /** Message payload. */
  payload: Uint8Array;
  /** QoS of the message. */
  qos: 1 | 2;
  /** RETAIN flag. */
  retain: boolean;
  /** MQTT 5 PUBLISH properties, when the message has any (a store keeps them with the message). */
  properties?: PacketProperties;
}

/** What a store held for a client id when it was opened. */
export interface StoreSnapshot {
  /** Unfinished outgoing messages, in acceptance order. */
  outgoing: OutgoingRecord[];
  /** Packet ids of incoming QoS 2 messages delivered but not yet released (PUBREL). */
  incoming: number[];
  /** What was skipped while loading (corrupt or torn records), for the "warning" event. */
  warnings: string[];
}

/**
 * A client's durable in-flight state. Mutations are synchronous so that, when publish() returns, the
 * message is already in the store (the file store has handed it to the operating system). A mutation that
 * cannot be written throws (StoreError) and leaves the store as it was before the call.
 */
export interface Store {
  /**
   * Loads (or creates) the state for `clientId`. Called before the first connection, and again by the next
   * connect() if it failed. `warn` reports what goes wrong later without failing an operation (e.g. a compaction).
   */
  open(clientId: string, warn?: (message: string) => void): Promise<StoreSnapshot>;
  /** Inserts or replaces an outgoing message (keyed by seq). */
  putOutgoing(record: OutgoingRecord): void;
  /** Records a packet id or state change of an outgoing message. */
  updateOutgoing(seq: number, packetId: number, state: OutgoingRecord["state"]): void;
  /** Forgets an outgoing message (final ack, or dropped). */
  deleteOutgoing(seq: number): void;
  /** Remembers an incoming QoS 2 packet id until its PUBREL. */
  putIncoming(packetId: number): void;
  /** Forgets an incoming QoS 2 packet id. */
  deleteIncoming(packetId: number): void;
  /** Forgets every incoming QoS 2 packet id (the broker started a new session). */
  clearIncoming(): void;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}

/** Codes of StoreError. */
export type StoreErrorCode = "store-error" | "store-locked";

/**
 * A store could not be used: "store-error" for an I/O failure (the runtime's error is the `cause`), a store opened
 * twice or used before open; "store-locked" when another live process holds the FileStore for this client id.
 * Damaged records are warnings, not errors.
 */
export class StoreError extends EdgemqError {
  /** Always "StoreError". */
  override readonly name = "StoreError";
  /** "store-locked" when another process holds the store, else "store-error". */
  declare readonly code: StoreErrorCode;
  /** Creates a StoreError; `cause` is the runtime's error, if any. `code` defaults to "store-error". */
  constructor(message: string, cause?: unknown, code: StoreErrorCode = "store-error") {
    super(code, message, cause === undefined ? undefined : { cause });
  }
}
