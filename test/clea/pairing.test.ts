/**
 * Credentials from the Astarte pairing API: registration, CSR -> certificate, verify, broker URL; the
 * PairingClient's storage, reuse and renewal; and connectDevice over mutual TLS to a mosquitto that takes the
 * certificate's CN as the user name and only lets it use `<CN>/#`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, ConnectError, type Client, type Message } from "../../src/index.ts";
import {
  brokerUrl,
  certificateInfo,
  connectDevice,
  isCertificateFailure,
  obtainCredentials,
  PairingClient,
  PairingError,
  randomDeviceId,
  registerDevice,
  verifyCertificate,
  type Device,
} from "../../src/clea/index.ts";
import { makeTestCerts, type TestCerts } from "../support/certs.ts";
import { freePort, startMosquitto, type Mosquitto } from "../support/mosquitto.ts";
import { startPairingServer, type PairingServer } from "../support/pairing-server.ts";

const REALM = "acme";
const AGENT_TOKEN = "agent-jwt-eyJhbGciOiJIUzI1NiJ9.secret-part";
const HOUR = 3_600_000;
const SENSORS = {
  interface_name: "com.acme.Sensors",
  version_major: 1,
  version_minor: 0,
  type: "datastream",
  ownership: "device",
  mappings: [{ endpoint: "/temp", type: "double" }],
};

let certs: TestCerts;
let pairing: PairingServer;
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  certs = makeTestCerts();
  pairing = await startPairingServer({ realm: REALM, agentToken: AGENT_TOKEN, signer: certs.ca });
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  pairing.signer = certs.ca;
  pairing.validity = { lifetimeMs: 24 * HOUR };
});

afterAll(async () => {
  await pairing?.close();
  certs?.dispose();
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-pairing-"));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A device registered at the pairing server: its id and credentials secret. */
function newDevice(): { deviceId: string; credentialsSecret: string } {
  const deviceId = randomDeviceId();
  return { deviceId, credentialsSecret: pairing.addDevice(deviceId) };
}

