/**
 * The Astarte pairing API: register a device (agent token -> credentials secret), ask for the broker URL, turn a
 * CSR into a short-lived client certificate, and verify a certificate. PairingClient keeps the key and certificate
 * in a directory, reuses them while they are valid, and renews them before expiry or after a TLS failure.
 *
 * Certificates are handled with `@peculiar/x509` (an optional peer dependency, loaded only here, on first use)
 * over the runtime's WebCrypto. Secrets (agent token, credentials secret, private key) never appear in errors.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { ConnectError, EdgemqError, OptionsError, type AttemptSettings, type Client, type ClientOptions } from "../index.js";

/** Codes of PairingError. */
export type PairingErrorCode = "http-error" | "network-error" | "invalid-response" | "missing-dependency" | "registration-failed";

/** The pairing API refused or failed a request, answered something unusable, or a needed package is missing. */
export class PairingError extends EdgemqError {
  declare readonly code: PairingErrorCode;
  /** The HTTP status, when the API answered one. */
  readonly status: number | undefined;
  constructor(code: PairingErrorCode, message: string, status?: number, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.status = status;
  }
}

/** Where the pairing API is and how to call it. */
export interface PairingEndpoint {
  /** Base URL of the pairing API, e.g. `https://api.acme.example/pairing`. */
  url: string;
  /** The Astarte realm. */
  realm: string;
  /** Milliseconds to wait for each request. Default 30,000. */
  timeout?: number;
  /** The fetch to use. Default: the global fetch. */
  fetch?: typeof fetch;
}

/** A device's identity at the pairing API. */
export interface PairingDevice extends PairingEndpoint {
  /** The device id (22 characters of URL-safe base64). */
  deviceId: string;
  /** The device's credentials secret (from registration). */
  credentialsSecret: string;
}

/** A client certificate and its private key, PEM. */
export interface ClientCertificate {
  /** The certificate, PEM. */
  cert: string;
  /** The ECDSA P-256 private key, PKCS#8 PEM. */
  key: string;
  /** Start of validity. */
  notBefore: Date;
  /** End of validity. */
  notAfter: Date;
}

/** What the API says about a certificate. */
export interface VerifyResult {
  /** Whether the certificate is valid for this device now. */
  valid: boolean;
  /** Until when it is valid (as the API sent it), if valid. */
  until?: string;
  /** Why it is not valid (as the API sent it), if not. */
  cause?: string;
}

/** Registers a device with an agent token (JWT); resolves with the device's credentials secret. */
export async function registerDevice(options: PairingEndpoint & { agentToken: string; deviceId: string }): Promise<string> {
  const answer = await request(options, "POST", `agent/devices`, options.agentToken, { hw_id: options.deviceId }, "registration-failed");
  return stringField(answer, "credentials_secret");
}

/** Asks for the device's MQTT broker URL (`data.protocols.astarte_mqtt_v1.broker_url`). */
export async function brokerUrl(options: PairingDevice): Promise<string> {
  const answer = await request(options, "GET", devicePath(options, ""), options.credentialsSecret);
  const protocols = field(answer, "protocols");
  const mqtt = field(protocols, "astarte_mqtt_v1");
  return stringField(mqtt, "broker_url");
}

/** Generates an ECDSA P-256 key, sends a CSR with subject CN `<realm>/<deviceId>`, and resolves with the certificate. */
export async function obtainCredentials(options: PairingDevice): Promise<ClientCertificate> {
  const x509 = await loadX509();
  const subtle = globalThis.crypto.subtle;
  const keys = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [`${options.realm}/${options.deviceId}`] }],
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  const answer = await request(options, "POST", devicePath(options, "/protocols/astarte_mqtt_v1/credentials"), options.credentialsSecret, { csr: csr.toString("pem") });
  const cert = stringField(answer, "client_crt");
  const key = pem("PRIVATE KEY", new Uint8Array(await subtle.exportKey("pkcs8", keys.privateKey)));
  const info = await inspect(cert);
  if (!info) throw new PairingError("invalid-response", "the pairing API answered a client_crt that is not a PEM certificate");
  const ours = new Uint8Array(await subtle.exportKey("spki", keys.publicKey));
  if (!sameBytes(info.spki, ours)) throw new PairingError("invalid-response", "the certificate from the pairing API is not for the key in the CSR");
  checkSubject(info.commonName, options);
  return { cert, key, notBefore: info.notBefore, notAfter: info.notAfter };
}

