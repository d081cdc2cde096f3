/**
 * The handshake comes before any data (issue #13 item 2), packet by packet against the scripted broker: on a session
 * the broker lost, nothing goes on the data topics until introspection, emptyCache and purge are PUBCOMP'd; then
 * each property once, then retention and queued sends oldest first.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodePayload, encodePayload, inflateFrame, type Device, type DeviceOptions } from "../../src/clea/index.ts";
import type { Packet } from "../../src/index.ts";
import type { FakeConnection } from "../support/fake-broker.ts";
import { settle } from "../support/fake-clock.ts";
import { acknowledgeAll, startFakeDevice, TEST_DEVICE_ID } from "./helpers.ts";

type Publish = Extract<Packet, { type: "publish" }>;
const PREFIX = `acme/${TEST_DEVICE_ID}`;
const FIXTURES = [path.resolve(import.meta.dirname, "../../examples/interfaces"), path.resolve(import.meta.dirname, "fixtures")];
const dirs: string[] = [];
const devices: Device[] = [];

afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.end({ force: true }).catch(() => undefined)));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function storeDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-order-"));
  dirs.push(d);
  return d;
}

/** A device on the scripted broker whose first handshake the broker acknowledged; later packets are read with next(). */
async function started(store: string, extra: Partial<DeviceOptions> = {}) {
  const rig = await startFakeDevice({ reconnect: { initialDelay: 1000, maxDelay: 1000, jitter: 0 }, interfaces: FIXTURES, store, ...extra });
  devices.push(rig.device);
  const stop = acknowledgeAll(rig.conn);
  await rig.device.handshakeComplete();
  await settle();
  stop();
  rig.conn.skipAll();
  return rig;
}

/** The next packet, skipping nothing; fails if it is not a PUBLISH. */
const nextPublish = (conn: FakeConnection): Promise<Publish> => conn.next("publish");
const suffix = (p: Publish) => p.topic.slice(PREFIX.length);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reads packets until a PUBLISH, answering SUBSCRIBEs on the way. */
async function publishAfterSubscribes(conn: FakeConnection): Promise<Publish> {
  for (;;) {
    const p = await conn.next();
    if (p.type === "subscribe") conn.send({ type: "suback", packetId: p.packetId, granted: p.subscriptions.map(() => 2 as const) });
    else if (p.type === "publish") return p;
    else throw new Error(`unexpected ${p.type}`);
  }
}

