/**
 * Encoding what a v5 client sends: CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE,
 * PINGREQ, DISCONNECT and AUTH. What only a server sends is in encode-server.ts.
 */

import { ProtocolError } from "../errors.js";
import { OwnBuffer, Writer, checkPacketId, checkQos, strLength, topicLength, type Sink } from "../writer.js";
import { wrongType, writeAuth, writeDisconnect, writePubAck, writePublish } from "./encode-common.js";
import type { ConnectPacket, Packet, SubscribePacket, UnsubscribePacket } from "./packets.js";
import { prepareProperties, writeProperties } from "./properties.js";
import { filterProblem, subscriptionOptions } from "./subscription.js";
import { binLength, checkInt } from "./wire.js";

const PROTOCOL_NAME = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]; // "MQTT"
const PROTOCOL_LEVEL = 5;
const SENT_BY_SERVER_ONLY = ["connack", "suback", "unsuback", "pingresp"];

/** Encodes a packet a v5 client sends; throws ProtocolError when it cannot be expressed in MQTT 5.0. */
export function encodeClientPacket5(packet: Packet): Uint8Array {
  const out = new OwnBuffer();
  writeClientPacket5(packet, out);
  return out.bytes;
}

/** encodeClientPacket5() into a sink: consecutive packets land next to each other. */
export function writeClientPacket5(packet: Packet, sink: Sink): void {
  switch (packet.type) {
    case "connect": writeConnect(packet, sink); return;
    case "publish": writePublish(packet, true, sink); return;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp": writePubAck(packet, sink); return;
    case "subscribe": writeSubscribe(packet, sink); return;
    case "unsubscribe": writeUnsubscribe(packet, sink); return;
    case "pingreq": new Writer(0xc0, 0, 0, sink).finish(); return;
    case "disconnect": writeDisconnect(packet, false, sink); return;
    case "auth": writeAuth(packet, sink); return;
    default: throw wrongType(packet, SENT_BY_SERVER_ONLY, "client");
  }
}

/** CONNECT (section 3.1). A password needs no user name in MQTT 5 (3.1.2.9). */
function writeConnect(p: ConnectPacket, sink: Sink): void {
  checkInt(p.keepalive, 0, 0xffff, "keepalive");
  const idLen = strLength(p.clientId, "client id");
  const props = prepareProperties(p.properties, "connect");
  let remaining = PROTOCOL_NAME.length + 4 + props.size + 2 + idLen;
  let flags = p.clean ? 0x02 : 0;
  const will = p.will;
  let willTopicLen = 0;
  let willProps = prepareProperties(undefined, "will");
  if (will) {
    checkQos(will.qos);
    willTopicLen = topicLength(will.topic);
    willProps = prepareProperties(will.properties, "will");
    remaining += willProps.size + 2 + willTopicLen + 2 + binLength(will.payload, "will payload");
    flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  }
  let userLen = 0;
  if (p.username !== undefined) {
    userLen = strLength(p.username, "username");
    remaining += 2 + userLen;
    flags |= 0x80;
  }
  if (p.password !== undefined) {
    remaining += 2 + binLength(p.password, "password");
    flags |= 0x40;
  }
  const w = new Writer(0x10, remaining, 0, sink);
  for (const b of PROTOCOL_NAME) w.u8(b);
  w.u8(PROTOCOL_LEVEL);
  w.u8(flags);
  w.u16(p.keepalive);
  writeProperties(w, props);
  w.str(p.clientId, idLen);
  if (will) {
    writeProperties(w, willProps);
    w.str(will.topic, willTopicLen);
    w.u16(will.payload.length);
    w.raw(will.payload);
  }
  if (p.username !== undefined) w.str(p.username, userLen);
  if (p.password !== undefined) {
    w.u16(p.password.length);
    w.raw(p.password);
  }
  w.finish();
}

/** UTF-8 length of a valid v5 topic filter; throws "invalid-topic". */
function filterLength(filter: string): number {
  const problem = filterProblem(filter);
  if (problem) throw new ProtocolError("invalid-topic", `topic filter ${JSON.stringify(filter)}: ${problem}`);
  return topicLength(filter, true);
}

/** SUBSCRIBE (section 3.8): each filter followed by its Subscription Options byte. */
function writeSubscribe(p: SubscribePacket, sink: Sink): void {
  checkPacketId(p.packetId);
  if (!Array.isArray(p.subscriptions) || p.subscriptions.length === 0) {
    throw new ProtocolError("empty-list", "SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-2]");
  }
  const props = prepareProperties(p.properties, "subscribe");
  const options = p.subscriptions.map(subscriptionOptions);
  const lengths = p.subscriptions.map((s) => filterLength(s.topic));
  const w = new Writer(0x82, lengths.reduce((n, len) => n + 3 + len, 2 + props.size), 0, sink);
  w.u16(p.packetId);
  writeProperties(w, props);
  p.subscriptions.forEach((s, i) => {
    w.str(s.topic, lengths[i]!);
    w.u8(options[i]!);
  });
  w.finish();
}

/** UNSUBSCRIBE (section 3.10). */
function writeUnsubscribe(p: UnsubscribePacket, sink: Sink): void {
  checkPacketId(p.packetId);
  if (!Array.isArray(p.topics) || p.topics.length === 0) {
    throw new ProtocolError("empty-list", "UNSUBSCRIBE needs at least one topic filter [MQTT-3.10.3-2]");
  }
  const props = prepareProperties(p.properties, "unsubscribe");
  const lengths = p.topics.map(filterLength);
  const w = new Writer(0xa2, lengths.reduce((n, len) => n + 2 + len, 2 + props.size), 0, sink);
  w.u16(p.packetId);
  writeProperties(w, props);
  p.topics.forEach((t, i) => w.str(t, lengths[i]!));
  w.finish();
}