/** Asks the API whether a certificate is valid for the device. */
export async function verifyCertificate(options: PairingDevice & { cert: string }): Promise<VerifyResult> {
  const answer = await request(options, "POST", devicePath(options, "/protocols/astarte_mqtt_v1/credentials/verify"), options.credentialsSecret, { client_crt: options.cert });
  const valid = field(answer, "valid");
  if (typeof valid !== "boolean") throw new PairingError("invalid-response", 'the pairing API answered verify without a boolean "valid"');
  const until = (answer as Record<string, unknown>)["until"];
  const cause = (answer as Record<string, unknown>)["cause"];
  return { valid, ...(typeof until === "string" ? { until } : {}), ...(typeof cause === "string" ? { cause } : {}) };
}

/** Subject common name and validity of a PEM certificate (uses @peculiar/x509). */
export async function certificateInfo(cert: string): Promise<{ commonName: string; notBefore: Date; notAfter: Date }> {
  const info = await inspect(cert);
  if (!info) throw new PairingError("invalid-response", "not a PEM certificate");
  return { commonName: info.commonName, notBefore: info.notBefore, notAfter: info.notAfter };
}

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
    if (file) writeAtomic(file, secret);
    return (this.secret = secret);
  }

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
      writeAtomic(keyFile, fresh.key);
      writeAtomic(certFile, fresh.cert, 0o644);
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

  private endpoint(): PairingEndpoint {
    return { url: this.o.url, realm: this.o.realm, timeout: this.o.timeout, fetch: this.o.fetch };
  }

  private device(credentialsSecret: string): PairingDevice {
    return { ...this.endpoint(), deviceId: this.o.deviceId, credentialsSecret };
  }

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

// --- HTTP ---

async function request(
  endpoint: PairingEndpoint,
  method: "GET" | "POST",
  route: string,
  token: string,
  data?: Record<string, unknown>,
  refusedCode: PairingErrorCode = "http-error",
): Promise<unknown> {
  const base = endpoint.url.replace(/\/+$/, "");
  const target = `${base}/v1/${encodeURIComponent(endpoint.realm)}/${route}`;
  const where = `${method} /v1/${endpoint.realm}/${route}`;
  const doFetch = endpoint.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(target, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(data ? { "content-type": "application/json" } : {}) },
      body: data ? JSON.stringify({ data }) : undefined,
      signal: AbortSignal.timeout(endpoint.timeout ?? 30_000),
    });
  } catch (err) {
    const reason = describeNetworkError(err);
    throw new PairingError("network-error", `${where}: cannot reach the pairing API at ${originOf(base)}: ${reason}`, undefined, err);
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    const detail = redact(errorDetail(text), token);
    const code = refusedCode === "registration-failed" && (response.status === 409 || response.status === 422) ? "registration-failed" : "http-error";
    const what = code === "registration-failed" ? " (the device is already registered: use its credentials secret)" : "";
    throw new PairingError(code, `${where} answered ${response.status}${detail ? `: ${detail}` : ""}${what}`, response.status);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PairingError("invalid-response", `${where} answered ${response.status} with a body that is not JSON`, response.status);
  }
  const answer = body !== null && typeof body === "object" ? (body as Record<string, unknown>)["data"] : undefined;
  if (answer === null || typeof answer !== "object") throw new PairingError("invalid-response", `${where} answered without a "data" object`, response.status);
  return answer;
}

/** The API could not be reached or failed on its side (5xx): worth trying again later. */
function unavailable(err: unknown): boolean {
  return err instanceof PairingError && (err.code === "network-error" || (err.code === "http-error" && (err.status ?? 0) >= 500));
}

