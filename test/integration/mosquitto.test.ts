/** The client against a real mosquitto (Debian package), started on a free port on 127.0.0.1 by this file. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createClient, type Client, type Message } from "../../src/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
let broker: Mosquitto;
const clients: Client[] = [];

async function client(options: Parameters<typeof connect>[0] = {}): Promise<Client> {
  const c = await connect({ url: broker.url, reconnect: false, ...options });
  clients.push(c);
  return c;
}

/** Collects `n` messages from an async iterable, failing after `ms`. */
async function take(iterable: AsyncIterable<Message>, n: number, ms = 5000): Promise<Message[]> {
  const out: Message[] = [];
  const it = iterable[Symbol.asyncIterator]();
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const left = deadline - Date.now();
    const r = await Promise.race([it.next(), new Promise<"timeout">((res) => setTimeout(() => res("timeout"), Math.max(0, left)))]);
    if (r === "timeout") throw new Error(`only ${out.length} of ${n} messages within ${ms} ms`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Waits until `fn` is true. */
async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  broker = await startMosquitto({ persistence: true });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ force: true }).catch(() => undefined)));
  await broker?.dispose();
});

describe("mosquitto", () => {
  it("publishes and receives at QoS 0, 1 and 2", async () => {
    const sub = await client();
    const pub = await client();
    const s = await sub.subscribe("q/#", { qos: 2 });
    expect(s.granted).toEqual([2]);
    await pub.publish("q/0", "zero", { qos: 0 });
    await pub.publish("q/1", "one", { qos: 1 });
    await pub.publish("q/2", "two", { qos: 2 });
    const got = await take(s, 3);
    expect(got.map((m) => [m.topic, text(m.payload), m.qos])).toEqual([
      ["q/0", "zero", 0],
      ["q/1", "one", 1],
      ["q/2", "two", 2],
    ]);
    expect(pub.stats()).toMatchObject({ sent: 3, inflight: 0 });
  });

  it("delivers retained messages to new subscribers, and an empty retained payload clears them", async () => {
    const pub = await client();
    await pub.publish("ret/a", "kept", { qos: 1, retain: true });
    const s1 = await (await client()).subscribe("ret/#", { qos: 1 });
    const [m] = await take(s1, 1);
    expect(m).toMatchObject({ topic: "ret/a", retain: true });
    expect(text(m!.payload)).toBe("kept");
    await pub.publish("ret/a", new Uint8Array(0), { qos: 1, retain: true });
    const c2 = await client();
    const s2 = await c2.subscribe("ret/#", { qos: 1 });
    await pub.publish("ret/b", "live", { qos: 1 });
    const [live] = await take(s2, 1);
    expect(live).toMatchObject({ topic: "ret/b", retain: false });
  });

  it("queues messages for an offline persistent session and delivers them on resume (session present)", async () => {
    const id = "persistent-sub-1";
    const first = await client({ clientId: id, clean: false });
    await first.subscribe("offline/#", { qos: 1 });
    await first.end();
    const pub = await client();
    for (let i = 0; i < 5; i++) await pub.publish("offline/x", String(i), { qos: 1 });
    const got: string[] = [];
    const resumed = createClient({ url: broker.url, clientId: id, clean: false, reconnect: false });
    clients.push(resumed);
    resumed.on("message", (m) => got.push(text(m.payload)));
    await resumed.connect();
    expect(resumed.sessionPresent).toBe(true);
    await until(() => got.length === 5);
    expect(got).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("the broker publishes the will when the client drops without DISCONNECT, and not after end()", async () => {
    const watcher = await client();
    const s = await watcher.subscribe("wills/#", { qos: 1 });
    const graceful = await client({ will: { topic: "wills/graceful", payload: "gone", qos: 1 } });
    await graceful.end();
    const dying = await client({ will: { topic: "wills/dying", payload: "offline", qos: 1 } });
    await dying.end({ force: true });
    const [m] = await take(s, 1);
    expect(m!.topic).toBe("wills/dying");
    expect(text(m!.payload)).toBe("offline");
  });

  it("overlapping subscriptions each receive a message once", async () => {
    const c = await client();
    const a = await c.subscribe(["ov/#", "ov/+/t"], { qos: 1 });
    const b = await c.subscribe("ov/x/t", { qos: 1 });
    const all: string[] = [];
    c.on("message", (m) => all.push(m.topic));
    await (await client()).publish("ov/x/t", "1", { qos: 1 });
    await (await client()).publish("ov/y", "2", { qos: 1 });
    const fromA = await take(a, 2);
    const fromB = await take(b, 1);
    expect(fromA.map((m) => m.topic).sort()).toEqual(["ov/x/t", "ov/y"]);
    expect(fromB.map((m) => m.topic)).toEqual(["ov/x/t"]);
    // mosquitto itself sends one copy per matching subscription of the client (it does not merge overlapping ones).
    expect(all.filter((t) => t === "ov/y")).toHaveLength(1);
  });

  it("$ topics are not matched by # or +/+ but by an explicit $SYS filter", async () => {
    const c = await client();
    const hash = await c.subscribe("#");
    const plus = await c.subscribe("+/+/+");
    const sys = await c.subscribe("$SYS/broker/version");
    const [v] = await take(sys, 1);
    expect(v!.topic).toBe("$SYS/broker/version");
    await (await client()).publish("dollar/check/done", "x");
    const [h] = await take(hash, 1);
    const [p] = await take(plus, 1);
    expect(h!.topic).toBe("dollar/check/done");
    expect(p!.topic).toBe("dollar/check/done");
  });

  it("unsubscribe stops delivery and ends iteration", async () => {
    const c = await client();
    const s = await c.subscribe("unsub/#", { qos: 1 });
    const pub = await client();
    await pub.publish("unsub/a", "1", { qos: 1 });
    await take(s, 1);
    await s.unsubscribe();
    let after = 0;
    c.on("message", (m) => {
      if (m.topic.startsWith("unsub/")) after++;
    });
    await pub.publish("unsub/a", "2", { qos: 1 });
    // A round trip through the broker on another topic proves the unsub/ message would have arrived by now.
    const probe = await c.subscribe("probe/unsub", { qos: 1 });
    await pub.publish("probe/unsub", "p", { qos: 1 });
    await take(probe, 1);
    expect(after).toBe(0);
    expect(s.closed).toBe(true);
  });

  it("a burst of QoS 2 messages on default settings arrives complete (the window stays within mosquitto's in-flight limit)", async () => {
    const sub = await client();
    const got = new Set<string>();
    sub.on("message", (m) => {
      if (m.topic === "burst/q2") got.add(text(m.payload));
    });
    await sub.subscribe("burst/q2", { qos: 2 });
    const pub = await client();
    await Promise.all(Array.from({ length: 300 }, (_, i) => pub.publish("burst/q2", String(i), { qos: 2 })));
    await until(() => got.size === 300);
    expect(got.size).toBe(300);
  });

  it("an empty client id with clean=true gets a broker-assigned session", async () => {
    const c = await client({ clientId: "", clean: true });
    expect(c.connected).toBe(true);
    await c.publish("anon/x", "ok", { qos: 1 });
  });

  it("reconnects after a broker restart and resumes the persistent session without losing QoS 1 messages", async () => {
    const received = new Set<string>();
    const sub = createClient({ url: broker.url, clientId: "restart-sub", clean: false, reconnect: { initialDelay: 50, maxDelay: 200 } });
    clients.push(sub);
    sub.on("message", (m) => received.add(text(m.payload)));
    await sub.connect();
    await sub.subscribe("restart/#", { qos: 1 });
    const pub = createClient({ url: broker.url, clientId: "restart-pub", clean: false, reconnect: { initialDelay: 50, maxDelay: 200 } });
    clients.push(pub);
    await pub.connect();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      pending.push(pub.publish("restart/x", String(i), { qos: 1 }));
      if (i === 100) {
        await broker.stop();
        await broker.start();
      }
    }
    await Promise.all(pending);
    await until(() => received.size === 200, 15_000);
    expect(pub.stats().reconnects).toBeGreaterThan(0);
  });
});