describe("after a CONNACK without a session", () => {
  it("holds every send and property change until the handshake is PUBCOMP'd, then properties once each, then data oldest first", async () => {
    const rig = await started(storeDir());
    // Online: a property acknowledged, and one the broker never acknowledges before the drop.
    const p1 = rig.device.setProperty("com.acme.Config", "/sampling/intervalMs", 100);
    const p1pub = await nextPublish(rig.conn);
    rig.conn.send({ type: "pubrec", packetId: p1pub.packetId! });
    rig.conn.send({ type: "pubcomp", packetId: (await rig.conn.next("pubrel")).packetId });
    await p1;
    void rig.device.setProperty("com.acme.Config", "/display/name", "old name").catch(() => undefined);
    expect(suffix(await nextPublish(rig.conn))).toBe("/com.acme.Config/display/name");
    rig.conn.drop();
    await settle();

    // Offline: data of every retention kind, and property changes; each property change resolves at once.
    await rig.device.send("com.acme.Telemetry", "/stored", 1);
    await rig.device.send("com.acme.Telemetry", "/volatile", 2);
    await rig.device.send("com.acme.Telemetry", "/stored", 3);
    await rig.device.send("com.acme.Telemetry", "/fast", 99); // unreliable, retention discard: dropped offline
    await rig.device.setProperty("com.acme.Config", "/sampling/intervalMs", 200);
    await rig.device.setProperty("com.acme.Config", "/sampling/intervalMs", 300);
    await rig.device.setProperty("com.acme.Config", "/display/name", "new name");

    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    expect(await conn.accept(false)).toMatchObject({ clean: false });
    const intro = await publishAfterSubscribes(conn);
    const empty = await nextPublish(conn);
    const purge = await nextPublish(conn);
    const props = [await nextPublish(conn), await nextPublish(conn)];
    expect(intro.topic).toBe(PREFIX);
    expect(suffix(empty)).toBe("/control/emptyCache");
    expect(suffix(purge)).toBe("/control/producer/properties");
    expect(text(inflateFrame(purge.payload)).split(";").sort()).toEqual(["com.acme.Config/display/name", "com.acme.Config/sampling/intervalMs"]);
    expect(props.map((p) => [suffix(p), decodePayload(p.payload)?.value])).toEqual([
      ["/com.acme.Config/sampling/intervalMs", 300],
      ["/com.acme.Config/display/name", "new name"],
    ]);
    // A send made while the handshake runs waits too.
    void rig.device.send("com.acme.Telemetry", "/stored", 4);
    // PUBREC for all: PUBRELs come, and still no data until the PUBCOMPs.
    for (const p of [intro, empty, purge, ...props]) conn.send({ type: "pubrec", packetId: p.packetId! });
    const rels = [];
    for (let i = 0; i < 5; i++) rels.push(await conn.next("pubrel"));
    await settle();
    expect(conn.unread()).toEqual([]);
    for (const r of rels) conn.send({ type: "pubcomp", packetId: r.packetId });
    const data = [await nextPublish(conn), await nextPublish(conn), await nextPublish(conn), await nextPublish(conn)];
    expect(data.map((p) => [suffix(p), decodePayload(p.payload)?.value])).toEqual([
      ["/com.acme.Telemetry/stored", 1],
      ["/com.acme.Telemetry/volatile", 2],
      ["/com.acme.Telemetry/stored", 3],
      ["/com.acme.Telemetry/stored", 4],
    ]);
    for (const p of data) conn.send({ type: "puback", packetId: p.packetId! });
    await settle();
    // Nothing else: "old name" (unacknowledged when the session was lost) is never sent again, no property twice.
    expect(conn.unread()).toEqual([]);
    expect(rig.device.stats()).toMatchObject({ retained: 0, discarded: 1 });
  });

  it("with the session present, property changes made offline go once each, after what the broker still had in flight, then data", async () => {
    const rig = await started(storeDir());
    void rig.device.setProperty("com.acme.Config", "/display/name", "first").catch(() => undefined);
    const inflight = await nextPublish(rig.conn);
    rig.conn.drop();
    await settle();
    await rig.device.send("com.acme.Telemetry", "/stored", 1);
    await rig.device.setProperty("com.acme.Config", "/display/name", "second");
    await rig.device.setProperty("com.acme.Config", "/display/name", "third");
    await rig.device.unsetProperty("com.acme.Config", "/display/name");
    await rig.device.setProperty("com.acme.Config", "/sampling/intervalMs", 5);
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(true);
    const again = await nextPublish(conn);
    expect([suffix(again), again.dup, again.packetId]).toEqual(["/com.acme.Config/display/name", true, inflight.packetId]);
    const rest = [await nextPublish(conn), await nextPublish(conn), await nextPublish(conn)];
    expect(rest.map((p) => [suffix(p), p.payload.length === 0 ? "unset" : decodePayload(p.payload)?.value])).toEqual([
      ["/com.acme.Config/display/name", "unset"],
      ["/com.acme.Config/sampling/intervalMs", 5],
      ["/com.acme.Telemetry/stored", 1],
    ]);
  });

  it("a handshake cut short by a drop is run again in full on the next connection, and data still waits for it", async () => {
    const rig = await started(storeDir());
    rig.conn.drop();
    await settle();
    await rig.device.send("com.acme.Telemetry", "/stored", 7);
    await rig.clock.advance(1000);
    const first = await rig.broker.nextConnection();
    await first.accept(false);
    const intro = await publishAfterSubscribes(first);
    expect(intro.topic).toBe(PREFIX);
    first.drop(); // before any acknowledgement
    await settle();
    await rig.clock.advance(1000);
    const second = await rig.broker.nextConnection();
    // The handshake never completed: the device asks for a clean session and starts over.
    expect(await second.accept(false)).toMatchObject({ clean: true });
    const stop = acknowledgeAll(second);
    await rig.device.handshakeComplete();
    await settle();
    stop();
    const pubs = second.packets.filter((p): p is Publish => p.type === "publish").map(suffix);
    expect(pubs).toEqual(["", "/control/emptyCache", "/control/producer/properties", "/com.acme.Telemetry/stored"]);
  });

  it("setProperty() while offline resolves once recorded, and the value survives a restart to be published once", async () => {
    const store = storeDir();
    const rig = await started(store);
    rig.conn.drop();
    await settle();
    await rig.device.setProperty("com.acme.Config", "/display/name", "kept");
    await rig.device.end({ force: true });
    const next = await started(store, { reconnect: false });
    const pubs = next.conn.packets.filter((p): p is Publish => p.type === "publish" && p.topic.endsWith("/display/name"));
    expect(pubs.map((p) => decodePayload(p.payload)?.value)).toEqual(["kept"]);
  });
});

