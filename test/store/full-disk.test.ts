/**
 * Store faults on a real full filesystem (a small tmpfs, filled to ENOSPC), with the client on a scripted broker:
 * a write that fails rejects that one operation with StoreError and sends nothing; nothing is marked received or
 * forgotten unless it was written; an ack in hand settles its promise even when the delete fails; a failed open
 * is tried again by the next connect().
 *
 * tmpfs allocates whole 4 KB pages, so "full" only bites a write that needs a new page: each case arranges for the
 * log to end on a page boundary (an empty log, or records sized to fill a page) before the disk is filled.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, FileStore, StoreError, type Client, type ClientOptions, type Packet } from "../../src/index.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { mountSmallDisk, type FullDisk } from "../support/full-disk.ts";
import { settle } from "../support/fake-clock.ts";

let disk: FullDisk;
let n = 0;
beforeAll(() => {
  disk = mountSmallDisk(256);
});
afterAll(() => disk?.dispose());

const PAGE = 4096;
/** A PutOutgoing record is 9 (frame) + 16 (fixed body) + topic + payload bytes. */
const payloadFilling = (bytes: number, topic = "t") => new Uint8Array(bytes - 9 - 16 - topic.length).fill(7);

function client(broker: FakeBroker, dir: string, extra: Partial<ClientOptions> = {}): Client {
  return createClient({ url: "mqtt://fake", transport: broker.transport, clientId: "c", clean: false, store: new FileStore(dir), reconnect: false, keepalive: 0, ...extra });
}

async function connectTo(broker: FakeBroker, c: Client, sessionPresent = false): Promise<FakeConnection> {
  const p = c.connect();
  const conn = await broker.nextConnection();
  await conn.accept(sessionPresent);
  await p;
  return conn;
}

const publishes = (conn: FakeConnection) => conn.packets.filter((p): p is Extract<Packet, { type: "publish" }> => p.type === "publish");
const logSize = (dir: string) => fs.statSync(path.join(dir, "c.log")).size;

function freshDir(): string {
  disk.free();
  const dir = path.join(disk.dir, `s${++n}`);
  return dir;
}

