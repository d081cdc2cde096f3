/**
 * Writing packets: the fixed header, the fields, and the checks every encoder shares (packet ids, QoS, topics,
 * strings), each refusing with a ProtocolError that names the field and the value.
 */

import { alloc } from "./alloc.js";
import { ProtocolError } from "./errors.js";
import { show } from "./show.js";
import { MAX_REMAINING_LENGTH, type Packet } from "./packets.js";
import { recentTopicNameLength, topicFilterProblem, topicNameProblem } from "./topic.js";
import { checkString, utf8Length, writeUtf8 } from "./utf8.js";

/** Total size of a packet whose body is `remaining` bytes: first byte, variable-length remaining length, body. */
export function packetSize(remaining: number): number {
  return 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4) + remaining;
}

/** Throws "invalid-packet-id" unless `id` is an integer in 1..65535. */
export function checkPacketId(id: number | undefined): void {
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff) {
    throw new ProtocolError("invalid-packet-id", `packet id ${show(id)} is not an integer in 1..65535`);
  }
}

/** Throws "invalid-qos" unless `qos` is 0, 1 or 2. */
export function checkQos(qos: number): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new ProtocolError("invalid-qos", `QoS ${show(qos)} is not 0, 1 or 2`);
}

/** Throws "invalid-field" unless `value` is a Uint8Array (`what` names the field). */
export function checkBytes(value: unknown, what: string): void {
  if (!(value instanceof Uint8Array)) throw new ProtocolError("invalid-field", `${what} is not a Uint8Array`);
}

/** UTF-8 length of a valid topic name (or, with `filter`, topic filter); throws "invalid-topic" saying why not. */
export function topicLength(topic: string, filter?: boolean): number {
  if (!filter) {
    const known = recentTopicNameLength(topic);
    if (known >= 0) return known;
  }
  const problem = filter ? topicFilterProblem(topic) : topicNameProblem(topic);
  if (problem) throw new ProtocolError("invalid-topic", `${filter ? "topic filter" : "topic name"} ${JSON.stringify(topic)}: ${problem}`);
  return utf8Length(topic);
}

/** UTF-8 length of a string field (`what` names it); throws "invalid-utf8" or "invalid-length". */
export function strLength(value: string, what: string): number {
  if (typeof value !== "string") throw new ProtocolError("invalid-field", `${what} is not a string`);
  const bad = checkString(value);
  if (bad) throw new ProtocolError("invalid-utf8", `${what} ${bad}`);
  const n = utf8Length(value);
  if (n > 0xffff) throw new ProtocolError("invalid-length", `${what} longer than 65,535 bytes`);
  return n;
}

/**
 * Where encoders can write instead of allocating a buffer per packet: `reserve(n)` makes `bytes[pos, pos + n)`
 * free for exactly n bytes, which the encoder then writes, leaving `pos` after them.
 */
export interface Sink {
  bytes: Uint8Array;
  pos: number;
  reserve(n: number): void;
}

/** Placeholder until reserve(): never written to. */
const NO_BYTES = new Uint8Array(0);

/** A sink for one packet: reserve() gives it a buffer of exactly its size. */
export class OwnBuffer implements Sink {
  bytes: Uint8Array = NO_BYTES;
  pos = 0;

  reserve(n: number): void {
    this.bytes = alloc(n);
    this.pos = 0;
  }
}

/** A PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK: `firstByte`, remaining length 2, the packet id. */
export function encodeAck(firstByte: number, packetId: number): Uint8Array {
  const out = new OwnBuffer();
  writeAck(firstByte, packetId, out);
  return out.bytes;
}

/** encodeAck() into a sink. */
export function writeAck(firstByte: number, packetId: number, sink: Sink): void {
  checkPacketId(packetId);
  sink.reserve(4);
  const b = sink.bytes;
  const at = sink.pos;
  b[at] = firstByte;
  b[at + 1] = 0x02;
  b[at + 2] = packetId >> 8;
  b[at + 3] = packetId & 0xff;
  sink.pos = at + 4;
}

/**
 * The error for a packet an encoder does not write: "unexpected-packet-type" when its type is one the other
 * role sends (`otherRole` lists those), else "invalid-packet-type".
 */
export function wrongType(packet: Packet, otherRole: readonly string[], role: string): ProtocolError {
  const type = (packet as { type: unknown }).type;
  return typeof type === "string" && otherRole.includes(type)
    ? new ProtocolError("unexpected-packet-type", `${type.toUpperCase()} is never sent by a ${role}`)
    : new ProtocolError("invalid-packet-type", `unknown packet type ${JSON.stringify(type)}`);
}

/**
 * Fixed header + exactly `remaining` bytes of body, written front to back into `sink` (by default a buffer of the
 * packet's own); finish() moves the sink past the packet. With `omitted` > 0 the last `omitted` bytes are left
 * out (a payload the caller writes after it from its own memory).
 */
export class Writer {
  readonly bytes: Uint8Array;
  private pos: number;
  /** Where the packet must end: finish() refuses a packet that did not fill exactly what was reserved. */
  private readonly end: number;

  constructor(firstByte: number, remaining: number, omitted = 0, private readonly sink: Sink = new OwnBuffer()) {
    // A length that is not a whole number (a field of the wrong type) must never reach a shared sink.
    if (remaining >>> 0 !== remaining || omitted >>> 0 !== omitted) throw new ProtocolError("invalid-length", `a packet of ${remaining} bytes`);
    if (remaining > MAX_REMAINING_LENGTH) {
      throw new ProtocolError("packet-too-large", `a packet of ${remaining} bytes exceeds MQTT's limit of ${MAX_REMAINING_LENGTH}`);
    }
    sink.reserve(packetSize(remaining) - omitted);
    this.bytes = sink.bytes;
    let pos = sink.pos;
    this.end = pos + packetSize(remaining) - omitted;
    this.bytes[pos++] = firstByte;
    let n = remaining;
    do {
      let digit = n & 0x7f;
      n >>>= 7;
      if (n > 0) digit |= 0x80;
      this.bytes[pos++] = digit;
    } while (n > 0);
    this.pos = pos;
  }

  u8(v: number): void {
    this.bytes[this.pos++] = v;
  }

  u16(v: number): void {
    this.bytes[this.pos++] = v >> 8;
    this.bytes[this.pos++] = v & 0xff;
  }

  str(value: string, byteLength: number): void {
    this.u16(byteLength);
    writeUtf8(value, this.bytes, this.pos, byteLength);
    this.pos += byteLength;
  }

  raw(data: Uint8Array): void {
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /**
   * The packet's own buffer; with a sink, moves the sink past what was written. Throws "invalid-length" when the
   * fields wrote more or less than was reserved for them (bytes whose length changed while being encoded).
   */
  finish(): Uint8Array {
    if (this.pos !== this.end) throw new ProtocolError("invalid-length", "a field's length changed while it was encoded");
    this.sink.pos = this.pos;
    return this.bytes;
  }
}
