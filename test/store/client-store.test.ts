/**
 * The client and its FileStore across a process restart, on a scripted broker: what was accepted and not
 * finally acknowledged is resent by the next client on the same directory, in order, with the same packet ids.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ClientClosedError, ClientWarning, createClient, FileStore, type ClientOptions, type Packet } from "../../src/index.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-client-store-"));
let dirs = 0;
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const bytes = (s: string) => new TextEncoder().encode(s);

/** A client as the brief's device would make it, on `broker`, keeping its state in a new FileStore on `dir`. */
function device(broker: FakeBroker, dir: string, extra: Partial<ClientOptions> = {}) {
  return createClient({
    url: "mqtt://fake",
    transport: broker.transport,
    clientId: "c1",
    clean: false,
    store: new FileStore(dir),
    reconnect: false,
    ...extra,
  });
}

/** Connects `client`, answering CONNACK with `sessionPresent`. */
async function connectTo(broker: FakeBroker, client: ReturnType<typeof device>, sessionPresent: boolean): Promise<FakeConnection> {
  const p = client.connect();
  const conn = await broker.nextConnection();
  await conn.accept(sessionPresent);
  await p;
  return conn;
}

/** The next `n` packets the client sends. */
async function take(conn: FakeConnection, n: number): Promise<Packet[]> {
  const out: Packet[] = [];
  for (let i = 0; i < n; i++) out.push(await conn.next());
  return out;
}

const publish = (topic: string, payload: string, qos: 1 | 2, packetId: number, dup: boolean): Packet => ({
  type: "publish",
  topic,
  payload: bytes(payload),
  qos,
  retain: false,
  dup,
  packetId,
});

/**
 * The first run: four messages are sent (QoS 1, 2, 2, 1) and two wait behind the window of 4. The broker
 * acknowledges nothing except a PUBREC for the third, so it is left in PUBREL state. Then the process "dies".
 * Returns the packet ids the four were sent with.
 */
async function firstRun(dir: string): Promise<number[]> {
  const broker = new FakeBroker();
  const client = device(broker, dir, { maxInflight: 4 });
  const conn = await connectTo(broker, client, false);
  const results = [
    client.publish("m/1", "one", { qos: 1 }),
    client.publish("m/2", "two", { qos: 2 }),
    client.publish("m/3", "three", { qos: 2 }),
    client.publish("m/4", "four", { qos: 1 }),
    client.publish("m/5", "five", { qos: 1 }),
    client.publish("m/6", "six", { qos: 2 }),
  ].map((p) => p.then(() => "resolved", (e: unknown) => e));
  const sent = await take(conn, 4);
  const ids = sent.map((p) => (p.type === "publish" ? p.packetId! : -1));
  expect(sent).toEqual([
    publish("m/1", "one", 1, ids[0]!, false),
    publish("m/2", "two", 2, ids[1]!, false),
    publish("m/3", "three", 2, ids[2]!, false),
    publish("m/4", "four", 1, ids[3]!, false),
  ]);
  expect(new Set(ids).size).toBe(4);
  conn.send({ type: "pubrec", packetId: ids[2]! });
  expect(await conn.next("pubrel")).toEqual({ type: "pubrel", packetId: ids[2] });
  await client.end({ force: true });
  for (const r of await Promise.all(results)) expect(r).toBeInstanceOf(ClientClosedError);
  expect(conn.unread()).toEqual([]); // no DISCONNECT, nothing else
  return ids;
}

/** A new client on the same directory connects; returns what it sends first. */
async function secondRun(dir: string, sessionPresent: boolean, onWarning?: (w: ClientWarning) => void) {
  const broker = new FakeBroker();
  const client = device(broker, dir);
  if (onWarning) client.on("warning", onWarning);
  const conn = await connectTo(broker, client, sessionPresent);
  return { client, conn };
}

/** Acknowledges everything the second run resent, ends gracefully, and checks the store is then empty. */
async function finish(dir: string, client: ReturnType<typeof device>, conn: FakeConnection, packets: Packet[]): Promise<void> {
  for (const p of packets) {
    if (p.type === "publish" && p.qos === 1) conn.send({ type: "puback", packetId: p.packetId! });
    if (p.type === "publish" && p.qos === 2) {
      conn.send({ type: "pubrec", packetId: p.packetId! });
      expect(await conn.next("pubrel")).toEqual({ type: "pubrel", packetId: p.packetId });
      conn.send({ type: "pubcomp", packetId: p.packetId! });
    }
    if (p.type === "pubrel") conn.send({ type: "pubcomp", packetId: p.packetId });
  }
  await client.end();
  expect(conn.unread()).toEqual([{ type: "disconnect" }]);
  const store = new FileStore(dir);
  expect(await store.open("c1")).toEqual({ outgoing: [], incoming: [], warnings: [] });
  await store.close();
}

