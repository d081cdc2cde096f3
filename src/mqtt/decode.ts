/**
 * Incremental decoder: feed it chunks of any size, it emits whole packets. The fixed header is checked
 * as soon as its bytes arrive, so a packet that is too large or of a forbidden type is refused before
 * its body is buffered. Packets inside one chunk are decoded in place (no copy of the chunk); only a
 * packet that spans chunks is assembled, and only its own bytes are copied. The decoder keeps references
 * to the chunks of an incomplete packet: callers must not reuse a chunk's memory after feeding it.
 */

import { copyRange } from "./alloc.js";
import { ProtocolError } from "./errors.js";
import type { Packet, QoS, SubackCode, SubscriptionRequest } from "./packets.js";
import { topicFilterProblem } from "./topic.js";
import { readUtf8 } from "./utf8.js";

/** Which side of the connection the decoder sits on: it refuses what that side must never receive. */
export type DecoderRole = "client" | "server";

/** Options of a Decoder. */
export interface DecoderOptions {
  /** Largest accepted packet in bytes, fixed header included. Default 1 MiB. */
  maxPacketSize?: number;
  /** "client" (default) accepts what a broker sends; "server" accepts what a client sends. */
  role?: DecoderRole;
}

/** Default cap on the size of one inbound packet. */
export const DEFAULT_MAX_PACKET_SIZE = 1 << 20;

/** First capacity of the buffer a packet spanning chunks is gathered in (smaller packets get their exact size). */
const ASSEMBLY_START = 16 * 1024;

