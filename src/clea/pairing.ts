/**
 * A device's pairing credentials over time: PairingClient keeps the key and certificate in a directory, reuses
 * them while they are valid, and renews them before expiry or after a TLS failure; pairDevice() wires it into
 * connectDevice(). The API calls are in pairing-api.ts, the certificate handling in certificates.ts.
 */

import { writeFileAtomic } from "./files.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConnectError, OptionsError, type AttemptSettings, type Client, type ClientOptions } from "../index.js";
import { sameBytes } from "./bytes.js";
import { inspect, publicKeyOf } from "./certificates.js";
import { brokerUrl, obtainCredentials, registerDevice, verifyCertificate, type ClientCertificate, type PairingDevice, type PairingEndpoint } from "./pairing-api.js";
import { unavailable } from "./pairing-error.js";

/** How a device gets its credentials from the pairing API: `{ url, credentialsSecret }` or `{ url, agentToken }`. */
export interface PairingOptions {
  /** Base URL of the pairing API, e.g. `https://api.acme.example/pairing`. */
  url: string;
  /** The device's credentials secret. */
  credentialsSecret?: string;
  /** An agent token (JWT) to register the device when no credentials secret is given or stored. */
  agentToken?: string;
  /** Renew this many ms before the certificate expires. Default: 10% of its lifetime, at least 1 h, at most half of it. */
  renewBefore?: number;
  /** Milliseconds to wait for each request. Default 30,000. */
  timeout?: number;
  /** The fetch to use. Default: the global fetch. */
  fetch?: typeof fetch;
}

/** Options of PairingClient. */
export interface PairingClientOptions extends PairingOptions {
  /** The Astarte realm. */
  realm: string;
  /** The device id. */
  deviceId: string;
  /** Directory for `key.pem` (0600), `cert.pem` and a registered `credentials-secret` (0600). Default: memory only. */
  dir?: string;
  /** Wall clock in ms since the epoch. Default Date.now. */
  now?: () => number;
}

const HOUR = 3_600_000;

/**
 * A device's credentials: loads the stored key and certificate (checking them locally and with the API's verify),
 * obtains new ones when there are none, when they are near expiry, or after invalidate() (a TLS failure).
 * While the API is unavailable (unreachable or 5xx), a certificate that has not expired yet is still used and
 * renewal is tried again on the next call; every other failure rejects with its PairingError.
 */
export class PairingClient {
  private readonly o: PairingClientOptions;
  private readonly now: () => number;
  private current: ClientCertificate | undefined;
  private loaded = false;
  private stale = false;
  private pending: Promise<ClientCertificate> | undefined;
  private secret: string | undefined;

  /** Creates a pairing client. Throws OptionsError when neither `credentialsSecret` nor `agentToken` is given. */
  constructor(options: PairingClientOptions) {
    if (!options.credentialsSecret && !options.agentToken) throw new OptionsError("pairing needs a credentialsSecret or an agentToken");
    this.o = options;
    this.now = options.now ?? Date.now;
    this.secret = options.credentialsSecret;
  }

