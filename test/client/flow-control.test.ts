/**
 * Inbound flow control against the scripted broker: a QoS 1/2 ack goes out only once every consumer took the
 * message, in arrival order; unread subscriptions delay nothing; QoS 0 overflow is bounded and reported once per
 * episode; oversize PUBLISHes are skipped and acknowledged.
 */
import { describe, expect, it } from "vitest";
import { ClientWarning, encode, type Message, type Packet, type QoS } from "../../src/index.ts";
import { connected, reconnect, settle, text } from "./helpers.ts";
import type { FakeConnection } from "../support/fake-broker.ts";

const te = new TextEncoder();
const publish = (topic: string, body: string, qos: QoS, packetId?: number): Packet => ({
  type: "publish",
  topic,
  payload: te.encode(body),
  qos,
  retain: false,
  dup: false,
  packetId: qos > 0 ? packetId : undefined,
});
const acks = (conn: FakeConnection) =>
  conn.packets.filter((p): p is Extract<Packet, { packetId: number }> => p.type === "puback" || p.type === "pubrec").map((p) => `${p.type} ${p.packetId}`);

/** The packets of `type` the client has sent so far (whatever else came in between). */
const sentOf = <T extends Packet["type"]>(conn: FakeConnection, type: T) =>
  conn.packets.filter((p): p is Extract<Packet, { type: T }> => p.type === type);

/** Subscribes and answers the SUBACK; returns the Subscription and its iterator (started, so it counts as read). */
async function subscribed(rig: Awaited<ReturnType<typeof connected>>, filter: string, qos: QoS, maxBuffered?: number) {
  const before = sentOf(rig.conn, "subscribe").length;
  const pending = rig.client.subscribe(filter, { qos, maxBuffered });
  await settle();
  const s = sentOf(rig.conn, "subscribe")[before]!;
  rig.conn.send({ type: "suback", packetId: s.packetId, granted: [qos] });
  const sub = await pending;
  return { sub, it: sub[Symbol.asyncIterator]() };
}