// Per wire type (0..15): which roles may receive it, its required low-nibble flags (-1: PUBLISH, checked
// separately) and its fixed remaining length (-1: variable).
const NAMES = ["reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE",
  "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "reserved"];
const CLIENT_RECEIVES = [false, false, true, true, true, true, true, true, false, true, false, true, false, true, false, false];
const SERVER_RECEIVES = [false, true, false, true, true, true, true, true, true, false, true, false, true, false, true, false];
const REQUIRED_FLAGS = [0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];
const FIXED_LENGTH = [-1, -1, 2, -1, 2, 2, 2, 2, -1, -1, -1, 2, 0, 0, 0, -1];
const MIN_LENGTH = [0, 12, 2, 3, 2, 2, 2, 2, 5, 3, 5, 2, 0, 0, 0, 0];

/** Incremental MQTT 3.1.1 decoder. After a ProtocolError it stays failed: the connection must be closed. */
export class Decoder {
  private readonly maxPacketSize: number;
  private readonly role: DecoderRole;
  private readonly accepts: readonly boolean[];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Total size of the packet at the head of `pending`, or -1 while its fixed header is incomplete. */
  private need = -1;
  /**
   * Once the size of a packet spanning chunks is known, its bytes are gathered here (capacity doubling up to that
   * size): memory stays proportional to the bytes received however finely the peer splits them, where one
   * reference per chunk would cost a few hundred bytes per one-byte read.
   */
  private assembly: Uint8Array | undefined;
  private failure: ProtocolError | undefined;

  constructor(options: DecoderOptions = {}) {
    this.maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    this.role = options.role ?? "client";
    this.accepts = this.role === "server" ? SERVER_RECEIVES : CLIENT_RECEIVES;
  }

  /** Bytes held for a packet not yet complete. */
  get buffered(): number {
    return this.pendingBytes;
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
    if (this.failure) throw this.failure;
    try {
      this.run(chunk, onPacket);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.failure = err;
        this.pending = [];
        this.assembly = undefined;
        this.pendingBytes = 0;
      }
      throw err;
    }
  }

  private run(chunk: Uint8Array, onPacket: (packet: Packet) => void): void {
    let pos = 0;
    if (this.pendingBytes > 0) {
      pos = this.completePending(chunk, onPacket);
      if (pos < 0) return; // still incomplete: chunk was absorbed into pending
    }
    const end = chunk.length;
    while (pos < end) {
      const header = this.readHeader(chunk, pos, end);
      if (header < 0 || pos + header > end) {
        this.stash(chunk.subarray(pos), header);
        return;
      }
      const h = headerLength(chunk, pos);
      onPacket(decodeBody(chunk[pos]!, chunk, pos + h, pos + header));
      pos += header;
    }
  }

  /** Appends to the pending packet; returns where the rest of `chunk` starts, or -1 if it was all absorbed. */
  private completePending(chunk: Uint8Array, onPacket: (packet: Packet) => void): number {
    if (this.need < 0) {
      const head = new Uint8Array(Math.min(5, this.pendingBytes + chunk.length));
      let n = 0;
      for (const part of this.pending) for (let i = 0; i < part.length && n < head.length; i++) head[n++] = part[i]!;
      for (let i = 0; n < head.length; i++) head[n++] = chunk[i]!;
      this.need = this.readHeader(head, 0, head.length);
    }
    if (this.need < 0) {
      this.pending.push(chunk); // fewer than 5 bytes so far
      this.pendingBytes += chunk.length;
      return -1;
    }
    const used = Math.min(chunk.length, this.need - this.pendingBytes);
    const filled = this.pendingBytes + used;
    let packet = this.assembly;
    if (packet === undefined || packet.length < filled) {
      const grown = new Uint8Array(Math.min(this.need, Math.max(filled, 2 * (packet?.length ?? 0), ASSEMBLY_START)));
      if (packet) grown.set(packet.subarray(0, this.pendingBytes));
      else {
        let n = 0;
        for (const part of this.pending) {
          grown.set(part, n);
          n += part.length;
        }
        this.pending = [];
      }
      packet = this.assembly = grown;
    }
    packet.set(used === chunk.length ? chunk : chunk.subarray(0, used), this.pendingBytes);
    this.pendingBytes = filled;
    if (filled < this.need) return -1;
    this.assembly = undefined;
    this.pendingBytes = 0;
    this.need = -1;
    onPacket(decodeBody(packet[0]!, packet, headerLength(packet, 0), packet.length));
    return used;
  }

  private stash(rest: Uint8Array, need: number): void {
    this.pending = [rest];
    this.pendingBytes = rest.length;
    this.need = need;
  }

  /**
   * Validates the fixed header at bytes[pos] and returns the packet's total size, or -1 when the
   * header's bytes are not all there yet. Throws as soon as the available bytes prove a fault.
   */
  private readHeader(bytes: Uint8Array, pos: number, end: number): number {
    const first = bytes[pos]!;
    const type = first >> 4;
    if (type === 0 || type === 15) {
      throw new ProtocolError("invalid-packet-type", `packet type ${type} is reserved`);
    }
    if (!this.accepts[type]) {
      throw new ProtocolError("unexpected-packet-type", `${NAMES[type]} must never be sent to a ${this.role}`);
    }
    const flags = first & 0x0f;
    const required = REQUIRED_FLAGS[type]!;
    if (required >= 0 && flags !== required) {
      throw new ProtocolError("invalid-flags", `${NAMES[type]} flags must be ${required}, got ${flags}`);
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
      throw new ProtocolError("invalid-length", `${NAMES[type]} remaining length must be ${fixed}, got ${remaining}`);
    }
    if (remaining < MIN_LENGTH[type]!) {
      throw new ProtocolError("invalid-length", `${NAMES[type]} remaining length ${remaining} is too short`);
    }
    const total = i - pos + remaining;
    if (total > this.maxPacketSize) {
      throw new ProtocolError("packet-too-large", `${NAMES[type]} of ${total} bytes exceeds maxPacketSize ${this.maxPacketSize}`);
    }
    return total;
  }
}

function headerLength(bytes: Uint8Array, pos: number): number {
  let i = pos + 1;
  while (bytes[i]! & 0x80) i++;
  return i + 1 - pos;
}

function packetId(bytes: Uint8Array, at: number, what: string): number {
  const id = (bytes[at]! << 8) | bytes[at + 1]!;
  if (id === 0) throw new ProtocolError("invalid-packet-id", `${what} with packet id 0`);
  return id;
}

/** Reads a length-prefixed string at `at`; returns [string, next offset]. */
function readString(bytes: Uint8Array, at: number, end: number, what: string): [string, number] {
  if (at + 2 > end) throw new ProtocolError("truncated", `${what}: length prefix past the end of the packet`);
  const len = (bytes[at]! << 8) | bytes[at + 1]!;
  const start = at + 2;
  if (start + len > end) throw new ProtocolError("truncated", `${what}: ${len} bytes declared, ${end - start} left`);
  const s = readUtf8(bytes, start, start + len);
  if (s === undefined) throw new ProtocolError("invalid-utf8", `${what} is not valid MQTT UTF-8`);
  return [s, start + len];
}