describe("retained data of interfaces that changed", () => {
  it("drops retention of a removed interface with a warning instead of sending it", async () => {
    const rig = await started(storeDir());
    const warnings: string[] = [];
    rig.device.on("warning", (w) => warnings.push(String(w)));
    rig.conn.drop();
    await settle();
    await rig.device.send("com.acme.Telemetry", "/stored", 1);
    await rig.device.send("com.acme.Sensors", "/p7/temperature", 20, { timestamp: new Date(0) });
    await rig.device.removeInterface("com.acme.Telemetry");
    expect(warnings.some((w) => /dropped 1 retained message/.test(w))).toBe(true);
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(false);
    const stop = acknowledgeAll(conn);
    await rig.device.handshakeComplete();
    await settle();
    await settle();
    stop();
    const data = conn.packets.filter((p): p is Publish => p.type === "publish" && !suffix(p).startsWith("/control") && p.topic !== PREFIX);
    expect(data.map(suffix)).toEqual(["/com.acme.Sensors/p7/temperature"]);
  });

  it("after a restart with a new major version, stored retention of the old one is dropped with a warning", async () => {
    const store = storeDir();
    const rig = await started(store);
    rig.conn.drop();
    await settle();
    await rig.device.send("com.acme.Telemetry", "/stored", 1);
    await rig.device.end({ force: true });
    const telemetry = JSON.parse(fs.readFileSync(path.join(FIXTURES[1]!, "com.acme.Telemetry.json"), "utf8"));
    const bumped = { ...telemetry, version_major: 3 };
    const others = FIXTURES.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith(".json") && !f.includes("Telemetry")).map((f) => path.join(d, f)));
    const { device, conn } = await started(store, { reconnect: false, interfaces: [...others, bumped] });
    const warnings: string[] = [];
    device.on("warning", (w) => warnings.push(String(w)));
    await settle();
    expect(device.stats().retained).toBe(0);
    expect(conn.packets.some((p) => p.type === "publish" && p.topic.includes("Telemetry"))).toBe(false);
    expect(warnings.some((w) => /dropped 1 retained message/.test(w))).toBe(true);
  });
});

describe("a slow events() reader holds the broker back instead of losing events", () => {
  const command = (n: number): Packet => ({
    type: "publish",
    topic: `${PREFIX}/com.acme.Commands/request`,
    payload: encodePayload(`cmd-${n}`, { type: "string" }),
    qos: 1,
    retain: false,
    dup: false,
    packetId: n,
  });
  const pubacks = (conn: FakeConnection) => conn.packets.filter((p) => p.type === "puback").map((p) => (p as { packetId: number }).packetId);

  it("acknowledges a message only once the events() iterator took its event, in arrival order", async () => {
    const rig = await started(storeDir());
    const events = rig.device.events()[Symbol.asyncIterator]();
    for (let n = 1; n <= 30; n++) rig.conn.send(command(n));
    await settle();
    expect(pubacks(rig.conn)).toEqual([]);
    const taken: unknown[] = [];
    for (let i = 0; i < 10; i++) taken.push((await events.next()).value);
    await settle();
    expect(taken.map((e) => (e as { value: string }).value)).toEqual(Array.from({ length: 10 }, (_, i) => `cmd-${i + 1}`));
    expect(pubacks(rig.conn)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    await events.return!();
    await settle();
    // An iterator that ends lets go of what it had not taken.
    expect(pubacks(rig.conn)).toHaveLength(30);
  });

  it("with nobody iterating events(), messages are acknowledged at once and the newest kept for a late reader", async () => {
    const rig = await started(storeDir());
    for (let n = 1; n <= 5; n++) rig.conn.send(command(n));
    await settle();
    expect(pubacks(rig.conn)).toEqual([1, 2, 3, 4, 5]);
    const late = rig.device.events()[Symbol.asyncIterator]();
    expect(((await late.next()).value as { value: string }).value).toBe("cmd-1");
  });

  it("messages outside the device's topics (its client's own subscriptions) are acknowledged on arrival", async () => {
    const rig = await started(storeDir());
    const events = rig.device.events()[Symbol.asyncIterator]();
    rig.conn.send(command(1));
    rig.conn.send({ type: "publish", topic: "elsewhere/x", payload: Uint8Array.of(1), qos: 1, retain: false, dup: false, packetId: 2 });
    await settle();
    expect(pubacks(rig.conn)).toEqual([]); // in arrival order: behind the event nobody took yet
    await events.next();
    await settle();
    expect(pubacks(rig.conn)).toEqual([1, 2]);
  });
});

describe("nothing waits in retention at the wrong moment", () => {
  it("a send made as soon as handshakeComplete() resolves goes straight out (the device is ready by then)", async () => {
    const rig = await started(storeDir());
    rig.conn.drop();
    await settle();
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(false);
    const stop = acknowledgeAll(conn);
    await rig.device.handshakeComplete();
    await rig.device.send("com.acme.Telemetry", "/volatile", 1);
    expect(rig.device.stats().retained).toBe(0);
    stop();
  });

  it("a graceful end() right after reconnecting hands what retention held to the client before it disconnects", async () => {
    const rig = await started(storeDir());
    rig.conn.drop();
    await settle();
    await rig.device.send("com.acme.Telemetry", "/volatile", 7); // volatile: gone if the process ends with it
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    acknowledgeAll(conn);
    await conn.accept(true); // session present: no handshake, ready at once
    await rig.device.end();
    const published = conn.packets.filter((p): p is Publish => p.type === "publish").map((p) => [suffix(p), decodePayload(p.payload)?.value]);
    expect(published).toEqual([["/com.acme.Telemetry/volatile", 7]]);
    expect(conn.packets.at(-1)).toMatchObject({ type: "disconnect" });
  });
});
