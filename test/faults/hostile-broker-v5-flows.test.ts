/**
 * Hostile MQTT 5 broker, flows (issue #17): valid v5 packets the client does not expect (acks with failure reason
 * codes for ids it never used), limits broken both ways (a packet over this client's Maximum Packet Size; a CONNACK
 * whose Maximum Packet Size is smaller than what the client sends; a Receive Maximum of 0), a server DISCONNECT in
 * the middle of a QoS 2 exchange in either direction, and reconnecting after a v5 protocol fault. For each: the typed
 * outcome, nothing acknowledged is lost (QoS 2 completes exactly once after the reconnect), the process stays up.
 */
import { describe, expect, it } from "vitest";
import { ConnectError, ConnectionLostError, EdgemqError, ProtocolError, PublishError, type ProtocolErrorCode } from "../../src/index.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";
import { encodeServerPacket5 } from "../../src/mqtt/v5/encode-server.ts";
import { guardProcess, hex, join, tick, varint, within } from "./malicious-broker-support.ts";
import { deliver5, expectProtocolClose5, expectStillConnected5, open5, reconnect5, sent5, type Rig5 } from "./malicious-broker-v5-support.ts";

guardProcess();

const te = new TextEncoder();
const RECONNECT = { reconnect: { initialDelay: 1000, maxDelay: 8000, multiplier: 2, jitter: 0.5 } } as const;
const PERSISTENT = { ...RECONNECT, clean: false, sessionExpiryInterval: 600 } as const;
const publish5 = (topic: string, payload: string, qos: 0 | 1 | 2, packetId?: number, extra: Partial<Extract<Packet5, { type: "publish" }>> = {}): Packet5 => ({
  type: "publish",
  topic,
  payload: te.encode(payload),
  qos,
  retain: false,
  dup: false,
  ...(packetId !== undefined ? { packetId } : {}),
  ...extra,
});

