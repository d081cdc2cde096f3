/**
 * Encoding what a client sends: CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE,
 * PINGREQ and DISCONNECT, each into one exactly-sized Uint8Array. What only a server sends (CONNACK, SUBACK,
 * UNSUBACK, PINGRESP) is in encode-server.ts, so a client's bundle does not carry it.
 */

import { ProtocolError } from "./errors.js";
import { show } from "./show.js";
import { MAX_REMAINING_LENGTH, type ConnectPacket, type Packet, type PublishPacket, type SubscribePacket, type UnsubscribePacket } from "./packets.js";
import { OwnBuffer, Writer, checkBytes, checkPacketId, checkQos, strLength, topicLength, writeAck, wrongType, type Sink } from "./writer.js";

const PROTOCOL_NAME = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]; // "MQTT"
const PROTOCOL_LEVEL = 4;

/** First byte of each acknowledgement both roles send. */
export const ACK_FIRST_BYTE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;

const SENT_BY_SERVER_ONLY = ["connack", "suback", "unsuback", "pingresp"];

/**
 * Encodes a packet a client sends. Throws ProtocolError when the packet cannot be expressed in MQTT 3.1.1, and
 * "unexpected-packet-type" for CONNACK, SUBACK, UNSUBACK and PINGRESP (use encode() or encodeServerPacket()).
 */
export function encodeClientPacket(packet: Packet): Uint8Array {
  const out = new OwnBuffer();
  writeClientPacket(packet, out);
  return out.bytes;
}

/**
 * encodeClientPacket() into a sink: consecutive packets land next to each other, so a connection can write a
 * turn's packets without a buffer per packet or a copy into a combined one. Same checks, same errors.
 */
export function writeClientPacket(packet: Packet, sink: Sink): void {
  switch (packet.type) {
    case "publish":
      writePublish(packet, sink);
      return;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return writeAck(ACK_FIRST_BYTE[packet.type], packet.packetId, sink);
    case "pingreq":
    case "disconnect":
      new Writer(packet.type === "pingreq" ? 0xc0 : 0xe0, 0, 0, sink).finish();
      return;
    case "connect":
      encodeConnect(packet, sink);
      return;
    case "subscribe":
    case "unsubscribe":
      encodeFilterList(packet, sink);
      return;
    default:
      throw wrongType(packet, SENT_BY_SERVER_ONLY, "client");
  }
}

/** Encodes a PUBLISH. The topic must be a valid topic name; packetId is required for QoS 1 and 2. */
export function encodePublish(packet: PublishPacket): Uint8Array {
  return writePublish(packet);
}

/** A whole PUBLISH into `sink` (by default a buffer of its own). */
function writePublish(packet: PublishPacket, sink?: Sink): Uint8Array {
  const w = publishWriter(packet, 0, sink);
  w.raw(packet.payload);
  return w.finish();
}

/** encodePublishHead() into a sink. */
export function writePublishHead(packet: PublishPacket, sink: Sink): void {
  publishWriter(packet, packet.payload.length, sink).finish();
}

/**
 * Encodes a PUBLISH without its payload: the bytes to send before `packet.payload` itself. Checked exactly like
 * encodePublish(); lets a large payload go to the transport as it is instead of being copied into the packet.
 */
export function encodePublishHead(packet: PublishPacket): Uint8Array {
  return publishWriter(packet, packet.payload.length).bytes;
}

function publishWriter(packet: PublishPacket, omitted: number, sink?: Sink): Writer {
  const { topic, payload, qos } = packet;
  checkQos(qos);
  checkBytes(payload, "payload");
  const topicLen = topicLength(topic);
  const hasId = qos > 0;
  if (packet.dup && !hasId) throw new ProtocolError("invalid-flags", "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]");
  if (hasId) checkPacketId(packet.packetId);
  const remaining = 2 + topicLen + (hasId ? 2 : 0) + payload.length;
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new ProtocolError("packet-too-large", `PUBLISH of ${remaining} bytes exceeds MQTT's limit of ${MAX_REMAINING_LENGTH}`);
  }
  const flags = (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 1 : 0);
  const w = new Writer(0x30 | flags, remaining, omitted, sink);
  w.str(topic, topicLen);
  if (hasId) w.u16(packet.packetId!);
  return w;
}

function encodeConnect(p: ConnectPacket, sink?: Sink): Uint8Array {
  if (!Number.isInteger(p.keepalive) || p.keepalive < 0 || p.keepalive > 0xffff) {
    throw new ProtocolError("invalid-field", `keepalive ${show(p.keepalive)} is not an integer in 0..65535`);
  }
  const idLen = strLength(p.clientId, "client id");
  let remaining = 10 + 2 + idLen;
  let flags = p.clean ? 0x02 : 0;
  let willTopicLen = 0;
  if (p.will) {
    checkQos(p.will.qos);
    willTopicLen = topicLength(p.will.topic);
    checkBytes(p.will.payload, "will payload");
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
    checkBytes(p.password, "password");
    if (p.password.length > 0xffff) throw new ProtocolError("invalid-length", "password longer than 65,535 bytes");
    remaining += 2 + p.password.length;
    flags |= 0x40;
  }
  const w = new Writer(0x10, remaining, 0, sink);
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
  return w.finish();
}

/** SUBSCRIBE (filters, each with a requested QoS byte) or UNSUBSCRIBE (filters only). */
function encodeFilterList(p: SubscribePacket | UnsubscribePacket, sink?: Sink): Uint8Array {
  const sub = p.type === "subscribe";
  checkPacketId(p.packetId);
  const filters = sub ? p.subscriptions.map((s) => s.topic) : p.topics;
  if (filters.length === 0) throw new ProtocolError("empty-list", `${sub ? "SUBSCRIBE" : "UNSUBSCRIBE"} needs at least one topic filter`);
  const lengths = filters.map((f, i) => {
    if (sub) checkQos(p.subscriptions[i]!.qos);
    return topicLength(f, true);
  });
  const w = new Writer(sub ? 0x82 : 0xa2, lengths.reduce((a, n) => a + 2 + n + (sub ? 1 : 0), 2), 0, sink);
  w.u16(p.packetId);
  filters.forEach((f, i) => {
    w.str(f, lengths[i]!);
    if (sub) w.u8(p.subscriptions[i]!.qos);
  });
  return w.finish();
}
