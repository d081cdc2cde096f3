/**
 * The SCRAM primitives of RFC 5802 section 2.2 (H, HMAC, Hi) and section 3 (the keys and signatures), on WebCrypto
 * only (`globalThis.crypto.subtle`), so they run unchanged on Node, Bun, Deno and browsers. Shared by the client
 * mechanism and the test server.
 */

import { AuthError } from "./auth-error.js";

/** The SCRAM mechanisms supported, by their SASL names. */
export type ScramMechanism = "SCRAM-SHA-1" | "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** WebCrypto hash name and output length in bytes, per mechanism. */
export const SCRAM_HASHES: Readonly<Record<ScramMechanism, { readonly hash: string; readonly length: number }>> = {
  "SCRAM-SHA-1": { hash: "SHA-1", length: 20 },
  "SCRAM-SHA-256": { hash: "SHA-256", length: 32 },
  "SCRAM-SHA-512": { hash: "SHA-512", length: 64 },
};

/** True when `value` names a supported mechanism. */
export function isScramMechanism(value: unknown): value is ScramMechanism {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(SCRAM_HASHES, value);
}

function subtle(): SubtleCrypto {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.subtle === undefined) throw new AuthError("auth-unsupported", "SCRAM needs WebCrypto (globalThis.crypto.subtle)");
  return c.subtle;
}

/** Fills `length` bytes from `crypto.getRandomValues`. */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues === undefined) throw new AuthError("auth-unsupported", "SCRAM needs crypto.getRandomValues");
  return c.getRandomValues(new Uint8Array(length));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 encoding of `text`. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encoder.encode(text));
}

/** Strict UTF-8 decoding; undefined when `bytes` is not valid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined; // the caller turns this into its own typed error
  }
}

/** H(data): the mechanism's hash. */
export async function hash(mechanism: ScramMechanism, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().digest(SCRAM_HASHES[mechanism].hash, data));
}

/** HMAC(key, data) with the mechanism's hash. */
export async function hmac(mechanism: ScramMechanism, key: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const s = subtle();
  const k = await s.importKey("raw", key, { name: "HMAC", hash: SCRAM_HASHES[mechanism].hash }, false, ["sign"]);
  return new Uint8Array(await s.sign("HMAC", k, data));
}

/** Hi(password, salt, i): PBKDF2 with HMAC-H and an output the size of H (RFC 5802 section 2.2). */
export async function hi(mechanism: ScramMechanism, password: Uint8Array<ArrayBuffer>, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array<ArrayBuffer>> {
  const s = subtle();
  const { hash: name, length } = SCRAM_HASHES[mechanism];
  const key = await s.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await s.deriveBits({ name: "PBKDF2", hash: name, salt, iterations }, key, length * 8));
}

/** a XOR b, for equal lengths. */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Compares two byte strings in time that depends only on their lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** What SCRAM derives from a password (RFC 5802 section 3): the client's and the server's keys. */
export interface ScramKeys {
  /** ClientKey := HMAC(SaltedPassword, "Client Key"). */
  clientKey: Uint8Array<ArrayBuffer>;
  /** StoredKey := H(ClientKey), what a server stores. */
  storedKey: Uint8Array<ArrayBuffer>;
  /** ServerKey := HMAC(SaltedPassword, "Server Key"). */
  serverKey: Uint8Array<ArrayBuffer>;
}

/** Derives the SCRAM keys from a prepared password, the salt and the iteration count. */
export async function deriveKeys(mechanism: ScramMechanism, password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<ScramKeys> {
  const salted = await hi(mechanism, utf8(password), salt, iterations);
  const clientKey = await hmac(mechanism, salted, utf8("Client Key"));
  const serverKey = await hmac(mechanism, salted, utf8("Server Key"));
  return { clientKey, storedKey: await hash(mechanism, clientKey), serverKey };
}

/**
 * Splits a SCRAM message into its attributes ("a=value" separated by ","), in order; undefined when a part is not
 * one ASCII letter, "=", and a value (values may contain "=", never ",").
 */
export function splitAttributes(message: string): Array<[name: string, value: string]> | undefined {
  const out: Array<[string, string]> = [];
  for (const part of message.split(",")) {
    if (part.length < 2 || part[1] !== "=" || !/^[A-Za-z]$/.test(part[0]!)) return undefined;
    out.push([part[0]!, part.slice(2)]);
  }
  return out;
}

/** True when `nonce` is a valid SCRAM nonce: one or more printable ASCII characters other than ",". */
export function isPrintable(nonce: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(nonce);
}