describe("valid v5 acks the client does not expect: it stays connected", () => {
  it("PUBACK, PUBREC and PUBCOMP with failure reason codes for ids never used are ignored; in-flight messages are untouched", async () => {
    const rig = await open5();
    const q1 = rig.client.publish("t/1", "one", { qos: 1 });
    const q2 = rig.client.publish("t/2", "two", { qos: 2 });
    await tick();
    const [p1, p2] = sent5(rig.conn, "publish");
    const ids = new Set([p1!.packetId, p2!.packetId]);
    const unknown = [9, 10, 11, 65535].filter((id) => !ids.has(id));
    rig.conn.skipAll();
    const before = rig.conn.writes.length;
    rig.conn.send(
      { type: "puback", packetId: unknown[0]!, reasonCode: 0x87, properties: { reasonString: "not yours" } },
      { type: "puback", packetId: unknown[1]!, reasonCode: 0x97 },
      { type: "pubrec", packetId: unknown[2]!, reasonCode: 0x80, properties: { userProperties: [["a", "b"]] } },
      { type: "pubrec", packetId: unknown[3]!, reasonCode: 0x99 },
      { type: "pubcomp", packetId: unknown[0]!, reasonCode: 0x92 },
      { type: "puback", packetId: unknown[1]!, reasonCode: 0x10 },
    );
    await tick();
    expectStillConnected5(rig);
    expect(rig.conn.writes.length).toBe(before); // a refusing PUBREC gets no PUBREL [MQTT-4.3.3-4]
    expect(rig.client.stats().inflight).toBe(2);
    // the real acks still complete them
    rig.conn.send({ type: "puback", packetId: p1!.packetId!, reasonCode: 0 }, { type: "pubrec", packetId: p2!.packetId!, reasonCode: 0 });
    expect(await rig.conn.next("pubrel")).toMatchObject({ type: "pubrel", packetId: p2!.packetId });
    rig.conn.send({ type: "pubcomp", packetId: p2!.packetId!, reasonCode: 0 });
    await within(Promise.all([q1, q2]), "the in-flight publishes");
    expect(rig.client.stats().inflight).toBe(0);
    expectStillConnected5(rig);
  });

  it("a failure reason code on a known id rejects only that publish (publish-refused); the others complete", async () => {
    const rig = await open5();
    const done = [1, 2, 3].map((i) => rig.client.publish(`t/${i}`, String(i), { qos: 1 }).then(() => "ok", (e: unknown) => e));
    await tick();
    const ps = sent5(rig.conn, "publish");
    rig.conn.send(
      { type: "puback", packetId: ps[0]!.packetId!, reasonCode: 0 },
      { type: "puback", packetId: ps[1]!.packetId!, reasonCode: 0x87, properties: { reasonString: "no" } },
      { type: "puback", packetId: ps[1]!.packetId!, reasonCode: 0 }, // too late: already settled
      { type: "puback", packetId: ps[2]!.packetId!, reasonCode: 0x10 }, // "no matching subscribers" is a success
    );
    const [a, b, c] = await within(Promise.all(done), "publishes");
    expect(a).toBe("ok");
    expect(b).toBeInstanceOf(PublishError);
    expect(b).toMatchObject({ code: "publish-refused", reasonCode: 0x87, reasonString: "no" });
    expect(c).toBe("ok");
    expectStillConnected5(rig);
  });

  it("PUBREL 0x92 for an unknown id is answered with PUBCOMP; SUBACK and UNSUBACK with failure codes for unknown ids are ignored", async () => {
    const rig = await open5();
    rig.conn.send(
      { type: "pubrel", packetId: 12, reasonCode: 0x92 },
      { type: "suback", packetId: 13, reasonCodes: [0x87, 0x8f, 0xa2] },
      { type: "unsuback", packetId: 14, reasonCodes: [0x11, 0x87] },
    );
    expect(await rig.conn.next()).toMatchObject({ type: "pubcomp", packetId: 12 });
    await tick();
    expect(rig.conn.unread()).toEqual([]);
    expectStillConnected5(rig);
  });

  it("repeated User Properties and Subscription Identifiers are valid and delivered", async () => {
    const rig = await open5();
    rig.conn.send(publish5("a/b", "x", 1, 3, { properties: { userProperties: [["k", "1"], ["k", "2"], ["k", "1"]], subscriptionIdentifiers: [1, 2, 268_435_455] } }));
    expect(await rig.conn.next("puback")).toMatchObject({ packetId: 3 });
    expect(rig.messages).toHaveLength(1);
    expect(rig.messages[0]!.properties).toMatchObject({ userProperties: { k: ["1", "2", "1"] }, subscriptionIdentifiers: [1, 2, 268_435_455] });
    expectStillConnected5(rig);
  });

  it("an AUTH with a method while no authentication is under way is never an untyped failure", async () => {
    // Either ignored, or the connection closed with a ProtocolError: what MQTT 5 leaves to the client (4.12).
    const rig = await open5();
    rig.conn.send({ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-256", authenticationData: new Uint8Array([1, 2]) } });
    await tick();
    if (rig.reasons.length > 0) expectProtocolClose5(rig, (rig.reasons[0] as ProtocolError).code);
    else expectStillConnected5(rig);
    expect(rig.errors).toEqual([]);
  });
});

describe("a packet over this client's Maximum Packet Size is a protocol error in MQTT 5 (no skipping)", () => {
  it("a SUBACK header declaring 200 MB is refused at its last byte", async () => {
    const rig = await open5({ maxPacketSize: 1024 });
    expect((rig.conn.packets[0] as Extract<Packet5, { type: "connect" }>).properties?.maximumPacketSize).toBe(1024);
    const header = hex("90 80 80 80 64");
    for (let i = 0; i < header.length - 1; i++) deliver5(rig.conn, header.subarray(i, i + 1));
    expect(rig.reasons).toEqual([]);
    deliver5(rig.conn, header.subarray(header.length - 1));
    expectProtocolClose5(rig, "packet-too-large");
    expect(rig.conn.packets.at(-1)).toMatchObject({ type: "disconnect", reasonCode: 0x95 }); // Packet too large, then closed
  });

  it("a QoS 1 PUBLISH one byte over is refused and not acknowledged; exactly the maximum is delivered and acknowledged", async () => {
    const max = 1024;
    const frame = (size: number): Uint8Array => {
      // 30+qos1 | rl | 00 03 "big" | 00 07 | 00 (no properties) | payload
      const head = 1 + varint(size - 3).length; // size - 3: a 2-byte remaining length for these sizes
      const rl = size - head;
      const payload = new Uint8Array(rl - 2 - 3 - 2 - 1).fill(0x5a);
      return join(Uint8Array.from([0x32, ...varint(rl), 0, 3]), te.encode("big"), Uint8Array.of(0, 7, 0), payload);
    };
    expect(frame(max).length).toBe(max);
    expect(frame(max + 1).length).toBe(max + 1);

    const over = await open5({ maxPacketSize: max });
    deliver5(over.conn, frame(max + 1), true);
    await tick();
    expectProtocolClose5(over, "packet-too-large");
    expect(over.messages).toEqual([]);
    expect(sent5(over.conn, "puback")).toEqual([]);
    expect(over.conn.packets.at(-1)).toMatchObject({ type: "disconnect", reasonCode: 0x95 });

    const exact = await open5({ maxPacketSize: max });
    deliver5(exact.conn, frame(max), true);
    expect(await exact.conn.next("puback")).toMatchObject({ packetId: 7 });
    expect(exact.messages).toHaveLength(1);
    expectStillConnected5(exact);
  });
});

describe("the server's CONNACK limits", () => {
  it("a Maximum Packet Size smaller than a publish: the publish rejects with a typed error and nothing is sent; the connection stays", async () => {
    const rig = await open5({}, { maximumPacketSize: 64 });
    const big = rig.client.publish("plant/7/big", "x".repeat(200), { qos: 1 }).catch((e: unknown) => e);
    const small = rig.client.publish("plant/7/small", "ok", { qos: 1 });
    const err = await within(big, "the oversize publish");
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).code).toBe("payload-too-large");
    const p = await rig.conn.next("publish");
    expect(p.topic).toBe("plant/7/small");
    expect(rig.conn.writes.every((w) => w.length <= 64 || w === rig.conn.writes[0])).toBe(true);
    rig.conn.send({ type: "puback", packetId: p.packetId!, reasonCode: 0 });
    await within(small, "the small publish");
    expectStillConnected5(rig);
  });

  it("a Receive Maximum of 0 on a reconnect attempt fails that attempt (typed); the next attempt resends what was in flight", async () => {
    const rig = await open5(RECONNECT);
    const q = rig.client.publish("up/1", "kept", { qos: 1 });
    await rig.conn.next("publish");
    rig.conn.drop(new Error("broker restart"));
    await tick();
    await rig.clock.advance(8_000);
    const bad = await within(rig.broker.nextConnection(), "first reconnection");
    await bad.next("connect");
    deliver5(bad, hex("20 06 00 00 03 21 00 00"));
    await tick();
    expect(bad.closedByClient).toBe(true);
    const err = rig.reconnecting.at(-1) as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe("connection-failed");
    expect((err.cause as ProtocolError).code).toBe("invalid-property-value");
    expect(bad.packets.map((p) => p.type)).toEqual(["connect"]);

    const good = await reconnect5(rig, false, { receiveMaximum: 1 });
    const again = await good.next("publish");
    expect(again).toMatchObject({ topic: "up/1", qos: 1 });
    good.send({ type: "puback", packetId: again.packetId!, reasonCode: 0 });
    await within(q, "the in-flight publish");
    expect(rig.client.connected).toBe(true);
  });
});

