/** The device handshake and clean-session rule, packet by packet against the scripted broker. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connectDevice, inflateFrame, decodePayload, encodePayload, type Device } from "../../src/clea/index.ts";
import type { Packet } from "../../src/index.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

const PREFIX = "acme/V_zv6ThCCtXWveQ8mPjsKg";
const FIXTURES = [path.resolve(import.meta.dirname, "../../examples/interfaces"), path.resolve(import.meta.dirname, "fixtures")];
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const dirs: string[] = [];
const devices: Device[] = [];

afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.end({ force: true }).catch(() => undefined)));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function storeDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-dev-"));
  dirs.push(d);
  return d;
}

/** Starts a device on the scripted broker and accepts its first CONNECT. */
async function start(store: string, sessionPresent = false, broker = new FakeBroker(), clock = new FakeClock()) {
  const pending = connectDevice({
    realm: "acme",
    deviceId: "V_zv6ThCCtXWveQ8mPjsKg",
    url: "mqtt://fake",
    transport: broker.transport,
    clock,
    random: () => 0,
    keepalive: 0,
    interfaces: FIXTURES,
    store,
  });
  const conn = await broker.nextConnection();
  const connect = await conn.accept(sessionPresent);
  const device = await pending;
  devices.push(device);
  return { device, conn, connect, broker, clock };
}

/** Answers every SUBSCRIBE and QoS 1/2 PUBLISH the device sent so far; returns them in order. */
async function answerAll(conn: FakeConnection, count: number): Promise<Packet[]> {
  const out: Packet[] = [];
  for (let i = 0; i < count; i++) {
    const p = await conn.next();
    out.push(p);
    if (p.type === "subscribe") conn.send({ type: "suback", packetId: p.packetId, granted: p.subscriptions.map(() => 2 as const) });
    if (p.type === "publish" && p.qos === 1) conn.send({ type: "puback", packetId: p.packetId! });
    if (p.type === "publish" && p.qos === 2) conn.send({ type: "pubrec", packetId: p.packetId! });
    if (p.type === "pubrel") conn.send({ type: "pubcomp", packetId: p.packetId });
  }
  return out;
}

