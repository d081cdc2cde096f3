/** Packet -> bytes. Each packet is encoded into one exactly-sized Uint8Array. */

import { alloc } from "./alloc.js";
import { ProtocolError } from "./errors.js";
import { MAX_REMAINING_LENGTH, type Packet, type PublishPacket, type QoS } from "./packets.js";
import { topicFilterProblem, topicNameProblem } from "./topic.js";
import { checkString, utf8Length, writeUtf8 } from "./utf8.js";

const PROTOCOL_NAME = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]; // "MQTT"
const PROTOCOL_LEVEL = 4;

const PINGREQ = Uint8Array.of(0xc0, 0x00);
const PINGRESP = Uint8Array.of(0xd0, 0x00);
const DISCONNECT = Uint8Array.of(0xe0, 0x00);

/** Encodes one packet. Throws ProtocolError when the packet cannot be expressed in MQTT 3.1.1. */
export function encode(packet: Packet): Uint8Array {
  switch (packet.type) {
    case "publish":
      return encodePublish(packet);
    case "puback":
      return encodeAck(0x40, packet.packetId);
    case "pubrec":
      return encodeAck(0x50, packet.packetId);
    case "pubrel":
      return encodeAck(0x62, packet.packetId);
    case "pubcomp":
      return encodeAck(0x70, packet.packetId);
    case "unsuback":
      return encodeAck(0xb0, packet.packetId);
    case "pingreq":
      return PINGREQ.slice();
    case "pingresp":
      return PINGRESP.slice();
    case "disconnect":
      return DISCONNECT.slice();
    case "connack": {
      if (!Number.isInteger(packet.returnCode) || packet.returnCode < 0 || packet.returnCode > 5) {
        throw new ProtocolError("invalid-return-code", `CONNACK return code ${packet.returnCode} is not 0..5`);
      }
      if (packet.returnCode !== 0 && packet.sessionPresent) {
        throw new ProtocolError("invalid-connack-flags", "a CONNACK refusing the connection must not set session present");
      }
      return Uint8Array.of(0x20, 0x02, packet.sessionPresent ? 1 : 0, packet.returnCode);
    }
    case "connect":
      return encodeConnect(packet);
    case "subscribe":
      return encodeSubscribe(packet.packetId, packet.subscriptions);
    case "suback": {
      checkPacketId(packet.packetId);
      if (packet.granted.length === 0) throw new ProtocolError("empty-list", "SUBACK needs at least one return code");
      const w = new Writer(0x90, 2 + packet.granted.length);
      w.u16(packet.packetId);
      for (const code of packet.granted) {
        if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
          throw new ProtocolError("invalid-suback-code", `SUBACK return code ${code} is not 0, 1, 2 or 0x80`);
        }
        w.u8(code);
      }
      return w.bytes;
    }
    case "unsubscribe": {
      checkPacketId(packet.packetId);
      if (packet.topics.length === 0) throw new ProtocolError("empty-list", "UNSUBSCRIBE needs at least one topic filter");
      const lengths = packet.topics.map((t) => filterLength(t));
      const w = new Writer(0xa2, 2 + lengths.reduce((a, n) => a + 2 + n, 0));
      w.u16(packet.packetId);
      packet.topics.forEach((t, i) => w.str(t, lengths[i]!));
      return w.bytes;
    }
    default:
      throw new ProtocolError("invalid-packet-type", `unknown packet type ${JSON.stringify((packet as { type: unknown }).type)}`);
  }
}

/** Encodes a PUBLISH. The topic must be a valid topic name; packetId is required for QoS 1 and 2. */
export function encodePublish(packet: PublishPacket): Uint8Array {
  const { topic, payload, qos } = packet;
  checkQos(qos);
  const topicLen = topicLength(topic);
  const hasId = qos > 0;
  if (packet.dup && !hasId) throw new ProtocolError("invalid-flags", "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]");
  if (hasId) checkPacketId(packet.packetId);
  const remaining = 2 + topicLen + (hasId ? 2 : 0) + payload.length;
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new ProtocolError("packet-too-large", `PUBLISH of ${remaining} bytes exceeds MQTT's limit of ${MAX_REMAINING_LENGTH}`);
  }
  const flags = (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 1 : 0);
  const w = new Writer(0x30 | flags, remaining);
  w.str(topic, topicLen);
  if (hasId) w.u16(packet.packetId!);
  w.raw(payload);
  return w.bytes;
}

