/** The MQTT 5.0 wire codec: packets, properties, reason codes, encoders and decoders for both roles. Pure functions, no I/O. */
export * from "./packets.js";
export {
  REASON_CODES,
  ReasonCode,
  isFailure,
  isValidReasonCode,
  reasonCodeInfo,
  reasonCodeName,
  type ReasonCodeInfo,
  type ReasonPacket,
} from "./reason-codes.js";
export { decodePropertySection, encodePropertySection, propertyContexts, propertyId } from "./properties.js";
export { encodeClientPacket5, writeClientPacket5 } from "./encode.js";
export { encodeServerPacket5, writeServerPacket5 } from "./encode-server.js";
export { ClientDecoder5 } from "./decode.js";
export { ServerDecoder5 } from "./decode-server.js";
export { PacketReader5, DEFAULT_MAX_PACKET_SIZE, type DecoderOptions5 } from "./reader.js";
export { filterProblem } from "./subscription.js";