async function pairingError(p: Promise<unknown>): Promise<PairingError> {
  let thrown: unknown;
  try {
    await p;
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error("expected a PairingError, the promise resolved");
  expect(thrown).toBeInstanceOf(PairingError);
  return thrown as PairingError;
}

function openssl(args: string[], input: string): string {
  return execFileSync("openssl", args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

/** Everything an error says about itself, causes included. */
function allText(err: unknown): string {
  let out = "";
  for (let e = err; e instanceof Error; e = e.cause) out += `${e.name} ${e.message} ${JSON.stringify(e)}\n`;
  return out;
}

async function until(fn: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("pairing API", () => {
  it("registers a device with an agent token and answers its credentials secret", async () => {
    const deviceId = randomDeviceId();
    const secret = await registerDevice({ url: pairing.url, realm: REALM, agentToken: AGENT_TOKEN, deviceId });
    expect(secret).toBe(pairing.secretOf(deviceId));
  });

  it("a wrong agent token is an http-error 401 whose message does not contain the token", async () => {
    const token = "wrong-agent-token-0123456789";
    const err = await pairingError(registerDevice({ url: pairing.url, realm: REALM, agentToken: token, deviceId: randomDeviceId() }));
    expect(err.code).toBe("http-error");
    expect(err.status).toBe(401);
    expect(err.message).toContain("401");
    // The test server echoes the presented token in its error body: the client must redact it.
    expect(allText(err)).not.toContain(token);
  });

  it("registering a device that already obtained credentials is registration-failed", async () => {
    const device = newDevice();
    await obtainCredentials({ url: pairing.url, realm: REALM, ...device });
    const err = await pairingError(registerDevice({ url: pairing.url, realm: REALM, agentToken: AGENT_TOKEN, deviceId: device.deviceId }));
    expect(err.code).toBe("registration-failed");
    expect(err.status).toBe(422);
    expect(allText(err)).not.toContain(AGENT_TOKEN);
  });

  it("answers the broker URL; a wrong credentials secret is a 401 without the secret", async () => {
    const device = newDevice();
    pairing.brokerUrl = "mqtts://broker.acme.test:8883";
    expect(await brokerUrl({ url: pairing.url, realm: REALM, ...device })).toBe("mqtts://broker.acme.test:8883");
    const wrong = "not-the-credentials-secret-4242";
    const err = await pairingError(brokerUrl({ url: pairing.url, realm: REALM, deviceId: device.deviceId, credentialsSecret: wrong }));
    expect(err.code).toBe("http-error");
    expect(err.status).toBe(401);
    expect(allText(err)).not.toContain(wrong);
    expect(allText(err)).not.toContain(device.credentialsSecret);
  });

  it("obtains a certificate for a P-256 key through a CSR whose subject is exactly CN=<realm>/<deviceId>", async () => {
    const device = newDevice();
    const creds = await obtainCredentials({ url: pairing.url, realm: REALM, ...device });
    expect(pairing.csrs).toHaveLength(pairing.issued.length);
    const csr = pairing.csrs.at(-1)!;
    // openssl checks the CSR's self-signature and prints its subject.
    const subject = openssl(["req", "-noout", "-verify", "-subject", "-nameopt", "RFC2253"], csr).trim();
    expect(subject).toBe(`subject=CN=${REALM}/${device.deviceId}`);
    expect(openssl(["req", "-noout", "-text"], csr)).toMatch(/NIST CURVE: P-256/);
    expect(openssl(["pkey", "-noout", "-text"], creds.key)).toMatch(/NIST CURVE: P-256/);
    expect(creds.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    // The certificate is for this key and this device.
    expect(openssl(["x509", "-noout", "-pubkey"], creds.cert)).toBe(openssl(["pkey", "-pubout"], creds.key));
    expect(openssl(["x509", "-noout", "-subject", "-nameopt", "RFC2253"], creds.cert).trim()).toBe(`subject=CN=${REALM}/${device.deviceId}`);
    expect((await certificateInfo(creds.cert)).commonName).toBe(`${REALM}/${device.deviceId}`);
    expect(creds.notAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it("verify: valid for an issued certificate, invalid with a cause once revoked", async () => {
    const device = newDevice();
    const creds = await obtainCredentials({ url: pairing.url, realm: REALM, ...device });
    const ok = await verifyCertificate({ url: pairing.url, realm: REALM, ...device, cert: creds.cert });
    expect(ok.valid).toBe(true);
    expect(typeof ok.until).toBe("string");
    pairing.revoke(creds.cert);
    const bad = await verifyCertificate({ url: pairing.url, realm: REALM, ...device, cert: creds.cert });
    expect(bad).toMatchObject({ valid: false, cause: "REVOKED" });
  });

  it("an answer without the expected fields, or not JSON, is invalid-response", async () => {
    const device = newDevice();
    const answering = (status: number, body: string): typeof fetch => async () => new Response(body, { status });
    const empty = await pairingError(brokerUrl({ url: pairing.url, realm: REALM, ...device, fetch: answering(200, '{"data":{}}') }));
    expect(empty.code).toBe("invalid-response");
    const html = await pairingError(registerDevice({ url: pairing.url, realm: REALM, agentToken: AGENT_TOKEN, deviceId: device.deviceId, fetch: answering(201, "<html>") }));
    expect(html.code).toBe("invalid-response");
    const noCert = await pairingError(obtainCredentials({ url: pairing.url, realm: REALM, ...device, fetch: answering(201, '{"data":{"client_crt":"garbage"}}') }));
    expect(noCert.code).toBe("invalid-response");
  });

  it("a certificate for another key or another device is refused as invalid-response", async () => {
    const device = newDevice();
    const other = newDevice();
    const foreign = await obtainCredentials({ url: pairing.url, realm: REALM, ...other });
    const answering: typeof fetch = async () => new Response(JSON.stringify({ data: { client_crt: foreign.cert } }), { status: 201 });
    const err = await pairingError(obtainCredentials({ url: pairing.url, realm: REALM, ...device, fetch: answering }));
    expect(err.code).toBe("invalid-response");
  });

  it("an unreachable API is network-error", async () => {
    const port = await freePort();
    const err = await pairingError(brokerUrl({ url: `http://127.0.0.1:${port}/pairing`, realm: REALM, deviceId: randomDeviceId(), credentialsSecret: "s3cr3t-value" }));
    expect(err.code).toBe("network-error");
    expect(err.message).toContain("ECONNREFUSED");
    expect(allText(err)).not.toContain("s3cr3t-value");
  });
});

describe("PairingClient", () => {
  it("stores key.pem (0600) and cert.pem, and reuses them after a restart without a new CSR", async () => {
    const device = newDevice();
    const dir = path.join(tempDir(), "credentials");
    const first = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    expect(fs.statSync(path.join(dir, "key.pem")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, "key.pem"), "utf8")).toBe(first.key);
    expect(fs.readFileSync(path.join(dir, "cert.pem"), "utf8")).toBe(first.cert);
    expect(fs.existsSync(path.join(dir, "credentials-secret"))).toBe(false); // given, not registered: not stored
    const csrs = pairing.csrs.length;
    const verifies = pairing.calls.verify;

    const restarted = new PairingClient({ url: pairing.url, realm: REALM, ...device, dir });
    const again = await restarted.credentials();
    expect(again.cert).toBe(first.cert);
    expect(again.key).toBe(first.key);
    expect(pairing.csrs.length).toBe(csrs);
    expect(pairing.calls.verify).toBe(verifies + 1); // checked with the API once, on load
    await restarted.credentials();
    expect(pairing.calls.verify).toBe(verifies + 1);
    expect(pairing.csrs.length).toBe(csrs);
  });

  it("with an agent token: registers once, keeps the credentials secret (0600), and does not register again after a restart", async () => {
    const deviceId = randomDeviceId();
    const dir = path.join(tempDir(), "credentials");
    const registrations = pairing.calls.register;
    await new PairingClient({ url: pairing.url, realm: REALM, deviceId, agentToken: AGENT_TOKEN, dir }).credentials();
    expect(pairing.calls.register).toBe(registrations + 1);
    const secretFile = path.join(dir, "credentials-secret");
    expect(fs.readFileSync(secretFile, "utf8")).toBe(pairing.secretOf(deviceId));
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    const restarted = new PairingClient({ url: pairing.url, realm: REALM, deviceId, agentToken: AGENT_TOKEN, dir });
    await restarted.credentials();
    expect(await restarted.brokerUrl()).toBe(pairing.brokerUrl);
    expect(pairing.calls.register).toBe(registrations + 1);
  });

  it("renews a certificate near its expiry (2 minutes left of 1 hour), but not a fresh one-hour certificate", async () => {
    const device = newDevice();
    const dir = path.join(tempDir(), "credentials");
    pairing.validity = { lifetimeMs: HOUR, remainingMs: 2 * 60_000 };
    const client = new PairingClient({ url: pairing.url, realm: REALM, ...device, dir });
    const nearExpiry = await client.credentials();
    expect(nearExpiry.notAfter.getTime() - nearExpiry.notBefore.getTime()).toBe(HOUR);
    pairing.validity = { lifetimeMs: HOUR };
    const csrs = pairing.csrs.length;

    const renewed = await client.credentials();
    expect(pairing.csrs.length).toBe(csrs + 1);
    expect(renewed.cert).not.toBe(nearExpiry.cert);
    expect(renewed.key).not.toBe(nearExpiry.key);
    expect(fs.readFileSync(path.join(dir, "cert.pem"), "utf8")).toBe(renewed.cert);

    // A full hour left: kept, in this process and after a restart.
    expect((await client.credentials()).cert).toBe(renewed.cert);
    expect((await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials()).cert).toBe(renewed.cert);
    expect(pairing.csrs.length).toBe(csrs + 1);
  });

  it("a stored certificate near expiry is renewed on restart without asking verify", async () => {
    const device = newDevice();
    const dir = path.join(tempDir(), "credentials");
    pairing.validity = { lifetimeMs: HOUR, remainingMs: 2 * 60_000 };
    const old = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    pairing.validity = { lifetimeMs: HOUR };
    const verifies = pairing.calls.verify;
    const fresh = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    expect(fresh.cert).not.toBe(old.cert);
    expect(pairing.calls.verify).toBe(verifies);
  });

  it("while the API is unavailable, a stored certificate that has not expired is used, and renewal is retried later", async () => {
    let down = false;
    let refused = 0;
    const flaky: typeof fetch = async (input, init) => {
      if (!down) return fetch(input, init);
      refused++;
      return new Response('{"errors":{"detail":"service unavailable"}}', { status: 503 });
    };
    const device = newDevice();
    const dir = path.join(tempDir(), "credentials");
    const start = (fetchImpl: typeof fetch = flaky) => new PairingClient({ url: pairing.url, realm: REALM, ...device, dir, fetch: fetchImpl });

    // Well within its validity: verify answers 503, the certificate is used.
    const stored = await start().credentials();
    down = true;
    expect((await start().credentials()).cert).toBe(stored.cert);
    expect(refused).toBe(1);

    // Within the renewal margin (20 minutes left of an hour): renewal answers 503, the certificate is still used...
    down = false;
    pairing.validity = { lifetimeMs: HOUR, remainingMs: 20 * 60_000 };
    const client = start();
    client.invalidate();
    const nearExpiry = await client.credentials();
    pairing.validity = { lifetimeMs: HOUR };
    down = true;
    expect((await client.credentials()).cert).toBe(nearExpiry.cert);
    expect(refused).toBe(2);
    // ...and renewed once the API is back.
    down = false;
    const renewed = await client.credentials();
    expect(renewed.cert).not.toBe(nearExpiry.cert);
    expect(renewed.cert).toBe(pairing.issued.at(-1));

    // An expired certificate is never used: the failure is reported.
    const unreachable = `http://127.0.0.1:${await freePort()}/pairing`;
    const expired = new PairingClient({ url: unreachable, realm: REALM, ...device, dir, now: () => renewed.notAfter.getTime() + 1000 });
    const err = await pairingError(expired.credentials());
    expect(err.code).toBe("network-error");
  });

  it("renewBefore sets the margin", async () => {
    const device = newDevice();
    const client = new PairingClient({ url: pairing.url, realm: REALM, ...device, renewBefore: 25 * HOUR });
    const a = await client.credentials();
    const b = await client.credentials();
    expect(b.cert).not.toBe(a.cert); // a 24-hour certificate is always within 25 hours of its end
  });

  it("a stored certificate the API calls invalid is renewed on restart", async () => {
    const device = newDevice();
    const dir = path.join(tempDir(), "credentials");
    const old = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    pairing.revoke(old.cert);
    const fresh = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    expect(fresh.cert).not.toBe(old.cert);
    expect((await verifyCertificate({ url: pairing.url, realm: REALM, ...device, cert: fresh.cert })).valid).toBe(true);
  });

  it("a damaged certificate file, or a key that does not match the certificate, is replaced", async () => {
    const device = newDevice();
    const dir = path.join(tempDir(), "credentials");
    await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    fs.writeFileSync(path.join(dir, "cert.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    const csrs = pairing.csrs.length;
    const repaired = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    expect(pairing.csrs.length).toBe(csrs + 1);
    expect(fs.readFileSync(path.join(dir, "cert.pem"), "utf8")).toBe(repaired.cert);

    // Another device's key next to this certificate.
    const other = await obtainCredentials({ url: pairing.url, realm: REALM, ...newDevice() });
    fs.writeFileSync(path.join(dir, "key.pem"), other.key);
    const matched = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir }).credentials();
    expect(matched.cert).not.toBe(repaired.cert);
    expect(openssl(["x509", "-noout", "-pubkey"], matched.cert)).toBe(openssl(["pkey", "-pubout"], matched.key));
  });

  it("invalidate() makes the next credentials() obtain a new certificate", async () => {
    const client = new PairingClient({ url: pairing.url, realm: REALM, ...newDevice() });
    const a = await client.credentials();
    expect((await client.credentials()).cert).toBe(a.cert);
    client.invalidate();
    const b = await client.credentials();
    expect(b.cert).not.toBe(a.cert);
    expect((await client.credentials()).cert).toBe(b.cert);
  });

  it("isCertificateFailure: TLS alerts count, other connection failures do not", () => {
    const alert = Object.assign(new Error("error:0A000418:SSL routines::tlsv1 alert unknown ca"), { code: "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA" });
    expect(isCertificateFailure(new ConnectError("connection-failed", "x", undefined, alert))).toBe(true);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(isCertificateFailure(new ConnectError("connection-failed", "x", undefined, refused))).toBe(false);
    const serverCert = Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" });
    expect(isCertificateFailure(new ConnectError("connection-failed", "x", undefined, serverCert))).toBe(false);
    expect(isCertificateFailure(ConnectError.fromReturnCode(5))).toBe(false);
  });
});

describe("connectDevice with pairing, over mutual TLS to mosquitto", () => {
  let broker: Mosquitto;
  let tlsPort: number;
  let clientCaFile: string;
  let observer: Client;
  let seen: Message[] = [];

  beforeAll(async () => {
    tlsPort = await freePort();
    const confDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-pairing-mosq-"));
    fs.chmodSync(confDir, 0o755);
    clientCaFile = path.join(confDir, "client-ca.pem");
    fs.writeFileSync(clientCaFile, certs.ca.cert, { mode: 0o644 });
    const acl = path.join(confDir, "acl");
    // Anonymous clients (the observer, on the plain listener) may read; a certificate's CN may use only <CN>/#.
    fs.writeFileSync(acl, "topic read acme/#\npattern readwrite %u/#\n", { mode: 0o644 });
    broker = await startMosquitto({
      listenerConfig: [
        `listener ${tlsPort} 127.0.0.1`,
        `cafile ${clientCaFile}`,
        `certfile ${certs.server.certFile}`,
        `keyfile ${certs.server.keyFile}`,
        "require_certificate true",
        "use_identity_as_username true",
      ],
      config: [`acl_file ${acl}`],
    });
    observer = await connect({ url: broker.url, clientId: "observer", reconnect: { initialDelay: 50, maxDelay: 200 } });
    observer.on("message", (m) => seen.push(m));
    await observer.subscribe("acme/#", { qos: 2 });
    pairing.brokerUrl = `mqtts://127.0.0.1:${tlsPort}`;
    return () => fs.rmSync(confDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    seen = [];
    if (fs.readFileSync(clientCaFile, "utf8") !== certs.ca.cert) {
      fs.writeFileSync(clientCaFile, certs.ca.cert);
      await broker.stop();
      await broker.start();
      await observer.connect();
    }
  });

  afterAll(async () => {
    await observer?.end({ force: true });
    await broker?.dispose();
  });

  const introspectionsFor = (deviceId: string) =>
    seen.filter((m) => m.topic === `${REALM}/${deviceId}`).map((m) => new TextDecoder().decode(m.payload));

  async function startDevice(device: { deviceId: string; credentialsSecret?: string; agentToken?: string }, store: string): Promise<Device> {
    const { deviceId, ...secret } = device;
    const d = await connectDevice({
      realm: REALM,
      deviceId,
      pairing: { url: pairing.url, ...secret },
      tls: { ca: certs.ca.cert },
      store,
      interfaces: [SENSORS],
      reconnect: { initialDelay: 50, maxDelay: 300 },
    });
    cleanup.push(() => d.end({ force: true }));
    return d;
  }

  it("obtains a certificate, takes the broker URL from the pairing API, and completes the handshake as <realm>/<deviceId>", async () => {
    const device = newDevice();
    const store = tempDir();
    const infos = pairing.calls.info;
    const d = await startDevice(device, store);
    await d.handshakeComplete();
    expect(pairing.calls.info).toBe(infos + 1);
    await until(() => introspectionsFor(device.deviceId).includes("com.acme.Sensors:1:0"));
    await d.send("com.acme.Sensors", "/temp", 21.5);
    await until(() => seen.some((m) => m.topic === `${REALM}/${device.deviceId}/com.acme.Sensors/temp`));
    // The broker took the user name from the client certificate.
    expect(broker.log()).toContain(`u'${REALM}/${device.deviceId}'`);
    expect(fs.statSync(path.join(store, "credentials", "key.pem")).mode & 0o777).toBe(0o600);
  });

  it("registers with an agent token, then reuses the stored secret and certificate on restart", async () => {
    const deviceId = randomDeviceId();
    const store = tempDir();
    const registrations = pairing.calls.register;
    const first = await startDevice({ deviceId, agentToken: AGENT_TOKEN }, store);
    await first.handshakeComplete();
    await first.end();
    const csrs = pairing.csrs.length;
    const second = await startDevice({ deviceId, agentToken: AGENT_TOKEN }, store);
    await second.handshakeComplete();
    expect(pairing.calls.register).toBe(registrations + 1);
    expect(pairing.csrs.length).toBe(csrs);
    expect(second.client.connected).toBe(true);
  });

  it("a stored certificate the broker refuses (client CA rotated) is renewed after the first attempt's TLS failure", async () => {
    const device = newDevice();
    const store = tempDir();
    // A certificate from the unrelated CA, which the pairing API still calls valid but the broker does not trust.
    pairing.signer = certs.otherCa;
    const stale = await new PairingClient({ url: pairing.url, realm: REALM, ...device, dir: path.join(store, "credentials") }).credentials();
    pairing.signer = certs.ca;
    const csrs = pairing.csrs.length;
    const verifies = pairing.calls.verify;
    const refusals = broker.log().split("certificate verify failed").length;
    const d = await startDevice(device, store);
    await d.handshakeComplete();
    expect(pairing.calls.verify).toBe(verifies + 1); // the API called the stored certificate valid...
    expect(broker.log().split("certificate verify failed").length).toBe(refusals + 1); // ...the broker refused it once
    expect(pairing.csrs.length).toBe(csrs + 1);
    const stored = fs.readFileSync(path.join(store, "credentials", "cert.pem"), "utf8");
    expect(stored).not.toBe(stale.cert);
    expect(stored).toBe(pairing.issued.at(-1));
    expect(broker.log()).toContain(`u'${REALM}/${device.deviceId}'`);
  });

  it("after a reconnect fails on the certificate (broker and pairing CA rotated), the next attempt gets a new one", async () => {
    const device = newDevice();
    const store = tempDir();
    const d = await startDevice(device, store);
    await d.handshakeComplete();
    const before = fs.readFileSync(path.join(store, "credentials", "cert.pem"), "utf8");
    const errors: Error[] = [];
    d.client.on("reconnecting", ({ error }) => {
      if (error) errors.push(error);
    });
    let connects = 0;
    d.on("connect", () => connects++);

    await broker.stop();
    fs.writeFileSync(clientCaFile, certs.otherCa.cert);
    pairing.signer = certs.otherCa;
    await broker.start();
    await observer.connect();
    await until(() => connects > 0);
    expect(errors.some((e) => isCertificateFailure(e))).toBe(true);
    const after = fs.readFileSync(path.join(store, "credentials", "cert.pem"), "utf8");
    expect(after).not.toBe(before);
    expect(after).toBe(pairing.issued.at(-1));
    await d.send("com.acme.Sensors", "/temp", 22.5);
  });
});
