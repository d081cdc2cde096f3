/**
 * `edgemq clea device` with credentials from the Astarte pairing API: the built command obtains a certificate from a
 * pairing server, takes the broker URL from it, and sends over mutual TLS to mosquitto (which takes the
 * certificate's CN as the user name and lets it write only under it).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, type Client, type Message } from "../../src/index.ts";
import { decodePayload, randomDeviceId } from "../../src/clea/index.ts";
import { ensureBuilt } from "../support/built-package.ts";
import { makeTestCerts, type TestCerts } from "../support/certs.ts";
import { freePort, startMosquitto, type Mosquitto } from "../support/mosquitto.ts";
import { startPairingServer, type PairingServer } from "../support/pairing-server.ts";
import { runCli } from "./cli-process.ts";

const REALM = "acme";
let certs: TestCerts;
let pairing: PairingServer;
let broker: Mosquitto;
let observer: Client;
let dir: string;
const seen: Message[] = [];

beforeAll(async () => {
  await ensureBuilt();
  certs = makeTestCerts();
  pairing = await startPairingServer({ realm: REALM, agentToken: "agent-token", signer: certs.ca });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-cli-pairing-"));
  fs.chmodSync(dir, 0o755);
  const clientCa = path.join(dir, "client-ca.pem");
  fs.writeFileSync(clientCa, certs.ca.cert, { mode: 0o644 });
  const acl = path.join(dir, "acl");
  fs.writeFileSync(acl, "topic read acme/#\npattern readwrite %u/#\n", { mode: 0o644 });
  const tlsPort = await freePort();
  broker = await startMosquitto({
    listenerConfig: [
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${clientCa}`,
      `certfile ${certs.server.certFile}`,
      `keyfile ${certs.server.keyFile}`,
      "require_certificate true",
      "use_identity_as_username true",
    ],
    config: [`acl_file ${acl}`],
  });
  pairing.brokerUrl = `mqtts://127.0.0.1:${tlsPort}`;
  observer = await connect({ url: broker.url, clientId: "observer", reconnect: false });
  observer.on("message", (m) => seen.push(m));
  await observer.subscribe("acme/#", { qos: 2 });
}, 180_000);

afterAll(async () => {
  await observer?.end({ force: true });
  await broker?.dispose();
  await pairing?.close();
  certs?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it("clea device --pairing-url --credentials-secret: a certificate from the pairing API, the broker URL from it too, data over mutual TLS", async () => {
  const deviceId = randomDeviceId();
  const secret = pairing.addDevice(deviceId);
  const store = path.join(dir, "store");
  const out = await runCli(
    [
      "clea", "device", "--realm", REALM, `--device-id=${deviceId}`,
      "--pairing-url", pairing.url, "--credentials-secret", secret, "--cafile", certs.ca.certFile, "--store", store,
      "--interfaces", "examples/interfaces", "--send", "com.acme.Sensors /press7/temperature 21.5",
    ],
    undefined,
    30_000,
  );
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  const data = seen.find((m) => m.topic === `${REALM}/${deviceId}/com.acme.Sensors/press7/temperature`);
  expect(decodePayload(data!.payload, { type: "double" })?.value).toBe(21.5);
  expect(fs.existsSync(path.join(store, "credentials", "cert.pem"))).toBe(true);
  expect(pairing.calls.info).toBeGreaterThan(0);
}, 60_000);
