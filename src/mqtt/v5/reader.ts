/**
 * The incremental framing of the MQTT 5.0 decoders: chunks in, whole packets out. The fixed header (section 2.1)
 * is checked as soon as its bytes arrive: reserved type, reserved flag bits, QoS 3, a remaining length longer
 * than 4 bytes or not minimally encoded, a type the role never receives, and a total size over maxPacketSize are
 * all refused before any of the body is buffered. Packets inside one chunk are decoded in place; a packet that
 * spans chunks is gathered in a buffer that grows with what arrives (never past the packet's declared size).
 * Unlike the 3.1.1 reader there is no oversize-PUBLISH skipping: in MQTT 5 the limit is announced to the peer
 * (Maximum Packet Size), so a larger packet is a protocol error.
 */

import { ProtocolError } from "../errors.js";
import { DEFAULT_MAX_PACKET_SIZE, NAMES, type DecoderRole } from "../reader.js";
import type { Packet } from "./packets.js";

export { DEFAULT_MAX_PACKET_SIZE } from "../reader.js";

/** Options of the v5 decoders. */
export interface DecoderOptions5 {
  /** Largest accepted packet in bytes, fixed header included. Default 1 MiB. */
  maxPacketSize?: number;
}

/**
 * Decodes the body bytes[start, end) of a packet whose first byte is `first` (fixed header already checked).
 * `owned`: the bytes were gathered for this packet alone, so parts may be handed out without a copy.
 */
export type BodyDecoder5 = (first: number, bytes: Uint8Array, start: number, end: number, owned: boolean) => Packet;

/** Body decoders by wire type (0..15); a hole is a type the role refuses with "unexpected-packet-type". */
export type BodyTable5 = ReadonlyArray<BodyDecoder5 | undefined>;

/** Packet names by wire type, for error messages (15 is AUTH in MQTT 5). */
export const NAMES5: readonly string[] = [...NAMES.slice(0, 15), "AUTH"];

// Per wire type: required low-nibble flags (-1: PUBLISH), fixed remaining length (-1: variable), smallest length.
const REQUIRED_FLAGS = [0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];
const FIXED_LENGTH = [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1];
const MIN_LENGTH = [0, 13, 3, 3, 2, 2, 2, 2, 3, 3, 3, 3, 0, 0, 0, 0];

/** First capacity of the buffer of a packet spanning chunks (smaller packets get their exact size). */
const ASSEMBLY_START = 64 * 1024;

/** Incremental MQTT 5.0 packet reader over a table of body decoders. After a ProtocolError it stays failed. */
export class PacketReader5 {
  private readonly maxPacketSize: number;
  /** Bytes of an incomplete packet: its first `filled` bytes (a 5-byte head while `need` < 0). */
  private acc: Uint8Array = new Uint8Array(5);
  private filled = 0;
  /** Total size of the incomplete packet, or -1 while its fixed header is incomplete. */
  private need = -1;
  private failure: ProtocolError | undefined;

  /** Creates a reader decoding bodies with `bodies`; `role` names the receiving side in errors. */
  constructor(private readonly bodies: BodyTable5, private readonly role: DecoderRole, options: DecoderOptions5 = {}) {
    this.maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  }

  /** Bytes held for a packet not yet complete. */
  get buffered(): number {
    return this.filled;
  }

  /** Decodes `chunk` and returns the packets it completes. Throws ProtocolError on malformed input. */
  push(chunk: Uint8Array): Packet[] {
    const out: Packet[] = [];
    this.feed(chunk, (p) => out.push(p));
    return out;
  }

