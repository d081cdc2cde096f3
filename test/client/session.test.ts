/** QoS flows, replay and ordering, checked byte-for-byte against the scripted broker. */
import { describe, expect, it } from "vitest";
import { encode, ProtocolError } from "../../src/index.ts";
import { bytes, connected, reconnect, settle, text } from "./helpers.ts";

describe("outgoing QoS flows", () => {
  it("QoS 0 resolves once written; QoS 1 on PUBACK; QoS 2 on PUBCOMP, never resending PUBLISH after PUBREL", async () => {
    const { client, conn } = await connected();
    await client.publish("t/0", "zero");
    const p0 = await conn.next("publish");
    expect(p0).toMatchObject({ topic: "t/0", qos: 0, dup: false, packetId: undefined });

    let done1 = false;
    const q1 = client.publish("t/1", "one", { qos: 1 }).then(() => (done1 = true));
    const p1 = await conn.next("publish");
    await settle();
    expect(done1).toBe(false);
    conn.send({ type: "puback", packetId: p1.packetId! });
    await q1;

    let done2 = false;
    const q2 = client.publish("t/2", "two", { qos: 2 }).then(() => (done2 = true));
    const p2 = await conn.next("publish");
    conn.send({ type: "pubrec", packetId: p2.packetId! });
    expect(await conn.next("pubrel")).toEqual({ type: "pubrel", packetId: p2.packetId });
    await settle();
    expect(done2).toBe(false);
    conn.send({ type: "pubcomp", packetId: p2.packetId! });
    await q2;
    expect(conn.unread()).toEqual([]);
    expect(client.stats()).toMatchObject({ inflight: 0, queued: 0, sent: 3 });
  });

  it("packet ids are never 0 and never in use twice, and are freed on the final ack", async () => {
    const { client, conn } = await connected({ maxInflight: 500 });
    const pending = Array.from({ length: 300 }, (_, i) => client.publish("t", String(i), { qos: (1 + (i % 2)) as 1 | 2 }));
    const ids = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const p = await conn.next("publish");
      expect(p.packetId).toBeGreaterThan(0);
      expect(ids.has(p.packetId!)).toBe(false);
      ids.add(p.packetId!);
    }
    for (const p of conn.packets.filter((x) => x.type === "publish")) {
      if (p.type !== "publish") continue;
      if (p.qos === 1) conn.send({ type: "puback", packetId: p.packetId! });
      else conn.send({ type: "pubrec", packetId: p.packetId! });
    }
    for (let i = 0; i < 150; i++) {
      const rel = await conn.next("pubrel");
      conn.send({ type: "pubcomp", packetId: rel.packetId });
    }
    await Promise.all(pending);
    expect(client.stats().inflight).toBe(0);
  });

  it("maxInflight holds further QoS 1/2 messages until acks make room, in order", async () => {
    const { client, conn } = await connected({ maxInflight: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => client.publish("t", String(n), { qos: 1 }));
    const first = await conn.next("publish");
    const second = await conn.next("publish");
    await settle();
    expect(conn.unread()).toEqual([]);
    expect(client.stats()).toMatchObject({ inflight: 2, queued: 3 });
    conn.send({ type: "puback", packetId: first.packetId! });
    const third = await conn.next("publish");
    expect(text(third.payload)).toBe("3");
    conn.send({ type: "puback", packetId: second.packetId! }, { type: "puback", packetId: third.packetId! });
    const rest = [await conn.next("publish"), await conn.next("publish")];
    expect(rest.map((p) => text(p.payload))).toEqual(["4", "5"]);
    for (const p of rest) conn.send({ type: "puback", packetId: p.packetId! });
    await Promise.all(all);
  });
});

describe("unexpected acknowledgements", () => {
  it("ignores unknown PUBACK and PUBCOMP, answers unknown PUBREC with PUBREL and unknown PUBREL with PUBCOMP", async () => {
    const { client, conn } = await connected();
    conn.send({ type: "puback", packetId: 77 }, { type: "pubcomp", packetId: 78 }, { type: "pubrec", packetId: 79 }, { type: "pubrel", packetId: 80 });
    expect(await conn.next("pubrel")).toEqual({ type: "pubrel", packetId: 79 });
    expect(await conn.next("pubcomp")).toEqual({ type: "pubcomp", packetId: 80 });
    await settle();
    expect(client.connected).toBe(true);
    expect(conn.unread()).toEqual([]);
  });
});

