/**
 * Hostile broker, part 2: packets that are valid but unexpected (the client stays connected and answers as the
 * spec says), and valid traffic followed by a fault in the same read (what came before the fault is processed,
 * nothing is acknowledged after it).
 */
import { describe, expect, it } from "vitest";
import { ConnectError, encode, MemoryStore, ProtocolError, type Packet, type SubackCode } from "../../src/index.ts";
import {
  deliver,
  expectProtocolClose,
  expectStillConnected,
  firstAnswer,
  guardProcess,
  hex,
  join,
  open,
  sent,
  tick,
  within,
} from "./malicious-broker-support.ts";

guardProcess();

const te = new TextEncoder();
const publish = (topic: string, payload: string, qos: 0 | 1 | 2, packetId?: number, dup = false): Packet => ({
  type: "publish",
  topic,
  payload: te.encode(payload),
  qos,
  retain: false,
  dup,
  packetId,
});
const GARBAGE = hex("30 ff ff ff ff 01"); // a 5-byte remaining length

describe("valid but unexpected: the client stays connected", () => {
  it("ignores PUBACK and PUBCOMP for ids it never used, writing nothing", async () => {
    const rig = await open();
    const before = rig.conn.writes.length;
    rig.conn.send({ type: "puback", packetId: 1 }, { type: "pubcomp", packetId: 2 }, { type: "puback", packetId: 65535 });
    await tick();
    expectStillConnected(rig);
    expect(rig.conn.writes.length).toBe(before);
  });

  it("answers an unknown PUBREC with PUBREL and an unknown PUBREL with PUBCOMP, in order", async () => {
    const rig = await open();
    rig.conn.send({ type: "pubrec", packetId: 9 }, { type: "pubrel", packetId: 10 }, { type: "pubrec", packetId: 65535 });
    expect(await rig.conn.next()).toEqual({ type: "pubrel", packetId: 9 });
    expect(await rig.conn.next()).toEqual({ type: "pubcomp", packetId: 10 });
    expect(await rig.conn.next()).toEqual({ type: "pubrel", packetId: 65535 });
    await tick();
    expect(rig.conn.unread()).toEqual([]);
    expectStillConnected(rig);
  });

  it("accepts PINGRESP without PINGREQ, repeatedly", async () => {
    const rig = await open();
    rig.conn.send({ type: "pingresp" }, { type: "pingresp" }, { type: "pingresp" });
    await tick();
    expectStillConnected(rig);
    expect(sent(rig.conn, "pingreq")).toEqual([]);
  });

  it("ignores UNSUBACK and SUBACK for unknown ids (any number of return codes)", async () => {
    const rig = await open();
    rig.conn.send(
      { type: "unsuback", packetId: 5 },
      { type: "suback", packetId: 6, granted: [0] },
      { type: "suback", packetId: 7, granted: [0, 1, 2, 0x80, 0x80] },
    );
    await tick();
    expectStillConnected(rig);
    expect(rig.conn.packets.map((p) => p.type)).toEqual(["connect"]);
  });

  it("a duplicate SUBACK after subscribe() resolved is ignored, even with a different count", async () => {
    const rig = await open();
    const sub = rig.client.subscribe(["a", "b"], { qos: 1 });
    const req = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: req.packetId, granted: [1, 0] });
    expect((await within(sub, "subscribe()")).granted).toEqual([1, 0]);
    rig.conn.send({ type: "suback", packetId: req.packetId, granted: [1, 0] }, { type: "suback", packetId: req.packetId, granted: [2] });
    await tick();
    expectStillConnected(rig);
  });

  it("a SUBACK granting other QoS than requested resolves with what was granted", async () => {
    const rig = await open();
    const sub = rig.client.subscribe(["x/#", "y/+"], { qos: 1 });
    const req = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: req.packetId, granted: [0, 2] });
    expect((await within(sub, "subscribe()")).granted).toEqual([0, 2]);
    expectStillConnected(rig);
  });

  it("an UNSUBACK answering a SUBSCRIBE's id settles nothing; the real SUBACK still does", async () => {
    const rig = await open();
    let settled = false;
    const sub = rig.client.subscribe("c").finally(() => (settled = true));
    const req = await rig.conn.next("subscribe");
    rig.conn.send({ type: "unsuback", packetId: req.packetId });
    await tick();
    expect(settled).toBe(false);
    expectStillConnected(rig);
    rig.conn.send({ type: "suback", packetId: req.packetId, granted: [0] });
    await within(sub, "subscribe()");
  });

  it("wrong or repeated acks for in-flight messages are ignored; the right ones still complete them", async () => {
    const rig = await open();
    const q1 = rig.client.publish("t/1", "one", { qos: 1 });
    const q2 = rig.client.publish("t/2", "two", { qos: 2 });
    await tick();
    const [p1, p2] = sent(rig.conn, "publish");
    let done1 = false;
    let done2 = false;
    void q1.then(() => (done1 = true));
    void q2.then(() => (done2 = true));
    // PUBREC for a QoS 1 message: no PUBREL, not completed; PUBCOMP for a QoS 2 message before PUBREC: ignored.
    // (A PUBACK for a QoS 2 message completes it: the broker took it at QoS 1; see test/client/broker-quirks.test.ts.)
    rig.conn.send({ type: "pubrec", packetId: p1!.packetId! }, { type: "pubcomp", packetId: p2!.packetId! });
    await tick();
    expect(sent(rig.conn, "pubrel")).toEqual([]);
    expect([done1, done2]).toEqual([false, false]);
    rig.conn.send({ type: "puback", packetId: p1!.packetId! }, { type: "puback", packetId: p1!.packetId! }, { type: "pubrec", packetId: p2!.packetId! });
    await within(q1, "QoS 1 publish");
    await tick();
    expect(sent(rig.conn, "pubrel")).toEqual([{ type: "pubrel", packetId: p2!.packetId }]);
    rig.conn.send({ type: "pubrec", packetId: p2!.packetId! }); // repeated PUBREC: PUBREL again
    await tick();
    expect(sent(rig.conn, "pubrel")).toHaveLength(2);
    rig.conn.send({ type: "pubcomp", packetId: p2!.packetId! }, { type: "pubcomp", packetId: p2!.packetId! });
    await within(q2, "QoS 2 publish");
    expectStillConnected(rig);
    expect(rig.client.stats().inflight).toBe(0);
  });

  it("a QoS 2 PUBLISH repeated before PUBREL (with and without DUP) is delivered once and PUBREC'd each time", async () => {
    const rig = await open();
    rig.conn.send(publish("q2", "once", 2, 42), publish("q2", "once", 2, 42, true), publish("q2", "once", 2, 42, true));
    await tick();
    expect(rig.messages.map((m) => m.topic)).toEqual(["q2"]);
    expect(sent(rig.conn, "pubrec")).toEqual([
      { type: "pubrec", packetId: 42 },
      { type: "pubrec", packetId: 42 },
      { type: "pubrec", packetId: 42 },
    ]);
    rig.conn.send({ type: "pubrel", packetId: 42 }, { type: "pubrel", packetId: 42 });
    await tick();
    expect(sent(rig.conn, "pubcomp")).toHaveLength(2);
    expectStillConnected(rig);
  });

  it("a QoS 0 PUBLISH with DUP=1 (the sender broke MQTT-3.3.1-2) is delivered with dup read as 0, not fatal", async () => {
    // Lenient on purpose: brokers such as aedes copy DUP from a retransmitted QoS 1 message onto a QoS 0 delivery.
    const rig = await open();
    deliver(rig.conn, hex("38 05 00 01 64 68 69"));
    await tick();
    expectStillConnected(rig);
    expect(rig.messages).toHaveLength(1);
    expect(rig.messages[0]).toMatchObject({ topic: "d", qos: 0, dup: false });
  });

  it("messages on topics never subscribed, $-topics, empty payloads and a 65,535-byte topic are delivered", async () => {
    const rig = await open();
    const long = "l/" + "x".repeat(65_533);
    rig.conn.send(publish("never/subscribed", "a", 0), publish("$SYS/broker/uptime", "b", 1, 1), publish("e", "", 2, 2), publish(long, "z", 0));
    deliver(rig.conn, new Uint8Array(0));
    await tick();
    expectStillConnected(rig);
    expect(rig.messages.map((m) => m.topic)).toEqual(["never/subscribed", "$SYS/broker/uptime", "e", long]);
    expect(rig.messages[2]!.payload).toEqual(new Uint8Array(0));
  });

  it("a stream that ends inside a packet is the broker's close, not a protocol error: nothing is delivered", async () => {
    const rig = await open();
    const frame = encode(publish("cut", "never whole", 1, 3));
    deliver(rig.conn, frame.subarray(0, frame.length - 1));
    await tick();
    expectStillConnected(rig);
    rig.conn.drop(new Error("broker went away"));
    await tick();
    expect(rig.reasons).toHaveLength(1);
    expect(rig.reasons[0]).not.toBeInstanceOf(ProtocolError);
    expect(rig.conn.closedByClient).toBe(false);
    expect(rig.messages).toEqual([]);
    expect(sent(rig.conn, "puback")).toEqual([]);
  });
});

