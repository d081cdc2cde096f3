/**
 * AstarteSimulator (issue #15) against a real mosquitto: a real device's handshake, data and properties as the
 * simulator decodes them, server data/properties/commands/OTA reaching the device, the consumer purge; then, for each
 * rule the Astarte broker punishes, a scripted device (a plain client publishing raw bytes) that breaks exactly it.
 */
import * as path from "node:path";
import { BSON } from "bson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Client, type QoS } from "../../src/index.ts";
import {
  AstarteSimulator,
  connectDevice,
  deflateFrame,
  encodePayload,
  randomDeviceId,
  SimulatedDevice,
  type Device,
  type DeviceEvent,
  type ViolationRule,
} from "../../src/clea/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";
const INTERFACES = [path.resolve(import.meta.dirname, "../../examples/interfaces"), path.resolve(import.meta.dirname, "fixtures")];
const REQUIRED = {
  interface_name: "com.test.Required",
  version_major: 1,
  version_minor: 0,
  type: "datastream",
  ownership: "device",
  aggregation: "object",
  mappings: [
    { endpoint: "/%{id}/a", type: "integer", reliability: "unique", required: true },
    { endpoint: "/%{id}/b", type: "integer", reliability: "unique" },
  ],
};
const text = (s: string) => new TextEncoder().encode(s);

let broker: Mosquitto;
let sim: AstarteSimulator;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  broker = await startMosquitto();
  sim = new AstarteSimulator({ url: broker.url, realm: "acme", interfaces: [...INTERFACES, REQUIRED], edgehog: true, reconnect: false });
  await sim.start();
});

afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
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

async function device(deviceId: string, extra: Partial<Parameters<typeof connectDevice>[0]> = {}): Promise<{ d: Device; events: DeviceEvent[] }> {
  const d = await connectDevice({ realm: "acme", deviceId, url: broker.url, interfaces: INTERFACES, edgehog: true, reconnect: { initialDelay: 50, maxDelay: 200 }, ...extra });
  cleanup.push(() => d.end({ force: true }));
  const events: DeviceEvent[] = [];
  void (async () => {
    for await (const ev of d.events()) events.push(ev);
  })();
  return { d, events };
}

