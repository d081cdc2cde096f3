/**
 * The Astarte pairing API: register a device (agent token -> credentials secret), ask for the broker URL, turn a
 * CSR into a short-lived client certificate, and verify a certificate. Secrets (agent token, credentials secret,
 * private key) never appear in errors.
 */

import { sameBytes } from "./bytes.js";
import { inspect, loadX509, pem } from "./certificates.js";
import { PairingError, type PairingErrorCode } from "./pairing-error.js";

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