describe("acks wait for the consumers", () => {
  it("a QoS 1 message held by an iterated subscription is acked when the iterator takes it, in arrival order", async () => {
    const rig = await connected();
    const { it } = await subscribed(rig, "c/#", 1);
    rig.conn.send(publish("c/1", "a", 1, 11), publish("c/2", "b", 1, 12), publish("c/3", "c", 1, 13));
    await settle();
    expect(acks(rig.conn)).toEqual([]); // nobody has taken them yet: the broker's window throttles it
    expect(text((await it.next()).value.payload)).toBe("a");
    await settle();
    expect(acks(rig.conn)).toEqual(["puback 11"]);
    await it.next();
    await it.next();
    await settle();
    expect(acks(rig.conn)).toEqual(["puback 11", "puback 12", "puback 13"]);
    expect(rig.client.stats().dropped).toBe(0);
  });

  it("QoS 2: the PUBREC waits for the iterator; a repeat before PUBREL is not answered ahead of it, nor delivered twice", async () => {
    const rig = await connected();
    const { sub, it } = await subscribed(rig, "q2", 2);
    rig.conn.send(publish("q2", "x", 2, 5));
    rig.conn.send({ ...(publish("q2", "x", 2, 5) as Extract<Packet, { type: "publish" }>), dup: true });
    await settle();
    expect(acks(rig.conn)).toEqual([]);
    expect(sub.buffered).toBe(1);
    await it.next();
    await settle();
    expect(acks(rig.conn)).toEqual(["pubrec 5"]);
    rig.conn.send({ type: "pubrel", packetId: 5 });
    await settle();
    expect(sentOf(rig.conn, "pubcomp")).toEqual([{ type: "pubcomp", packetId: 5 }]);
    expect(acks(rig.conn)).toEqual(["pubrec 5"]); // the repeat was answered by the first PUBREC
  });

  it("a message for nobody behind a held one waits its turn: acks never overtake (arrival order)", async () => {
    const rig = await connected();
    const { it } = await subscribed(rig, "slow", 1);
    rig.conn.send(publish("slow", "1", 1, 1), publish("other", "2", 1, 2), publish("other", "3", 1, 3));
    await settle();
    expect(acks(rig.conn)).toEqual([]);
    await it.next();
    await settle();
    expect(acks(rig.conn)).toEqual(["puback 1", "puback 2", "puback 3"]);
  });

  it("two iterated subscriptions matching one message: acked when both have taken it", async () => {
    const rig = await connected();
    const a = await subscribed(rig, "x/+", 1);
    const b = await subscribed(rig, "x/#", 1);
    rig.conn.send(publish("x/y", "m", 1, 7));
    await settle();
    await a.it.next();
    await settle();
    expect(acks(rig.conn)).toEqual([]);
    await b.it.next();
    await settle();
    expect(acks(rig.conn)).toEqual(["puback 7"]);
  });

  it("a message listener alone: acked as soon as it has run", async () => {
    const rig = await connected();
    const seen: string[] = [];
    rig.client.on("message", (m) => seen.push(m.topic));
    rig.conn.send(publish("l", "1", 1, 1), publish("l", "2", 2, 2));
    await settle();
    expect(seen).toEqual(["l", "l"]);
    expect(acks(rig.conn)).toEqual(["puback 1", "pubrec 2"]);
  });

  it("an unread subscription (the on('message') pattern) delays no ack and keeps only maxBuffered messages", async () => {
    const rig = await connected();
    let heard = 0;
    rig.client.on("message", () => heard++);
    const pending = rig.client.subscribe("u/#", { qos: 1, maxBuffered: 5 });
    const s = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: s.packetId, granted: [1] });
    const sub = await pending;
    await settle(); // the turn after subscribe() resolved: nobody iterated
    for (let i = 1; i <= 20; i++) rig.conn.send(publish("u/x", String(i), 1, i));
    await settle();
    expect(heard).toBe(20);
    expect(acks(rig.conn)).toHaveLength(20);
    expect(sub.buffered).toBe(5);
    // a late reader gets the newest five, in order
    const it = sub[Symbol.asyncIterator]();
    const late: string[] = [];
    for (let i = 0; i < 5; i++) late.push(text((await it.next()).value.payload));
    expect(late).toEqual(["16", "17", "18", "19", "20"]);
    expect(sub.dropped).toBe(15);
  });

  it("messages that come with the SUBACK are kept for the for-await that starts right after subscribe() resolves", async () => {
    const rig = await connected();
    const pending = rig.client.subscribe("r/#", { qos: 1 });
    const s = await rig.conn.next("subscribe");
    const retained = Array.from({ length: 1500 }, (_, i) => ({ ...(publish(`r/${i}`, String(i), 1, i + 1) as Extract<Packet, { type: "publish" }>), retain: true }));
    rig.conn.send({ type: "suback", packetId: s.packetId, granted: [1] }, ...retained);
    const got: number[] = [];
    for await (const m of await pending) {
      got.push(Number(text(m.payload)));
      if (got.length === 1500) break;
    }
    expect(got).toEqual(retained.map((_, i) => i));
    await settle();
    expect(acks(rig.conn)).toHaveLength(1500);
  });

  it("break out of for await releases what it held: the acks behind go out", async () => {
    const rig = await connected();
    const { sub } = await subscribed(rig, "b", 1);
    rig.conn.send(publish("b", "1", 1, 1), publish("b", "2", 1, 2), publish("b", "3", 1, 3));
    for await (const m of sub) {
      expect(text(m.payload)).toBe("1");
      break;
    }
    await settle();
    expect(acks(rig.conn)).toEqual(["puback 1", "puback 2", "puback 3"]);
    expect(sentOf(rig.conn, "unsubscribe").map((u) => u.topics)).toEqual([["b"]]);
  });
});

describe("manualAck", () => {
  it("acks only on msg.ack(), in arrival order, even when the iterator took the message", async () => {
    const rig = await connected({ manualAck: true });
    const { it } = await subscribed(rig, "m", 1);
    rig.conn.send(publish("m", "1", 1, 1), publish("m", "2", 1, 2));
    const first = (await it.next()).value as Message;
    const second = (await it.next()).value as Message;
    await settle();
    expect(acks(rig.conn)).toEqual([]);
    second.ack();
    await settle();
    expect(acks(rig.conn)).toEqual([]); // behind the first
    first.ack();
    first.ack(); // idempotent
    await settle();
    expect(acks(rig.conn)).toEqual(["puback 1", "puback 2"]);
  });

  it("messages the application can never ack (buffered when the loop broke) are acked by the library", async () => {
    const rig = await connected({ manualAck: true });
    const { sub } = await subscribed(rig, "m", 1);
    const later: Message[] = [];
    rig.conn.send(...Array.from({ length: 25 }, (_, i) => publish("m", String(i), 1, i + 1)));
    for await (const m of sub) {
      m.ack();
      break;
    }
    const other = await subscribed(rig, "n", 1);
    rig.conn.send(publish("n", "after", 1, 100));
    later.push((await other.it.next()).value);
    later[0]!.ack();
    await settle();
    expect(acks(rig.conn)).toEqual([...Array.from({ length: 25 }, (_, i) => `puback ${i + 1}`), "puback 100"]);
  });

  it("a message no consumer matches is acked by the library at once", async () => {
    const rig = await connected({ manualAck: true });
    rig.conn.send(publish("nobody", "x", 2, 9));
    await settle();
    expect(acks(rig.conn)).toEqual(["pubrec 9"]);
  });
});

