/**
 * Hostile broker, part 4: with reconnect on, a protocol error is survivable. The client closes the poisoned
 * connection, schedules a reconnect (fake clock), and on a clean connection resubscribes, resends what was in flight
 * and works normally. What the fault cut off (an unacked message) is redelivered by the broker and acked then.
 */
import { describe, expect, it } from "vitest";
import { ConnectError, encode, ProtocolError, type Packet, type ProtocolErrorCode } from "../../src/index.ts";
import type { FakeConnection } from "../support/fake-broker.ts";
import { deliver, expectProtocolClose, guardProcess, hex, join, open, sent, tick, within, type Rig } from "./malicious-broker-support.ts";

guardProcess();

const RECONNECT = { reconnect: { initialDelay: 1000, maxDelay: 8000, multiplier: 2, jitter: 0.5 } } as const;
const te = new TextEncoder();

/** Lets the reconnect delay pass on the fake clock and accepts the next connection. */
async function nextConnection(rig: Rig, sessionPresent: boolean): Promise<FakeConnection> {
  await rig.clock.advance(8_000);
  const conn = await within(rig.broker.nextConnection(), "reconnection");
  await within(conn.accept(sessionPresent), "CONNECT on the new connection");
  await tick();
  return conn;
}

function reconnectingErrors(rig: Rig): Array<Error | undefined> {
  const out: Array<Error | undefined> = [];
  rig.client.on("reconnecting", (r) => out.push(r.error));
  return out;
}

const FAULTS: Array<[name: string, bytes: string, code: ProtocolErrorCode]> = [
  ["a 5-byte remaining length", "30 ff ff ff ff 01", "malformed-remaining-length"],
  ["a 200 MB SUBACK header", "90 80 80 80 64", "packet-too-large"],
  ["PUBLISH QoS 3", "36 07 00 03 61 2f 62 00 01", "invalid-qos"],
  ["a second CONNACK", "20 02 00 00", "unexpected-packet-type"],
  ["a PINGREQ", "c0 00", "unexpected-packet-type"],
  ["a topic with a surrogate", "30 05 00 03 ed a0 80", "invalid-utf8"],
  ["a wildcard topic", "30 05 00 03 61 2f 23", "invalid-topic"],
  ["PUBACK with packet id 0", "40 02 00 00", "invalid-packet-id"],
];

describe("after a protocol error the client reconnects and works on a clean connection", () => {
  it.each(FAULTS)("%s", async (_name, bytes, code) => {
    const rig = await open(RECONNECT);
    const reconnecting = reconnectingErrors(rig);
    const sub = rig.client.subscribe("cmd/#", { qos: 1 });
    await tick();
    rig.conn.send({ type: "suback", packetId: sent(rig.conn, "subscribe")[0]!.packetId, granted: [1] });
    await within(sub, "subscribe()");
    const inflight = rig.client.publish("up/1", "before the fault", { qos: 1 });
    await tick();
    expect(sent(rig.conn, "publish")).toHaveLength(1);

    deliver(rig.conn, hex(bytes));
    await tick();
    expectProtocolClose(rig, code);
    expect(reconnecting).toHaveLength(1);
    expect(reconnecting[0]).toBe(rig.reasons[0]);

    const conn = await nextConnection(rig, false);
    expect(rig.client.connected).toBe(true);
    // a new session: the subscription is made again, the unacked message resent
    const resub = await conn.next("subscribe");
    expect(resub.subscriptions).toEqual([{ topic: "cmd/#", qos: 1 }]);
    const resent = await conn.next("publish");
    expect(resent).toMatchObject({ topic: "up/1", qos: 1 });
    conn.send({ type: "suback", packetId: resub.packetId, granted: [1] }, { type: "puback", packetId: resent.packetId! });
    await within(inflight, "the in-flight publish");

    // and everything works: QoS 2 out, QoS 1 in
    const q2 = rig.client.publish("up/2", "after", { qos: 2 });
    const p2 = await conn.next("publish");
    conn.send({ type: "pubrec", packetId: p2.packetId! });
    expect(await conn.next("pubrel")).toEqual({ type: "pubrel", packetId: p2.packetId });
    conn.send({ type: "pubcomp", packetId: p2.packetId! }, { type: "publish", topic: "cmd/go", payload: te.encode("go"), qos: 1, retain: false, dup: false, packetId: 9 });
    await within(q2, "QoS 2 publish");
    expect(await conn.next("puback")).toEqual({ type: "puback", packetId: 9 });
    expect(rig.messages.map((m) => m.topic)).toEqual(["cmd/go"]);
    expect(rig.client.stats()).toMatchObject({ reconnects: 1, inflight: 0, connected: true });
    expect(conn.closed).toBe(false);
    expect(rig.reasons).toHaveLength(1);
  });
});

