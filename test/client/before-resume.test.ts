/**
 * The beforeResume gate, packet by packet against the scripted broker: what the hook publishes goes first, the
 * replay and the queue wait for it, discard removes what the application no longer wants sent.
 */
import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConnectionLostError, FileStore, MemoryStore, OptionsError, PublishError, createClient, type ResumeContext } from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { connected, reconnect, settle, text } from "./helpers.ts";

/** A hook that records its contexts and finishes when the test says so. */
function gate() {
  const contexts: ResumeContext[] = [];
  const finishers: Array<(err?: Error) => void> = [];
  const hook = (ctx: ResumeContext): Promise<void> => {
    contexts.push(ctx);
    return new Promise<void>((resolve, reject) => finishers.push((err) => (err ? reject(err) : resolve())));
  };
  return { hook, contexts, finish: (err?: Error) => finishers.shift()!(err) };
}

describe("beforeResume", () => {
  it("the README's snippet: on a new session, a stale state message is discarded and the birth message goes first", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-birth-"));
    try {
      const broker = new FakeBroker();
      const url = "mqtt://fake:1883";
      const birth = () => "online";
      // As the README shows it (plus the scripted broker and no keepalive):
      const client = createClient({
        url, clientId: "gw-01", clean: false, store: new FileStore(dir),
        beforeResume: async (resume) => {
          if (!resume.sessionPresent) {
            resume.discard((m) => m.topic.startsWith("gw-01/state/")); // superseded by the birth message below
            await resume.publish("gw-01/birth", birth(), { qos: 1 });  // goes first; resolves on its PUBACK
          }
        },
        transport: broker.transport, keepalive: 0,
      });
      const stale = client.publish("gw-01/state/door", "open", { qos: 1 }).catch((e: unknown) => e); // queued before connecting
      const data = client.publish("gw-01/data", "1", { qos: 1 });
      const connecting = client.connect();
      const conn = await broker.nextConnection();
      await conn.accept(false);
      await connecting;
      const first = await conn.next("publish");
      expect([first.topic, new TextDecoder().decode(first.payload)]).toEqual(["gw-01/birth", "online"]);
      await settle();
      expect(conn.unread()).toEqual([]);
      conn.send({ type: "puback", packetId: first.packetId! });
      const next = await conn.next("publish");
      expect(next.topic).toBe("gw-01/data");
      conn.send({ type: "puback", packetId: next.packetId! });
      await data;
      expect(await stale).toMatchObject({ code: "message-discarded" });
      await client.end();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sends the hook's publishes first; unacked and queued messages, and publishes made meanwhile, follow in order once it resolves", async () => {
    let enabled = false;
    const g = gate();
    const rig = await connected({ beforeResume: (ctx) => (enabled ? g.hook(ctx) : undefined) });
    const a = rig.client.publish("data/a", "a", { qos: 1 });
    const pa = await rig.conn.next("publish");
    expect(pa.topic).toBe("data/a");
    enabled = true;
    rig.conn.drop();
    await settle();
    const b = rig.client.publish("data/b", "b", { qos: 1 }); // offline: queued
    await rig.clock.advance(8_000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(true);
    await settle();
    expect(g.contexts).toHaveLength(1);
    expect(g.contexts[0]!.sessionPresent).toBe(true);
    const hello = g.contexts[0]!.publish("hello", "h", { qos: 2 });
    const c = rig.client.publish("data/c", "c", { qos: 1 }); // made while the hook runs: waits
    const ph = await conn.next("publish");
    expect(ph).toMatchObject({ topic: "hello", qos: 2, dup: false });
    await settle();
    expect(conn.unread()).toEqual([]); // nothing else while the hook has not finished
    conn.send({ type: "pubrec", packetId: ph.packetId! });
    expect(await conn.next("pubrel")).toMatchObject({ packetId: ph.packetId });
    conn.send({ type: "pubcomp", packetId: ph.packetId! });
    await hello;
    await settle();
    expect(conn.unread()).toEqual([]);
    g.finish();
    await settle();
    const rest = [await conn.next("publish"), await conn.next("publish"), await conn.next("publish")];
    expect(rest.map((p) => [p.topic, p.dup])).toEqual([
      ["data/a", true],
      ["data/b", false],
      ["data/c", false],
    ]);
    expect(rest[0]!.packetId).toBe(pa.packetId);
    for (const p of rest) conn.send({ type: "puback", packetId: p.packetId! });
    await Promise.all([a, b, c]);
  });

  it("a QoS 0 publish made while the hook runs is queued, not written, and follows it", async () => {
    const g = gate();
    const rig = await connected({ beforeResume: g.hook });
    await settle();
    await rig.client.publish("zero", "0"); // resolves once queued
    await settle();
    expect(rig.conn.unread()).toEqual([]);
    g.finish();
    expect(await rig.conn.next("publish")).toMatchObject({ topic: "zero", qos: 0 });
  });

  it("discard on a lost session removes unacked and queued messages it matches; their promises reject with message-discarded", async () => {
    let enabled = false;
    const g = gate();
    const rig = await connected({ beforeResume: (ctx) => (enabled ? g.hook(ctx) : undefined) });
    const results: Array<Promise<unknown>> = [];
    for (const t of ["prop/x", "data/1"]) results.push(rig.client.publish(t, t, { qos: 2 }).catch((e: unknown) => e));
    await rig.conn.next("publish");
    await rig.conn.next("publish");
    enabled = true;
    rig.conn.drop();
    await settle();
    results.push(rig.client.publish("prop/y", "y", { qos: 1 }).catch((e: unknown) => e));
    results.push(rig.client.publish("data/2", "2", { qos: 1 }).catch((e: unknown) => e));
    await rig.clock.advance(8_000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(false);
    await settle();
    expect(g.contexts[0]!.discard((m) => m.topic.startsWith("prop/"))).toBe(2);
    g.finish();
    await settle();
    const sent = [await conn.next("publish"), await conn.next("publish")];
    expect(sent.map((p) => p.topic)).toEqual(["data/1", "data/2"]);
    const discarded = (await Promise.race([Promise.all([results[0], results[2]]), settle().then(() => [])])) as unknown[];
    expect(discarded).toHaveLength(2);
    for (const e of discarded) expect(e).toMatchObject({ name: "PublishError", code: "message-discarded" });
    expect(rig.client.stats()).toMatchObject({ inflight: 2, queued: 0 });
  });

  it("with a session present, discard leaves sent messages alone (the broker may hold their ids) and removes queued ones", async () => {
    let enabled = false;
    const g = gate();
    const rig = await connected({ beforeResume: (ctx) => (enabled ? g.hook(ctx) : undefined) });
    void rig.client.publish("prop/x", "x", { qos: 2 });
    await rig.conn.next("publish");
    enabled = true;
    rig.conn.drop();
    await settle();
    const queued = rig.client.publish("prop/y", "y", { qos: 1 }).catch((e: unknown) => e);
    await rig.clock.advance(8_000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(true);
    await settle();
    expect(g.contexts[0]!.discard(() => true)).toBe(1);
    expect(await queued).toBeInstanceOf(PublishError);
    g.finish();
    expect(await conn.next("publish")).toMatchObject({ topic: "prop/x", dup: true });
  });

  it("discarded messages leave the store: a restart does not send them", async () => {
    const store = new MemoryStore();
    let enabled = false;
    const g = gate();
    const rig = await connected({ store, clientId: "c1", clean: false, beforeResume: (ctx) => (enabled ? g.hook(ctx) : undefined) });
    void rig.client.publish("prop/x", "x", { qos: 1 }).catch(() => undefined);
    await rig.conn.next("publish");
    enabled = true;
    rig.conn.drop();
    await settle();
    await rig.clock.advance(8_000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(false);
    await settle();
    g.contexts[0]!.discard(() => true);
    await rig.client.end({ force: true });
    expect((await store.open("c1")).outgoing).toEqual([]);
  });

  it("the hook's publishes belong to their connection: never stored, rejected with ConnectionLostError when it drops, and not replayed", async () => {
    const store = new MemoryStore();
    const g = gate();
    const rig = await connected({ store, clientId: "c2", clean: false, beforeResume: g.hook });
    await settle();
    const hello = g.contexts[0]!.publish("hello", "h", { qos: 1 }).catch((e: unknown) => e);
    await rig.conn.next("publish");
    expect((await store.open("c2")).outgoing).toEqual([]);
    const conn = await reconnect(rig, true);
    expect(await hello).toBeInstanceOf(ConnectionLostError);
    // The first hook resolving late releases nothing on the new connection.
    g.finish();
    await settle();
    expect(g.contexts).toHaveLength(2);
    expect(conn.unread()).toEqual([]);
    // The old context can no longer publish.
    await expect(g.contexts[0]!.publish("late", "x")).rejects.toBeInstanceOf(ConnectionLostError);
    g.finish();
    await settle();
    expect(conn.unread()).toEqual([]);
  });

  it("a hook publish respects the in-flight window and queues behind it", async () => {
    const g = gate();
    const rig = await connected({ maxInflight: 2, beforeResume: g.hook });
    await settle();
    const ctx = g.contexts[0]!;
    const all = [1, 2, 3].map((n) => ctx.publish("h", String(n), { qos: 1 }));
    const first = await rig.conn.next("publish");
    await rig.conn.next("publish");
    await settle();
    expect(rig.conn.unread()).toEqual([]);
    rig.conn.send({ type: "puback", packetId: first.packetId! });
    const third = await rig.conn.next("publish");
    expect(text(third.payload)).toBe("3");
    for (const p of rig.conn.packets.filter((x) => x.type === "publish").slice(1)) rig.conn.send({ type: "puback", packetId: (p as { packetId: number }).packetId });
    await Promise.all(all);
    g.finish();
  });

  it("a hook that rejects is reported as an error; the connection is dropped and the next one runs the hook again", async () => {
    const g = gate();
    const rig = await connected({ beforeResume: g.hook });
    const errors: Error[] = [];
    rig.client.on("error", (e) => errors.push(e));
    await settle();
    g.finish(new Error("announce failed"));
    await settle();
    expect(errors.map((e) => e.message)).toEqual(["announce failed"]);
    expect(rig.client.connected).toBe(false);
    await rig.clock.advance(8_000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(false);
    await settle();
    expect(g.contexts).toHaveLength(2);
    g.finish();
    await rig.client.publish("after", "1");
    expect(await conn.next("publish")).toMatchObject({ topic: "after" });
  });

  it("a hook that throws synchronously is reported the same way; one that returns nothing releases at once", async () => {
    const broker = new FakeBroker();
    let calls = 0;
    const client = createClient({
      url: "mqtt://fake:1883",
      transport: broker.transport,
      keepalive: 0,
      reconnect: false,
      beforeResume: () => {
        calls++;
      },
    });
    const connecting = client.connect();
    const conn = await broker.nextConnection();
    await conn.accept();
    await connecting;
    await client.publish("now", "1");
    expect(await conn.next("publish")).toMatchObject({ topic: "now" });
    expect(calls).toBe(1);

    const errors: Error[] = [];
    const c2 = createClient({ url: "mqtt://fake:1883", transport: broker.transport, keepalive: 0, reconnect: false, beforeResume: () => { throw "nope"; } });
    c2.on("error", (e) => errors.push(e));
    const connecting2 = c2.connect();
    await (await broker.nextConnection()).accept();
    await connecting2;
    await settle();
    expect(errors[0]?.message).toMatch(/nope/);
    expect(c2.connected).toBe(false);
    await client.end();
  });

  it("refuses a beforeResume that is not a function, and hook publishes are checked like publish()", async () => {
    expect(() => createClient({ url: "mqtt://x:1", beforeResume: 5 as never })).toThrow(OptionsError);
    const g = gate();
    const rig = await connected({ beforeResume: g.hook });
    await settle();
    await expect(g.contexts[0]!.publish("a/+", "x")).rejects.toMatchObject({ code: "invalid-topic" });
    await expect(g.contexts[0]!.publish("a", 5 as never)).rejects.toMatchObject({ code: "invalid-payload" });
    const kept = rig.client.publish("kept", "k", { qos: 1 });
    // A predicate that throws keeps the message: nothing is lost to it.
    expect(g.contexts[0]!.discard(() => { throw new Error("faulty"); })).toBe(0);
    g.finish();
    const p = await rig.conn.next("publish");
    expect(p.topic).toBe("kept");
    rig.conn.send({ type: "puback", packetId: p.packetId! });
    await kept;
  });
});