describe("with a real device", () => {
  let d: Device;
  let events: DeviceEvent[];

  beforeAll(async () => {
    ({ d, events } = await device(DEVICE_ID));
  });

  it("observes the handshake and the introspection", async () => {
    const state = await sim.waitForHandshake(DEVICE_ID);
    expect(state.handshake).toMatchObject({ introspection: true, emptyCache: true, producerPurge: true, capabilities: false });
    expect(state.introspection.get("com.acme.Sensors")).toEqual({ major: 1, minor: 0 });
    expect(state.introspection.get("com.acme.Telemetry")).toEqual({ major: 2, minor: 0 });
    expect(state.introspection.get("io.edgehog.devicemanager.OTAEvent")).toEqual({ major: 0, minor: 1 });
    expect(state.producerPurge).toEqual([]);
    // Edgehog device info properties
    expect(await sim.waitForProperty(DEVICE_ID, "io.edgehog.devicemanager.RuntimeInfo", "/name", "edgemq")).toBe("edgemq");
  });

  it("decodes device data with the mapping types, timestamps and QoS", async () => {
    const at = new Date("2026-11-25T10:00:00Z");
    await d.send("com.acme.Sensors", "/press7/temperature", 21.5, { timestamp: at });
    await d.sendObject("com.acme.Environment", "/room1", { temp: 21.5, hum: 40 }, { timestamp: at });
    await d.send("com.acme.Telemetry", "/fast", 7);
    await d.send("com.acme.Telemetry", "/blob", new Uint8Array([1, 2, 3]));
    expect(await sim.waitForData(DEVICE_ID, "com.acme.Sensors", "/press7/temperature")).toEqual({
      interface: "com.acme.Sensors",
      path: "/press7/temperature",
      value: 21.5,
      timestamp: at,
      qos: 1,
    });
    expect(await sim.waitForData(DEVICE_ID, "com.acme.Environment", "/room1")).toEqual({
      interface: "com.acme.Environment",
      path: "/room1",
      value: { temp: 21.5, hum: 40 },
      timestamp: at,
      qos: 2,
    });
    expect(await sim.waitForData(DEVICE_ID, "com.acme.Telemetry", "/fast", (e) => e.value === 7)).toMatchObject({ value: 7, qos: 0 });
    expect((await sim.waitForData(DEVICE_ID, "com.acme.Telemetry", "/blob")).value).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("tracks device properties: set and unset", async () => {
    await d.setProperty("com.acme.Config", "/display/name", "Press 7");
    await d.setProperty("com.acme.Config", "/sampling/intervalMs", 250);
    expect(await sim.waitForProperty(DEVICE_ID, "com.acme.Config", "/display/name", "Press 7")).toBe("Press 7");
    expect(await sim.waitForProperty(DEVICE_ID, "com.acme.Config", "/sampling/intervalMs", 250)).toBe(250);
    await d.unsetProperty("com.acme.Config", "/display/name");
    await until(() => !sim.device(DEVICE_ID).properties.has("com.acme.Config/display/name"));
  });

  it("server data, properties and commands reach the device", async () => {
    await sim.sendData(DEVICE_ID, "com.acme.Commands", "/request", "Calibrate");
    await sim.setProperty(DEVICE_ID, "com.acme.ServerConfig", "/speed/value", 42n);
    const commands: string[] = [];
    d.on("command", ({ command }) => commands.push(command));
    await sim.sendCommand(DEVICE_ID, "Reboot");
    await until(() => events.length >= 3 && commands.length === 1);
    expect(events).toContainEqual({ interface: "com.acme.Commands", path: "/request", value: "Calibrate" });
    expect(events).toContainEqual({ interface: "com.acme.ServerConfig", path: "/speed/value", value: 42n });
    expect(commands).toEqual(["Reboot"]);
    expect(d.getProperty("com.acme.ServerConfig", "/speed/value")).toBe(42n);
  });

  it("the consumer purge unsets a server property on the device", async () => {
    await sim.setProperty(DEVICE_ID, "com.acme.ServerConfig", "/keep/value", 1n);
    await until(() => d.getProperty("com.acme.ServerConfig", "/keep/value") === 1n);
    await sim.sendConsumerPurge(DEVICE_ID, ["com.acme.ServerConfig/keep/value"]);
    await until(() => events.some((e) => e.path === "/speed/value" && e.value === undefined));
    expect(d.getProperty("com.acme.ServerConfig", "/speed/value")).toBeUndefined();
    expect(d.getProperty("com.acme.ServerConfig", "/keep/value")).toBe(1n);
    expect([...sim.device(DEVICE_ID).serverProperties.keys()]).toEqual(["com.acme.ServerConfig/keep/value"]);
    await sim.unsetProperty(DEVICE_ID, "com.acme.ServerConfig", "/keep/value");
    await until(() => d.getProperty("com.acme.ServerConfig", "/keep/value") === undefined);
  });

  it("an OTA request reaches the device's handler and its OTAEvents are decoded", async () => {
    const uuid = "8f5c1b7e-3a4d-4f2e-9b6a-1c2d3e4f5a6b";
    const got: Array<{ uuid: string; url: string }> = [];
    const off = d.onOta(async (request, report) => {
      got.push({ uuid: request.uuid, url: request.url });
      await report("Downloading", { progress: 50 });
    });
    await sim.requestOta(DEVICE_ID, { uuid, url: "https://example.com/image.bin" });
    const success = await sim.waitForOtaEvent(DEVICE_ID, (e) => e.requestUUID === uuid && e.status === "Success");
    expect(got).toEqual([{ uuid, url: "https://example.com/image.bin" }]);
    expect(success.qos).toBe(2);
    expect(success.timestamp).toBeInstanceOf(Date);
    const downloading = await sim.waitForOtaEvent(DEVICE_ID, (e) => e.status === "Downloading");
    expect(downloading.value).toEqual({ requestUUID: uuid, status: "Downloading", statusProgress: 50, statusCode: "", message: "" });
    off();
  });

  it("a correct device breaks no rule", () => {
    expect(sim.violations.filter((v) => v.deviceId === DEVICE_ID)).toEqual([]);
  });
});

it("plaintext capabilities: decoded, and the consumer purge is sent uncompressed", async () => {
  const id = randomDeviceId();
  const { d, events } = await device(id, { capabilities: { purgePropertiesCompressionFormat: "plaintext" } });
  const state = await sim.waitForHandshake(id);
  expect(state.handshake.capabilities).toBe(true);
  expect(state.capabilities).toEqual({ purgePropertiesCompressionFormat: "plaintext" });
  await sim.setProperty(id, "com.acme.ServerConfig", "/x/value", 5n);
  await until(() => d.getProperty("com.acme.ServerConfig", "/x/value") === 5n);
  await sim.sendConsumerPurge(id, []);
  await until(() => events.some((e) => e.path === "/x/value" && e.value === undefined));
  expect(sim.violations.filter((v) => v.deviceId === id)).toEqual([]);
});

it("the waits time out with an Error naming what they waited for", async () => {
  await expect(sim.waitForHandshake("nobody", { timeout: 50 })).rejects.toThrow(/handshake of device nobody.*seen: nothing/);
  await expect(sim.waitForData(DEVICE_ID, "com.acme.Sensors", "/none", undefined, { timeout: 50 })).rejects.toThrow(/data from device .* on com.acme.Sensors\/none/);
  await expect(sim.waitForViolation("wrong-qos", { deviceId: "nobody", timeout: 50 })).rejects.toThrow(/violation of wrong-qos by device nobody/);
});

// --- scripted devices ---

interface Step {
  /** Topic after `acme/<id>` ("" = introspection). */
  suffix: string;
  payload: Uint8Array;
  qos: QoS;
}
const intro = (s: string): Step => ({ suffix: "", payload: text(s), qos: 2 });
const on = (suffix: string, payload: Uint8Array, qos: QoS): Step => ({ suffix, payload, qos });
const TELEMETRY = intro("com.acme.Telemetry:2:0");

async function scripted(id: string): Promise<Client> {
  const c = await connect({ url: broker.url, clientId: `acme/${id}`, reconnect: false });
  cleanup.push(() => c.end({ force: true }));
  return c;
}

async function play(id: string, steps: Step[]): Promise<void> {
  const c = await scripted(id);
  for (const s of steps) await c.publish(`acme/${id}${s.suffix}`, s.payload, { qos: s.qos });
}

const truncated = encodePayload(7, { type: "integer" }).slice(0, -2);
const CASES: Array<[ViolationRule, Step[]]> = [
  ["data-before-introspection", [on("/com.acme.Telemetry/fast", encodePayload(1, { type: "integer" }), 0)]],
  ["interface-not-in-introspection", [intro("com.acme.Sensors:1:0"), on("/com.acme.Telemetry/fast", encodePayload(1, { type: "integer" }), 0)]],
  ["major-mismatch", [intro("com.acme.Telemetry:1:0")]],
  ["unknown-interface", [intro("com.other.Thing:1:0"), on("/com.other.Thing/x", encodePayload(1, { type: "integer" }), 0)]],
  ["mapping-not-found", [TELEMETRY, on("/com.acme.Telemetry/nope", encodePayload(1, { type: "integer" }), 0)]],
  ["invalid-bson", [TELEMETRY, on("/com.acme.Telemetry/fast", truncated, 0)]],
  ["unexpected-value-type", [TELEMETRY, on("/com.acme.Telemetry/fast", encodePayload("seven", { type: "string" }), 0)]],
  ["integer-out-of-range", [TELEMETRY, on("/com.acme.Telemetry/fast", encodePayload(2n ** 40n, { type: "longinteger" }), 0)]],
  ["wrong-qos", [TELEMETRY, on("/com.acme.Telemetry/fast", encodePayload(1, { type: "integer" }), 1)]],
  ["write-on-server-owned", [intro("com.acme.Commands:0:1"), on("/com.acme.Commands/request", encodePayload("Reboot", { type: "string" }), 2)]],
  ["message-too-large", [TELEMETRY, on("/com.acme.Telemetry/blob", new Uint8Array(70_000), 2)]],
  ["invalid-purge-frame", [TELEMETRY, on("/control/producer/properties", new Uint8Array([0, 0, 0, 5, 1, 2, 3]), 2)]],
  [
    "missing-object-key",
    [intro("com.test.Required:1:0"), on("/com.test.Required/one", encodePayload({ b: 1 }, { type: { a: "integer", b: "integer" } }), 2)],
  ],
  [
    "unexpected-object-key",
    [intro("com.acme.Environment:1:0"), on("/com.acme.Environment/room1", BSON.serialize({ v: { temp: 1.5, smell: 3.0 } }), 2)],
  ],
  ["unset-not-allowed", [intro("com.acme.Config:1:0"), on("/com.acme.Config/sampling/intervalMs", new Uint8Array(0), 2)]],
  ["invalid-capabilities", [on("/capabilities", BSON.serialize({ purge_properties_compression_format: "gzip" }), 2)]],
  ["invalid-introspection", [intro("com.acme.Telemetry:two:0")]],
];

describe("scripted devices", () => {
  it.each(CASES)("%s is recorded, and only it", async (rule, steps) => {
    const id = randomDeviceId();
    await play(id, steps);
    const v = await sim.waitForViolation(rule, { deviceId: id });
    expect(v).toMatchObject({ deviceId: id, rule });
    expect(v.topic.startsWith(`acme/${id}`)).toBe(true);
    expect(v.detail.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.violations.filter((x) => x.deviceId === id).map((x) => x.rule)).toEqual([rule]);
  });

  it("an unset on a datastream is unset-not-allowed", async () => {
    const id = randomDeviceId();
    await play(id, [TELEMETRY, on("/com.acme.Telemetry/stored", new Uint8Array(0), 1)]);
    await sim.waitForViolation("unset-not-allowed", { deviceId: id });
  });

  it("a correct scripted device: handshake complete, data and properties decoded, purge list applied, no violation", async () => {
    const id = randomDeviceId();
    await play(id, [
      intro("com.acme.Telemetry:2:0;com.acme.Config:1:0"),
      on("/capabilities", BSON.serialize({ purge_properties_compression_format: "zlib" }), 2),
      on("/control/emptyCache", text("1"), 2),
      on("/com.acme.Config/display/name", encodePayload("A", { type: "string" }), 2),
      on("/com.acme.Config/sampling/intervalMs", encodePayload(5, { type: "integer" }), 2),
      on("/control/producer/properties", deflateFrame(text("com.acme.Config/sampling/intervalMs")), 2),
      on("/com.acme.Telemetry/stored", encodePayload(3, { type: "integer" }), 1),
      on("/com.acme.Config/display/name", new Uint8Array(0), 2), // allow_unset: true
    ]);
    const state = await sim.waitForHandshake(id);
    expect(await sim.waitForData(id, "com.acme.Telemetry", "/stored")).toEqual({ interface: "com.acme.Telemetry", path: "/stored", value: 3, qos: 1 });
    await until(() => !state.properties.has("com.acme.Config/display/name"));
    expect([...state.properties]).toEqual([["com.acme.Config/sampling/intervalMs", 5]]);
    expect(state.producerPurge).toEqual(["com.acme.Config/sampling/intervalMs"]);
    expect(state.capabilities).toEqual({ purgePropertiesCompressionFormat: "zlib" });
    expect(sim.violations.filter((x) => x.deviceId === id)).toEqual([]);
  });
});

describe("a long-running simulator stays bounded", () => {
  it("keeps the newest 10,000 datastream entries of a device", () => {
    const device = new SimulatedDevice("V_zv6ThCCtXWveQ8mPjsKg");
    for (let i = 0; i < 10_005; i++) device.record({ interface: "com.acme.Telemetry", path: "/counter", value: i, qos: 1 });
    expect(device.data).toHaveLength(10_000);
    expect(device.data[0]!.value).toBe(5);
    expect(device.data.at(-1)!.value).toBe(10_004);
  });
});