describe("valid traffic then a fault in the same read", () => {
  it("PUBLISH QoS 1 + garbage: the message is delivered, and no PUBACK goes out after the fault (the broker redelivers)", async () => {
    const rig = await open();
    deliver(rig.conn, join(encode(publish("cmd/1", "run", 1, 11)), GARBAGE));
    await tick();
    expectProtocolClose(rig, "malformed-remaining-length");
    expect(rig.messages.map((m) => [m.topic, m.qos])).toEqual([["cmd/1", 1]]);
    expect(rig.conn.packets.map((p) => p.type)).toEqual(["connect"]);
  });

  it("PUBLISH QoS 2 + garbage: delivered, no PUBREC", async () => {
    const rig = await open();
    deliver(rig.conn, join(encode(publish("cmd/2", "run", 2, 12)), hex("36 00")));
    await tick();
    expectProtocolClose(rig, "invalid-qos");
    expect(rig.messages).toHaveLength(1);
    expect(rig.conn.packets.map((p) => p.type)).toEqual(["connect"]);
  });

  it("three QoS 0 messages then a 200 MB SUBACK header: all three delivered in order, then packet-too-large", async () => {
    const rig = await open();
    deliver(rig.conn, join(encode(publish("a", "1", 0)), encode(publish("b", "2", 0)), encode(publish("c", "3", 0)), hex("90 80 80 80 64")));
    await tick();
    expectProtocolClose(rig, "packet-too-large");
    expect(rig.messages.map((m) => m.topic)).toEqual(["a", "b", "c"]);
  });

  it("a PUBACK completing a publish, then garbage: the publish resolves, then the connection closes", async () => {
    const rig = await open();
    const q = rig.client.publish("t", "x", { qos: 1 });
    await tick();
    const [p] = sent(rig.conn, "publish");
    deliver(rig.conn, join(encode({ type: "puback", packetId: p!.packetId! }), hex("c0 00")));
    await within(q, "publish()");
    expectProtocolClose(rig, "unexpected-packet-type");
  });

  it("a SUBACK completing a subscribe, then garbage: the subscription is granted, then the connection closes", async () => {
    const rig = await open();
    const sub = rig.client.subscribe("s/#", { qos: 2 });
    await tick();
    const [req] = sent(rig.conn, "subscribe");
    deliver(rig.conn, join(encode({ type: "suback", packetId: req!.packetId, granted: [2] }), hex("90 03 00 07 05")));
    expect((await within(sub, "subscribe()")).granted).toEqual([2]);
    expectProtocolClose(rig, "invalid-suback-code");
  });

  it("garbage first: the valid PUBLISH behind it in the same chunk is never delivered", async () => {
    const rig = await open();
    deliver(rig.conn, join(hex("e0 00"), encode(publish("after", "x", 1, 5))));
    await tick();
    expectProtocolClose(rig, "unexpected-packet-type");
    expect(rig.messages).toEqual([]);
    expect(sent(rig.conn, "puback")).toEqual([]);
  });

  it("a QoS 1 PUBLISH split across reads, completed by a read that ends in garbage: delivered once, not acked", async () => {
    const rig = await open();
    const frame = encode(publish("split", "payload", 1, 6));
    deliver(rig.conn, frame.subarray(0, 5));
    await tick();
    expect(rig.messages).toEqual([]);
    deliver(rig.conn, join(frame.subarray(5), hex("40 02 00 00")));
    await tick();
    expectProtocolClose(rig, "invalid-packet-id");
    expect(rig.messages.map((m) => m.topic)).toEqual(["split"]);
    expect(sent(rig.conn, "puback")).toEqual([]);
  });

  it.each<[string, string[], SubackCode[]]>([
    ["one filter, two return codes", ["a"], [0, 0]],
    ["three filters, one return code", ["a", "b", "c"], [1]],
    ["two filters, three return codes", ["a", "b"], [0, 1, 0x80]],
  ])("SUBACK with the wrong count (%s) closes with invalid-length and grants nothing", async (_name, filters, granted) => {
    const rig = await open();
    let settled = false;
    const sub = rig.client.subscribe(filters).finally(() => (settled = true));
    sub.catch(() => undefined); // rejected by end() after the case
    await tick();
    const [req] = sent(rig.conn, "subscribe");
    rig.conn.send({ type: "suback", packetId: req!.packetId, granted });
    await tick();
    expectProtocolClose(rig, "invalid-length");
    expect(settled).toBe(false);
  });

});

