/**
 * A minimal SCRAM server (RFC 5802 section 5, server side) for tests: given one user's name, password, salt, iteration
 * count and mechanism, it answers a client-first-message with a server-first-message, checks the client-final-message's
 * proof, and answers with a server-final-message ("v=" on success, "e=..." on refusal). A scripted broker feeds it the
 * Authentication Data of CONNECT and AUTH and sends back what it returns. Built on WebCrypto, like the client.
 */

import { decodeBase64, encodeBase64 } from "../../src/client/auth/base64.ts";
import { saslPrep } from "../../src/client/auth/saslprep.ts";
import {
  deriveKeys,
  equalBytes,
  fromUtf8,
  hash,
  hmac,
  isPrintable,
  randomBytes,
  splitAttributes,
  utf8,
  xor,
  type ScramKeys,
  type ScramMechanism,
} from "../../src/client/auth/scram-crypto.ts";

/** Options of ScramServer. */
export interface ScramServerOptions {
  /** The one user this server knows (compared after SASLprep and saslname decoding). */
  username: string;
  /** That user's password (SASLprep'd like the client does). */
  password: string;
  /** The salt sent in s=. */
  salt: Uint8Array;
  /** The iteration count sent in i=. */
  iterations: number;
  /** Which SCRAM variant to run. */
  mechanism: ScramMechanism;
  /** The server's part of the nonce for each exchange; default: 18 random bytes in base64. */
  nonce?: () => string;
}

/** What ScramServer.final() decided: the server-final-message to send, and whether the client proved the password. */
export interface ScramServerFinal {
  /** True when the proof verified (the message is "v=..."). */
  accepted: boolean;
  /** The server-final-message, as the Authentication Data of CONNACK (or of an AUTH). */
  message: Uint8Array;
  /** The error value sent after "e=" when refused. */
  error?: string;
}

/** Thrown by ScramServer for a client message it cannot answer at all (a malformed client-first-message). */
export class ScramServerError extends Error {
  override readonly name = "ScramServerError";
}

function text(data: Uint8Array): string {
  const value = fromUtf8(data);
  if (value === undefined) throw new ScramServerError("the client message is not valid UTF-8");
  return value;
}

/** Decodes a saslname ("=2C" -> ",", "=3D" -> "="); undefined for any other "=". */
function fromSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

/** One SCRAM user and one exchange at a time: call first(), then final(); first() again starts over. */
export class ScramServer {
  /** The user name the client sent in the last client-first-message (decoded), or undefined before one. */
  username: string | undefined;
  readonly #options: ScramServerOptions;
  #keys: Promise<ScramKeys> | undefined;
  #exchange: { gs2Header: string; nonce: string; authPrefix: string; userKnown: boolean } | undefined;

  /** Creates a server for one user; the keys are derived on first use. */
  constructor(options: ScramServerOptions) {
    this.#options = options;
  }

  /** The server-first-message for a client-first-message; throws ScramServerError when that cannot be parsed. */
  async first(clientFirst: Uint8Array): Promise<Uint8Array> {
    this.#exchange = undefined;
    const message = text(clientFirst);
    const match = /^([ny]|p=[^,]+),(a=[^,]*)?,(.*)$/.exec(message);
    if (match === null) throw new ScramServerError("the client-first-message has no valid gs2 header");
    if (match[1]!.startsWith("p=")) throw new ScramServerError("this server offers no channel binding");
    const bare = match[3]!;
    const attrs = splitAttributes(bare);
    const [n, r] = attrs ?? [];
    if (n?.[0] !== "n" || r?.[0] !== "r" || !isPrintable(r[1])) throw new ScramServerError("the client-first-message-bare must be n=...,r=...");
    const name = fromSaslName(n[1]);
    if (name === undefined) throw new ScramServerError("the user name has an invalid '=' escape");
    this.username = name;
    const expected = saslPrep(this.#options.username);
    const userKnown = expected.ok && expected.value === name;
    const nonce = r[1] + (this.#options.nonce?.() ?? encodeBase64(randomBytes(18)));
    const serverFirst = `r=${nonce},s=${encodeBase64(this.#options.salt)},i=${this.#options.iterations}`;
    this.#exchange = { gs2Header: `${match[1]},${match[2] ?? ""},`, nonce, authPrefix: `${bare},${serverFirst}`, userKnown };
    return utf8(serverFirst);
  }

  /** Checks a client-final-message and gives the server-final-message ("v=" signature, or "e=" and the reason). */
  async final(clientFinal: Uint8Array): Promise<ScramServerFinal> {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    const refuse = (error: string): ScramServerFinal => ({ accepted: false, message: utf8(`e=${error}`), error });
    if (exchange === undefined) return refuse("other-error");
    const message = fromUtf8(clientFinal);
    const proofAt = message?.lastIndexOf(",p=") ?? -1;
    if (message === undefined || proofAt < 0) return refuse("invalid-encoding");
    const withoutProof = message.slice(0, proofAt);
    const attrs = splitAttributes(withoutProof);
    const [c, r] = attrs ?? [];
    const proof = decodeBase64(message.slice(proofAt + 3));
    if (c?.[0] !== "c" || r?.[0] !== "r" || proof === undefined) return refuse("invalid-encoding");
    if (c[1] !== encodeBase64(utf8(exchange.gs2Header))) return refuse("channel-bindings-dont-match");
    if (r[1] !== exchange.nonce) return refuse("other-error");
    if (!exchange.userKnown) return refuse("unknown-user");
    const mechanism = this.#options.mechanism;
    const keys = await this.#derive();
    const authMessage = utf8(`${exchange.authPrefix},${withoutProof}`);
    const clientSignature = await hmac(mechanism, keys.storedKey, authMessage);
    if (proof.length !== clientSignature.length) return refuse("invalid-proof");
    const clientKey = xor(proof, clientSignature);
    if (!equalBytes(await hash(mechanism, clientKey), keys.storedKey)) return refuse("invalid-proof");
    const serverSignature = await hmac(mechanism, keys.serverKey, authMessage);
    return { accepted: true, message: utf8(`v=${encodeBase64(serverSignature)}`) };
  }

  #derive(): Promise<ScramKeys> {
    if (this.#keys === undefined) {
      const prepared = saslPrep(this.#options.password);
      if (!prepared.ok) throw new ScramServerError(`the server's password is refused by SASLprep: it ${prepared.reason}`);
      this.#keys = deriveKeys(this.#options.mechanism, prepared.value, new Uint8Array(this.#options.salt), this.#options.iterations);
    }
    return this.#keys;
  }
}
