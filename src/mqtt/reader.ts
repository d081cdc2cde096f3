/**
 * The incremental framing shared by every decoder: feed it chunks of any size, it finds whole packets and hands
 * each packet's body to the body decoder its table holds for that packet type. The fixed header is checked as soon
 * as its bytes arrive, so a packet that is too large or of a type the table has no decoder for is refused before
 * its body is buffered. Packets inside one chunk are decoded in place (no copy of the chunk); only a packet that
 * spans chunks is assembled, and only its own bytes are copied. The reader keeps references to the chunks of an
 * incomplete packet: callers must not reuse a chunk's memory after feeding it.
 *
 * With `onOversizePublish` set, a PUBLISH over maxPacketSize is passed over instead of refused: only its variable
 * header is gathered and checked (by the table's own PUBLISH decoder), its payload is dropped as it arrives, and the
 * callback runs once its last byte is consumed. That state lives outside the per-packet loop (see OversizeSkip).
 *
 * The table is what makes a role: ClientDecoder's table holds only what a broker may send, so a client's bundle
 * carries no CONNECT or SUBSCRIBE decoding (see decode-client.ts, decode-server.ts).
 */

import { ProtocolError } from "./errors.js";
import type { Packet, PublishPacket, QoS } from "./packets.js";

/** Which side of the connection a decoder sits on: it refuses what that side must never receive. */
export type DecoderRole = "client" | "server";

/** Options of ClientDecoder and ServerDecoder. */
export interface DecoderLimits {
  /** Largest accepted packet in bytes, fixed header included. Default 1 MiB. */
  maxPacketSize?: number;
  /**
   * Called for an inbound PUBLISH over maxPacketSize instead of failing with packet-too-large: the packet is skipped
   * as it streams in (payload never buffered) and reported, in stream order, once its last byte is consumed.
   * Honoured by ClientDecoder and Decoder; ServerDecoder ignores it (a client's oversize PUBLISH stays fatal).
   */
  onOversizePublish?: (info: OversizePublish) => void;
}

/** What is known of a PUBLISH skipped for exceeding maxPacketSize: its variable header and its declared size. */
export interface OversizePublish {
  /** Topic name (validated like any received topic). */
  topic: string;
  /** QoS of the skipped message. */
  qos: QoS;
  /** Packet id when qos > 0, else undefined. */
  packetId: number | undefined;
  /** RETAIN flag. */
  retain: boolean;
  /** DUP flag (false at QoS 0, as for a decoded PUBLISH). */
  dup: boolean;
  /** Total packet size in bytes declared by the fixed header, fixed header included. */
  size: number;
}

/** Default cap on the size of one inbound packet. */
export const DEFAULT_MAX_PACKET_SIZE = 1 << 20;

/**
 * Decodes the body bytes[start, end) of a packet whose first byte is `first` (fixed header already checked).
 * `owned`: `bytes` was gathered for this packet alone, so parts of it may be handed out without a copy.
 */
export type BodyDecoder = (first: number, bytes: Uint8Array, start: number, end: number, owned: boolean) => Packet;

/** Body decoders by wire type (0..15); a hole is a type the role refuses with "unexpected-packet-type". */
export type BodyTable = ReadonlyArray<BodyDecoder | undefined>;