  /** The certificate and key to connect with: reused while valid, otherwise obtained (and stored). */
  credentials(): Promise<ClientCertificate> {
    this.pending ??= this.resolve().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets the current certificate: the next credentials() obtains a new one (call after a TLS failure). */
  invalidate(): void {
    this.stale = true;
  }

  /** The broker URL from the pairing API. */
  async brokerUrl(): Promise<string> {
    return brokerUrl(this.device(await this.credentialsSecret()));
  }

  /** The credentials secret: given, stored, or obtained by registering with the agent token (then stored). */
  async credentialsSecret(): Promise<string> {
    if (this.secret) return this.secret;
    const file = this.file("credentials-secret");
    const stored = file ? readText(file)?.trim() : undefined;
    if (stored) return (this.secret = stored);
    const secret = await registerDevice({ ...this.endpoint(), agentToken: this.o.agentToken!, deviceId: this.o.deviceId });
    if (file) writeFileAtomic(file, secret, { mode: 0o600 });
    return (this.secret = secret);
  }

  /** Returns the current certificate unless it is stale or due, else obtains (and stores, with `dir`) a new one; while the API is unavailable, a still-valid current one is kept. */
  private async resolve(): Promise<ClientCertificate> {
    if (!this.loaded) {
      this.current = await this.loadStored();
      this.loaded = true;
    }
    const current = this.current;
    if (current && !this.stale && !this.due(current)) return current;
    let fresh: ClientCertificate;
    try {
      fresh = await obtainCredentials(this.device(await this.credentialsSecret()));
    } catch (err) {
      // Renewing ahead of expiry while the API is unavailable: keep the valid certificate, try again next time.
      if (current && !this.stale && this.now() < current.notAfter.getTime() && unavailable(err)) return current;
      throw err;
    }
    const keyFile = this.file("key.pem");
    const certFile = this.file("cert.pem");
    if (keyFile && certFile) {
      writeFileAtomic(keyFile, fresh.key, { mode: 0o600 });
      writeFileAtomic(certFile, fresh.cert, { mode: 0o644 });
    }
    this.current = fresh;
    this.stale = false;
    return fresh;
  }

  /** The stored pair if it is for this device and matches; if it is not near expiry, the API must not call it invalid. */
  private async loadStored(): Promise<ClientCertificate | undefined> {
    const keyFile = this.file("key.pem");
    const certFile = this.file("cert.pem");
    const key = keyFile ? readText(keyFile) : undefined;
    const cert = certFile ? readText(certFile) : undefined;
    if (!key || !cert) return undefined;
    const info = await inspect(cert);
    if (!info || info.commonName !== `${this.o.realm}/${this.o.deviceId}`) return undefined;
    const spki = await publicKeyOf(key);
    if (!spki || !sameBytes(spki, info.spki)) return undefined;
    const stored: ClientCertificate = { cert, key, notBefore: info.notBefore, notAfter: info.notAfter };
    if (this.due(stored)) return stored; // renewed right away (and used only if the API is unavailable)
    try {
      const verdict = await verifyCertificate({ ...this.device(await this.credentialsSecret()), cert });
      return verdict.valid ? stored : undefined;
    } catch (err) {
      // The API is unavailable: the local checks passed, so connect; a refusal by the broker renews it.
      if (unavailable(err)) return stored;
      throw err;
    }
  }

  /** Whether the certificate is expired or within the renewal margin of its end. */
  private due(c: ClientCertificate): boolean {
    const lifetime = Math.max(0, c.notAfter.getTime() - c.notBefore.getTime());
    const margin = this.o.renewBefore ?? Math.min(Math.max(lifetime * 0.1, HOUR), lifetime / 2);
    return this.now() >= c.notAfter.getTime() - margin;
  }

  /** The pairing API endpoint settings from the options. */
  private endpoint(): PairingEndpoint {
    return { url: this.o.url, realm: this.o.realm, timeout: this.o.timeout, fetch: this.o.fetch };
  }

  /** The endpoint settings plus this device's id and `credentialsSecret`. */
  private device(credentialsSecret: string): PairingDevice {
    return { ...this.endpoint(), deviceId: this.o.deviceId, credentialsSecret };
  }

  /** The path of `name` in `dir` (created if missing), or undefined without `dir`. */
  private file(name: string): string | undefined {
    if (!this.o.dir) return undefined;
    fs.mkdirSync(this.o.dir, { recursive: true, mode: 0o700 });
    return path.join(this.o.dir, name);
  }
}

/** What connectDevice() needs from its options to pair. */
export interface PairableOptions extends Omit<ClientOptions, "store"> {
  realm: string;
  deviceId: string;
  store?: string;
  pairing?: PairingOptions;
}

/** A device connection set up by pairDevice(). */
export interface PairedConnection<O> {
  /** The options with the broker URL, the client certificate in `tls`, and a beforeConnect that renews it. */
  options: O;
  /** Connects; if the first attempt fails on the certificate, renews it and tries once more. */
  connect(device: { client: Client; connect(): Promise<void> }): Promise<void>;
}

/**
 * For connectDevice(): obtains (or reuses) the credentials in `<store>/credentials`, fills in the broker URL
 * when neither url nor servers is given, and wraps beforeConnect so every attempt uses a valid certificate.
 */
export async function pairDevice<O extends PairableOptions>(options: O): Promise<PairedConnection<O>> {
  const pairing = options.pairing!;
  if (options.tls?.cert !== undefined || options.tls?.key !== undefined) throw new OptionsError("pairing obtains tls.cert and tls.key: do not pass them as well");
  const client = new PairingClient({ ...pairing, realm: options.realm, deviceId: options.deviceId, dir: options.store ? path.join(options.store, "credentials") : undefined });
  await client.credentials();
  const url = options.url !== undefined || (options.servers?.length ?? 0) > 0 ? options.url : await client.brokerUrl();
  const userBeforeConnect = options.beforeConnect;
  const beforeConnect = async (attempt: number): Promise<AttemptSettings> => {
    const settings = (await userBeforeConnect?.(attempt)) ?? {};
    const { cert, key } = await client.credentials();
    return { ...settings, tls: { ...options.tls, ...settings.tls, cert, key } };
  };
  return {
    options: { ...options, url, beforeConnect },
    connect: async (device) => {
      device.client.on("reconnecting", ({ error }) => {
        if (isCertificateFailure(error)) client.invalidate();
      });
      try {
        await device.connect();
      } catch (err) {
        if (!isCertificateFailure(err)) throw err;
        client.invalidate();
        await device.connect();
      }
    },
  };
}

/**
 * Whether a connection failed in the TLS handshake in a way a new client certificate may fix: the broker sent a
 * TLS alert (unknown CA, bad or expired certificate, certificate required), or the key or certificate did not load.
 * Failures to verify the broker's own certificate do not count.
 */
export function isCertificateFailure(err: unknown): boolean {
  if (!(err instanceof ConnectError) || err.code !== "connection-failed") return false;
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 5 && cause instanceof Error; depth++, cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && (/^ERR_SSL_.*ALERT/.test(code) || code.startsWith("ERR_OSSL_"))) return true;
    // OpenSSL "tlsv1 alert unknown ca", BoringSSL "TLSV1_ALERT_UNKNOWN_CA", rustls "received fatal alert: UnknownCA".
    if (/alert/i.test(cause.message)) return true;
  }
  return false;
}

// --- files ---

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return undefined;
    throw err;
  }
}


