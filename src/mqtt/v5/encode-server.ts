/**
 * Encoding what a v5 server sends: CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP,
 * DISCONNECT and AUTH. Only a broker (or the scripted test broker) needs it; a client imports none of this.
 */

import { ProtocolError } from "../errors.js";
import { OwnBuffer, Writer, checkPacketId, type Sink } from "../writer.js";
import { checkReasonCode, wrongType, writeAuth, writeDisconnect, writePubAck, writePublish } from "./encode-common.js";
import type { ConnackPacket, Packet, SubackPacket, UnsubackPacket } from "./packets.js";
import { prepareProperties, writeProperties } from "./properties.js";
import { isFailure } from "./reason-codes.js";

const SENT_BY_CLIENT_ONLY = ["connect", "subscribe", "unsubscribe", "pingreq"];

/** Encodes a packet a v5 server sends; throws ProtocolError when it cannot be expressed in MQTT 5.0. */
export function encodeServerPacket5(packet: Packet): Uint8Array {
  const out = new OwnBuffer();
  writeServerPacket5(packet, out);
  return out.bytes;
}

/** encodeServerPacket5() into a sink: consecutive packets land next to each other. */
export function writeServerPacket5(packet: Packet, sink: Sink): void {
  switch (packet.type) {
    case "connack": writeConnack(packet, sink); return;
    case "publish": writePublish(packet, false, sink); return;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp": writePubAck(packet, sink); return;
    case "suback":
    case "unsuback": writeSubUnsubAck(packet, sink); return;
    case "pingresp": new Writer(0xd0, 0, 0, sink).finish(); return;
    case "disconnect": writeDisconnect(packet, true, sink); return;
    case "auth": writeAuth(packet, sink); return;
    default: throw wrongType(packet, SENT_BY_CLIENT_ONLY, "server");
  }
}

/** CONNACK (section 3.2): acknowledge flags, reason code, properties. */
function writeConnack(p: ConnackPacket, sink: Sink): void {
  const reason = checkReasonCode("connack", p.reasonCode);
  if (p.sessionPresent && isFailure(reason)) {
    throw new ProtocolError("invalid-connack-flags", "a CONNACK refusing the connection must not set session present [MQTT-3.2.2-6]");
  }
  const props = prepareProperties(p.properties, "connack");
  const w = new Writer(0x20, 2 + props.size, 0, sink);
  w.u8(p.sessionPresent ? 1 : 0);
  w.u8(reason);
  writeProperties(w, props);
  w.finish();
}

/** SUBACK or UNSUBACK (sections 3.9, 3.11): packet id, properties, one reason code per filter. */
function writeSubUnsubAck(p: SubackPacket | UnsubackPacket, sink: Sink): void {
  checkPacketId(p.packetId);
  if (!Array.isArray(p.reasonCodes) || p.reasonCodes.length === 0) {
    throw new ProtocolError("empty-list", `${p.type.toUpperCase()} needs at least one reason code`);
  }
  const codes = p.reasonCodes.map((c) => checkReasonCode(p.type, c));
  const props = prepareProperties(p.properties, p.type);
  const w = new Writer(p.type === "suback" ? 0x90 : 0xb0, 2 + props.size + codes.length, 0, sink);
  w.u16(p.packetId);
  writeProperties(w, props);
  for (const c of codes) w.u8(c);
  w.finish();
}