describe("session resume", () => {
  it("with session present, resends unacked PUBLISH with DUP=1 and the same id, and PUBREL (not PUBLISH) after PUBREC, in original order, before anything new", async () => {
    const rig = await connected({ clean: false, clientId: "gw-01" });
    const { client } = rig;
    const a = client.publish("t/a", "a", { qos: 1 });
    const b = client.publish("t/b", "b", { qos: 2 });
    const c = client.publish("t/c", "c", { qos: 2 });
    const pa = await rig.conn.next("publish");
    const pb = await rig.conn.next("publish");
    const pc = await rig.conn.next("publish");
    rig.conn.send({ type: "pubrec", packetId: pb.packetId! });
    await rig.conn.next("pubrel");
    rig.conn.drop();
    await settle();
    const d = client.publish("t/d", "d", { qos: 1 }); // new, made while offline
    await rig.clock.advance(8_000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(true);
    const replay = [await conn.next(), await conn.next(), await conn.next(), await conn.next()];
    expect(replay).toEqual([
      { type: "publish", topic: "t/a", payload: bytes("a"), qos: 1, retain: false, dup: true, packetId: pa.packetId },
      { type: "pubrel", packetId: pb.packetId },
      { type: "publish", topic: "t/c", payload: bytes("c"), qos: 2, retain: false, dup: true, packetId: pc.packetId },
      expect.objectContaining({ type: "publish", topic: "t/d", dup: false }),
    ]);
    const pd = replay[3] as { packetId: number };
    conn.send({ type: "puback", packetId: pa.packetId! }, { type: "pubcomp", packetId: pb.packetId! }, { type: "pubrec", packetId: pc.packetId! });
    expect(await conn.next("pubrel")).toEqual({ type: "pubrel", packetId: pc.packetId });
    conn.send({ type: "pubcomp", packetId: pc.packetId! }, { type: "puback", packetId: pd.packetId });
    await Promise.all([a, b, c, d]);
  });

  it("without session present, resubscribes every active subscription and resends unacked messages as new", async () => {
    const rig = await connected({ clean: false, clientId: "gw-02" });
    const subscribing = rig.client.subscribe(["cmd/#", "ota/+"], { qos: 1 });
    const sub = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: sub.packetId, granted: [1, 1] });
    await subscribing;
    const pending = rig.client.publish("t/x", "x", { qos: 1 });
    const first = await rig.conn.next("publish");
    const conn = await reconnect(rig, false);
    const resub = await conn.next("subscribe");
    expect(resub.subscriptions).toEqual([
      { topic: "cmd/#", qos: 1 },
      { topic: "ota/+", qos: 1 },
    ]);
    const again = await conn.next("publish");
    expect(again).toMatchObject({ topic: "t/x", dup: false, qos: 1 });
    expect(again.packetId).toBe(first.packetId);
    conn.send({ type: "suback", packetId: resub.packetId, granted: [1, 1] }, { type: "puback", packetId: again.packetId! });
    await pending;
  });

  it("with clean=true, in-flight QoS 1/2 messages are still resent after a reconnect", async () => {
    const rig = await connected({ clean: true });
    const pending = rig.client.publish("t/y", "y", { qos: 2 });
    await rig.conn.next("publish");
    const conn = await reconnect(rig, false);
    const again = await conn.next("publish");
    expect(again).toMatchObject({ topic: "t/y", qos: 2, dup: false });
    conn.send({ type: "pubrec", packetId: again.packetId! });
    await conn.next("pubrel");
    conn.send({ type: "pubcomp", packetId: again.packetId! });
    await pending;
  });
});

