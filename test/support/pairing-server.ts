/**
 * A local Astarte pairing API for tests (node:http on 127.0.0.1, base path /pairing): registration with an agent
 * token, device info with the broker URL, CSR signing with a test CA (through @peculiar/x509), and verify.
 * The signing CA and the validity of new certificates can be changed at any time; every call is counted.
 */

import "reflect-metadata";
import * as http from "node:http";
import * as x509 from "@peculiar/x509";
import type { CertPair } from "./certs.ts";

/** How long certificates issued from now on are valid. */
export interface Validity {
  /** notAfter - notBefore, ms. */
  lifetimeMs: number;
  /** notAfter - now, ms (default: the whole lifetime, i.e. notBefore = now). */
  remainingMs?: number;
}

/** A running pairing server. */
export interface PairingServer {
  /** Base URL, e.g. `http://127.0.0.1:41234/pairing`. */
  url: string;
  readonly realm: string;
  readonly agentToken: string;
  /** Answered by GET /v1/{realm}/devices/{id}. */
  brokerUrl: string;
  /** The CA that signs new certificates. */
  signer: CertPair;
  validity: Validity;
  /** Requests per route (including refused ones). */
  readonly calls: { register: number; info: number; credentials: number; verify: number };
  /** Every CSR received, PEM, in order. */
  readonly csrs: string[];
  /** Every certificate issued, PEM, in order. */
  readonly issued: string[];
  /** Registers a device directly (as an operator would); returns its credentials secret. */
  addDevice(deviceId: string): string;
  /** The credentials secret of a registered device. */
  secretOf(deviceId: string): string | undefined;
  /** From now on verify answers invalid for this certificate. */
  revoke(certPem: string): void;
  close(): Promise<void>;
}

interface DeviceRecord {
  secret: string;
  /** Whether it has obtained credentials (then registering again is refused, as Astarte does once a device connected). */
  confirmed: boolean;
}

