/**
 * The v5 server-role decoder: what a client may send (CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP,
 * SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, AUTH). Only a broker (or the scripted test broker) needs it.
 */

import { ProtocolError } from "../errors.js";
import type { QoS } from "../packets.js";
import { decodeAuth, decodePubAck, disconnectDecoder, publishDecoder, readPacketId, readTopicName } from "./decode-common.js";
import type { ConnectPacket, Packet, RetainHandling, SubscriptionRequest } from "./packets.js";
import { readProperties } from "./properties.js";
import { PacketReader5, type BodyTable5, type DecoderOptions5 } from "./reader.js";
import { filterProblem } from "./subscription.js";
import { Cursor } from "./wire.js";

/** CONNECT (section 3.1): "MQTT", level 5, flags, keep alive, properties; client id, will, user name, password. */
function decodeConnect(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const cur = new Cursor(bytes, start, end, "CONNECT");
  const name = cur.str("protocol name");
  if (name !== "MQTT") throw new ProtocolError("invalid-protocol", `protocol name ${JSON.stringify(name)} is not "MQTT"`);
  const level = cur.u8("protocol level");
  if (level !== 5) throw new ProtocolError("invalid-protocol", `protocol level ${level} is not 5 (MQTT 5.0)`);
  const flags = cur.u8("connect flags");
  if (flags & 1) throw new ProtocolError("invalid-connect-flags", "CONNECT reserved flag bit 0 is set [MQTT-3.1.2-3]");
  const hasWill = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (willQos === 3) throw new ProtocolError("invalid-qos", "CONNECT will QoS 3");
  if (!hasWill && (willQos !== 0 || willRetain)) throw new ProtocolError("invalid-connect-flags", "will QoS/retain set without the will flag");
  const keepalive = cur.u16("keep alive");
  const properties = readProperties(cur, "connect");
  const packet: ConnectPacket = { type: "connect", clientId: cur.str("client identifier"), clean: (flags & 0x02) !== 0, keepalive, properties };
  if (hasWill) {
    const willProperties = readProperties(cur, "will");
    const topic = readTopicName(cur, "will topic", false);
    packet.will = { topic, payload: cur.bin("will payload"), qos: willQos as QoS, retain: willRetain, properties: willProperties };
  }
  if (flags & 0x80) packet.username = cur.str("user name");
  if (flags & 0x40) packet.password = cur.bin("password");
  cur.done();
  return packet;
}

/** Reads a topic filter, refusing an invalid one ("invalid-topic"). */
function readFilter(cur: Cursor): string {
  const filter = cur.str("topic filter");
  const problem = filterProblem(filter);
  if (problem) throw new ProtocolError("invalid-topic", `${cur.what} topic filter ${JSON.stringify(filter)}: ${problem}`);
  return filter;
}

/** SUBSCRIBE (section 3.8): packet id, properties, then filters each with a Subscription Options byte (3.8.3.1). */
function decodeSubscribe(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const cur = new Cursor(bytes, start, end, "SUBSCRIBE");
  const packetId = readPacketId(cur);
  const properties = readProperties(cur, "subscribe");
  if (cur.left === 0) throw new ProtocolError("empty-list", "SUBSCRIBE without topic filters [MQTT-3.8.3-2]");
  const subscriptions: SubscriptionRequest[] = [];
  while (cur.left > 0) {
    const topic = readFilter(cur);
    const options = cur.u8("subscription options");
    if (options & 0xc0) throw new ProtocolError("invalid-subscription-options", `reserved subscription option bits set (0x${options.toString(16)}) [MQTT-3.8.3-5]`);
    const qos = options & 3;
    if (qos === 3) throw new ProtocolError("invalid-qos", "SUBSCRIBE requested QoS 3");
    const retainHandling = (options >> 4) & 3;
    if (retainHandling === 3) throw new ProtocolError("invalid-subscription-options", "Retain Handling 3 is reserved");
    const noLocal = (options & 0x04) !== 0;
    if (noLocal && topic.startsWith("$share/")) {
      throw new ProtocolError("invalid-subscription-options", "No Local on a shared subscription [MQTT-3.8.3-4]");
    }
    subscriptions.push({
      topic, qos: qos as QoS, noLocal, retainAsPublished: (options & 0x08) !== 0, retainHandling: retainHandling as RetainHandling,
    });
  }
  return { type: "subscribe", packetId, subscriptions, properties };
}

/** UNSUBSCRIBE (section 3.10): packet id, properties, at least one topic filter. */
function decodeUnsubscribe(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const cur = new Cursor(bytes, start, end, "UNSUBSCRIBE");
  const packetId = readPacketId(cur);
  const properties = readProperties(cur, "unsubscribe");
  if (cur.left === 0) throw new ProtocolError("empty-list", "UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]");
  const topics: string[] = [];
  while (cur.left > 0) topics.push(readFilter(cur));
  return { type: "unsubscribe", packetId, topics, properties };
}

const decodePingreq = (): Packet => ({ type: "pingreq" });

/** Body decoders by wire type for what a v5 server receives. */
export const SERVER_BODIES5: BodyTable5 = [
  undefined, decodeConnect, undefined, publishDecoder(true), decodePubAck, decodePubAck, decodePubAck, decodePubAck,
  decodeSubscribe, undefined, decodeUnsubscribe, undefined, decodePingreq, undefined, disconnectDecoder(false), decodeAuth,
];

/** Incremental MQTT 5.0 decoder for the server side: accepts what a client sends. After a ProtocolError it stays failed. */
export class ServerDecoder5 extends PacketReader5 {
  /** Creates a server-side v5 decoder; `maxPacketSize` is enforced from the fixed header. */
  constructor(options: DecoderOptions5 = {}) {
    super(SERVER_BODIES5, "server", options);
  }
}
