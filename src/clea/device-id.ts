/** Astarte device ids: 128 bits as URL-safe base64 without padding (22 characters). */

import { base64url } from "./bytes.js";

// 22 characters carry 132 bits: the last one holds only 2 bits of the id, so it is one of A, Q, g, w.
const DEVICE_ID_RE = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** Whether `id` is a valid device id (22-character URL-safe base64 of exactly 128 bits). */
export function isValidDeviceId(id: string): boolean {
  return typeof id === "string" && DEVICE_ID_RE.test(id);
}

/** A random device id (128 random bits from the runtime's CSPRNG). */
export function randomDeviceId(): string {
  return base64url(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

/** A deterministic device id: UUIDv5 (RFC 4122, SHA-1) of `data` in `namespace` (a UUID string). */
export async function deviceIdFromUuid(namespace: string, data: string | Uint8Array): Promise<string> {
  const hex = namespace.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`namespace ${JSON.stringify(namespace)} is not a UUID`);
  const ns = new Uint8Array(16);
  for (let i = 0; i < 16; i++) ns[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const name = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const input = new Uint8Array(16 + name.length);
  input.set(ns);
  input.set(name, 16);
  const hash = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return base64url(hash);
}
