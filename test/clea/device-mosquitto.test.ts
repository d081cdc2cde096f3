/**
 * A Clea device against a real mosquitto. The test plays the server side with a plain edgemq client subscribed
 * to `<realm>/<deviceId>/#`: it checks the handshake on the wire, delivers server data, and watches retention.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { connect, type Client, type Message } from "../../src/index.ts";
import { connectDevice, decodePayload, encodePayload, inflateFrame, type Device } from "../../src/clea/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";
const PREFIX = `acme/${DEVICE_ID}`;
const INTERFACES = [path.resolve(import.meta.dirname, "../../examples/interfaces"), path.resolve(import.meta.dirname, "fixtures")];
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let broker: Mosquitto;
let server: Client;
let seen: Message[] = [];
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  broker = await startMosquitto({ persistence: true });
  server = await connect({ url: broker.url, clientId: "astarte-side", clean: false, reconnect: { initialDelay: 50, maxDelay: 200 } });
  server.on("message", (m) => seen.push(m));
  await server.subscribe(`${PREFIX}/#`, { qos: 2 });
  await server.subscribe(PREFIX, { qos: 2 });
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  seen = [];
});

afterAll(async () => {
  await server?.end({ force: true });
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

const topics = () => seen.map((m) => m.topic.slice(PREFIX.length) || "(introspection)");

it("runs the handshake on the wire in order, then data flows both ways with QoS per reliability", async () => {
  const d = await device(tempDir());
  await d.handshakeComplete();
  await until(() => seen.length >= 3);
  expect(topics().slice(0, 3)).toEqual(["(introspection)", "/control/emptyCache", "/control/producer/properties"]);
  expect(seen.map((m) => m.qos).slice(0, 3)).toEqual([2, 2, 2]);
  expect(text(seen[0]!.payload)).toContain("com.acme.Sensors:1:0");
  expect(text(inflateFrame(seen[2]!.payload))).toBe("");

  const at = new Date("2026-11-25T10:00:00Z");
  await d.send("com.acme.Sensors", "/press7/temperature", 21.5, { timestamp: at });
  await d.sendObject("com.acme.Environment", "/room1", { temp: 21.5, hum: 40 }, { timestamp: at });
  await d.send("com.acme.Telemetry", "/fast", 7);
  await until(() => seen.length >= 6);
  const data = seen.slice(3);
  expect(data.map((m) => [m.topic.slice(PREFIX.length), m.qos])).toEqual([
    ["/com.acme.Sensors/press7/temperature", 1],
    ["/com.acme.Environment/room1", 2],
    ["/com.acme.Telemetry/fast", 0],
  ]);
  expect(decodePayload(data[1]!.payload, { type: { temp: "double", hum: "double" } })).toEqual({ value: { temp: 21.5, hum: 40 }, timestamp: at });

  const events = d.events()[Symbol.asyncIterator]();
  await server.publish(`${PREFIX}/com.acme.Commands/request`, encodePayload("Reboot", { type: "string" }), { qos: 2 });
  expect((await events.next()).value).toEqual({ interface: "com.acme.Commands", path: "/request", value: "Reboot" });
});

it("republishes set properties in a new handshake after the broker lost the session", async () => {
  const dir = tempDir();
  const d = await device(dir);
  await d.handshakeComplete();
  await d.setProperty("com.acme.Config", "/display/name", "Press 7");
  await d.end();
  // The broker forgets the device's session: a clean connection with the same client id replaces it.
  const wipe = await connect({ url: broker.url, clientId: PREFIX, clean: true, reconnect: false });
  await wipe.end();
  seen = [];
  const again = await device(dir);
  expect(again.client.sessionPresent).toBe(false);
  await again.handshakeComplete();
  await until(() => topics().includes("/com.acme.Config/display/name"));
  expect(topics()).toEqual(["(introspection)", "/control/emptyCache", "/control/producer/properties", "/com.acme.Config/display/name"]);
  expect(text(inflateFrame(seen[2]!.payload))).toBe("com.acme.Config/display/name");
  expect(again.getProperty("com.acme.Config", "/display/name")).toBe("Press 7");
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
  await until(() => server.connected, 10_000);
  seen = [];
  now += 120_000; // past the volatile mapping's 60 s expiry (it is gone with the process anyway)
  const restarted = await device(dir, { now: () => now });
  await until(() => topics().includes("/com.acme.Telemetry/stored"));
  const stored = seen.find((m) => m.topic.endsWith("/com.acme.Telemetry/stored"))!;
  expect(decodePayload(stored.payload, { type: "integer" })?.value).toBe(1);
  expect(stored.qos).toBe(1);
  expect(topics()).not.toContain("/com.acme.Telemetry/volatile");
  expect(topics()).not.toContain("/com.acme.Telemetry/fast");
  expect(restarted.stats().retained).toBe(0);
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
  seen = [];
  await broker.start();
  await until(() => topics().includes("/com.acme.Telemetry/volatile"), 10_000);
  await new Promise((r) => setTimeout(r, 200));
  const sent = seen.filter((m) => m.topic.endsWith("/volatile")).map((m) => decodePayload(m.payload, { type: "integer" })?.value);
  expect(sent).toEqual([2]);
  expect(d.stats().expired).toBe(1);
});