describe("the CONNACK and what follows it in the same read", () => {
  it.each([1, 2, 3, 4, 5])("a refusing CONNACK (%i) rejects connect() with its ConnectError and the client closes the link", async (rc) => {
    const { rig, error } = await firstAnswer(Uint8Array.of(0x20, 0x02, 0x00, rc));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).returnCode).toBe(rc);
    expect(rig.conn.closedByClient).toBe(true);
    expect(rig.reasons).toEqual([]);
  });

  it("packets behind a refusing CONNACK in the same read are never processed (regression)", async () => {
    // A restored in-flight message (id 7) must not be completed by a PUBACK from a broker that refused us, and a
    // PUBLISH behind the refusal must not reach the application nor be acknowledged.
    const store = new MemoryStore();
    await store.open("victim");
    store.putOutgoing({ seq: 1, packetId: 7, state: "publish", topic: "kept", payload: te.encode("keep me"), qos: 1, retain: false });
    const behind = join(
      hex("20 02 00 05"),
      encode({ type: "puback", packetId: 7 }),
      encode(publish("after/refusal", "x", 1, 5)),
      encode({ type: "pubrel", packetId: 6 }),
      encode({ type: "pubrec", packetId: 8 }),
    );
    const { rig, error } = await firstAnswer(behind, false, { store, clean: false });
    await tick();
    expect((error as ConnectError).code).toBe("not-authorized");
    expect(rig.messages).toEqual([]);
    expect(rig.conn.packets.map((p) => p.type)).toEqual(["connect"]);
    expect(rig.client.stats().inflight).toBe(1);
  });

  it("a second CONNACK in the same read as the first: connect() resolves, then the connection closes", async () => {
    const { rig, error } = await firstAnswer(hex("20 02 00 00 20 02 00 00"));
    expect(error).toBeUndefined();
    await tick();
    expectProtocolClose(rig, "unexpected-packet-type");
  });
});
