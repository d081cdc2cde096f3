/**
 * The client-role decoder: what a broker may send (CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK,
 * UNSUBACK, PINGRESP). Its table has no decoder for CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ or DISCONNECT, which
 * it refuses at the first byte; their decoding lives in decode-server.ts and is not part of a client's bundle.
 */

import { decodeAck, decodePublish, packetId } from "./decode-publish.js";
import { ProtocolError } from "./errors.js";
import type { Packet, SubackCode } from "./packets.js";
import { PacketReader, type BodyTable, type DecoderLimits } from "./reader.js";

function decodeConnack(_first: number, bytes: Uint8Array, start: number): Packet {
  const flags = bytes[start]!;
  const returnCode = bytes[start + 1]!;
  if (flags & 0xfe) throw new ProtocolError("invalid-connack-flags", `CONNACK reserved flag bits set (0x${flags.toString(16)})`);
  if (returnCode > 5) throw new ProtocolError("invalid-return-code", `CONNACK return code ${returnCode} is not 0..5`);
  if (returnCode !== 0 && flags) {
    throw new ProtocolError("invalid-connack-flags", "CONNACK refusing the connection must not set session present");
  }
  return { type: "connack", sessionPresent: flags === 1, returnCode };
}

function decodeSuback(_first: number, bytes: Uint8Array, start: number, end: number): Packet {
  const id = packetId(bytes, start, "SUBACK");
  const granted: SubackCode[] = [];
  for (let i = start + 2; i < end; i++) {
    const code = bytes[i]!;
    if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
      throw new ProtocolError("invalid-suback-code", `SUBACK return code 0x${code.toString(16)} is not 0, 1, 2 or 0x80`);
    }
    granted.push(code);
  }
  return { type: "suback", packetId: id, granted };
}

const decodePingresp = (): Packet => ({ type: "pingresp" });

/** Body decoders by wire type for what a client receives. */
export const CLIENT_BODIES: BodyTable = [
  undefined, undefined, decodeConnack, decodePublish, decodeAck, decodeAck, decodeAck, decodeAck,
  undefined, decodeSuback, undefined, decodeAck, undefined, decodePingresp, undefined, undefined,
];

/** Incremental decoder for the client side: accepts what a broker sends. After a ProtocolError it stays failed. */
export class ClientDecoder extends PacketReader {
  /** Creates a client-side decoder with the given limits (maxPacketSize, onOversizePublish). */
  constructor(options: DecoderLimits = {}) {
    super(CLIENT_BODIES, "client", options.maxPacketSize, options.onOversizePublish);
  }
}
