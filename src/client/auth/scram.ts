/**
 * SCRAM (RFC 5802; SCRAM-SHA-256 from RFC 7677) as an MQTT 5 enhanced-authentication handler: client-first in
 * CONNECT, client-final in answer to the server's AUTH, and the server's signature checked on CONNACK, so the client
 * knows the server holds the password's keys too. Channel binding (the -PLUS variants) is not offered: the gs2
 * header is always "n,,". Built on WebCrypto only.
 */

import { OptionsError } from "../errors.js";
import { AuthError } from "./auth-error.js";
import type { AuthHandler } from "./auth-handler.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { saslPrep } from "./saslprep.js";
import {
  deriveKeys,
  equalBytes,
  fromUtf8,
  hmac,
  isPrintable,
  isScramMechanism,
  randomBytes,
  splitAttributes,
  utf8,
  xor,
  type ScramMechanism,
} from "./scram-crypto.js";

export type { AuthHandler } from "./auth-handler.js";
export type { ScramMechanism } from "./scram-crypto.js";

/** Options of scramAuth(). */
export interface ScramAuthOptions {
  /** The user name; SASLprep'd (saslprep.ts says what is not checked), then "=" and "," are escaped as "=3D" and "=2C" (RFC 5802 section 5.1). */
  username: string;
  /** The password; SASLprep'd before use and never sent. */
  password: string;
  /** Which SCRAM variant: "SCRAM-SHA-1", "SCRAM-SHA-256" or "SCRAM-SHA-512"; also the MQTT Authentication Method. */
  mechanism: ScramMechanism;
  /** The client nonce for each exchange (printable ASCII without ","); default: 18 random bytes in base64. For tests. */
  nonce?: () => string;
}

/** The handler scramAuth() builds: an AuthHandler whose `done()` is always there, as it verifies the server. */
export interface ScramAuthHandler extends AuthHandler {
  /** Verifies the server-final-message (the CONNACK's Authentication Data); rejects with AuthError to refuse the server. */
  done(data: Uint8Array | undefined): Promise<void>;
}

/** The highest iteration count a server may ask for (a hostile server could otherwise stall the client). */
export const SCRAM_MAX_ITERATIONS = 10_000_000;

/** The gs2 header "n,,": no channel binding, no authorization identity; "biws" is its base64 for c=. */
const GS2_HEADER = "n,,";

type State =
  | { step: "idle" }
  | { step: "first-sent"; clientNonce: string; clientFirstBare: string }
  | { step: "final-sent" | "verified"; serverSignature: Uint8Array };

/** Escapes a prepared user name as a saslname: "=" becomes "=3D", "," becomes "=2C" (order matters). */
function toSaslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function malformed(message: string): AuthError {
  return new AuthError("auth-malformed", message);
}

/** Reads one option, turning a throwing getter into an OptionsError. */
function read(options: object, key: keyof ScramAuthOptions): unknown {
  try {
    return (options as Record<string, unknown>)[key];
  } catch (cause) {
    throw new OptionsError(`scramAuth: reading option "${key}" threw`, cause);
  }
}

function prepare(what: "username" | "password", value: unknown): string {
  if (typeof value !== "string") throw new OptionsError(`scramAuth: ${what} must be a string, got ${value === null ? "null" : typeof value}`);
  const prepared = saslPrep(value);
  if (!prepared.ok) throw new OptionsError(`scramAuth: the ${what} is refused by SASLprep: it ${prepared.reason}`);
  return prepared.value;
}

function defaultNonce(): string {
  return encodeBase64(randomBytes(18));
}

/** Decodes a server message as strict UTF-8 and splits it into attributes. */
function attributesOf(data: Uint8Array | undefined, which: string): { text: string; attrs: Array<[string, string]> } {
  if (data === undefined || data.length === 0) throw malformed(`the server sent no ${which}`);
  const text = fromUtf8(data);
  if (text === undefined) throw malformed(`the ${which} is not valid UTF-8`);
  const attrs = splitAttributes(text);
  if (attrs === undefined || attrs.length === 0) throw malformed(`the ${which} is not a list of SCRAM attributes`);
  if (attrs[0]![0] === "e") throw new AuthError("auth-server-error", `the server refused the authentication: ${attrs[0]![1]}`, attrs[0]![1]);
  return { text, attrs };
}

/** The server-first-message, checked (RFC 5802 section 7): nonce, salt and iteration count. */
interface ServerFirst {
  text: string;
  nonce: string;
  salt: Uint8Array<ArrayBuffer>;
  iterations: number;
}

function parseServerFirst(data: Uint8Array | undefined, clientNonce: string): ServerFirst {
  const { text, attrs } = attributesOf(data, "server-first-message");
  if (attrs[0]![0] === "m") throw malformed("the server-first-message has a mandatory extension (m=), which this client does not support");
  const [r, s, i] = attrs;
  if (r?.[0] !== "r" || s?.[0] !== "s" || i?.[0] !== "i") throw malformed("the server-first-message must start with r=, s= and i=, in that order");
  for (const [name] of attrs.slice(3)) {
    if ("rsim".includes(name)) throw malformed(`the server-first-message repeats or misplaces the attribute "${name}"`);
  }
  const nonce = r[1];
  if (!isPrintable(nonce)) throw malformed("the server nonce has characters outside printable ASCII");
  if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
    throw new AuthError("auth-nonce-mismatch", "the server nonce does not extend the client nonce with its own part");
  }
  const salt = decodeBase64(s[1]);
  if (salt === undefined || salt.length === 0) throw malformed("the salt is not valid non-empty base64");
  if (!/^[1-9][0-9]*$/.test(i[1])) throw malformed("the iteration count is not a positive integer");
  const iterations = Number(i[1]);
  if (!(iterations <= SCRAM_MAX_ITERATIONS)) {
    throw new AuthError("auth-iteration-count", `the server asks for ${i[1].length > 12 ? "more than 10^12" : i[1]} iterations; at most ${SCRAM_MAX_ITERATIONS} are accepted`);
  }
  return { text, nonce, salt, iterations };
}