describe("a server DISCONNECT in the middle of a QoS 2 exchange: exactly once after the reconnect", () => {
  it("outgoing, after PUBREC: the PUBREL is sent again (no second PUBLISH) and PUBCOMP completes the publish once", async () => {
    const rig = await open5(PERSISTENT);
    let resolved = 0;
    const q = rig.client.publish("cmd/once", "exactly once", { qos: 2 }).then(() => void resolved++);
    const p = await rig.conn.next("publish");
    rig.conn.send({ type: "pubrec", packetId: p.packetId!, reasonCode: 0 });
    expect(await rig.conn.next("pubrel")).toMatchObject({ packetId: p.packetId });
    rig.conn.send({ type: "disconnect", reasonCode: 0x8b, properties: { reasonString: "restarting" } });
    await tick();
    expect(rig.disconnects).toHaveLength(1);
    expect(rig.disconnects[0]!.reason).toBeInstanceOf(ConnectionLostError);
    expect((rig.disconnects[0]!.reason as ConnectionLostError).code).toBe("server-disconnect");
    expect(rig.disconnects[0]).toMatchObject({ reasonCode: 0x8b, reasonString: "restarting" });
    expect(resolved).toBe(0);

    const conn = await reconnect5(rig, true);
    const rel = await conn.next();
    expect(rel).toMatchObject({ type: "pubrel", packetId: p.packetId });
    conn.send({ type: "pubcomp", packetId: p.packetId!, reasonCode: 0 }, { type: "pubcomp", packetId: p.packetId!, reasonCode: 0 });
    await within(q, "the QoS 2 publish");
    await tick();
    expect(resolved).toBe(1);
    expect([...sent5(rig.conn, "publish"), ...sent5(conn, "publish")]).toHaveLength(1);
    expect(rig.client.stats().inflight).toBe(0);
    expect(conn.closed).toBe(false);
  });

  it("outgoing, before PUBREC: the PUBLISH is sent again with DUP and the same id, and completes once", async () => {
    const rig = await open5(PERSISTENT);
    const q = rig.client.publish("cmd/dup", "exactly once", { qos: 2 });
    const p = await rig.conn.next("publish");
    rig.conn.send({ type: "disconnect", reasonCode: 0x89 });
    await tick();
    expect(rig.disconnects[0]).toMatchObject({ reasonCode: 0x89 });
    const conn = await reconnect5(rig, true);
    const again = await conn.next("publish");
    expect(again).toMatchObject({ topic: "cmd/dup", qos: 2, dup: true, packetId: p.packetId });
    conn.send({ type: "pubrec", packetId: p.packetId!, reasonCode: 0 });
    await conn.next("pubrel");
    conn.send({ type: "pubcomp", packetId: p.packetId!, reasonCode: 0 });
    await within(q, "the QoS 2 publish");
    expect(rig.client.stats().inflight).toBe(0);
  });

  it("incoming, after the client's PUBREC: the redelivered PUBLISH is not delivered again; PUBREL gets PUBCOMP", async () => {
    const rig = await open5(PERSISTENT);
    const msg = publish5("cmd/in", "exactly once", 2, 31);
    rig.conn.send(msg);
    expect(await rig.conn.next("pubrec")).toMatchObject({ packetId: 31 });
    rig.conn.send({ type: "disconnect", reasonCode: 0x98 });
    await tick();
    expect(rig.disconnects[0]).toMatchObject({ reasonCode: 0x98 });
    const conn = await reconnect5(rig, true);
    conn.send({ ...msg, dup: true } as Packet5);
    expect(await conn.next("pubrec")).toMatchObject({ packetId: 31 });
    conn.send({ type: "pubrel", packetId: 31, reasonCode: 0 });
    expect(await conn.next("pubcomp")).toMatchObject({ packetId: 31 });
    expect(rig.messages.map((m) => m.topic)).toEqual(["cmd/in"]);
    expect(conn.closed).toBe(false);
    expect(rig.reasons).toHaveLength(1);
  });

  it("incoming, a DISCONNECT with an invalid reason code mid-exchange: a typed ProtocolError, then the same recovery", async () => {
    const rig = await open5(PERSISTENT);
    const msg = publish5("cmd/in2", "exactly once", 2, 32);
    rig.conn.send(msg);
    await rig.conn.next("pubrec");
    deliver5(rig.conn, hex("e0 01 01"));
    await tick();
    expectProtocolClose5(rig, "invalid-reason-code");
    const conn = await reconnect5(rig, true);
    conn.send({ type: "pubrel", packetId: 32, reasonCode: 0 });
    expect(await conn.next("pubcomp")).toMatchObject({ packetId: 32 });
    conn.send({ ...msg, dup: false } as Packet5); // after PUBCOMP the id is free: a new message
    expect(await conn.next("pubrec")).toMatchObject({ packetId: 32 });
    expect(rig.messages.map((m) => m.topic)).toEqual(["cmd/in2", "cmd/in2"]);
  });
});