function decodeBody(first: number, bytes: Uint8Array, start: number, end: number): Packet {
  switch (first >> 4) {
    case 3:
      return decodePublish(first, bytes, start, end);
    case 4:
      return { type: "puback", packetId: packetId(bytes, start, "PUBACK") };
    case 5:
      return { type: "pubrec", packetId: packetId(bytes, start, "PUBREC") };
    case 6:
      return { type: "pubrel", packetId: packetId(bytes, start, "PUBREL") };
    case 7:
      return { type: "pubcomp", packetId: packetId(bytes, start, "PUBCOMP") };
    case 11:
      return { type: "unsuback", packetId: packetId(bytes, start, "UNSUBACK") };
    case 13:
      return { type: "pingresp" };
    case 12:
      return { type: "pingreq" };
    case 14:
      return { type: "disconnect" };
    case 2: {
      const flags = bytes[start]!;
      const returnCode = bytes[start + 1]!;
      if (flags & 0xfe) throw new ProtocolError("invalid-connack-flags", `CONNACK reserved flag bits set (0x${flags.toString(16)})`);
      if (returnCode > 5) throw new ProtocolError("invalid-return-code", `CONNACK return code ${returnCode} is not 0..5`);
      if (returnCode !== 0 && flags) {
        throw new ProtocolError("invalid-connack-flags", "CONNACK refusing the connection must not set session present");
      }
      return { type: "connack", sessionPresent: flags === 1, returnCode };
    }
    case 9: {
      const id = packetId(bytes, start, "SUBACK");
      const granted: SubackCode[] = [];
      for (let i = start + 2; i < end; i++) {
        const code = bytes[i]!;
        if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
          throw new ProtocolError("invalid-suback-code", `SUBACK return code 0x${code.toString(16)} is not 0, 1, 2 or 0x80`);
        }
        granted.push(code);
      }
      return { type: "suback", packetId: id, granted };
    }
    case 1:
      return decodeConnect(bytes, start, end);
    case 8: {
      const id = packetId(bytes, start, "SUBSCRIBE");
      const subscriptions: SubscriptionRequest[] = [];
      let at = start + 2;
      while (at < end) {
        const [topic, next] = readFilter(bytes, at, end, "SUBSCRIBE topic filter");
        if (next >= end) throw new ProtocolError("truncated", "SUBSCRIBE topic filter without a QoS byte");
        const qos = bytes[next]!;
        if (qos > 2) throw new ProtocolError("invalid-qos", `SUBSCRIBE requested QoS byte 0x${qos.toString(16)}`);
        subscriptions.push({ topic, qos: qos as QoS });
        at = next + 1;
      }
      return { type: "subscribe", packetId: id, subscriptions };
    }
    case 10: {
      const id = packetId(bytes, start, "UNSUBSCRIBE");
      const topics: string[] = [];
      let at = start + 2;
      while (at < end) {
        const [topic, next] = readFilter(bytes, at, end, "UNSUBSCRIBE topic filter");
        topics.push(topic);
        at = next;
      }
      return { type: "unsubscribe", packetId: id, topics };
    }
    default:
      throw new ProtocolError("invalid-packet-type", `packet type ${first >> 4} is reserved`);
  }
}

function decodePublish(first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const qos = ((first >> 1) & 3) as QoS;
  if (start + 2 > end) throw new ProtocolError("truncated", "PUBLISH topic length past the end of the packet");
  const len = (bytes[start]! << 8) | bytes[start + 1]!;
  if (len === 0) throw new ProtocolError("invalid-topic", "PUBLISH with an empty topic name");
  let at = start + 2 + len;
  if (at > end) throw new ProtocolError("truncated", `PUBLISH topic: ${len} bytes declared, ${end - start - 2} left`);
  const topic = readTopicName(bytes, start + 2, at);
  let id: number | undefined;
  if (qos > 0) {
    if (at + 2 > end) throw new ProtocolError("truncated", "PUBLISH packet id past the end of the packet");
    id = packetId(bytes, at, "PUBLISH");
    at += 2;
  }
  return {
    type: "publish",
    topic,
    payload: copyRange(bytes, at, end),
    qos,
    retain: (first & 1) === 1,
    // DUP is meaningless at QoS 0 ([MQTT-3.3.1-2] forbids it); some brokers still set it on QoS 0 deliveries of a
    // retransmitted message, so it is accepted and read as 0 (which keeps every decoded packet re-encodable).
    dup: qos > 0 && (first & 8) === 8,
    packetId: id,
  };
}

function readFilter(bytes: Uint8Array, at: number, end: number, what: string): [string, number] {
  const [filter, next] = readString(bytes, at, end, what);
  const problem = topicFilterProblem(filter);
  if (problem) throw new ProtocolError("invalid-topic", `${what} ${JSON.stringify(filter)}: ${problem}`);
  return [filter, next];
}