describe("handshake", () => {
  it("first connection: clean session, then subscriptions, introspection, emptyCache, purge frame, properties - in that order", async () => {
    const { device, conn, connect } = await start(storeDir());
    expect(connect).toMatchObject({ clientId: PREFIX, clean: true });
    const handshakeDone = new Promise((r) => device.on("handshake", r));
    const packets = await answerAll(conn, 6);
    expect(packets[0]).toMatchObject({ type: "subscribe", subscriptions: [{ topic: `${PREFIX}/control/consumer/properties`, qos: 2 }] });
    const serverFilters = packets.slice(1, 3).map((p) => (p as Extract<Packet, { type: "subscribe" }>).subscriptions[0]!.topic).sort();
    expect(serverFilters).toEqual([`${PREFIX}/com.acme.Commands/#`, `${PREFIX}/com.acme.ServerConfig/#`]);
    const [intro, empty, purge] = packets.slice(3) as Array<Extract<Packet, { type: "publish" }>>;
    expect(intro).toMatchObject({ topic: PREFIX, qos: 2, retain: false });
    expect(text(intro!.payload).split(";").sort()).toEqual(
      ["com.acme.Commands:0:1", "com.acme.Config:1:0", "com.acme.Environment:1:0", "com.acme.Sensors:1:0", "com.acme.ServerConfig:1:2", "com.acme.Telemetry:2:0"],
    );
    expect(empty).toMatchObject({ topic: `${PREFIX}/control/emptyCache`, qos: 2 });
    expect(text(empty!.payload)).toBe("1");
    expect(purge).toMatchObject({ topic: `${PREFIX}/control/producer/properties`, qos: 2 });
    expect([...purge!.payload.subarray(0, 6)]).toEqual([0, 0, 0, 0, 0x78, 0x9c]);
    expect(text(inflateFrame(purge!.payload))).toBe("");
    await answerAll(conn, 3); // PUBRELs of the three QoS 2 publishes
    await handshakeDone;
  });

  it("a handshake listener that throws is reported, not swallowed, and the other listeners still run", async () => {
    const rig = await start(storeDir());
    const bug = new Error("listener bug");
    const errors: Error[] = [];
    rig.device.on("error", (e) => errors.push(e));
    rig.device.on("handshake", () => {
      throw bug;
    });
    const done = new Promise((r) => rig.device.on("handshake", r));
    await answerAll(rig.conn, 9);
    await done;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "listener-error", event: "handshake", cause: bug });
  });

  it("after a completed handshake the device reconnects with clean=false and skips the handshake when the session is present", async () => {
    const rig = await start(storeDir());
    const done = new Promise((r) => rig.device.on("handshake", r));
    await answerAll(rig.conn, 9);
    await done;
    rig.conn.drop();
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    expect(await conn.accept(true)).toMatchObject({ clean: false });
    await settle();
    expect(conn.unread()).toEqual([]);
  });

  it("a lost session (session present false) runs the handshake again and republishes set properties, listed in the purge frame", async () => {
    const rig = await start(storeDir());
    const done = new Promise((r) => rig.device.on("handshake", r));
    await answerAll(rig.conn, 9);
    await done;
    const setting = rig.device.setProperty("com.acme.Config", "/display/name", "Press 7");
    await answerAll(rig.conn, 2);
    await setting;
    rig.conn.drop();
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(false);
    // The client resubscribes by itself (3 filters in one SUBSCRIBE), then the handshake follows.
    const packets = await answerAll(conn, 5);
    expect(packets[0]).toMatchObject({ type: "subscribe" });
    expect((packets[0] as Extract<Packet, { type: "subscribe" }>).subscriptions).toHaveLength(3);
    const pubs = packets.slice(1) as Array<Extract<Packet, { type: "publish" }>>;
    expect(pubs.map((p) => p.topic)).toEqual([PREFIX, `${PREFIX}/control/emptyCache`, `${PREFIX}/control/producer/properties`, `${PREFIX}/com.acme.Config/display/name`]);
    expect(text(inflateFrame(pubs[2]!.payload))).toBe("com.acme.Config/display/name");
    expect(decodePayload(pubs[3]!.payload, { type: "string" })?.value).toBe("Press 7");
  });

  it("an unchanged property is not republished; unset needs allow_unset and sends an empty payload", async () => {
    const rig = await start(storeDir());
    await answerAll(rig.conn, 9);
    const first = rig.device.setProperty("com.acme.Config", "/sampling/intervalMs", 500);
    await answerAll(rig.conn, 2);
    await first;
    await rig.device.setProperty("com.acme.Config", "/sampling/intervalMs", 500);
    await settle();
    expect(rig.conn.unread()).toEqual([]);
    await expect(rig.device.unsetProperty("com.acme.Config", "/sampling/intervalMs")).rejects.toMatchObject({ code: "unset-not-allowed" });
    const name = rig.device.setProperty("com.acme.Config", "/display/name", "x");
    await answerAll(rig.conn, 2);
    await name;
    const unset = rig.device.unsetProperty("com.acme.Config", "/display/name");
    const [pub] = (await answerAll(rig.conn, 2)) as Array<Extract<Packet, { type: "publish" }>>;
    await unset;
    expect(pub).toMatchObject({ topic: `${PREFIX}/com.acme.Config/display/name`, qos: 2 });
    expect(pub!.payload.length).toBe(0);
    expect(rig.device.getProperty("com.acme.Config", "/display/name")).toBeUndefined();
    expect(rig.device.getProperty("com.acme.Config", "/sampling/intervalMs")).toBe(500);
  });

  it("QoS follows reliability: unreliable 0, guaranteed 1, unique 2; explicit timestamps are sent as t", async () => {
    const rig = await start(storeDir());
    await answerAll(rig.conn, 9);
    const at = new Date("2026-11-25T12:00:00.000Z");
    const sends = [
      rig.device.send("com.acme.Telemetry", "/fast", 1),
      rig.device.send("com.acme.Telemetry", "/stored", 2),
      rig.device.send("com.acme.Telemetry", "/blob", Uint8Array.of(1, 2)),
      rig.device.send("com.acme.Sensors", "/p7/temperature", 21.5, { timestamp: at }),
    ];
    const pubs = (await answerAll(rig.conn, 4)) as Array<Extract<Packet, { type: "publish" }>>;
    await answerAll(rig.conn, 1); // the PUBREL of the QoS 2 blob
    await Promise.all(sends);
    expect(pubs.map((p) => [p.topic.slice(PREFIX.length), p.qos])).toEqual([
      ["/com.acme.Telemetry/fast", 0],
      ["/com.acme.Telemetry/stored", 1],
      ["/com.acme.Telemetry/blob", 2],
      ["/com.acme.Sensors/p7/temperature", 1],
    ]);
    expect(decodePayload(pubs[3]!.payload, { type: "double" })).toEqual({ value: 21.5, timestamp: at });
    expect(decodePayload(pubs[0]!.payload)?.timestamp).toBeUndefined();
  });
});

describe("validation before anything is sent", () => {
  it("refuses wrong types, paths, ownership, aggregation and timestamps with typed errors", async () => {
    const rig = await start(storeDir());
    await answerAll(rig.conn, 9);
    const d = rig.device;
    await expect(d.send("com.acme.Telemetry", "/fast", "seven" as unknown as number)).rejects.toMatchObject({ code: "unexpected-value-type" });
    await expect(d.send("com.acme.Telemetry", "/fast", 2 ** 31)).rejects.toMatchObject({ code: "integer-out-of-range" });
    await expect(d.send("com.acme.Telemetry", "/nope", 1)).rejects.toMatchObject({ code: "mapping-not-found" });
    await expect(d.send("com.acme.Telemetry", "fast", 1)).rejects.toMatchObject({ code: "invalid-path" });
    await expect(d.send("com.acme.Missing", "/x", 1)).rejects.toMatchObject({ code: "interface-not-found" });
    await expect(d.send("com.acme.Commands", "/request", "x")).rejects.toMatchObject({ code: "write-on-server-owned" });
    await expect(d.send("com.acme.Environment", "/room1", 1)).rejects.toMatchObject({ code: "invalid-interface" });
    await expect(d.send("com.acme.Sensors", "/p7/temperature", 1)).rejects.toMatchObject({ code: "invalid-timestamp" });
    await expect(d.send("com.acme.Telemetry", "/fast", 1, { timestamp: new Date() })).rejects.toMatchObject({ code: "invalid-timestamp" });
    await expect(d.sendObject("com.acme.Environment", "/room1", { temp: 1, wind: 2 }, { timestamp: new Date() })).rejects.toMatchObject({
      code: "unexpected-object-key",
    });
    await expect(d.setProperty("com.acme.Config", "/sampling/intervalMs", 1.5)).rejects.toMatchObject({ code: "unexpected-value-type" });
    await settle();
    expect(rig.conn.unread()).toEqual([]);
  });
});