describe("incoming messages", () => {
  it("delivers a QoS 2 message once even when the broker repeats the PUBLISH before PUBREL", async () => {
    const { client, conn } = await connected();
    const got: string[] = [];
    client.on("message", (m) => got.push(text(m.payload)));
    const publish = { type: "publish", topic: "cmd/reboot", payload: bytes("now"), qos: 2, retain: false, dup: false, packetId: 5 } as const;
    conn.send(publish);
    expect(await conn.next("pubrec")).toEqual({ type: "pubrec", packetId: 5 });
    conn.send({ ...publish, dup: true });
    expect(await conn.next("pubrec")).toEqual({ type: "pubrec", packetId: 5 });
    conn.send({ type: "pubrel", packetId: 5 });
    expect(await conn.next("pubcomp")).toEqual({ type: "pubcomp", packetId: 5 });
    // After PUBREL the id is free again: a new message with id 5 is a new message.
    conn.send({ ...publish, payload: bytes("later") });
    await conn.next("pubrec");
    expect(got).toEqual(["now", "later"]);
  });

  it("with manualAck, acks go out only on msg.ack() and in arrival order", async () => {
    const { client, conn } = await connected({ manualAck: true });
    const msgs: Array<{ ack(): void }> = [];
    client.on("message", (m) => msgs.push(m));
    conn.send(
      { type: "publish", topic: "a", payload: bytes("1"), qos: 1, retain: false, dup: false, packetId: 11 },
      { type: "publish", topic: "a", payload: bytes("2"), qos: 2, retain: false, dup: false, packetId: 12 },
      { type: "publish", topic: "a", payload: bytes("3"), qos: 1, retain: false, dup: false, packetId: 13 },
    );
    await settle();
    expect(msgs).toHaveLength(3);
    msgs[2]!.ack();
    await settle();
    expect(conn.unread()).toEqual([]);
    msgs[0]!.ack();
    expect(await conn.next()).toEqual({ type: "puback", packetId: 11 });
    await settle();
    expect(conn.unread()).toEqual([]);
    msgs[1]!.ack();
    msgs[1]!.ack(); // idempotent
    expect([await conn.next(), await conn.next()]).toEqual([
      { type: "pubrec", packetId: 12 },
      { type: "puback", packetId: 13 },
    ]);
    await settle();
    expect(conn.unread()).toEqual([]);
  });

  it("overlapping subscriptions each get a message once, and a retained message in the SUBACK's read is kept", async () => {
    const { client, conn } = await connected();
    const s1p = client.subscribe(["plant/#", "plant/+/temp"], { qos: 1 });
    const req1 = await conn.next("subscribe");
    // The retained message arrives in the same chunk as the SUBACK.
    conn.send(
      { type: "suback", packetId: req1.packetId, granted: [1, 1] },
      { type: "publish", topic: "plant/p7/temp", payload: bytes("21.5"), qos: 0, retain: true, dup: false },
    );
    const s1 = await s1p;
    const s2p = client.subscribe("plant/p7/temp");
    const req2 = await conn.next("subscribe");
    conn.send({ type: "suback", packetId: req2.packetId, granted: [0] });
    const s2 = await s2p;
    conn.send({ type: "publish", topic: "plant/p7/temp", payload: bytes("22.0"), qos: 0, retain: false, dup: false });
    const it1 = s1[Symbol.asyncIterator]();
    const it2 = s2[Symbol.asyncIterator]();
    expect(text((await it1.next()).value!.payload)).toBe("21.5");
    expect(text((await it1.next()).value!.payload)).toBe("22.0");
    expect(text((await it2.next()).value!.payload)).toBe("22.0");
    await settle();
    // s1 matched the last message through two filters but holds it once.
    const end = s1.unsubscribe();
    const unsub = await conn.next("unsubscribe");
    expect(unsub.topics).toEqual(["plant/#", "plant/+/temp"]);
    conn.send({ type: "unsuback", packetId: unsub.packetId });
    await end;
    expect(await it1.next()).toEqual({ value: undefined, done: true });
  });

  it("unsubscribing one of two subscriptions on the same filter keeps the broker subscription", async () => {
    const { client, conn } = await connected();
    const ap = client.subscribe("x/#");
    conn.send({ type: "suback", packetId: (await conn.next("subscribe")).packetId, granted: [0] });
    const a = await ap;
    const bp = client.subscribe("x/#");
    conn.send({ type: "suback", packetId: (await conn.next("subscribe")).packetId, granted: [0] });
    await bp;
    await a.unsubscribe();
    await settle();
    expect(conn.unread()).toEqual([]);
  });

  it("SUBACK 0x80 rejects with SubscribeError naming the refused filter", async () => {
    const { client, conn } = await connected();
    const p = client.subscribe(["ok/#", "forbidden/#"], { qos: 1 });
    const req = await conn.next("subscribe");
    conn.send({ type: "suback", packetId: req.packetId, granted: [1, 0x80] });
    await expect(p).rejects.toMatchObject({ code: "subscribe-refused", refused: ["forbidden/#"] });
    // The granted filter is released again.
    expect((await conn.next("unsubscribe")).topics).toEqual(["ok/#"]);
  });

  it("a SUBACK with the wrong number of codes closes the connection with a ProtocolError", async () => {
    const { client, conn } = await connected({ reconnect: false });
    const reasons: Error[] = [];
    client.on("disconnect", (d) => reasons.push(d.reason!));
    const p = client.subscribe(["a", "b"]);
    const req = await conn.next("subscribe");
    conn.send({ type: "suback", packetId: req.packetId, granted: [0] });
    await settle();
    expect(reasons[0]).toBeInstanceOf(ProtocolError);
    expect((reasons[0] as ProtocolError).code).toBe("invalid-length");
    expect(client.connected).toBe(false);
    void p.catch(() => undefined);
    await client.end();
    await expect(p).rejects.toMatchObject({ code: "client-closed" });
  });
});

