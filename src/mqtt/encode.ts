/**
 * encode(): any packet -> bytes. It dispatches to the client-side encoder (encode-client.ts) or, for what only a
 * server sends, the server-side one (encode-server.ts). Code that only ever plays one role imports that role's
 * encoder directly, so that its bundle holds only that role's encoding.
 */

import { encodeClientPacket } from "./encode-client.js";
import { encodeServerPacket } from "./encode-server.js";
import type { Packet } from "./packets.js";

export { encodeClientPacket, encodePublish, encodePublishHead } from "./encode-client.js";
export { encodeServerPacket } from "./encode-server.js";
export { packetSize } from "./writer.js";

/** Encodes one packet of any type. Throws ProtocolError when the packet cannot be expressed in MQTT 3.1.1. */
export function encode(packet: Packet): Uint8Array {
  switch (packet.type) {
    case "connack":
    case "suback":
    case "unsuback":
    case "pingresp":
      return encodeServerPacket(packet);
    default:
      return encodeClientPacket(packet);
  }
}