describe("receiving", () => {
  it("server data becomes events; bad server messages are error events and the stream goes on", async () => {
    const rig = await start(storeDir());
    await answerAll(rig.conn, 9);
    const errors: Array<{ code?: string }> = [];
    rig.device.on("error", (e) => errors.push(e as { code?: string }));
    const events = rig.device.events()[Symbol.asyncIterator]();
    const send = (topic: string, payload: Uint8Array) =>
      rig.conn.send({ type: "publish", topic: `${PREFIX}/${topic}`, payload, qos: 0, retain: false, dup: false });
    send("com.acme.Commands/request", Uint8Array.of(1, 2, 3)); // garbage
    send("com.acme.Unknown/x", encodePayload("x"));
    send("com.acme.Commands/request", encodePayload(5, { type: "integer" })); // wrong type
    send("com.acme.Commands/other", encodePayload("x")); // no such path
    send("com.acme.Commands/request", encodePayload("Reboot", { type: "string" }));
    send("com.acme.ServerConfig/limit/value", encodePayload(2n ** 60n, { type: "longinteger" }));
    expect((await events.next()).value).toEqual({ interface: "com.acme.Commands", path: "/request", value: "Reboot" });
    expect((await events.next()).value).toEqual({ interface: "com.acme.ServerConfig", path: "/limit/value", value: 2n ** 60n });
    expect(errors.map((e) => e.code)).toEqual(["invalid-bson", "interface-not-found", "unexpected-value-type", "mapping-not-found"]);
    expect(rig.device.getProperty("com.acme.ServerConfig", "/limit/value")).toBe(2n ** 60n);
    // The consumer purge frame drops cached server properties it does not list.
    const { deflateFrame } = await import("../../src/clea/index.ts");
    send("com.acme.ServerConfig/other/value", encodePayload(1n, { type: "longinteger" }));
    await events.next();
    rig.conn.send({
      type: "publish",
      topic: `${PREFIX}/control/consumer/properties`,
      payload: deflateFrame(new TextEncoder().encode("com.acme.ServerConfig/other/value")),
      qos: 0,
      retain: false,
      dup: false,
    });
    expect((await events.next()).value).toEqual({ interface: "com.acme.ServerConfig", path: "/limit/value", value: undefined });
    expect(rig.device.getProperty("com.acme.ServerConfig", "/limit/value")).toBeUndefined();
    expect(rig.device.getProperty("com.acme.ServerConfig", "/other/value")).toBe(1n);
    expect(rig.device.stats().errors).toBe(4);
  });
});

describe("interfaces at run time", () => {
  it("adding and removing interfaces republishes the introspection and (un)subscribes server-owned ones", async () => {
    const rig = await start(storeDir());
    await answerAll(rig.conn, 9);
    const adding = rig.device.addInterface({
      interface_name: "com.acme.Firmware",
      version_major: 1,
      version_minor: 0,
      type: "datastream",
      ownership: "server",
      mappings: [{ endpoint: "/update", type: "string", reliability: "unique" }],
    });
    const [sub, intro] = await answerAll(rig.conn, 3);
    await adding;
    expect(sub).toMatchObject({ type: "subscribe", subscriptions: [{ topic: `${PREFIX}/com.acme.Firmware/#`, qos: 2 }] });
    expect(intro).toMatchObject({ type: "publish", topic: PREFIX });
    expect(text((intro as { payload: Uint8Array }).payload)).toContain("com.acme.Firmware:1:0");
    const removing = rig.device.removeInterface("com.acme.Firmware");
    const unsub = await rig.conn.next("unsubscribe");
    expect(unsub.topics).toEqual([`${PREFIX}/com.acme.Firmware/#`]);
    rig.conn.send({ type: "unsuback", packetId: unsub.packetId });
    const [intro2] = await answerAll(rig.conn, 2);
    await removing;
    expect(text((intro2 as { payload: Uint8Array }).payload)).not.toContain("com.acme.Firmware");
    expect(rig.device.introspection).not.toContain("com.acme.Firmware");
    await expect(rig.device.removeInterface("com.acme.Firmware")).rejects.toMatchObject({ code: "interface-not-found" });
  });
});
