/**
 * The MQTT 5.0 data types (section 1.5) both ways: a bounds-checked Cursor for reading a packet body, and the
 * pieces the encoders add to the 3.1.1 Writer (Variable Byte Integers, Four Byte Integers, binary data).
 */

import { copyRange } from "../alloc.js";
import { ProtocolError } from "../errors.js";
import { show } from "../show.js";
import { readUtf8 } from "../utf8.js";
import type { Writer } from "../writer.js";

/** Largest value of a Variable Byte Integer (section 1.5.5). */
export const MAX_VBI = 268_435_455;

/** Reads the fields of bytes[pos, end), refusing to read past `end` ("truncated"). */
export class Cursor {
  /** Creates a cursor over bytes[pos, end); `what` names the packet in error messages. */
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number, readonly what: string) {}

  /** Bytes left. */
  get left(): number {
    return this.end - this.pos;
  }

  private need(n: number, field: string): void {
    if (this.pos + n > this.end) {
      throw new ProtocolError("truncated", `${this.what} ${field}: ${n} bytes needed, ${this.end - this.pos} left`);
    }
  }

  /** One byte. */
  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++]!;
  }

  /** Two Byte Integer (big-endian). */
  u16(field: string): number {
    this.need(2, field);
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  /** Four Byte Integer (big-endian). */
  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const v = b[this.pos]! * 0x1000000 + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
    this.pos += 4;
    return v;
  }

  /** Variable Byte Integer: at most 4 bytes, minimally encoded [MQTT-1.5.5-1], else "malformed-varint". */
  vbi(field: string): number {
    let value = 0;
    let multiplier = 1;
    for (let n = 1; ; n++) {
      const digit = this.u8(field);
      value += (digit & 0x7f) * multiplier;
      if ((digit & 0x80) === 0) {
        if (digit === 0 && n > 1) throw new ProtocolError("malformed-varint", `${this.what} ${field}: not minimally encoded`);
        return value;
      }
      if (n === 4) throw new ProtocolError("malformed-varint", `${this.what} ${field}: Variable Byte Integer longer than 4 bytes`);
      multiplier *= 128;
    }
  }

  /** UTF-8 Encoded String, strict MQTT UTF-8 (section 1.5.4), else "invalid-utf8". */
  str(field: string): string {
    const len = this.u16(field);
    this.need(len, field);
    const s = readUtf8(this.bytes, this.pos, this.pos + len);
    if (s === undefined) throw new ProtocolError("invalid-utf8", `${this.what} ${field} is not valid MQTT UTF-8`);
    this.pos += len;
    return s;
  }

  /** Binary Data (section 1.5.6), copied out of the input. */
  bin(field: string): Uint8Array {
    const len = this.u16(field);
    this.need(len, field);
    const out = copyRange(this.bytes, this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** The rest of the body, copied unless `owned` (the body sits in a buffer of its own). */
  rest(owned: boolean): Uint8Array {
    const out = owned ? this.bytes.subarray(this.pos, this.end) : copyRange(this.bytes, this.pos, this.end);
    this.pos = this.end;
    return out;
  }

  /** Throws "invalid-length" unless every byte has been read. */
  done(): void {
    if (this.pos !== this.end) throw new ProtocolError("invalid-length", `${this.what} has ${this.end - this.pos} unexpected trailing bytes`);
  }
}

/** Bytes a Variable Byte Integer takes for `n` (0..MAX_VBI). */
export function vbiLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Writes `n` as a Variable Byte Integer. */
export function writeVbi(w: Writer, n: number): void {
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    w.u8(digit);
  } while (n > 0);
}

/** Writes a Four Byte Integer. */
export function writeU32(w: Writer, n: number): void {
  w.u16(Math.floor(n / 0x10000));
  w.u16(n % 0x10000);
}

/** Writes Binary Data: 2-byte length, bytes. */
export function writeBin(w: Writer, data: Uint8Array): void {
  w.u16(data.length);
  w.raw(data);
}

/** Length of Binary Data `value` (`what` names it); throws "invalid-field" or "invalid-length". */
export function binLength(value: unknown, what: string): number {
  if (!(value instanceof Uint8Array)) throw new ProtocolError("invalid-field", `${what} is not a Uint8Array`);
  if (value.length > 0xffff) throw new ProtocolError("invalid-length", `${what} longer than 65,535 bytes`);
  return value.length;
}

/** Throws "invalid-field" unless `value` is an integer in min..max (`what` names it). */
export function checkInt(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError("invalid-field", `${what} ${show(value)} is not an integer in ${min}..${max}`);
  }
  return value;
}
