/**
 * The handshake before any data, end to end (issue #13 item 2): a mosquitto without persistence restarts and loses
 * the device's session while the device keeps sending and setting properties. The broker's own debug log is the
 * witness of what it received, in order, and when it completed each QoS 2 exchange.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectDevice, type Device } from "../../src/clea/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";
const PREFIX = `acme/${DEVICE_ID}`;
const INTERFACES = [path.resolve(import.meta.dirname, "../../examples/interfaces"), path.resolve(import.meta.dirname, "fixtures")];

let broker: Mosquitto;
let store: string;
let device: Device | undefined;

beforeAll(async () => {
  broker = await startMosquitto({ config: ["log_type debug"] });
  store = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-loss-"));
});

afterAll(async () => {
  await device?.end({ force: true }).catch(() => undefined);
  await broker?.dispose();
  fs.rmSync(store, { recursive: true, force: true });
});

async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the broker logged receiving from the device since `from`: PUBLISHes (topic after the prefix, message id) and PUBRELs it completed. */
function received(from: number): Array<{ kind: "publish"; topic: string; mid: number } | { kind: "pubcomp"; mid: number }> {
  const out: Array<{ kind: "publish"; topic: string; mid: number } | { kind: "pubcomp"; mid: number }> = [];
  for (const line of broker.log().slice(from).split("\n")) {
    const pub = /Received PUBLISH from (\S+) \(d\d, q\d, r\d, m(\d+), '([^']*)'/.exec(line);
    if (pub && pub[1] === PREFIX) out.push({ kind: "publish", topic: pub[3]!.slice(PREFIX.length) || "(introspection)", mid: Number(pub[2]) });
    const comp = /Sending PUBCOMP to (\S+) \(m(\d+)/.exec(line);
    if (comp && comp[1] === PREFIX) out.push({ kind: "pubcomp", mid: Number(comp[2]) });
  }
  return out;
}

it("after a broker restart that lost the session: handshake acknowledged first, each property once, then retained data oldest first", async () => {
  device = await connectDevice({ realm: "acme", deviceId: DEVICE_ID, url: broker.url, interfaces: INTERFACES, store, reconnect: { initialDelay: 100, maxDelay: 300 } });
  await device.handshakeComplete();
  await device.setProperty("com.acme.Config", "/sampling/intervalMs", 100);
  await broker.stop();
  await until(() => !device!.client.connected);
  await device.send("com.acme.Telemetry", "/stored", 1);
  await device.send("com.acme.Telemetry", "/volatile", 2);
  await device.setProperty("com.acme.Config", "/sampling/intervalMs", 200);
  await device.setProperty("com.acme.Config", "/sampling/intervalMs", 300);
  await device.setProperty("com.acme.Config", "/display/name", "Press 7");
  await device.send("com.acme.Telemetry", "/stored", 3);
  const from = broker.log().length;
  const handshakes: boolean[] = [];
  device.on("connect", ({ handshake }) => handshakes.push(handshake));
  await broker.start();
  await until(() => received(from).filter((r) => r.kind === "publish" && r.topic.startsWith("/com.acme.Telemetry")).length === 3);
  expect(handshakes).toEqual([true]);
  expect(device.client.sessionPresent).toBe(false);
  const log = received(from);
  const publishes = log.filter((r): r is { kind: "publish"; topic: string; mid: number } => r.kind === "publish");
  expect(publishes.map((p) => p.topic)).toEqual([
    "(introspection)",
    "/control/emptyCache",
    "/control/producer/properties",
    "/com.acme.Config/sampling/intervalMs",
    "/com.acme.Config/display/name",
    "/com.acme.Telemetry/stored",
    "/com.acme.Telemetry/volatile",
    "/com.acme.Telemetry/stored",
  ]);
  // Every QoS 2 exchange of the handshake was complete before the first data message reached the broker.
  const firstData = log.findIndex((r) => r.kind === "publish" && r.topic.startsWith("/com.acme.Telemetry"));
  for (const p of publishes.slice(0, 5)) {
    const comp = log.findIndex((r) => r.kind === "pubcomp" && r.mid === p.mid);
    expect(comp).toBeGreaterThan(-1);
    expect(comp).toBeLessThan(firstData);
  }
  expect(device.stats().retained).toBe(0);
});
