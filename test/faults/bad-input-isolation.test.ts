/**
 * Bad input on one client never hurts another client of the same process (issue #12 item 1). Every link of a
 * process encodes into one shared write slab: a publish of a number used to leave the slab holding a half-written
 * packet, after which every client's writes came out empty and every later connect() timed out. Here one client is
 * fed bad values through every public method, interleaved in the same turns with a second client that publishes at
 * QoS 0, 1 and 2, receives, and connects afresh: the second client's bytes stay exact. Once against the scripted
 * broker (the exact bytes it received are decoded and re-encoded), once against a real mosquitto.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createClient, encodeClientPacket, type Client, type ClientOptions, type PublishPacket } from "../../src/index.ts";
import { AutoBroker } from "../support/auto-broker.ts";
import { takeMessages } from "../support/messages.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const js = <T>(value: unknown): T => value as T;

/** Settles within `ms` (whatever the outcome); returns "hung" otherwise. */
async function bounded(call: () => unknown, ms = 2000): Promise<"ok" | "refused" | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = Promise.resolve().then(call);
    const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), ms)));
    return await Promise.race([result.then(() => "ok" as const, () => "refused" as const), hung]);
  } finally {
    clearTimeout(timer);
  }
}

const throwingGetter = { get qos(): number { throw new TypeError("getter"); } };
const throwingProxy = new Proxy({}, { get: () => { throw new TypeError("trap"); }, getPrototypeOf: () => { throw new TypeError("trap"); } });

/** Bad values through every public method of `bad` (and options built around `base`). */
function hostileCalls(bad: Client, base: ClientOptions): Array<() => unknown> {
  const payloads: unknown[] = [21.5, Number.NaN, null, undefined, true, 10n, Symbol("p"), {}, [1, 2, 3], { length: 5 }, throwingProxy, new Proxy(new Uint8Array(3), {})];
  const calls: Array<() => unknown> = [];
  for (const payload of payloads) for (const qos of [0, 1, 2] as const) calls.push(() => bad.publish("bad/t", js(payload), { qos }));
  calls.push(
    () => bad.publish(js(7), "x"),
    () => bad.publish(js(null), "x", { qos: 1 }),
    () => bad.publish("bad/t", "x", js(5)),
    () => bad.publish("bad/t", "x", js({ qos: 7 })),
    () => bad.publish("bad/t", "x", js({ retain: "yes" })),
    () => bad.publish("bad/t", "x", js(throwingGetter)),
    () => bad.publish("bad/t", "x", js(throwingProxy)),
    () => bad.subscribe([]),
    () => bad.subscribe("bad/#", js({ qos: 5 })),
    () => bad.subscribe(js(5)),
    () => bad.subscribe(js([1])),
    () => bad.subscribe(js(null)),
    () => bad.subscribe("bad/#", js(7)),
    () => bad.subscribe(js(throwingProxy)),
    () => bad.end(js(5)),
    () => bad.end(js({ timeout: Number.NaN })),
    () => bad.on("message", js(5)),
    () => createClient({ ...base, will: { topic: "w", payload: js(21.5) } }),
    () => createClient({ ...base, username: "u", password: js(21.5) }),
    () => createClient(js(throwingProxy)),
    () => connect({ ...base, username: "u", beforeConnect: () => ({ password: js(21.5) }), connectTimeout: 1000 }).then((c) => c.end({ force: true })),
    () => connect({ ...base, beforeConnect: () => ({ username: js(99) }), connectTimeout: 1000 }).then((c) => c.end({ force: true })),
  );
  return calls;
}

