/**
 * A Clea device against a real mosquitto, with AstarteSimulator as the server side: it checks the handshake and the
 * data the device publishes, answers emptyCache as Astarte does, delivers server data, and watches retention. Every
 * test ends with no rule violation recorded by the simulator. The order and QoS of what the device published come
 * from the simulator's per-device message log.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { connect } from "../../src/index.ts";
import { AstarteSimulator, connectDevice, type Device } from "../../src/clea/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";
const PREFIX = `acme/${DEVICE_ID}`;
const INTERFACES = [path.resolve(import.meta.dirname, "../../examples/interfaces"), path.resolve(import.meta.dirname, "fixtures")];

let broker: Mosquitto;
let sim: AstarteSimulator;
/** Where this test's part of the device's message log starts (earlier tests' messages stay in the simulator). */
let logFrom = 0;
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  broker = await startMosquitto({ persistence: true });
  // A persistent session, as the hand-written server had: it keeps the subscriptions across the broker's restart.
  sim = new AstarteSimulator({ url: broker.url, realm: "acme", interfaces: INTERFACES, clientId: "astarte-side", clean: false, reconnect: { initialDelay: 50, maxDelay: 200 } });
  await sim.start();
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  logFrom = sim.device(DEVICE_ID).messages.length;
  sim.violations.splice(0); // a failed test's violations are its own
});

afterAll(async () => {
  await sim?.stop().catch(() => undefined);
  await broker?.dispose();
});

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-clea-"));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function device(store: string, extra: Partial<Parameters<typeof connectDevice>[0]> = {}): Promise<Device> {
  const d = await connectDevice({
    realm: "acme",
    deviceId: DEVICE_ID,
    url: broker.url,
    interfaces: INTERFACES,
    store,
    reconnect: { initialDelay: 50, maxDelay: 200 },
    ...extra,
  });
  cleanup.push(() => d.end({ force: true }).catch(() => undefined));
  return d;
}

/** The device's messages since `logFrom`, in arrival order. */
const wire = () => sim.device(DEVICE_ID).messages.slice(logFrom);
const topics = () => wire().map((m) => m.topic || "(introspection)");
/** The datastream entries the simulator decoded from the device after the first `from`. */
const dataSince = (from: number) => sim.device(DEVICE_ID).data.slice(from);
/** Waits for a datastream entry on `iface` `path` decoded after the first `from` (earlier tests' entries stay in the simulator). */
const dataAfter = (from: number, iface: string, path: string, timeout?: number) =>
  sim.waitForData(DEVICE_ID, iface, path, (e) => sim.device(DEVICE_ID).data.indexOf(e) >= from, timeout === undefined ? {} : { timeout });

it("runs the handshake on the wire in order, then data flows both ways with QoS per reliability", async () => {
  const from = sim.device(DEVICE_ID).data.length;
  const d = await device(tempDir());
  await d.handshakeComplete();
  const state = await sim.waitForHandshake(DEVICE_ID);
  await until(() => wire().length >= 3);
  expect(topics().slice(0, 3)).toEqual(["(introspection)", "/control/emptyCache", "/control/producer/properties"]);
  expect(wire().map((m) => m.qos).slice(0, 3)).toEqual([2, 2, 2]);
  expect(state.introspection.get("com.acme.Sensors")).toEqual({ major: 1, minor: 0 });
  expect(state.producerPurge).toEqual([]); // the producer purge frame inflated to ""

  const at = new Date("2026-11-25T10:00:00Z");
  await d.send("com.acme.Sensors", "/press7/temperature", 21.5, { timestamp: at });
  await d.sendObject("com.acme.Environment", "/room1", { temp: 21.5, hum: 40 }, { timestamp: at });
  await d.send("com.acme.Telemetry", "/fast", 7);
  await dataAfter(from, "com.acme.Telemetry", "/fast");
  const data = dataSince(from);
  expect(data.map((e) => [`/${e.interface}${e.path}`, e.qos])).toEqual([
    ["/com.acme.Sensors/press7/temperature", 1],
    ["/com.acme.Environment/room1", 2],
    ["/com.acme.Telemetry/fast", 0],
  ]);
  expect(data[1]).toMatchObject({ value: { temp: 21.5, hum: 40 }, timestamp: at });

  const events = d.events()[Symbol.asyncIterator]();
  await sim.sendData(DEVICE_ID, "com.acme.Commands", "/request", "Reboot"); // unique: QoS 2
  expect((await events.next()).value).toEqual({ interface: "com.acme.Commands", path: "/request", value: "Reboot" });
  expect(sim.violations).toEqual([]);
});