/** Packet names by wire type, for error messages. */
export const NAMES = ["reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE",
  "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "reserved"];

// Per wire type: the required low-nibble flags (-1: PUBLISH, checked separately), the fixed remaining length
// (-1: variable) and the smallest remaining length.
const REQUIRED_FLAGS = [0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];
const FIXED_LENGTH = [-1, -1, 2, -1, 2, 2, 2, 2, -1, -1, -1, 2, 0, 0, 0, -1];
const MIN_LENGTH = [0, 12, 2, 3, 2, 2, 2, 2, 5, 3, 5, 2, 0, 0, 0, 0];

/**
 * First capacity of the buffer a packet spanning chunks is gathered in (smaller packets get their exact size; larger
 * ones grow by doubling, so a peer that declares a large packet and trickles it costs what it sent, not what it declared).
 */
const ASSEMBLY_START = 128 * 1024;

/** Never written to: a reader holds an array of its own only while a fixed header is split across chunks. */
const NO_PARTS: Uint8Array[] = [];

/** readHeader's answer for an oversize PUBLISH it has started to skip (see OversizeSkip). */
const SKIP = -2;

const NO_BYTES = new Uint8Array(0);

/**
 * An oversize PUBLISH being passed over. Its variable header is gathered in `head` (first the 2-byte topic length,
 * then at most 2 + 65,535 + 2 bytes, never more than the remaining length) and decoded once complete; every other
 * byte is counted and dropped.
 */
class OversizeSkip {
  /** Bytes of the packet consumed so far, fixed header included. */
  consumed = 0;
  /** Variable header bytes gathered in `head` so far. */
  held = 0;
  /** Variable header bytes to gather before decoding it: 2 until the topic length is known. */
  want = 2;
  /** Whether `want` covers the whole variable header (the topic length has been read). */
  sized = false;
  head = new Uint8Array(2);
  /** Set once the variable header has been decoded; the rest of the packet is payload. */
  info: OversizePublish | undefined;

  constructor(readonly first: number, readonly headerSize: number, readonly total: number) {}
}

/** Incremental MQTT 3.1.1 packet reader over a table of body decoders. After a ProtocolError it stays failed. */
export class PacketReader {
  readonly #maxPacketSize: number;
  /** Chunks of a packet whose fixed header is incomplete; the shared NO_PARTS while there are none. */
  #pending: Uint8Array[] = NO_PARTS;
  #pendingBytes = 0;
  /** Total size of the packet at the head of `pending`, or -1 while its fixed header is incomplete. */
  #need = -1;
  /**
   * Once the size of a packet spanning chunks is known, its bytes are gathered here (capacity doubling up to that
   * size): memory stays proportional to the bytes received however finely the peer splits them, where one
   * reference per chunk would cost a few hundred bytes per one-byte read.
   */
  #assembly: Uint8Array | undefined;
  #failure: ProtocolError | undefined;
  /** The oversize PUBLISH being skipped, if any. */
  #skip: OversizeSkip | undefined;

  readonly #bodies: BodyTable;
  readonly #role: DecoderRole;
  readonly #onOversizePublish: ((info: OversizePublish) => void) | undefined;

  /**
   * Creates a reader that decodes bodies with `bodies` for the given `role`. `maxPacketSize` defaults to
   * DEFAULT_MAX_PACKET_SIZE; with `onOversizePublish`, an oversize PUBLISH is skipped and reported instead of refused.
   */
  constructor(bodies: BodyTable, role: DecoderRole, maxPacketSize?: number, onOversizePublish?: (info: OversizePublish) => void) {
    this.#bodies = bodies;
    this.#role = role;
    this.#onOversizePublish = onOversizePublish;
    this.#maxPacketSize = maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  }

  /** Bytes held for a packet not yet complete (for a skipped PUBLISH, only its variable header's). */
  get buffered(): number {
    return this.#pendingBytes + (this.#skip?.held ?? 0);
  }

  /** Decodes `chunk` and returns the packets it completes. Throws ProtocolError on malformed input. */
  push(chunk: Uint8Array): Packet[] {
    const out: Packet[] = [];
    this.feed(chunk, (p) => out.push(p));
    return out;
  }

  /**
   * Decodes `chunk`, calling `onPacket` for each complete packet in order. On malformed input it throws
   * ProtocolError after delivering the packets that preceded the fault.
   */
  feed(chunk: Uint8Array, onPacket: (packet: Packet) => void): void {
    if (this.#failure) throw this.#failure;
    try {
      this.run(chunk, onPacket);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.#failure = err;
        this.#pending = NO_PARTS;
        this.#assembly = undefined;
        this.#pendingBytes = 0;
        this.#skip = undefined;
      }
      throw err;
    }
  }

  /** Decodes `chunk` (after any skipped or pending packet), calling `onPacket` per complete packet and stashing a trailing partial one. */
  private run(chunk: Uint8Array, onPacket: (packet: Packet) => void): void {
    let pos = 0;
    if (this.#skip !== undefined) {
      pos = this.passOver(chunk, 0);
      if (pos < 0) return; // all of chunk belonged to the skipped PUBLISH
    } else if (this.#pendingBytes > 0) {
      pos = this.completePending(chunk, onPacket);
      if (pos < 0) return; // still incomplete: chunk was absorbed into pending
    }
    const end = chunk.length;
    while (pos < end) {
      const total = this.readHeader(chunk, pos, end);
      if (total < 0 || pos + total > end) {
        if (total === SKIP) {
          pos = this.passOver(chunk, pos);
          if (pos < 0) return;
          continue;
        }
        this.stash(chunk.subarray(pos), total);
        return;
      }
      onPacket(this.body(chunk, pos, pos + total));
      pos += total;
    }
  }

  /** Decodes the whole packet bytes[pos, end) once its fixed header has passed readHeader. */
  private body(bytes: Uint8Array, pos: number, end: number, owned = false): Packet {
    const first = bytes[pos]!;
    let i = pos + 1;
    while (bytes[i]! & 0x80) i++;
    return this.#bodies[first >> 4]!(first, bytes, i + 1, end, owned);
  }

  /** Appends to the pending packet; returns where the rest of `chunk` starts, or -1 if it was all absorbed. */
  private completePending(chunk: Uint8Array, onPacket: (packet: Packet) => void): number {
    if (this.#need < 0) {
      const head = new Uint8Array(Math.min(5, this.#pendingBytes + chunk.length));
      let n = 0;
      for (const part of this.#pending) for (let i = 0; i < part.length && n < head.length; i++) head[n++] = part[i]!;
      for (let i = 0; n < head.length; i++) head[n++] = chunk[i]!;
      this.#need = this.readHeader(head, 0, head.length);
      if (this.#need === SKIP) {
        // pending held only fixed-header bytes (fewer than 5): count them and skip on from the start of chunk
        this.#skip!.consumed = this.#pendingBytes;
        this.#pending = NO_PARTS;
        this.#pendingBytes = 0;
        this.#need = -1;
        return this.passOver(chunk, 0);
      }
    }
    if (this.#need < 0) {
      this.#pending.push(chunk); // fewer than 5 bytes so far (stash() gave this packet its own list)
      this.#pendingBytes += chunk.length;
      return -1;
    }
    const used = Math.min(chunk.length, this.#need - this.#pendingBytes);
    const filled = this.#pendingBytes + used;
    let packet = this.#assembly;
    if (packet === undefined || packet.length < filled) {
      const grown = new Uint8Array(Math.min(this.#need, Math.max(filled, 2 * (packet?.length ?? 0), ASSEMBLY_START)));
      if (packet) grown.set(packet.subarray(0, this.#pendingBytes));
      else {
        let n = 0;
        for (const part of this.#pending) {
          grown.set(part, n);
          n += part.length;
        }
        this.#pending = NO_PARTS;
      }
      packet = this.#assembly = grown;
    }
    packet.set(used === chunk.length ? chunk : chunk.subarray(0, used), this.#pendingBytes);
    this.#pendingBytes = filled;
    if (filled < this.#need) return -1;
    this.#assembly = undefined;
    this.#pendingBytes = 0;
    this.#need = -1;
    onPacket(this.body(packet, 0, packet.length, true));
    return used;
  }

  /**
   * Consumes chunk[pos...] for the oversize PUBLISH being skipped: fixed header counted, variable header gathered
   * and decoded, payload dropped. Once the packet's last byte is consumed it reports the PUBLISH and returns where
   * the next packet starts; returns -1 while all of chunk belonged to the skipped packet.
   */
  private passOver(chunk: Uint8Array, pos: number): number {
    const s = this.#skip!;
    const end = chunk.length;
    if (s.consumed < s.headerSize) {
      const n = Math.min(s.headerSize - s.consumed, end - pos);
      s.consumed += n;
      pos += n;
    }
    while (s.info === undefined && pos < end) {
      const n = Math.min(s.want - s.held, end - pos);
      s.head.set(chunk.subarray(pos, pos + n), s.held);
      s.held += n;
      s.consumed += n;
      pos += n;
      if (s.held < s.want) return -1;
      if (!s.sized) {
        s.sized = true;
        const len = (s.head[0]! << 8) | s.head[1]!;
        // An empty topic is refused at once; otherwise never gather past the remaining length (a shorter one is
        // refused as truncated by the decoder, exactly as for a PUBLISH within the limit).
        const want = len === 0 ? 2 : Math.min(s.total - s.headerSize, 2 + len + (s.first & 0x06 ? 2 : 0));
        if (want > 2) {
          const head = new Uint8Array(want);
          head.set(s.head);
          s.head = head;
          s.want = want;
          continue;
        }
      }
      // The table's own PUBLISH decoder on the variable header alone (an empty payload): the same checks, the same
      // errors, as for a PUBLISH within the limit.
      const { topic, qos, packetId, retain, dup } = this.#bodies[3]!(s.first, s.head, 0, s.want, true) as PublishPacket;
      s.info = { topic, qos, packetId, retain, dup, size: s.total };
      s.head = NO_BYTES;
      s.held = 0;
    }
    const n = Math.min(s.total - s.consumed, end - pos);
    s.consumed += n;
    pos += n;
    if (s.consumed < s.total) return -1;
    this.#skip = undefined;
    this.#onOversizePublish!(s.info!);
    return pos;
  }

  /** Keeps `rest` as the start of an incomplete packet of total size `need` (-1 while its fixed header is incomplete). */
  private stash(rest: Uint8Array, need: number): void {
    this.#pending = [rest];
    this.#pendingBytes = rest.length;
    this.#need = need;
  }

  /**
   * Validates the fixed header at bytes[pos] and returns the packet's total size, or -1 when the
   * header's bytes are not all there yet. Throws as soon as the available bytes prove a fault. For a PUBLISH over
   * maxPacketSize with onOversizePublish set, it starts skipping that packet (this.#skip) and returns SKIP.
   */
  private readHeader(bytes: Uint8Array, pos: number, end: number): number {
    const first = bytes[pos]!;
    const type = first >> 4;
    const name = NAMES[type]!;
    if (type === 0 || type === 15) {
      throw new ProtocolError("invalid-packet-type", `packet type ${type} is reserved`);
    }
    if (this.#bodies[type] === undefined) {
      throw new ProtocolError("unexpected-packet-type", `${name} must never be sent to a ${this.#role}`);
    }
    const flags = first & 0x0f;
    const required = REQUIRED_FLAGS[type]!;
    if (required >= 0 && flags !== required) {
      throw new ProtocolError("invalid-flags", `${name} flags must be ${required}, got ${flags}`);
    }
    if (required < 0 && (flags & 0x06) === 0x06) {
      throw new ProtocolError("invalid-qos", "PUBLISH with QoS 3");
    }
    let remaining = 0;
    let multiplier = 1;
    let i = pos + 1;
    for (;;) {
      if (i >= end) return -1;
      const digit = bytes[i]!;
      remaining += (digit & 0x7f) * multiplier;
      i++;
      if ((digit & 0x80) === 0) break;
      if (i - pos - 1 >= 4) {
        throw new ProtocolError("malformed-remaining-length", "remaining length longer than 4 bytes");
      }
      multiplier *= 128;
    }
    const fixed = FIXED_LENGTH[type]!;
    if (fixed >= 0 && remaining !== fixed) {
      throw new ProtocolError("invalid-length", `${name} remaining length must be ${fixed}, got ${remaining}`);
    }
    if (remaining < MIN_LENGTH[type]!) {
      throw new ProtocolError("invalid-length", `${name} remaining length ${remaining} is too short`);
    }
    const total = i - pos + remaining;
    if (total > this.#maxPacketSize) {
      if (type === 3 && this.#onOversizePublish !== undefined) {
        this.#skip = new OversizeSkip(first, i - pos, total);
        return SKIP;
      }
      throw new ProtocolError("packet-too-large", `${name} of ${total} bytes exceeds maxPacketSize ${this.#maxPacketSize}`);
    }
    return total;
  }
}
