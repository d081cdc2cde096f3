/** The wire layer: packets, codec, topics, strict UTF-8. Pure functions, no I/O. */
export * from "./packets.js";
export * from "./errors.js";
export { encode, encodeClientPacket, encodePublish, encodePublishHead, encodeServerPacket } from "./encode.js";
export {
  Decoder,
  DEFAULT_MAX_PACKET_SIZE,
  type DecoderLimits,
  type DecoderOptions,
  type DecoderRole,
  type OversizePublish,
} from "./decode.js";
export { ClientDecoder } from "./decode-client.js";
export { ServerDecoder } from "./decode-server.js";
export {
  TopicTrie,
  assertTopicFilter,
  assertTopicName,
  topicFilterProblem,
  topicMatches,
  topicNameProblem,
} from "./topic.js";
export { checkString, isStrictUtf8, isWellFormed } from "./utf8.js";
