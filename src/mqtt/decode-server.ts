/**
 * The server-role decoder: what a client may send (CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE,
 * UNSUBSCRIBE, PINGREQ, DISCONNECT). Only a broker (or a test broker) needs it; the client imports none of this.
 */

import { copyRange } from "./alloc.js";
import { decodeAck, decodePublish, packetId } from "./decode-publish.js";
import { ProtocolError } from "./errors.js";
import type { ConnectPacket, Packet, QoS, SubscriptionRequest } from "./packets.js";
import { PacketReader, type BodyTable, type DecoderLimits } from "./reader.js";
import { topicFilterProblem } from "./topic.js";
import { readUtf8 } from "./utf8.js";

/** Checks the 2-byte length prefix at `at` and returns where the field's bytes end. */
function fieldEnd(bytes: Uint8Array, at: number, end: number, what: string): number {
  if (at + 2 > end) throw new ProtocolError("truncated", `${what}: length prefix past the end of the packet`);
  const len = (bytes[at]! << 8) | bytes[at + 1]!;
  if (at + 2 + len > end) throw new ProtocolError("truncated", `${what}: ${len} bytes declared, ${end - at - 2} left`);
  return at + 2 + len;
}

/** Reads a length-prefixed string at `at`; returns [string, next offset]. */
function readString(bytes: Uint8Array, at: number, end: number, what: string): [string, number] {
  const next = fieldEnd(bytes, at, end, what);
  const s = readUtf8(bytes, at + 2, next);
  if (s === undefined) throw new ProtocolError("invalid-utf8", `${what} is not valid MQTT UTF-8`);
  return [s, next];
}

/** Reads length-prefixed binary data at `at` (copied); returns [bytes, next offset]. */
function readBinary(bytes: Uint8Array, at: number, end: number, what: string): [Uint8Array, number] {
  const next = fieldEnd(bytes, at, end, what);
  return [copyRange(bytes, at + 2, next), next];
}

function readFilter(bytes: Uint8Array, at: number, end: number, what: string): [string, number] {
  const [filter, next] = readString(bytes, at, end, what);
  const problem = topicFilterProblem(filter);
  if (problem) throw new ProtocolError("invalid-topic", `${what} ${JSON.stringify(filter)}: ${problem}`);
  return [filter, next];
}

function decodeConnect(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
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
  const packet: ConnectPacket = { type: "connect", clientId, clean: (flags & 0x02) !== 0, keepalive };
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

function decodeSubscribe(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
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

function decodeUnsubscribe(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
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

const decodePingreq = (): Packet => ({ type: "pingreq" });
const decodeDisconnect = (): Packet => ({ type: "disconnect" });

/** Body decoders by wire type for what a server receives. */
export const SERVER_BODIES: BodyTable = [
  undefined, decodeConnect, undefined, decodePublish, decodeAck, decodeAck, decodeAck, decodeAck,
  decodeSubscribe, undefined, decodeUnsubscribe, undefined, decodePingreq, undefined, decodeDisconnect, undefined,
];

/** Incremental decoder for the server side: accepts what a client sends. After a ProtocolError it stays failed. */
export class ServerDecoder extends PacketReader {
  /** Creates a server-side decoder with the given maxPacketSize; onOversizePublish is ignored. */
  constructor(options: DecoderLimits = {}) {
    super(SERVER_BODIES, "server", options.maxPacketSize);
  }
}