function encodeConnect(p: Extract<Packet, { type: "connect" }>): Uint8Array {
  if (!Number.isInteger(p.keepalive) || p.keepalive < 0 || p.keepalive > 0xffff) {
    throw new ProtocolError("invalid-field", `keepalive ${p.keepalive} is not an integer in 0..65535`);
  }
  const idLen = strLength(p.clientId, "client id");
  let remaining = 10 + 2 + idLen;
  let flags = p.clean ? 0x02 : 0;
  let willTopicLen = 0;
  if (p.will) {
    checkQos(p.will.qos);
    willTopicLen = topicLength(p.will.topic);
    if (p.will.payload.length > 0xffff) throw new ProtocolError("invalid-length", "will payload longer than 65,535 bytes");
    remaining += 2 + willTopicLen + 2 + p.will.payload.length;
    flags |= 0x04 | (p.will.qos << 3) | (p.will.retain ? 0x20 : 0);
  }
  let userLen = 0;
  if (p.username !== undefined) {
    userLen = strLength(p.username, "username");
    remaining += 2 + userLen;
    flags |= 0x80;
  }
  if (p.password !== undefined) {
    if (p.username === undefined) throw new ProtocolError("invalid-connect-flags", "a password requires a username in MQTT 3.1.1");
    if (p.password.length > 0xffff) throw new ProtocolError("invalid-length", "password longer than 65,535 bytes");
    remaining += 2 + p.password.length;
    flags |= 0x40;
  }
  const w = new Writer(0x10, remaining);
  for (const b of PROTOCOL_NAME) w.u8(b);
  w.u8(PROTOCOL_LEVEL);
  w.u8(flags);
  w.u16(p.keepalive);
  w.str(p.clientId, idLen);
  if (p.will) {
    w.str(p.will.topic, willTopicLen);
    w.u16(p.will.payload.length);
    w.raw(p.will.payload);
  }
  if (p.username !== undefined) w.str(p.username, userLen);
  if (p.password !== undefined) {
    w.u16(p.password.length);
    w.raw(p.password);
  }
  return w.bytes;
}

function encodeSubscribe(packetId: number, subs: ReadonlyArray<{ topic: string; qos: QoS }>): Uint8Array {
  checkPacketId(packetId);
  if (subs.length === 0) throw new ProtocolError("empty-list", "SUBSCRIBE needs at least one topic filter");
  const lengths = subs.map((s) => {
    checkQos(s.qos);
    return filterLength(s.topic);
  });
  const w = new Writer(0x82, 2 + lengths.reduce((a, n) => a + 3 + n, 0));
  w.u16(packetId);
  subs.forEach((s, i) => {
    w.str(s.topic, lengths[i]!);
    w.u8(s.qos);
  });
  return w.bytes;
}

function encodeAck(firstByte: number, packetId: number): Uint8Array {
  checkPacketId(packetId);
  return Uint8Array.of(firstByte, 0x02, packetId >> 8, packetId & 0xff);
}

function checkPacketId(id: number | undefined): void {
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff) {
    throw new ProtocolError("invalid-packet-id", `packet id ${id} is not an integer in 1..65535`);
  }
}

function checkQos(qos: number): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new ProtocolError("invalid-qos", `QoS ${qos} is not 0, 1 or 2`);
}

function topicLength(topic: string): number {
  const problem = topicNameProblem(topic);
  if (problem) throw new ProtocolError("invalid-topic", `topic name ${JSON.stringify(topic)}: ${problem}`);
  return utf8Length(topic);
}

function filterLength(filter: string): number {
  const problem = topicFilterProblem(filter);
  if (problem) throw new ProtocolError("invalid-topic", `topic filter ${JSON.stringify(filter)}: ${problem}`);
  return utf8Length(filter);
}

function strLength(value: string, what: string): number {
  const bad = checkString(value);
  if (bad) throw new ProtocolError("invalid-utf8", `${what} ${bad}`);
  const n = utf8Length(value);
  if (n > 0xffff) throw new ProtocolError("invalid-length", `${what} longer than 65,535 bytes`);
  return n;
}

/** Total size of a packet whose body is `remaining` bytes: first byte, variable-length remaining length, body. */
export function packetSize(remaining: number): number {
  return 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4) + remaining;
}

/** Fixed header + exactly `remaining` bytes of body, written front to back. */
class Writer {
  readonly bytes: Uint8Array;
  private pos: number;

  constructor(firstByte: number, remaining: number) {
    if (remaining > MAX_REMAINING_LENGTH) {
      throw new ProtocolError("packet-too-large", `a packet of ${remaining} bytes exceeds MQTT's limit of ${MAX_REMAINING_LENGTH}`);
    }
    this.bytes = alloc(packetSize(remaining));
    this.bytes[0] = firstByte;
    let pos = 1;
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
}