describe("against the scripted broker", () => {
  it("the good client's packets are exact while the bad one is fed bad values in the same turns", async () => {
    const goodBroker = new AutoBroker();
    const badBroker = new AutoBroker();
    const base = { keepalive: 0, reconnect: false as const, connectTimeout: 2000 };
    const good = await connect({ ...base, url: "mqtt://good", clientId: "good", transport: goodBroker.transport });
    const bad = await connect({ ...base, url: "mqtt://bad", clientId: "bad", transport: badBroker.transport });
    const sub = await good.subscribe("good/#", { qos: 1 });
    const sent: Array<Pick<PublishPacket, "topic" | "payload" | "qos">> = [];
    const calls = hostileCalls(bad, { ...base, url: "mqtt://bad", transport: badBroker.transport });
    let n = 0;
    for (const call of calls) {
      const qos = (n % 3) as 0 | 1 | 2;
      const payload = Uint8Array.from({ length: 1 + (n % 40) }, (_, i) => (i * 31 + n) & 0xff);
      const topic = `good/${n++}`;
      sent.push({ topic, payload, qos });
      // In the same turn: a bad call, then a good publish, both into the shared write slab.
      const [, goodOutcome] = await Promise.all([bounded(call), bounded(() => good.publish(topic, payload, { qos }))]);
      expect(goodOutcome, `good publish ${topic} at QoS ${qos}`).toBe("ok");
    }
    // Receives everything it published, byte for byte.
    const received = await takeMessages(sub, sent.length, 5000);
    expect(received.map((m) => [m.topic, [...m.payload]])).toEqual(sent.map((s) => [s.topic, [...s.payload]]));
    // And a fresh client still connects, publishes and is answered.
    const fresh = await connect({ ...base, url: "mqtt://good", clientId: "fresh", transport: goodBroker.transport });
    await fresh.publish("good/fresh", "still fine", { qos: 2 });
    await good.end();
    await fresh.end();
    await bad.end({ force: true });

    const goodConn = goodBroker.connections[0]!;
    expect(goodConn.errors).toEqual([]);
    // Every byte the good client wrote is a packet, and its packets re-encode to exactly those bytes.
    expect([...goodConn.bytes()]).toEqual(goodConn.packets.flatMap((p) => [...encodeClientPacket(p)]));
    const publishes = goodConn.packets.filter((p): p is PublishPacket => p.type === "publish");
    expect(publishes.map((p) => [p.topic, p.qos, [...p.payload]])).toEqual(sent.map((s) => [s.topic, s.qos, [...s.payload]]));
    const freshConn = goodBroker.connections.at(-1)!;
    expect(freshConn.errors).toEqual([]);
    expect(freshConn.packets.map((p) => p.type)).toEqual(["connect", "publish", "pubrel", "disconnect"]);
    // Nothing the bad client wrote is garbage either, and none of its refused publishes went out.
    for (const c of badBroker.connections) {
      expect(c.errors).toEqual([]);
      expect(c.packets.filter((p) => p.type === "publish")).toEqual([]);
    }
  });
});

describe("against mosquitto", () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it("the good client publishes at QoS 0/1/2, receives them exactly, and a fresh client connects, while the bad one is fed bad values", async () => {
    const base = { url: broker.url, reconnect: false as const, connectTimeout: 3000 };
    const good = await connect({ ...base, clientId: "iso-good" });
    const bad = await connect({ ...base, clientId: "iso-bad" });
    const receiver = await connect({ ...base, clientId: "iso-receiver" });
    const sub = await receiver.subscribe("iso/#", { qos: 2 });
    const sent: Array<{ topic: string; payload: Uint8Array }> = [];
    let n = 0;
    for (const call of hostileCalls(bad, base)) {
      const qos = (n % 3) as 0 | 1 | 2;
      const payload = Uint8Array.from({ length: 1 + (n % 50) }, (_, i) => (i * 7 + n) & 0xff);
      const topic = `iso/${qos}/${n++}`;
      sent.push({ topic, payload });
      const [, goodOutcome] = await Promise.all([bounded(call, 3000), bounded(() => good.publish(topic, payload, { qos }), 3000)]);
      expect(goodOutcome, `good publish ${topic}`).toBe("ok");
    }
    const received = await takeMessages(sub, sent.length, 10_000);
    // QoS 0 messages may overtake QoS 1/2 ones on their way through the broker: compared by topic.
    const byTopic = (a: { topic: string }, b: { topic: string }) => a.topic.localeCompare(b.topic);
    expect(received.sort(byTopic).map((m) => [m.topic, [...m.payload]])).toEqual(sent.sort(byTopic).map((s) => [s.topic, [...s.payload]]));
    const fresh = await connect({ ...base, clientId: "iso-fresh" });
    await fresh.publish("iso/fresh", "fresh", { qos: 1 });
    expect((await takeMessages(sub, 1, 5000))[0]!.topic).toBe("iso/fresh");
    await Promise.all([good, bad, receiver, fresh].map((c) => c.end({ force: true })));
  });
});
