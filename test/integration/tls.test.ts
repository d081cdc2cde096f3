/**
 * mqtts:// against a real mosquitto with TLS listeners: verification against the configured CA, host name
 * checks (URL host and servername), expiry, mutual TLS with the certificate's CN as the MQTT user name, and
 * rejectUnauthorized: false as the one way to turn verification off.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, ConnectError, type Client, type ClientOptions, type TlsOptions } from "../../src/index.ts";
import { CLIENT_CN, makeTestCerts, type TestCerts } from "../support/certs.ts";
import { takeMessage, text } from "../support/messages.ts";
import { freePorts, startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

let certs: TestCerts;
let broker: Mosquitto;
/** Listener ports: one-way TLS, mutual TLS, wrong-host certificate, expired certificate. */
let ports: { tls: number; mutual: number; wrongHost: number; expired: number };
const clients: Client[] = [];

beforeAll(async () => {
  certs = makeTestCerts();
  const [tls, mutual, wrongHost, expired] = (await freePorts(4)) as [number, number, number, number];
  ports = { tls, mutual, wrongHost, expired };
  const listener = (port: number, cert: { certFile: string; keyFile: string }, extra: string[] = []) => [
    `listener ${port} 127.0.0.1`,
    `cafile ${certs.ca.certFile}`,
    `certfile ${cert.certFile}`,
    `keyfile ${cert.keyFile}`,
    ...extra,
  ];
  // Anyone may use tls/#; a user may use the topics under its own name (%u), so a client can only use
  // acme/V_zv6ThCCtXWveQ8mPjsKg/# when the broker took that name from its certificate.
  const acl = path.join(certs.dir, "acl");
  fs.writeFileSync(acl, "pattern readwrite tls/#\npattern readwrite %u/#\n");
  fs.chmodSync(acl, 0o644);
  broker = await startMosquitto({
    listenerConfig: [
      ...listener(tls, certs.server),
      ...listener(mutual, certs.server, ["require_certificate true", "use_identity_as_username true"]),
      ...listener(wrongHost, certs.wrongHost),
      ...listener(expired, certs.expired),
    ],
    config: [`acl_file ${acl}`],
  });
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end({ force: true })));
  await broker?.dispose();
  certs?.dispose();
});

const url = (port: number) => `mqtts://127.0.0.1:${port}`;

async function open(port: number, tls: TlsOptions, extra: Partial<ClientOptions> = {}): Promise<Client> {
  const client = await connect({ url: url(port), tls, reconnect: false, connectTimeout: 10_000, ...extra });
  clients.push(client);
  return client;
}

/** Connects expecting a refusal; returns the ConnectError (and closes the client if it did connect). */
async function refused(port: number, tls: TlsOptions): Promise<ConnectError> {
  let client: Client | undefined;
  try {
    client = await connect({ url: url(port), tls, reconnect: false, connectTimeout: 10_000 });
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return err as ConnectError;
  }
  await client.end({ force: true });
  throw new Error(`expected the TLS connection to port ${port} to be refused, but it connected`);
}

/** The transport error a ConnectError wraps, with its Node error code. */
function causeOf(err: ConnectError): Error & { code?: string } {
  expect(err.code).toBe("connection-failed");
  expect(err.cause).toBeInstanceOf(Error);
  return err.cause as Error & { code?: string };
}

/** A QoS 1 round trip on `topic` through one client. */
async function roundTrip(client: Client, topic: string, payload: string): Promise<void> {
  const sub = await client.subscribe(topic, { qos: 1 });
  expect(sub.granted).toEqual([1]);
  await client.publish(topic, payload, { qos: 1 });
  const msg = await takeMessage(sub);
  expect(msg.topic).toBe(topic);
  expect(msg.qos).toBe(1);
  expect(text(msg.payload)).toBe(payload);
  await sub.unsubscribe();
}