/** Starts a pairing server for `realm`, signing with `signer`. */
export async function startPairingServer(options: { realm: string; agentToken: string; signer: CertPair; brokerUrl?: string; validity?: Validity }): Promise<PairingServer> {
  const devices = new Map<string, DeviceRecord>();
  const serials = new Map<string, { notAfter: Date; deviceId: string }>();
  const revoked = new Set<string>();
  const newSecret = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

  const state: PairingServer = {
    url: "",
    realm: options.realm,
    agentToken: options.agentToken,
    brokerUrl: options.brokerUrl ?? "mqtts://127.0.0.1:8883",
    signer: options.signer,
    validity: options.validity ?? { lifetimeMs: 24 * 3_600_000 },
    calls: { register: 0, info: 0, credentials: 0, verify: 0 },
    csrs: [],
    issued: [],
    addDevice: (deviceId) => {
      const secret = newSecret();
      devices.set(deviceId, { secret, confirmed: false });
      return secret;
    },
    secretOf: (deviceId) => devices.get(deviceId)?.secret,
    revoke: (certPem) => {
      revoked.add(new x509.X509Certificate(certPem).serialNumber);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const sign = async (csrPem: string, deviceId: string): Promise<string> => {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new HttpError(422, "the CSR's signature does not verify");
    const expected = `${options.realm}/${deviceId}`;
    const cn = csr.subjectName.getField("CN");
    if (cn.length !== 1 || cn[0] !== expected) throw new HttpError(422, `the CSR's CN must be ${expected}`);
    const ca = new x509.X509Certificate(state.signer.cert);
    const caKey = await crypto.subtle.importKey("pkcs8", pemBody(state.signer.key), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    const now = Math.floor(Date.now() / 1000) * 1000;
    const remaining = state.validity.remainingMs ?? state.validity.lifetimeMs;
    const notAfter = new Date(now + remaining);
    const notBefore = new Date(notAfter.getTime() - state.validity.lifetimeMs);
    const serial = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b, i) => (i === 0 ? (b & 0x7f) | 0x10 : b).toString(16).padStart(2, "0")).join("");
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: [{ CN: [expected] }],
      issuer: ca.subjectName.toString(),
      notBefore,
      notAfter,
      publicKey: csr.publicKey,
      signingKey: caKey,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    });
    serials.set(cert.serialNumber, { notAfter, deviceId });
    const pem = cert.toString("pem") + "\n";
    state.issued.push(pem);
    return pem;
  };

  const verify = (certPem: string, deviceId: string): Record<string, unknown> => {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(certPem);
    } catch {
      return { valid: false, cause: "INVALID", details: "not a certificate" };
    }
    const issued = serials.get(cert.serialNumber);
    if (!issued || issued.deviceId !== deviceId) return { valid: false, cause: "INVALID_ISSUER" };
    if (revoked.has(cert.serialNumber)) return { valid: false, cause: "REVOKED" };
    if (issued.notAfter.getTime() <= Date.now()) return { valid: false, cause: "EXPIRED" };
    return { valid: true, timestamp: new Date().toISOString(), until: issued.notAfter.toISOString() };
  };

  const handle = async (req: http.IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = url.pathname.replace(/^\/pairing/, "");
    const body = req.method === "POST" ? (JSON.parse((await readBody(req)) || "null") as { data?: Record<string, unknown> } | null) : null;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const realm = options.realm;
    let m: RegExpExecArray | null;
    if (req.method === "POST" && route === `/v1/${realm}/agent/devices`) {
      state.calls.register++;
      // Echoes the presented token: the client must not pass it on into its error messages.
      if (token !== options.agentToken) throw new HttpError(401, `invalid agent token ${token}`);
      const hwId = body?.data?.["hw_id"];
      if (typeof hwId !== "string") throw new HttpError(422, "hw_id is required");
      if (devices.get(hwId)?.confirmed) throw new HttpError(422, "device already registered");
      return { status: 201, body: { data: { credentials_secret: state.addDevice(hwId) } } };
    }
    if ((m = new RegExp(`^/v1/${realm}/devices/([A-Za-z0-9_-]{22})(/.*)?$`).exec(route))) {
      const deviceId = m[1]!;
      const rest = m[2] ?? "";
      const record = devices.get(deviceId);
      const count = rest === "" ? "info" : rest.endsWith("/verify") ? "verify" : "credentials";
      state.calls[count]++;
      if (!record || token !== record.secret) throw new HttpError(401, `invalid credentials secret ${token}`);
      if (req.method === "GET" && rest === "") {
        return { status: 200, body: { data: { version: "1.2.0", status: "confirmed", protocols: { astarte_mqtt_v1: { broker_url: state.brokerUrl } } } } };
      }
      if (req.method === "POST" && rest === "/protocols/astarte_mqtt_v1/credentials") {
        const csr = body?.data?.["csr"];
        if (typeof csr !== "string") throw new HttpError(422, "csr is required");
        state.csrs.push(csr);
        const pem = await sign(csr, deviceId);
        record.confirmed = true;
        return { status: 201, body: { data: { client_crt: pem } } };
      }
      if (req.method === "POST" && rest === "/protocols/astarte_mqtt_v1/credentials/verify") {
        const crt = body?.data?.["client_crt"];
        if (typeof crt !== "string") throw new HttpError(422, "client_crt is required");
        return { status: 200, body: { data: verify(crt, deviceId) } };
      }
    }
    throw new HttpError(404, "not found");
  };

  const server = http.createServer((req, res) => {
    handle(req).then(
      ({ status, body }) => send(res, status, body),
      (err: unknown) => send(res, err instanceof HttpError ? err.status : 500, { errors: { detail: (err as Error).message } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/pairing`;
  return state;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function pemBody(pem: string): ArrayBuffer {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return bytes.buffer;
}
