/** Test helpers: hex <-> bytes, and feeding a Decoder in pieces. */

import { ClientDecoder, Decoder, ServerDecoder, type DecoderOptions, type DecoderRole, type Packet } from "../../src/mqtt/index.js";

/** Bytes of a hex string; whitespace is ignored ("20 02 00 00"). */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Lower-case hex of bytes, one space between bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Concatenation of byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Decodes `bytes` with a fresh decoder, cut into chunks ending at each of `cuts` (sorted offsets). */
export function decodeSplit(bytes: Uint8Array, cuts: readonly number[], options: DecoderOptions): Packet[] {
  const d = new Decoder(options);
  const out: Packet[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...d.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return out;
}

/** Decodes `bytes` one byte at a time (each byte its own fresh chunk). */
export function decodeBytewise(bytes: Uint8Array, options: DecoderOptions): Packet[] {
  const d = new Decoder(options);
  const out: Packet[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.slice(i, i + 1)));
  return out;
}

/** The single-role decoder for `role` (ClientDecoder or ServerDecoder), which must behave exactly like Decoder({ role }). */
export function roleDecoder(role: DecoderRole, maxPacketSize?: number): ClientDecoder | ServerDecoder {
  return role === "server" ? new ServerDecoder({ maxPacketSize }) : new ClientDecoder({ maxPacketSize });
}