describe("session present with queued messages", () => {
  it("messages that arrive in the same read as the CONNACK are delivered, not taken for packets before CONNACK", async () => {
    const { FakeBroker } = await import("../support/fake-broker.ts");
    const { createClient } = await import("../../src/index.ts");
    const broker = new FakeBroker();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, clientId: "p", clean: false, reconnect: false });
    const got: string[] = [];
    client.on("message", (m) => got.push(text(m.payload)));
    const p = client.connect();
    const conn = await broker.nextConnection();
    await conn.next("connect");
    conn.send(
      { type: "connack", sessionPresent: true, returnCode: 0 },
      { type: "publish", topic: "q", payload: bytes("queued-1"), qos: 1, retain: false, dup: false, packetId: 1 },
      { type: "publish", topic: "q", payload: bytes("queued-2"), qos: 2, retain: false, dup: false, packetId: 2 },
    );
    await p;
    expect(got).toEqual(["queued-1", "queued-2"]);
    expect([await conn.next(), await conn.next()]).toEqual([
      { type: "puback", packetId: 1 },
      { type: "pubrec", packetId: 2 },
    ]);
    expect(client.connected).toBe(true);
  });
});

describe("hostile broker input", () => {
  it("a malformed packet closes the connection with a typed ProtocolError and nothing escapes", async () => {
    const { client, conn } = await connected({ reconnect: false });
    const reasons: Error[] = [];
    client.on("disconnect", (d) => reasons.push(d.reason!));
    conn.send(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01));
    await settle();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: "malformed-remaining-length" });
    expect(conn.closedByClient).toBe(true);
  });

  it("a second CONNACK is a protocol error", async () => {
    const { client, conn } = await connected({ reconnect: false });
    const reasons: Error[] = [];
    client.on("disconnect", (d) => reasons.push(d.reason!));
    conn.send({ type: "connack", sessionPresent: false, returnCode: 0 });
    await settle();
    expect(reasons[0]).toMatchObject({ code: "unexpected-packet-type" });
  });

  it("packets before the first CONNACK fail the connect with the ProtocolError as cause", async () => {
    const { FakeBroker } = await import("../support/fake-broker.ts");
    const { createClient } = await import("../../src/index.ts");
    const broker = new FakeBroker();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, reconnect: false });
    const p = client.connect();
    const conn = await broker.nextConnection();
    await conn.next("connect");
    conn.send(encode({ type: "pingresp" }));
    await expect(p).rejects.toMatchObject({ code: "connection-failed", cause: { code: "unexpected-packet-type" } });
  });
});

describe("publishing before the first connect()", () => {
  it("queues without touching the store until it is open, sends each message once, after what the store held", async () => {
    const { FakeBroker } = await import("../support/fake-broker.ts");
    const { createClient, MemoryStore } = await import("../../src/index.ts");
    const store = new MemoryStore();
    await store.open("early");
    store.putOutgoing({ seq: 7, packetId: 0, state: "publish", topic: "old", payload: bytes("from before"), qos: 1, retain: false });
    const broker = new FakeBroker();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, clientId: "early", clean: false, store, reconnect: false });
    const early = client.publish("new", "early", { qos: 2 });
    const connecting = client.connect();
    const conn = await broker.nextConnection();
    await conn.accept(false);
    await connecting;
    const [first, second] = [await conn.next("publish"), await conn.next("publish")];
    expect([first.topic, second.topic]).toEqual(["old", "new"]);
    conn.send({ type: "puback", packetId: first.packetId! }, { type: "pubrec", packetId: second.packetId! });
    await conn.next("pubrel");
    conn.send({ type: "pubcomp", packetId: second.packetId! });
    await early;
    await settle();
    expect(conn.unread()).toEqual([]);
    expect((await store.open("early")).outgoing).toEqual([]);
  });
});