function field(object: unknown, name: string): unknown {
  const value = object !== null && typeof object === "object" ? (object as Record<string, unknown>)[name] : undefined;
  if (value === undefined) throw new PairingError("invalid-response", `the pairing API's answer has no "${name}"`);
  return value;
}

function stringField(object: unknown, name: string): string {
  const value = field(object, name);
  if (typeof value !== "string" || value === "") throw new PairingError("invalid-response", `the pairing API's "${name}" is not a non-empty string`);
  return value;
}

function devicePath(device: { deviceId: string }, rest: string): string {
  return `devices/${encodeURIComponent(device.deviceId)}${rest}`;
}

/** The API's error text (`{"errors":{"detail":...}}` or plain), short. */
function errorDetail(text: string): string {
  let detail = text;
  try {
    const parsed = JSON.parse(text) as { errors?: { detail?: unknown } };
    if (typeof parsed?.errors?.detail === "string") detail = parsed.errors.detail;
  } catch {
    // not JSON: keep the text
  }
  detail = detail.replace(/\s+/g, " ").trim();
  return detail.length > 200 ? `${detail.slice(0, 200)}...` : detail;
}

function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join("[redacted]") : text;
}

function describeNetworkError(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === "string") return cause.code;
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) return "timed out";
  return err instanceof Error ? err.message : String(err);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}

function checkSubject(commonName: string, device: { realm: string; deviceId: string }): void {
  const expected = `${device.realm}/${device.deviceId}`;
  if (commonName !== expected) throw new PairingError("invalid-response", `the certificate from the pairing API is for ${JSON.stringify(commonName)}, not ${JSON.stringify(expected)}`);
}

// --- certificates and keys ---

type X509 = typeof import("@peculiar/x509");
let x509Module: Promise<X509> | undefined;

/** @peculiar/x509, imported on first use; it needs a Reflect metadata polyfill (reflect-metadata) loaded first. */
function loadX509(): Promise<X509> {
  x509Module ??= (async () => {
    try {
      if (typeof (Reflect as { getMetadata?: unknown }).getMetadata !== "function") await import("reflect-metadata");
      return await import("@peculiar/x509");
    } catch (err) {
      x509Module = undefined;
      throw new PairingError(
        "missing-dependency",
        "pairing needs the optional packages @peculiar/x509 and reflect-metadata: npm i @peculiar/x509 reflect-metadata",
        undefined,
        err,
      );
    }
  })();
  return x509Module;
}

/** Common name, validity and SubjectPublicKeyInfo of a PEM certificate, or undefined if it does not parse. */
async function inspect(cert: string): Promise<{ commonName: string; notBefore: Date; notAfter: Date; spki: Uint8Array } | undefined> {
  const x509 = await loadX509();
  let parsed: InstanceType<X509["X509Certificate"]>;
  try {
    parsed = new x509.X509Certificate(cert);
  } catch {
    return undefined;
  }
  const commonName = parsed.subjectName.getField("CN")[0] ?? "";
  return { commonName, notBefore: parsed.notBefore, notAfter: parsed.notAfter, spki: new Uint8Array(parsed.publicKey.rawData) };
}

/** The SubjectPublicKeyInfo of a PKCS#8 PEM ECDSA P-256 key, or undefined if it does not load. */
async function publicKeyOf(key: string): Promise<Uint8Array | undefined> {
  const der = fromPem(key, "PRIVATE KEY");
  if (!der) return undefined;
  const subtle = globalThis.crypto.subtle;
  try {
    const privateKey = await subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    const { d: _d, key_ops: _ops, ...jwk } = await subtle.exportKey("jwk", privateKey);
    const publicKey = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    return new Uint8Array(await subtle.exportKey("spki", publicKey));
  } catch {
    return undefined;
  }
}

function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function fromPem(text: string, label: string): Uint8Array<ArrayBuffer> | undefined {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  if (!match) return undefined;
  try {
    const binary = atob(match[1]!.replace(/\s+/g, ""));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
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

/** Writes through a temporary file and a rename, so a crash leaves the old or the new file, never half of one. */
function writeAtomic(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}