it("republishes set properties in a new handshake after the broker lost the session", async () => {
  const dir = tempDir();
  const d = await device(dir);
  await d.handshakeComplete();
  await d.setProperty("com.acme.Config", "/display/name", "Press 7");
  await sim.waitForProperty(DEVICE_ID, "com.acme.Config", "/display/name", "Press 7");
  await d.end();
  // The broker forgets the device's session: a clean connection with the same client id replaces it.
  const wipe = await connect({ url: broker.url, clientId: PREFIX, clean: true, reconnect: false });
  await wipe.end();
  logFrom = sim.device(DEVICE_ID).messages.length;
  sim.device(DEVICE_ID).properties.clear(); // so that the value seen next is the republished one
  const again = await device(dir);
  expect(again.client.sessionPresent).toBe(false);
  await again.handshakeComplete();
  await sim.waitForProperty(DEVICE_ID, "com.acme.Config", "/display/name", "Press 7");
  expect(topics()).toEqual(["(introspection)", "/control/emptyCache", "/control/producer/properties", "/com.acme.Config/display/name"]);
  expect(sim.device(DEVICE_ID).producerPurge).toEqual(["com.acme.Config/display/name"]);
  expect(again.getProperty("com.acme.Config", "/display/name")).toBe("Press 7");
  expect(sim.violations).toEqual([]);
});

it("keeps stored retention across a restart while the broker is down, drops discard and expired messages", async () => {
  const dir = tempDir();
  let now = Date.parse("2026-11-25T10:00:00Z");
  const d = await device(dir, { now: () => now });
  await d.handshakeComplete();
  await broker.stop();
  await until(() => !d.client.connected);
  await d.send("com.acme.Telemetry", "/stored", 1); // stored: survives the restart
  await d.send("com.acme.Telemetry", "/volatile", 2); // volatile: memory only
  await d.send("com.acme.Telemetry", "/fast", 3); // discard
  expect(d.stats()).toMatchObject({ retained: 2, discarded: 1 });
  await d.end({ force: true });
  await broker.start();
  await until(() => sim.client.connected, 10_000);
  const from = sim.device(DEVICE_ID).data.length;
  now += 120_000; // past the volatile mapping's 60 s expiry (it is gone with the process anyway)
  const restarted = await device(dir, { now: () => now });
  const stored = await dataAfter(from, "com.acme.Telemetry", "/stored");
  expect(stored.value).toBe(1);
  expect(stored.qos).toBe(1);
  const paths = dataSince(from).map((e) => `/${e.interface}${e.path}`);
  expect(paths).not.toContain("/com.acme.Telemetry/volatile");
  expect(paths).not.toContain("/com.acme.Telemetry/fast");
  expect(restarted.stats().retained).toBe(0);
  expect(sim.violations).toEqual([]);
});

it("volatile retention expires: a message past its expiry is dropped, not sent", async () => {
  let now = Date.parse("2026-11-25T10:00:00Z");
  const d = await device(tempDir(), { now: () => now });
  await d.handshakeComplete();
  await broker.stop();
  await until(() => !d.client.connected);
  await d.send("com.acme.Telemetry", "/volatile", 1);
  now += 30_000;
  await d.send("com.acme.Telemetry", "/volatile", 2);
  now += 45_000; // the first is 75 s old (expired), the second 45 s (still valid)
  const from = sim.device(DEVICE_ID).data.length;
  await broker.start();
  await dataAfter(from, "com.acme.Telemetry", "/volatile", 10_000);
  await new Promise((r) => setTimeout(r, 200));
  const sent = dataSince(from).filter((e) => e.path === "/volatile").map((e) => e.value);
  expect(sent).toEqual([2]);
  expect(d.stats().expired).toBe(1);
  expect(sim.violations).toEqual([]);
});