describe("what a fault cut off is redelivered and acknowledged on the next connection", () => {
  it("a QoS 1 PUBLISH delivered just before garbage is delivered again (DUP=1) and acked then", async () => {
    const rig = await open({ ...RECONNECT, clean: false });
    const msg: Packet = { type: "publish", topic: "cmd/x", payload: te.encode("once or more"), qos: 1, retain: false, dup: false, packetId: 21 };
    deliver(rig.conn, join(encode(msg), hex("f0 00")));
    await tick();
    expectProtocolClose(rig, "invalid-packet-type");
    expect(sent(rig.conn, "puback")).toEqual([]);
    const conn = await nextConnection(rig, true);
    conn.send({ ...msg, dup: true });
    expect(await conn.next("puback")).toEqual({ type: "puback", packetId: 21 });
    expect(rig.messages.map((m) => [m.topic, m.dup])).toEqual([
      ["cmd/x", false],
      ["cmd/x", true],
    ]);
  });

  it("a QoS 2 PUBLISH delivered just before garbage is not delivered twice when the resumed session redelivers it", async () => {
    const rig = await open({ ...RECONNECT, clean: false });
    const msg: Packet = { type: "publish", topic: "cmd/y", payload: te.encode("exactly once"), qos: 2, retain: false, dup: false, packetId: 22 };
    deliver(rig.conn, join(encode(msg), hex("40 03 00 01 00")));
    await tick();
    expectProtocolClose(rig, "invalid-length");
    expect(sent(rig.conn, "pubrec")).toEqual([]);
    const conn = await nextConnection(rig, true);
    conn.send({ ...msg, dup: true });
    expect(await conn.next("pubrec")).toEqual({ type: "pubrec", packetId: 22 });
    conn.send({ type: "pubrel", packetId: 22 });
    expect(await conn.next("pubcomp")).toEqual({ type: "pubcomp", packetId: 22 });
    expect(rig.messages.map((m) => m.topic)).toEqual(["cmd/y"]);
    expect(conn.closed).toBe(false);
    expect(rig.client.connected).toBe(true);
    expect(rig.reasons).toHaveLength(1); // the fault only
  });

  it("a SUBACK with the wrong count: the SUBSCRIBE is sent again (same id) on the next connection and then granted", async () => {
    const rig = await open(RECONNECT);
    const sub = rig.client.subscribe(["a", "b"], { qos: 1 });
    const req = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: req.packetId, granted: [1] });
    await tick();
    expectProtocolClose(rig, "invalid-length");
    const conn = await nextConnection(rig, false);
    const again = await conn.next("subscribe");
    expect(again).toEqual(req);
    conn.send({ type: "suback", packetId: again.packetId, granted: [1, 0] });
    expect((await within(sub, "subscribe()")).granted).toEqual([1, 0]);
    expect(conn.closed).toBe(false);
  });
});

describe("a hostile CONNACK on a reconnect attempt", () => {
  it("fails that attempt with a ConnectError caused by the ProtocolError, schedules another, and the next one works", async () => {
    const rig = await open(RECONNECT);
    const reconnecting = reconnectingErrors(rig);
    rig.conn.drop(new Error("broker restart"));
    await tick();
    await rig.clock.advance(8_000);
    const bad = await within(rig.broker.nextConnection(), "first reconnection");
    await bad.next("connect");
    deliver(bad, hex("20 02 01 05")); // refusal with session present
    await tick();
    expect(bad.closedByClient).toBe(true);
    expect(reconnecting).toHaveLength(2);
    const err = reconnecting[1] as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe("connection-failed");
    expect(err.cause).toBeInstanceOf(ProtocolError);
    expect((err.cause as ProtocolError).code).toBe("invalid-connack-flags");
    expect(rig.client.connected).toBe(false);

    const good = await nextConnection(rig, false);
    expect(rig.client.connected).toBe(true);
    const q = rig.client.publish("ok", "1", { qos: 1 });
    const p = await good.next("publish");
    good.send({ type: "puback", packetId: p.packetId! });
    await within(q, "publish()");
    expect(rig.reasons).toHaveLength(1); // only the drop: the failed attempt never connected
  });
});