/** The server signature from a server-final-message ("v=" base64); throws for "e=" and anything malformed. */
function parseServerFinal(data: Uint8Array | undefined): Uint8Array {
  const { attrs } = attributesOf(data, "server-final-message");
  const [name, value] = attrs[0]!;
  if (name !== "v") throw malformed("the server-final-message has neither v= nor e=");
  const signature = decodeBase64(value);
  if (signature === undefined) throw malformed("the server signature is not valid base64");
  return signature;
}

/**
 * Builds an enhanced-authentication handler for SCRAM-SHA-1, -256 or -512: `start()` gives the client-first-message,
 * `next(serverFirst)` the client-final-message with the proof, `done(serverFinal)` verifies the server's signature
 * and rejects with AuthError ("auth-server-signature", "auth-server-error", "auth-malformed", ...) otherwise.
 * A server that sends its server-final-message in an AUTH packet instead of the CONNACK is also served: `next()`
 * verifies it and answers with no data. Throws OptionsError at once for options of the wrong type, an unknown
 * mechanism, or a user name or password refused by SASLprep.
 */
export function scramAuth(options: ScramAuthOptions): ScramAuthHandler {
  if (typeof options !== "object" || options === null) throw new OptionsError("scramAuth: options must be an object");
  const mechanism = read(options, "mechanism");
  if (!isScramMechanism(mechanism)) {
    throw new OptionsError(`scramAuth: mechanism must be "SCRAM-SHA-1", "SCRAM-SHA-256" or "SCRAM-SHA-512", got ${typeof mechanism === "string" ? JSON.stringify(mechanism) : typeof mechanism}`);
  }
  const username = prepare("username", read(options, "username"));
  if (username === "") throw new OptionsError("scramAuth: username must not be empty");
  const password = prepare("password", read(options, "password"));
  const nonceSource = read(options, "nonce");
  if (nonceSource !== undefined && typeof nonceSource !== "function") throw new OptionsError("scramAuth: nonce must be a function returning a string");
  const makeNonce = (nonceSource as (() => unknown) | undefined) ?? defaultNonce;
  const saslName = toSaslName(username);

  let state: State = { step: "idle" };
  let generation = 0;

  async function verify(serverSignature: Uint8Array, data: Uint8Array | undefined): Promise<void> {
    state = { step: "idle" };
    if (data === undefined || data.length === 0) {
      throw new AuthError("auth-server-signature", "the server accepted the connection without sending its signature");
    }
    if (!equalBytes(parseServerFinal(data), serverSignature)) {
      throw new AuthError("auth-server-signature", "the server signature does not verify: the server does not know the password");
    }
    state = { step: "verified", serverSignature };
  }

  return {
    method: mechanism,

    async start() {
      generation++;
      state = { step: "idle" };
      const clientNonce = makeNonce();
      if (typeof clientNonce !== "string" || !isPrintable(clientNonce)) {
        throw new OptionsError("scramAuth: nonce() must return one or more printable ASCII characters other than \",\"");
      }
      const clientFirstBare = `n=${saslName},r=${clientNonce}`;
      state = { step: "first-sent", clientNonce, clientFirstBare };
      return utf8(GS2_HEADER + clientFirstBare);
    },

    async next(data) {
      const current = state;
      if (current.step === "final-sent") {
        await verify(current.serverSignature, data);
        return undefined;
      }
      if (current.step !== "first-sent") throw new AuthError("auth-state", `next() called with no client-first-message outstanding (${current.step})`);
      state = { step: "idle" };
      const first = parseServerFirst(data, current.clientNonce);
      const mine = generation;
      const withoutProof = `c=${encodeBase64(utf8(GS2_HEADER))},r=${first.nonce}`;
      const authMessage = utf8(`${current.clientFirstBare},${first.text},${withoutProof}`);
      const keys = await deriveKeys(mechanism, password, first.salt, first.iterations);
      const clientSignature = await hmac(mechanism, keys.storedKey, authMessage);
      const serverSignature = await hmac(mechanism, keys.serverKey, authMessage);
      if (mine !== generation) throw new AuthError("auth-state", "start() began a new exchange while next() was computing");
      state = { step: "final-sent", serverSignature };
      return utf8(`${withoutProof},p=${encodeBase64(xor(keys.clientKey, clientSignature))}`);
    },

    async done(data) {
      const current = state;
      if (current.step === "final-sent") return verify(current.serverSignature, data);
      if (current.step === "verified") {
        if (data === undefined || data.length === 0) return;
        return verify(current.serverSignature, data);
      }
      if (current.step === "first-sent") throw new AuthError("auth-server-signature", "the server accepted the connection without proving it knows the password");
      throw new AuthError("auth-state", "done() called with no SCRAM exchange in progress");
    },
  };
}