describe("a full disk", () => {
  it("a publish whose record cannot be written rejects with StoreError, sends nothing and frees its packet id", async () => {
    const dir = freshDir();
    const broker = new FakeBroker();
    const c = client(broker, dir);
    const conn = await connectTo(broker, c);
    expect(logSize(dir)).toBe(0);
    disk.fill();
    const err = await c.publish("t", "x", { qos: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("store-error");
    expect(((err as StoreError).cause as { code?: string }).code).toBe("ENOSPC");
    // more than there are packet ids: every failed publish gave its id back
    for (let i = 0; i < 66_000; i++) await c.publish("t", "x", { qos: 2 }).catch(() => undefined);
    await settle();
    expect(publishes(conn)).toEqual([]);
    expect(c.stats()).toMatchObject({ inflight: 0, queued: 0 });
    expect(logSize(dir)).toBe(0); // nothing torn left behind
    disk.free();
    const ok = c.publish("t", "after", { qos: 1 });
    const p = await conn.next("publish");
    expect(p.topic).toBe("t");
    conn.send({ type: "puback", packetId: p.packetId! });
    await ok;
    await c.end();
  });

  it("a publish queued while offline rejects when its record cannot be written, and is never sent", async () => {
    const dir = freshDir();
    const broker = new FakeBroker();
    const c = client(broker, dir, { reconnect: { initialDelay: 10, maxDelay: 10 } });
    const conn = await connectTo(broker, c);
    conn.drop();
    await settle();
    disk.fill();
    const err = await c.publish("q", payloadFilling(PAGE), { qos: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    disk.free();
    const again = await broker.nextConnection();
    await again.accept(true);
    await settle();
    expect(publishes(again)).toEqual([]);
    expect(c.stats().queued).toBe(0);
    await c.end();
  });

  it("an incoming QoS 2 message is marked received only once written: the broker's redelivery is delivered", async () => {
    const dir = freshDir();
    const broker = new FakeBroker();
    const c = client(broker, dir, { reconnect: { initialDelay: 10, maxDelay: 10 } });
    const got: string[] = [];
    c.on("message", (m) => got.push(new TextDecoder().decode(m.payload)));
    const reasons: unknown[] = [];
    c.on("disconnect", (d) => reasons.push(d.reason));
    const conn = await connectTo(broker, c);
    disk.fill();
    const msg: Packet = { type: "publish", topic: "in", payload: new TextEncoder().encode("exactly once"), qos: 2, retain: false, dup: false, packetId: 7 };
    conn.send(msg);
    await settle();
    expect(got).toEqual([]); // not taken: nothing delivered, no PUBREC
    expect(conn.packets.some((p) => p.type === "pubrec")).toBe(false);
    expect(reasons[0]).toBeInstanceOf(StoreError); // the connection was failed so the broker sends it again
    disk.free();
    const again = await broker.nextConnection();
    await again.accept(true);
    again.send({ ...msg, dup: true });
    expect(await again.next("pubrec")).toEqual({ type: "pubrec", packetId: 7 });
    expect(got).toEqual(["exactly once"]);
    again.send({ type: "pubrel", packetId: 7 });
    expect(await again.next("pubcomp")).toEqual({ type: "pubcomp", packetId: 7 });
    await c.end();
  });

  it("a PUBREL whose delete cannot be written gets no PUBCOMP; after the reconnect the repeated PUBREL completes it", async () => {
    const dir = freshDir();
    const broker = new FakeBroker();
    const c = client(broker, dir, { reconnect: { initialDelay: 10, maxDelay: 10 }, maxInflight: 1 });
    c.on("error", () => undefined);
    const conn = await connectTo(broker, c);
    // 4084 bytes of outgoing record + 12 bytes of incoming id: the log ends on a page boundary
    void c.publish("t", payloadFilling(PAGE - 12), { qos: 1 }).catch(() => undefined);
    const out = await conn.next("publish");
    conn.send({ type: "publish", topic: "in", payload: new Uint8Array(1), qos: 2, retain: false, dup: false, packetId: 9 });
    await conn.next("pubrec");
    expect(logSize(dir)).toBe(PAGE);
    disk.fill();
    conn.send({ type: "pubrel", packetId: 9 });
    await settle();
    expect(conn.packets.some((p) => p.type === "pubcomp")).toBe(false);
    disk.free();
    const again = await broker.nextConnection();
    await again.accept(true);
    again.send({ type: "pubrel", packetId: 9 });
    const replayed = await again.next("publish");
    expect(replayed).toMatchObject({ packetId: out.packetId, dup: true });
    expect(await again.next("pubcomp")).toEqual({ type: "pubcomp", packetId: 9 });
    await c.end({ force: true });
  });

  it("a PUBACK that arrives while the delete cannot be written still settles the publish; the record is replayed later", async () => {
    const dir = freshDir();
    const broker = new FakeBroker();
    const c = client(broker, dir);
    const errors: Error[] = [];
    c.on("error", (e) => errors.push(e));
    const conn = await connectTo(broker, c);
    const done = c.publish("t", payloadFilling(PAGE), { qos: 1 });
    const p = await conn.next("publish");
    expect(logSize(dir)).toBe(PAGE);
    disk.fill();
    conn.send({ type: "puback", packetId: p.packetId! });
    await expect(done).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreError);
    await c.end({ force: true });
    disk.free();
    // the next run replays it as a possible duplicate (QoS 1 allows it)
    const broker2 = new FakeBroker();
    const c2 = client(broker2, dir);
    const conn2 = await connectTo(broker2, c2, true);
    expect(await conn2.next("publish")).toMatchObject({ topic: "t", packetId: p.packetId, dup: true });
    await c2.end({ force: true });
  });

  it("a store that cannot be opened fails connect(); the next connect() opens it once the disk has room", async () => {
    const dir = freshDir();
    const broker = new FakeBroker();
    const first = client(broker, dir);
    const conn = await connectTo(broker, first);
    void first.publish("t", payloadFilling(PAGE), { qos: 1 }).catch(() => undefined);
    const sent = await conn.next("publish");
    await first.end({ force: true });
    disk.fill(); // opening compacts the log into a new file: that needs room
    const second = client(broker, dir);
    const err = await second.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    disk.free();
    const p = second.connect();
    const conn2 = await broker.nextConnection();
    await conn2.accept(true);
    await p;
    expect(await conn2.next("publish")).toMatchObject({ topic: "t", packetId: sent.packetId, dup: true });
    await second.end({ force: true });
  });
});
