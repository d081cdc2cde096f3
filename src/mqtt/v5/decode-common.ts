/**
 * Body decoders both v5 roles need: PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH. The fixed
 * header has been checked by the reader. Omitted fields take their spec defaults: an ack of remaining length 2
 * is reason 0x00 without properties (section 3.4.2.1), a DISCONNECT or AUTH of length 0 likewise (3.14.2.1, 3.15.2.1).
 */

import { ProtocolError } from "../errors.js";
import type { QoS } from "../packets.js";
import { topicNameProblem } from "../topic.js";
import type { AuthPacket, DisconnectPacket, Packet, Properties, PropertyContext, PublishPacket } from "./packets.js";
import { readProperties } from "./properties.js";
import { NAMES5, type BodyDecoder5 } from "./reader.js";
import { isValidReasonCode, type ReasonPacket } from "./reason-codes.js";
import { Cursor } from "./wire.js";

/** Reads a packet identifier, refusing 0 ("invalid-packet-id"). */
export function readPacketId(cur: Cursor): number {
  const id = cur.u16("packet identifier");
  if (id === 0) throw new ProtocolError("invalid-packet-id", `${cur.what} with packet id 0`);
  return id;
}

/** Reads a reason code and refuses one the packet may not carry ("invalid-reason-code"). */
export function readReasonCode(cur: Cursor, packet: ReasonPacket): number {
  const code = cur.u8("reason code");
  if (!isValidReasonCode(packet, code)) {
    throw new ProtocolError("invalid-reason-code", `reason code 0x${code.toString(16).padStart(2, "0")} is not valid in ${cur.what}`);
  }
  return code;
}

/** Reads a topic name (section 4.7): no wildcards; empty only where `mayBeEmpty`. */
export function readTopicName(cur: Cursor, field: string, mayBeEmpty: boolean): string {
  const topic = cur.str(field);
  if (topic === "" && mayBeEmpty) return topic;
  const problem = topicNameProblem(topic);
  if (problem) throw new ProtocolError("invalid-topic", `${cur.what} ${field} ${JSON.stringify(topic)}: ${problem}`);
  return topic;
}

/**
 * A PUBLISH decoder. `fromClient`: the sender is a client, which must not send a Subscription Identifier
 * [MQTT-3.3.4-6]. An empty topic is accepted only with a Topic Alias (section 3.3.2.3.4); resolving the alias is
 * the receiver's job.
 */
export function publishDecoder(fromClient: boolean): BodyDecoder5 {
  return (first: number, bytes: Uint8Array, start: number, end: number, owned: boolean): Packet => {
    const cur = new Cursor(bytes, start, end, "PUBLISH");
    const qos = ((first >> 1) & 3) as QoS;
    const topic = readTopicName(cur, "topic name", true);
    const packetId = qos > 0 ? readPacketId(cur) : undefined;
    const properties = readProperties(cur, "publish");
    if (topic === "" && properties.topicAlias === undefined) {
      throw new ProtocolError("invalid-topic", "PUBLISH with an empty topic name and no topic alias");
    }
    if (fromClient && properties.subscriptionIdentifiers !== undefined) {
      throw new ProtocolError("property-not-allowed", "a client's PUBLISH must not carry a subscription identifier [MQTT-3.3.4-6]");
    }
    const packet: PublishPacket = {
      type: "publish",
      topic,
      payload: cur.rest(owned),
      qos,
      retain: (first & 1) === 1,
      // DUP on QoS 0 is read as 0, as in the 3.1.1 decoder (keeps every decoded packet re-encodable).
      dup: qos > 0 && (first & 8) === 8,
      properties,
    };
    if (packetId !== undefined) packet.packetId = packetId;
    return packet;
  };
}

const ACK_TYPES = { 4: "puback", 5: "pubrec", 6: "pubrel", 7: "pubcomp" } as const;

/** PUBACK, PUBREC, PUBREL or PUBCOMP (sections 3.4 to 3.7): packet id, then optional reason code and properties. */
export function decodePubAck(first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const type = ACK_TYPES[(first >> 4) as keyof typeof ACK_TYPES];
  const cur = new Cursor(bytes, start, end, NAMES5[first >> 4]!);
  const packetId = readPacketId(cur);
  const reasonCode = cur.left > 0 ? readReasonCode(cur, type) : 0;
  const properties = cur.left > 0 ? readProperties(cur, type) : {};
  cur.done();
  return { type, packetId, reasonCode, properties };
}

/** Reason code and properties of a DISCONNECT or AUTH, both optional. */
function reasonAndProperties(cur: Cursor, packet: ReasonPacket & PropertyContext): [number, Properties] {
  const reasonCode = cur.left > 0 ? readReasonCode(cur, packet) : 0;
  const properties = cur.left > 0 ? readProperties(cur, packet) : {};
  cur.done();
  return [reasonCode, properties];
}

/**
 * A DISCONNECT decoder (section 3.14). `fromServer`: a server must not send a Session Expiry Interval
 * [MQTT-3.14.2-2].
 */
export function disconnectDecoder(fromServer: boolean): BodyDecoder5 {
  return (_first: number, bytes: Uint8Array, start: number, end: number): Packet => {
    const [reasonCode, properties] = reasonAndProperties(new Cursor(bytes, start, end, "DISCONNECT"), "disconnect");
    if (fromServer && properties.sessionExpiryInterval !== undefined) {
      throw new ProtocolError("property-not-allowed", "a server's DISCONNECT must not carry a session expiry interval [MQTT-3.14.2-2]");
    }
    const packet: DisconnectPacket = { type: "disconnect", reasonCode, properties };
    return packet;
  };
}

/** AUTH (section 3.15): empty means success; otherwise an Authentication Method is required (3.15.2.2.2). */
export function decodeAuth(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const empty = start === end;
  const [reasonCode, properties] = reasonAndProperties(new Cursor(bytes, start, end, "AUTH"), "auth");
  if (!empty && properties.authenticationMethod === undefined) {
    throw new ProtocolError("missing-property", "AUTH without an authentication method");
  }
  const packet: AuthPacket = { type: "auth", reasonCode, properties };
  return packet;
}
