/**
 * Decoder: the incremental decoder for either side of a connection, chosen by `role`. It carries both roles'
 * body decoders; code that only ever plays one role uses ClientDecoder (decode-client.ts) or ServerDecoder
 * (decode-server.ts), so that a bundle holds only that role's decoding. All three share the framing of reader.ts
 * and refuse exactly the same bytes with the same errors.
 */

import { CLIENT_BODIES } from "./decode-client.js";
import { SERVER_BODIES } from "./decode-server.js";
import { PacketReader, type DecoderLimits, type DecoderRole } from "./reader.js";

export { DEFAULT_MAX_PACKET_SIZE, type DecoderLimits, type DecoderRole, type OversizePublish } from "./reader.js";

/** Options of a Decoder. */
export interface DecoderOptions extends DecoderLimits {
  /** "client" (default) accepts what a broker sends; "server" accepts what a client sends. */
  role?: DecoderRole;
}

/** Incremental MQTT 3.1.1 decoder for the given role. After a ProtocolError it stays failed: the connection must be closed. */
export class Decoder extends PacketReader {
  /** Creates a decoder for `options.role` (default "client") with the given limits. */
  constructor(options: DecoderOptions = {}) {
    const role = options.role ?? "client";
    super(role === "server" ? SERVER_BODIES : CLIENT_BODIES, role, options.maxPacketSize, options.onOversizePublish);
  }
}
