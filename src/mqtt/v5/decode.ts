/**
 * The v5 client-role decoder: what a server may send (CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK,
 * UNSUBACK, PINGRESP, DISCONNECT, AUTH). CONNECT, SUBSCRIBE, UNSUBSCRIBE and PINGREQ are refused at the first byte.
 */

import { ProtocolError } from "../errors.js";
import { decodeAuth, decodePubAck, disconnectDecoder, publishDecoder, readPacketId, readReasonCode } from "./decode-common.js";
import type { Packet } from "./packets.js";
import { readProperties } from "./properties.js";
import { PacketReader5, type BodyTable5, type DecoderOptions5 } from "./reader.js";
import { isFailure } from "./reason-codes.js";
import { Cursor } from "./wire.js";

/** CONNACK (section 3.2): acknowledge flags, reason code, properties. */
function decodeConnack(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const cur = new Cursor(bytes, start, end, "CONNACK");
  const flags = cur.u8("acknowledge flags");
  if (flags & 0xfe) throw new ProtocolError("invalid-connack-flags", `CONNACK reserved flag bits set (0x${flags.toString(16)})`);
  const reasonCode = readReasonCode(cur, "connack");
  if (flags && isFailure(reasonCode)) {
    throw new ProtocolError("invalid-connack-flags", "a CONNACK refusing the connection must not set session present [MQTT-3.2.2-6]");
  }
  const properties = readProperties(cur, "connack");
  cur.done();
  return { type: "connack", sessionPresent: flags === 1, reasonCode, properties };
}

/** SUBACK or UNSUBACK (sections 3.9, 3.11): packet id, properties, one reason code per filter (at least one). */
function decodeSubUnsubAck(first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const type = first >> 4 === 9 ? "suback" : "unsuback";
  const cur = new Cursor(bytes, start, end, type.toUpperCase());
  const packetId = readPacketId(cur);
  const properties = readProperties(cur, type);
  if (cur.left === 0) throw new ProtocolError("empty-list", `${cur.what} without reason codes`);
  const reasonCodes: number[] = [];
  while (cur.left > 0) reasonCodes.push(readReasonCode(cur, type));
  return { type, packetId, reasonCodes, properties };
}

const decodePingresp = (): Packet => ({ type: "pingresp" });

/** Body decoders by wire type for what a v5 client receives. */
export const CLIENT_BODIES5: BodyTable5 = [
  undefined, undefined, decodeConnack, publishDecoder(false), decodePubAck, decodePubAck, decodePubAck, decodePubAck,
  undefined, decodeSubUnsubAck, undefined, decodeSubUnsubAck, undefined, decodePingresp, disconnectDecoder(true), decodeAuth,
];

/** Incremental MQTT 5.0 decoder for the client side: accepts what a server sends. After a ProtocolError it stays failed. */
export class ClientDecoder5 extends PacketReader5 {
  /** Creates a client-side v5 decoder; `maxPacketSize` is enforced from the fixed header. */
  constructor(options: DecoderOptions5 = {}) {
    super(CLIENT_BODIES5, "client", options);
  }
}