describe("QoS 0 with a slow iterator", () => {
  it("keeps maxBuffered, drops the oldest, counts them, and warns once per episode", async () => {
    const rig = await connected();
    const warnings: ClientWarning[] = [];
    rig.client.on("warning", (w) => warnings.push(w));
    const { sub, it } = await subscribed(rig, "z", 0, 10);
    for (let i = 0; i < 30; i++) rig.conn.send(publish("z", String(i), 0));
    await settle();
    expect(sub.buffered).toBe(10);
    expect(sub.dropped).toBe(20);
    expect(rig.client.stats().dropped).toBe(20);
    expect(warnings.map((w) => w.code)).toEqual(["slow-consumer"]);
    expect(warnings[0]!.filters).toEqual(["z"]);
    const got: string[] = [];
    for (let i = 0; i < 10; i++) got.push(text((await it.next()).value.payload));
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => String(20 + i)));
    // caught up: the next flood is a new episode
    for (let i = 0; i < 15; i++) rig.conn.send(publish("z", String(i), 0));
    await settle();
    expect(warnings).toHaveLength(2);
  });

  it("held QoS 1 messages are never the ones dropped", async () => {
    const rig = await connected();
    const { sub, it } = await subscribed(rig, "mix", 1, 2);
    rig.conn.send(publish("mix", "q1", 1, 1), publish("mix", "a", 0), publish("mix", "b", 0), publish("mix", "c", 0));
    await settle();
    expect(sub.dropped).toBe(1);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(text((await it.next()).value.payload));
    expect(got).toEqual(["q1", "b", "c"]);
  });
});

describe("a PUBLISH over maxPacketSize", () => {
  it("is skipped and acknowledged per its QoS, reported once, and what follows is delivered", async () => {
    const rig = await connected({ maxPacketSize: 1024 });
    const warnings: ClientWarning[] = [];
    rig.client.on("warning", (w) => warnings.push(w));
    const got: string[] = [];
    rig.client.on("message", (m) => got.push(text(m.payload)));
    const big = "x".repeat(5000);
    const bytes = [encode(publish("big/1", big, 1, 1)), encode(publish("ok", "after1", 1, 2)), encode(publish("big/2", big, 2, 3)), encode(publish("ok", "after2", 0))];
    for (const b of bytes) for (let i = 0; i < b.length; i += 700) rig.conn.send(b.subarray(i, i + 700));
    await settle();
    expect(got).toEqual(["after1", "after2"]);
    expect(acks(rig.conn)).toEqual(["puback 1", "puback 2", "pubrec 3"]);
    expect(warnings.map((w) => [w.code, w.topic])).toEqual([
      ["message-too-large", "big/1"],
      ["message-too-large", "big/2"],
    ]);
    expect(warnings[0]!.size).toBeGreaterThan(5000);
    expect(rig.client.connected).toBe(true);
    expect(rig.client.stats().dropped).toBe(2);
    // its QoS 2 flow completes like any other
    rig.conn.send({ type: "pubrel", packetId: 3 });
    await settle();
    expect(sentOf(rig.conn, "pubcomp")).toEqual([{ type: "pubcomp", packetId: 3 }]);
  });
});

describe("across a reconnect", () => {
  it("a held QoS 2 message is delivered once: its redelivery on the resumed session is answered as a repeat", async () => {
    const rig = await connected({ clean: false, clientId: "held" });
    const { it } = await subscribed(rig, "h", 2);
    rig.conn.send(publish("h", "once", 2, 4));
    await settle();
    const conn = await reconnect(rig, true);
    conn.send({ ...(publish("h", "once", 2, 4) as Extract<Packet, { type: "publish" }>), dup: true });
    await settle();
    expect(sentOf(conn, "pubrec")).toEqual([{ type: "pubrec", packetId: 4 }]);
    expect(text((await it.next()).value.payload)).toBe("once");
    let more = false;
    void it.next().then(() => (more = true));
    await settle();
    expect(more).toBe(false);
  });
});