/** The resend of the first run's messages: 1, 2 and 4 as PUBLISH, 3 as PUBREL, then 5 and 6 sent for the first time. */
function expectResend(packets: Packet[], ids: number[], dup: boolean): void {
  expect(packets.slice(0, 4)).toEqual([
    publish("m/1", "one", 1, ids[0]!, dup),
    publish("m/2", "two", 2, ids[1]!, dup),
    { type: "pubrel", packetId: ids[2] },
    publish("m/4", "four", 1, ids[3]!, dup),
  ]);
  const fresh = packets.slice(4).map((p) => (p.type === "publish" ? p.packetId! : -1));
  expect(packets.slice(4)).toEqual([publish("m/5", "five", 1, fresh[0]!, false), publish("m/6", "six", 2, fresh[1]!, false)]);
  expect(new Set([...ids, ...fresh]).size).toBe(6);
}

describe("client + FileStore across a restart", () => {
  it("sessionPresent=true: unacked PUBLISHes resent with DUP=1 and their packet ids in order, PUBREL state as PUBREL, then the unsent ones", async () => {
    const dir = path.join(root, `d${++dirs}`);
    const ids = await firstRun(dir);
    const { client, conn } = await secondRun(dir, true);
    expect(client.stats().inflight).toBe(6); // the four restored in flight, and the two that waited, now sent
    const packets = await take(conn, 6);
    expectResend(packets, ids, true);
    await finish(dir, client, conn, packets);
  });

  it("sessionPresent=false: the same resend, with DUP=0", async () => {
    const dir = path.join(root, `d${++dirs}`);
    const ids = await firstRun(dir);
    const { client, conn } = await secondRun(dir, false);
    const packets = await take(conn, 6);
    expectResend(packets, ids, false);
    await finish(dir, client, conn, packets);
  });

  it("new publishes of the second run go after the resend, with packet ids that do not collide", async () => {
    const dir = path.join(root, `d${++dirs}`);
    const ids = await firstRun(dir);
    const { client, conn } = await secondRun(dir, true);
    const later = client.publish("m/7", "seven", { qos: 1 });
    const packets = await take(conn, 7);
    expectResend(packets.slice(0, 6), ids, true);
    const seventh = packets[6]!;
    expect(seventh).toMatchObject({ type: "publish", topic: "m/7", dup: false });
    const used = packets.slice(0, 6).map((p) => (p.type === "publish" || p.type === "pubrel" ? p.packetId : -1));
    expect(used).not.toContain((seventh as { packetId: number }).packetId);
    await finish(dir, client, conn, packets);
    await expect(later).resolves.toBeUndefined();
  });

  it("a damaged store file gives a warning event; the client still connects and resends the intact records", async () => {
    const dir = path.join(root, `d${++dirs}`);
    const ids = await firstRun(dir);
    const logs = fs.readdirSync(dir).filter((f) => f.endsWith(".log"));
    expect(logs).toHaveLength(1);
    const file = path.join(dir, logs[0]!);
    const good = fs.readFileSync(file);
    const junk = new Uint8Array(777).map((_, i) => (i * 73 + 11) & 0xff);
    fs.writeFileSync(file, Buffer.concat([junk, good, junk.subarray(0, 20)]));
    const warnings: ClientWarning[] = [];
    const { client, conn } = await secondRun(dir, true, (w) => warnings.push(w));
    expect(warnings).toHaveLength(2);
    expect(warnings.map((w) => w.code)).toEqual(["store-damaged", "store-damaged"]);
    expect(client.connected).toBe(true);
    const packets = await take(conn, 6);
    expectResend(packets, ids, true);
    await finish(dir, client, conn, packets);
  });

  it("a store file of pure garbage gives a warning; the client connects with nothing to resend and publishes normally", async () => {
    const dir = path.join(root, `d${++dirs}`);
    await firstRun(dir);
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith(".log"))!);
    fs.writeFileSync(file, new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff));
    const warnings: ClientWarning[] = [];
    const { client, conn } = await secondRun(dir, true, (w) => warnings.push(w));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBeInstanceOf(ClientWarning);
    expect(client.stats().inflight).toBe(0);
    const p = client.publish("after", "x", { qos: 1 });
    const sent = await conn.next("publish");
    expect(sent).toMatchObject({ topic: "after", dup: false });
    conn.send({ type: "puback", packetId: sent.packetId! });
    await expect(p).resolves.toBeUndefined();
    await client.end();
  });
});