const FAULTS: Array<[name: string, bytes: string, code: ProtocolErrorCode]> = [
  ["a PUBACK with a Topic Alias", "40 07 00 01 00 03 23 00 01", "property-not-allowed"],
  ["a PUBLISH with two Topic Aliases", "30 0b 00 01 61 06 23 00 01 23 00 02 68", "duplicate-property"],
  ["a PUBACK with reason code 0x92", "40 03 00 01 92", "invalid-reason-code"],
  ["a topic alias never learnt", "30 06 00 00 03 23 00 02", "invalid-topic-alias"],
  ["a topic alias beyond the maximum", "30 07 00 01 61 03 23 00 09", "invalid-topic-alias"],
  ["a PUBLISH with an empty topic and no alias", "30 03 00 00 00", "invalid-topic"],
  ["an AUTH without a method", "f0 02 18 00", "missing-property"],
  ["a server DISCONNECT with a Session Expiry Interval", "e0 07 00 05 11 00 00 00 01", "property-not-allowed"],
  ["a SUBACK declaring 2 MiB", "90 80 80 80 01", "packet-too-large"],
];

describe("after a v5 protocol error the client reconnects and works on a clean connection", () => {
  it.each(FAULTS)("%s", async (_name, bytes, code) => {
    const rig = await open5({ ...RECONNECT, topicAliasMaximum: 2 });
    const sub = rig.client.subscribe("cmd/#", { qos: 1, noLocal: true });
    const req = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: req.packetId, reasonCodes: [1] });
    await within(sub, "subscribe()");
    // an alias learnt on this connection, to show the next one starts without it
    rig.conn.send(publish5("cmd/learnt", "a", 0, undefined, { properties: { topicAlias: 1 } }));
    const inflight = rig.client.publish("up/1", "before the fault", { qos: 1 });
    await rig.conn.next("publish");

    deliver5(rig.conn, hex(bytes));
    await tick();
    expectProtocolClose5(rig, code);
    expect(rig.reconnecting).toEqual([rig.reasons[0]]);

    const conn = await reconnect5(rig, false);
    const resub = await conn.next("subscribe");
    expect(resub.subscriptions).toMatchObject([{ topic: "cmd/#", qos: 1, noLocal: true }]);
    const resent = await conn.next("publish");
    expect(resent).toMatchObject({ topic: "up/1", qos: 1 });
    conn.send({ type: "suback", packetId: resub.packetId, reasonCodes: [1] }, { type: "puback", packetId: resent.packetId!, reasonCode: 0 });
    await within(inflight, "the in-flight publish");

    // QoS 2 out, QoS 1 in with a new alias, then that alias alone
    const q2 = rig.client.publish("up/2", "after", { qos: 2 });
    const p2 = await conn.next("publish");
    conn.send({ type: "pubrec", packetId: p2.packetId!, reasonCode: 0 });
    expect(await conn.next("pubrel")).toMatchObject({ packetId: p2.packetId });
    conn.send(
      { type: "pubcomp", packetId: p2.packetId!, reasonCode: 0 },
      publish5("cmd/go", "go", 1, 9, { properties: { topicAlias: 2 } }),
      publish5("", "again", 1, 10, { properties: { topicAlias: 2 } }),
    );
    await within(q2, "QoS 2 publish");
    expect(await conn.next("puback")).toMatchObject({ packetId: 9 });
    expect(await conn.next("puback")).toMatchObject({ packetId: 10 });
    expect(rig.messages.map((m) => m.topic)).toEqual(["cmd/learnt", "cmd/go", "cmd/go"]);
    expect(rig.client.stats()).toMatchObject({ reconnects: 1, inflight: 0, connected: true });

    // the alias of the first connection is gone: using it alone is a fault again
    deliver5(conn, hex("30 06 00 00 03 23 00 01"));
    await tick();
    expectProtocolClose5(rig, "invalid-topic-alias", conn, 2);
    expect(rig.reasons[1]).toBeInstanceOf(EdgemqError);
  });
});

describe("the whole v5 corpus in one read after a fault: nothing behind the fault is processed", () => {
  it("a valid QoS 1 PUBLISH, then a duplicate property, then more valid packets: one delivery and its ack, then the DISCONNECT naming the fault, nothing for what came behind it", async () => {
    const rig = await open5({ clean: false, sessionExpiryInterval: 60 });
    deliver5(
      rig.conn,
      join(
        encodeServerPacket5(publish5("cmd/1", "run", 1, 11)),
        hex("40 0c 00 01 00 08 1f 00 01 61 1f 00 01 62"),
        encodeServerPacket5(publish5("cmd/2", "never", 1, 12)),
        encodeServerPacket5({ type: "pubrel", packetId: 13, reasonCode: 0 }),
      ),
    );
    await tick();
    expectProtocolClose5(rig, "duplicate-property");
    expect(rig.messages.map((m) => m.topic)).toEqual(["cmd/1"]);
    // The DISCONNECT flushes what was queued before the fault (the delivered message's PUBACK) ahead of it.
    expect(rig.conn.packets).toMatchObject([{ type: "connect" }, { type: "puback", packetId: 11 }, { type: "disconnect", reasonCode: 0x82 }]); // a property twice: Protocol Error
  });
});
