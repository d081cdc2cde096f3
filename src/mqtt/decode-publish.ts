/**
 * Body decoders both roles need: PUBLISH and the packet-id acknowledgements (PUBACK, PUBREC, PUBREL, PUBCOMP and
 * UNSUBACK, all two bytes of packet id). The fixed header has been checked by the reader (type, flags, length).
 */

import { copyRange } from "./alloc.js";
import { ProtocolError } from "./errors.js";
import type { Packet, QoS } from "./packets.js";
import { NAMES } from "./reader.js";
import { readUtf8 } from "./utf8.js";

/** The packet id at bytes[at]; `what` names the packet in the error when it is 0. */
export function packetId(bytes: Uint8Array, at: number, what: string): number {
  const id = (bytes[at]! << 8) | bytes[at + 1]!;
  if (id === 0) throw new ProtocolError("invalid-packet-id", `${what} with packet id 0`);
  return id;
}

const ACK_TYPES = { 4: "puback", 5: "pubrec", 6: "pubrel", 7: "pubcomp", 11: "unsuback" } as const;

/** PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK: a packet id and nothing else. */
export function decodeAck(first: number, bytes: Uint8Array, start: number): Packet {
  const type = first >> 4;
  return { type: ACK_TYPES[type as keyof typeof ACK_TYPES], packetId: packetId(bytes, start, NAMES[type]!) };
}

/**
 * PUBLISH: topic name, packet id when QoS > 0, payload. The payload is copied out of a chunk (it must not keep the
 * caller's chunk alive); a packet gathered across chunks in its own buffer hands out a view of that buffer instead.
 */
export function decodePublish(first: number, bytes: Uint8Array, start: number, end: number, owned = false): Packet {
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
    payload: owned ? bytes.subarray(at, end) : copyRange(bytes, at, end),
    qos,
    retain: (first & 1) === 1,
    // DUP is meaningless at QoS 0 ([MQTT-3.3.1-2] forbids it); some brokers still set it on QoS 0 deliveries of a
    // retransmitted message, so it is accepted and read as 0 (which keeps every decoded packet re-encodable).
    dup: qos > 0 && (first & 8) === 8,
    packetId: id,
  };
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
