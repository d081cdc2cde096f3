/** Test helpers for the v5 codec: the encoder and decoder of each side, and decoding in pieces. */

import { ClientDecoder5, ServerDecoder5, encodeClientPacket5, encodeServerPacket5, type Packet } from "../../../src/mqtt/v5/index.js";

/** Who sends a packet: "client" packets are encoded by the client encoder and decoded by the server decoder. */
export type Sender = "client" | "server";

/** Encodes `packet` as `sender` would. */
export function encodeAs(sender: Sender, packet: Packet): Uint8Array {
  return sender === "client" ? encodeClientPacket5(packet) : encodeServerPacket5(packet);
}

/** The decoder of the side that receives what `sender` sends. */
export function receiverOf(sender: Sender, maxPacketSize?: number): ClientDecoder5 | ServerDecoder5 {
  return sender === "client" ? new ServerDecoder5({ maxPacketSize }) : new ClientDecoder5({ maxPacketSize });
}

/** Decodes `bytes` sent by `sender` with a fresh decoder, cut into chunks at `cuts` (sorted offsets). */
export function decodeFrom(sender: Sender, bytes: Uint8Array, cuts: readonly number[] = []): Packet[] {
  const d = receiverOf(sender);
  const out: Packet[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...d.push(bytes.slice(from, cut)));
    from = cut;
  }
  return out;
}

/** Decodes `bytes` sent by `sender` one byte at a time. */
export function decodeBytewise(sender: Sender, bytes: Uint8Array): Packet[] {
  const d = receiverOf(sender);
  const out: Packet[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.slice(i, i + 1)));
  return out;
}