function decodeConnect(bytes: Uint8Array, start: number, end: number): Packet {
  const [name, afterName] = readString(bytes, start, end, "CONNECT protocol name");
  if (name !== "MQTT") throw new ProtocolError("invalid-protocol", `protocol name ${JSON.stringify(name)} is not "MQTT"`);
  if (afterName + 4 > end) throw new ProtocolError("truncated", "CONNECT variable header past the end of the packet");
  const level = bytes[afterName]!;
  if (level !== 4) throw new ProtocolError("invalid-protocol", `protocol level ${level} is not 4 (MQTT 3.1.1)`);
  const flags = bytes[afterName + 1]!;
  if (flags & 1) throw new ProtocolError("invalid-connect-flags", "CONNECT reserved flag bit 0 is set");
  const keepalive = (bytes[afterName + 2]! << 8) | bytes[afterName + 3]!;
  const hasWill = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (willQos === 3) throw new ProtocolError("invalid-qos", "CONNECT will QoS 3");
  if (!hasWill && (willQos !== 0 || willRetain)) {
    throw new ProtocolError("invalid-connect-flags", "will QoS/retain set without the will flag");
  }
  const hasUser = (flags & 0x80) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  if (hasPassword && !hasUser) throw new ProtocolError("invalid-connect-flags", "password flag without username flag");
  let [clientId, at] = readString(bytes, afterName + 4, end, "CONNECT client id");
  const packet: Extract<Packet, { type: "connect" }> = { type: "connect", clientId, clean: (flags & 0x02) !== 0, keepalive };
  if (hasWill) {
    const [topic, next] = readString(bytes, at, end, "CONNECT will topic");
    if (topic.length === 0 || topic.includes("+") || topic.includes("#")) {
      throw new ProtocolError("invalid-topic", `will topic ${JSON.stringify(topic)} is not a valid topic name`);
    }
    const [payload, after] = readBinary(bytes, next, end, "CONNECT will payload");
    packet.will = { topic, payload, qos: willQos as QoS, retain: willRetain };
    at = after;
  }
  if (hasUser) [packet.username, at] = readString(bytes, at, end, "CONNECT username");
  if (hasPassword) [packet.password, at] = readBinary(bytes, at, end, "CONNECT password");
  if (at !== end) throw new ProtocolError("invalid-length", `CONNECT has ${end - at} unexpected trailing bytes`);
  return packet;
}

function readBinary(bytes: Uint8Array, at: number, end: number, what: string): [Uint8Array, number] {
  if (at + 2 > end) throw new ProtocolError("truncated", `${what}: length prefix past the end of the packet`);
  const len = (bytes[at]! << 8) | bytes[at + 1]!;
  if (at + 2 + len > end) throw new ProtocolError("truncated", `${what}: ${len} bytes declared, ${end - at - 2} left`);
  return [copyRange(bytes, at + 2, at + 2 + len), at + 2 + len];
}

// Subscribers see the same few topics over and over: a small direct-mapped cache of validated topic
// names turns decoding a repeated topic into one byte comparison instead of validation plus a new string.
const TOPIC_CACHE_SLOTS = 64;
const MAX_CACHED_TOPIC = 256;
const cachedTopicBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(TOPIC_CACHE_SLOTS);
const cachedTopicNames: string[] = new Array<string>(TOPIC_CACHE_SLOTS).fill("");

function readTopicName(bytes: Uint8Array, start: number, end: number): string {
  const len = end - start;
  const slot = (len * 31 + bytes[start]! * 7 + bytes[end - 1]! * 13 + bytes[start + (len >> 1)]!) & (TOPIC_CACHE_SLOTS - 1);
  const cached = cachedTopicBytes[slot];
  if (cached !== undefined && cached.length === len) {
    let i = 0;
    while (i < len && cached[i] === bytes[start + i]) i++;
    if (i === len) return cachedTopicNames[slot]!;
  }
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 0x23 || b === 0x2b) throw new ProtocolError("invalid-topic", "PUBLISH topic name contains a wildcard");
  }
  const topic = readUtf8(bytes, start, end);
  if (topic === undefined) throw new ProtocolError("invalid-utf8", "PUBLISH topic is not valid MQTT UTF-8");
  if (len <= MAX_CACHED_TOPIC) {
    cachedTopicBytes[slot] = bytes.slice(start, end);
    cachedTopicNames[slot] = topic;
  }
  return topic;
}