describe("mqtts:// with server verification", () => {
  it("connects with the test CA and carries QoS 1 publish/subscribe", async () => {
    const client = await open(ports.tls, { ca: certs.ca.cert });
    expect(client.connected).toBe(true);
    await roundTrip(client, "tls/one-way", "over TLS");
  });

  it("accepts the CA as bytes and in a list", async () => {
    const bytes = new TextEncoder().encode(certs.ca.cert);
    const a = await open(ports.tls, { ca: bytes });
    const b = await open(ports.tls, { ca: [certs.otherCa.cert, certs.ca.cert] });
    expect(a.connected && b.connected).toBe(true);
  });

  it("carries messages between two TLS clients", async () => {
    const sender = await open(ports.tls, { ca: certs.ca.cert });
    const receiver = await open(ports.tls, { ca: certs.ca.cert });
    const sub = await receiver.subscribe("tls/between/+", { qos: 1 });
    await sender.publish("tls/between/a", "from the sender", { qos: 1 });
    const msg = await takeMessage(sub);
    expect(msg.topic).toBe("tls/between/a");
    expect(text(msg.payload)).toBe("from the sender");
  });

  it("refuses a server certificate from a CA it does not trust", async () => {
    const err = await refused(ports.tls, { ca: certs.otherCa.cert });
    const cause = causeOf(err);
    expect(cause.message).toMatch(/certificate/i);
    expect(["SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]).toContain(cause.code);
  });

  it("verifies by default: without a CA the runtime trust store does not know the test CA", async () => {
    const err = await refused(ports.tls, {});
    expect(causeOf(err).message).toMatch(/certificate/i);
  });

  it("rejectUnauthorized: false accepts the same untrusted certificate (verification is what refused it)", async () => {
    const client = await open(ports.tls, { ca: certs.otherCa.cert, rejectUnauthorized: false });
    await roundTrip(client, "tls/unverified", "no verification");
  });

  it("refuses an expired certificate from the trusted CA", async () => {
    const cause = causeOf(await refused(ports.expired, { ca: certs.ca.cert }));
    expect(cause.code).toBe("CERT_HAS_EXPIRED");
    expect(cause.message).toMatch(/certificate has expired/i);
  });

  it("rejectUnauthorized: false also accepts the expired certificate", async () => {
    const client = await open(ports.expired, { ca: certs.ca.cert, rejectUnauthorized: false });
    expect(client.connected).toBe(true);
  });
});

describe("mqtts:// host name verification", () => {
  it("refuses a certificate without the URL's IP in its subjectAltName", async () => {
    const cause = causeOf(await refused(ports.wrongHost, { ca: certs.ca.cert }));
    expect(cause.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(cause.message).toContain("127.0.0.1");
  });

  it("refuses servername broker.test against a certificate for wrong.test", async () => {
    const cause = causeOf(await refused(ports.wrongHost, { ca: certs.ca.cert, servername: "broker.test" }));
    expect(cause.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    expect(cause.message).toContain("broker.test");
  });

  it("checks servername instead of the URL host: wrong.test matches that certificate", async () => {
    const client = await open(ports.wrongHost, { ca: certs.ca.cert, servername: "wrong.test" });
    await roundTrip(client, "tls/by-name", "servername wrong.test");
  });

  it("accepts servername broker.test against the certificate that names it", async () => {
    const client = await open(ports.tls, { ca: certs.ca.cert, servername: "broker.test" });
    expect(client.connected).toBe(true);
  });
});

describe("mutual TLS (require_certificate, use_identity_as_username)", () => {
  it("connects with the client certificate and acts as the user named by its CN", async () => {
    const client = await open(ports.mutual, { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });
    expect(client.connected).toBe(true);
    // The ACL grants %u/# only: this round trip works only if the broker's user name is the certificate CN.
    await roundTrip(client, `${CLIENT_CN}/telemetry`, "hello from the device");
    expect(broker.log()).toContain(`u'${CLIENT_CN}'`);
  });

  it("an anonymous client cannot use the device's topics (the ACL check above is meaningful)", async () => {
    const device = await open(ports.mutual, { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });
    const anonymous = await open(ports.tls, { ca: certs.ca.cert });
    const topic = `${CLIENT_CN}/acl-check`;
    const deviceSub = await device.subscribe(topic, { qos: 1 });
    // mosquitto drops a publish the ACL denies (and still acknowledges it), so only the device's own reaches the device.
    await anonymous.publish(topic, "from anonymous", { qos: 1 });
    await device.publish(topic, "from the device", { qos: 1 });
    const msg = await takeMessage(deviceSub);
    expect(text(msg.payload)).toBe("from the device");
  });

  it("accepts the key and certificate as bytes", async () => {
    const enc = new TextEncoder();
    const client = await open(ports.mutual, { ca: certs.ca.cert, cert: enc.encode(certs.client.cert), key: enc.encode(certs.client.key) });
    expect(client.connected).toBe(true);
  });

  // With TLS 1.3 the client finishes its side of the handshake before the server checks the client
  // certificate, so the refusal arrives as an alert after the CONNECT was written: the broker's alert, or a
  // reset if the broker's close overtakes it. Either way no CONNACK comes and connect() rejects.
  it("is refused without a client certificate", async () => {
    const cause = causeOf(await refused(ports.mutual, { ca: certs.ca.cert }));
    expect(["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE", "ECONNRESET"]).toContain(cause.code);
  });

  it("is refused with a client certificate (same CN) from an untrusted CA", async () => {
    const cause = causeOf(await refused(ports.mutual, { ca: certs.ca.cert, cert: certs.otherClient.cert, key: certs.otherClient.key }));
    expect(["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "ECONNRESET"]).toContain(cause.code);
  });
});

// A client pointed at the wrong kind of port fails at once, and says which kind it found (issue #12 item 1).
describe("TLS and plain TCP mixed up", () => {
  /** connect() with connectTimeout 20 s: returns the error and how long it took. */
  async function mismatch(url: string, tls?: TlsOptions): Promise<{ err: ConnectError; ms: number }> {
    const started = Date.now();
    try {
      const client = await connect({ url, tls, reconnect: false, connectTimeout: 20_000 });
      await client.end({ force: true });
    } catch (err) {
      expect(err).toBeInstanceOf(ConnectError);
      return { err: err as ConnectError, ms: Date.now() - started };
    }
    throw new Error(`${url} connected`);
  }

  it("mqtts:// to a plain mqtt:// port: connection-failed at once, saying the server did not speak TLS", async () => {
    const { err, ms } = await mismatch(`mqtts://127.0.0.1:${broker.port}`, { ca: certs.ca.cert });
    expect(err.code).toBe("connection-failed");
    expect(err.message).toMatch(/did not speak TLS \(is it an mqtt:\/\/ port\?\)/);
    expect(ms).toBeLessThan(5000);
  });

  it("mqtt:// to a TLS port: connection-failed at once, saying the server expects TLS (use mqtts://)", async () => {
    const { err, ms } = await mismatch(`mqtt://127.0.0.1:${ports.tls}`);
    expect(err.code).toBe("connection-failed");
    expect(err.message).toMatch(/before CONNACK.*TLS.*use mqtts:\/\//);
    expect(ms).toBeLessThan(5000);
  });
});