  /** Decodes `chunk`, calling `onPacket` per complete packet; throws ProtocolError after those preceding a fault. */
  feed(chunk: Uint8Array, onPacket: (packet: Packet) => void): void {
    if (this.failure) throw this.failure;
    try {
      this.run(chunk, onPacket);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.failure = err;
        this.acc = new Uint8Array(0);
        this.filled = 0;
      }
      throw err;
    }
  }

  private run(chunk: Uint8Array, onPacket: (packet: Packet) => void): void {
    let pos = 0;
    if (this.filled > 0) {
      pos = this.completePending(chunk, onPacket);
      if (pos < 0) return;
    }
    const end = chunk.length;
    while (pos < end) {
      const total = this.readHeader(chunk, pos, end);
      if (total < 0 || pos + total > end) {
        this.start(chunk.subarray(pos), total);
        return;
      }
      onPacket(this.body(chunk, pos, pos + total, false));
      pos += total;
    }
  }

  /** Keeps `rest`, the start of a packet of size `total` (-1: fixed header incomplete, so `rest` is under 5 bytes). */
  private start(rest: Uint8Array, total: number): void {
    this.need = total;
    this.acc = total < 0 ? new Uint8Array(5) : new Uint8Array(capacity(total, rest.length, 0));
    this.acc.set(rest);
    this.filled = rest.length;
  }

  /** Adds chunk's bytes to the pending packet; returns where the rest of chunk starts, or -1 if all was absorbed. */
  private completePending(chunk: Uint8Array, onPacket: (packet: Packet) => void): number {
    if (this.need < 0) {
      const n = Math.min(5 - this.filled, chunk.length);
      const head = this.acc.slice(0, this.filled + n);
      head.set(chunk.subarray(0, n), this.filled);
      const total = this.readHeader(head, 0, head.length);
      if (total < 0) {
        this.acc.set(chunk.subarray(0, n), this.filled);
        this.filled += n;
        return -1;
      }
      this.need = total;
      const grown = new Uint8Array(capacity(total, this.filled + chunk.length, 0));
      grown.set(this.acc.subarray(0, this.filled));
      this.acc = grown;
    }
    const used = Math.min(chunk.length, this.need - this.filled);
    const filled = this.filled + used;
    if (this.acc.length < filled) {
      const grown = new Uint8Array(capacity(this.need, filled, this.acc.length));
      grown.set(this.acc.subarray(0, this.filled));
      this.acc = grown;
    }
    this.acc.set(chunk.subarray(0, used), this.filled);
    this.filled = filled;
    if (filled < this.need) return -1;
    const packet = this.acc;
    this.acc = new Uint8Array(5);
    this.filled = 0;
    this.need = -1;
    onPacket(this.body(packet, 0, packet.length, true));
    return used;
  }

  private body(bytes: Uint8Array, pos: number, end: number, owned: boolean): Packet {
    const first = bytes[pos]!;
    let i = pos + 1;
    while (bytes[i]! & 0x80) i++;
    return this.bodies[first >> 4]!(first, bytes, i + 1, end, owned);
  }

  /** Checks the fixed header at bytes[pos]; returns the packet's total size, or -1 if the header is incomplete. */
  private readHeader(bytes: Uint8Array, pos: number, end: number): number {
    const first = bytes[pos]!;
    const type = first >> 4;
    const name = NAMES5[type]!;
    if (type === 0) throw new ProtocolError("invalid-packet-type", "packet type 0 is reserved");
    if (this.bodies[type] === undefined) throw new ProtocolError("unexpected-packet-type", `${name} must never be sent to a ${this.role}`);
    const flags = first & 0x0f;
    const required = REQUIRED_FLAGS[type]!;
    if (required >= 0 && flags !== required) throw new ProtocolError("invalid-flags", `${name} flags must be ${required}, got ${flags}`);
    if (required < 0 && (flags & 0x06) === 0x06) throw new ProtocolError("invalid-qos", "PUBLISH with QoS 3");
    let remaining = 0;
    let multiplier = 1;
    let i = pos + 1;
    for (;;) {
      if (i >= end) return -1;
      const digit = bytes[i]!;
      remaining += (digit & 0x7f) * multiplier;
      i++;
      if ((digit & 0x80) === 0) {
        if (digit === 0 && i - pos > 2) throw new ProtocolError("malformed-remaining-length", "remaining length not minimally encoded");
        break;
      }
      if (i - pos - 1 >= 4) throw new ProtocolError("malformed-remaining-length", "remaining length longer than 4 bytes");
      multiplier *= 128;
    }
    const fixed = FIXED_LENGTH[type]!;
    if (fixed >= 0 && remaining !== fixed) throw new ProtocolError("invalid-length", `${name} remaining length must be ${fixed}, got ${remaining}`);
    if (remaining < MIN_LENGTH[type]!) throw new ProtocolError("invalid-length", `${name} remaining length ${remaining} is too short`);
    const total = i - pos + remaining;
    if (total > this.maxPacketSize) {
      throw new ProtocolError("packet-too-large", `${name} of ${total} bytes exceeds maxPacketSize ${this.maxPacketSize}`);
    }
    return total;
  }
}

/** Buffer size for a packet of `total` bytes holding `have` so far (was `current`): doubling, from ASSEMBLY_START. */
function capacity(total: number, have: number, current: number): number {
  return Math.min(total, Math.max(have, 2 * current, ASSEMBLY_START));
}
