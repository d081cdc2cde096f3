/**
 * Encoders both v5 roles need: PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH, each into one
 * exactly-sized Uint8Array (or a Sink). Omittable fields are omitted: an ack with reason 0x00 and no properties is
 * 2 bytes of packet id (section 3.4.2.1); a DISCONNECT or AUTH with reason 0x00 and no properties is empty.
 */

import { ProtocolError } from "../errors.js";
import { show } from "../show.js";
import { Writer, checkBytes, checkPacketId, checkQos, topicLength, type Sink } from "../writer.js";
import type { AuthPacket, DisconnectPacket, Packet, PubAckLike, PublishPacket } from "./packets.js";
import { prepareProperties, writeProperties, type PreparedProperties } from "./properties.js";
import { isValidReasonCode, type ReasonPacket } from "./reason-codes.js";

/** First byte of each packet-id acknowledgement. */
export const ACK_FIRST_BYTE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;

/** Throws "invalid-reason-code" unless `code` may appear in `packet`. */
export function checkReasonCode(packet: ReasonPacket, code: unknown): number {
  if (typeof code !== "number" || !isValidReasonCode(packet, code)) {
    throw new ProtocolError("invalid-reason-code", `reason code ${show(code)} is not valid in ${packet.toUpperCase()}`);
  }
  return code;
}

/**
 * The error for a packet a role's encoder does not write: "unexpected-packet-type" when another role sends it,
 * "invalid-packet-type" for no packet at all.
 */
export function wrongType(packet: Packet, otherRole: readonly string[], role: string): ProtocolError {
  const type = (packet as { type: unknown }).type;
  return typeof type === "string" && otherRole.includes(type)
    ? new ProtocolError("unexpected-packet-type", `${type.toUpperCase()} is never sent by a ${role}`)
    : new ProtocolError("invalid-packet-type", `unknown packet type ${show(type)}`);
}

/**
 * PUBLISH (section 3.3). The topic may be "" only with a topicAlias property. `fromClient`: a client must not send
 * subscriptionIdentifiers [MQTT-3.3.4-6].
 */
export function writePublish(p: PublishPacket, fromClient: boolean, sink?: Sink): Uint8Array {
  checkQos(p.qos);
  checkBytes(p.payload, "payload");
  const props = p.properties;
  const empty = p.topic === "" && props?.topicAlias !== undefined;
  const topicLen = empty ? 0 : topicLength(p.topic);
  if (fromClient && props?.subscriptionIdentifiers !== undefined) {
    throw new ProtocolError("property-not-allowed", "a client's PUBLISH must not carry a subscription identifier [MQTT-3.3.4-6]");
  }
  const prepared = prepareProperties(props, "publish");
  const hasId = p.qos > 0;
  if (p.dup && !hasId) throw new ProtocolError("invalid-flags", "DUP must be 0 on a QoS 0 PUBLISH [MQTT-3.3.1-2]");
  if (hasId) checkPacketId(p.packetId);
  const flags = (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  const w = new Writer(0x30 | flags, 2 + topicLen + (hasId ? 2 : 0) + prepared.size + p.payload.length, 0, sink);
  w.str(p.topic, topicLen);
  if (hasId) w.u16(p.packetId!);
  writeProperties(w, prepared);
  w.raw(p.payload);
  return w.finish();
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP (sections 3.4 to 3.7), in its shortest form. */
export function writePubAck(p: PubAckLike<"puback" | "pubrec" | "pubrel" | "pubcomp">, sink?: Sink): Uint8Array {
  checkPacketId(p.packetId);
  const reason = checkReasonCode(p.type, p.reasonCode ?? 0);
  const prepared = prepareProperties(p.properties, p.type);
  const remaining = prepared.length > 0 ? 3 + prepared.size : reason !== 0 ? 3 : 2;
  const w = new Writer(ACK_FIRST_BYTE[p.type], remaining, 0, sink);
  w.u16(p.packetId);
  if (remaining > 2) w.u8(reason);
  if (prepared.length > 0) writeProperties(w, prepared);
  return w.finish();
}

/** DISCONNECT (section 3.14), in its shortest form. `fromServer`: no sessionExpiryInterval [MQTT-3.14.2-2]. */
export function writeDisconnect(p: DisconnectPacket, fromServer: boolean, sink?: Sink): Uint8Array {
  if (fromServer && p.properties?.sessionExpiryInterval !== undefined) {
    throw new ProtocolError("property-not-allowed", "a server's DISCONNECT must not carry a session expiry interval [MQTT-3.14.2-2]");
  }
  return writeReasonOnly(0xe0, "disconnect", p.reasonCode ?? 0, prepareProperties(p.properties, "disconnect"), sink);
}

/** AUTH (section 3.15): empty for success without properties, else it must name its authenticationMethod. */
export function writeAuth(p: AuthPacket, sink?: Sink): Uint8Array {
  const reason = checkReasonCode("auth", p.reasonCode ?? 0);
  const prepared = prepareProperties(p.properties, "auth");
  if ((reason !== 0 || prepared.length > 0) && p.properties?.authenticationMethod === undefined) {
    throw new ProtocolError("missing-property", "an AUTH with a reason code or properties needs an authenticationMethod");
  }
  return writeReasonOnly(0xf0, "auth", reason, prepared, sink);
}

function writeReasonOnly(first: number, packet: "disconnect" | "auth", code: number, prepared: PreparedProperties, sink?: Sink): Uint8Array {
  const reason = checkReasonCode(packet, code);
  const remaining = prepared.length > 0 ? 1 + prepared.size : reason !== 0 ? 1 : 0;
  const w = new Writer(first, remaining, 0, sink);
  if (remaining > 0) w.u8(reason);
  if (prepared.length > 0) writeProperties(w, prepared);
  return w.finish();
}
