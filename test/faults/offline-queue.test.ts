/**
 * Hours offline, on the fake clock: the client connected once, then the broker became unreachable (every
 * reconnect attempt is refused at the transport) while the application published one message per simulated
 * second, QoS 0 and 1 mixed, with payload sizes that make first the message bound and then the byte bound
 * the one that binds. A model of the documented policy runs beside the client:
 *
 * - the queue never holds more than offlineQueue.maxMessages messages or maxBytes bytes (checked after every publish);
 * - "reject": exactly the publishes that do not fit reject with `queue-full`, nothing already queued is lost;
 * - "drop-oldest": every publish is admitted; to make room the oldest QoS 0 message goes first, then the oldest
 *   of any QoS; each eviction is one `drop` event, counted in stats().dropped, and rejects that publish with
 *   `message-dropped`;
 * - when the broker finally accepts, exactly the retained messages are sent, in publish order, and their
 *   promises resolve (QoS 0 when written, QoS 1 on PUBACK).
 *
 * Time is advanced in one step up to each due reconnect timer (publishing between timers does not depend on
 * the clock), so six simulated hours take seconds.
 */
import { describe, expect, it } from "vitest";
import { createClient, type Client, type ClientEvents, type OfflineQueueOptions } from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";
import { mulberry32, pick } from "../support/fault-proxy.ts";

const HOURS = 6;
const MAX_DELAY = 60_000;

interface Pub {
  index: number;
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1;
  /** What the client's queue counts: payload bytes + topic bytes (the topics here are ASCII). */
  size: number;
  /** "resolved", or the rejection's code. */
  outcome: string | undefined;
}

/** The documented overflow policy, independently of the client's Outbox. */
class QueueModel {
  readonly queue: Pub[] = [];
  bytes = 0;
  readonly evicted: Pub[] = [];
  readonly refused: Pub[] = [];

  constructor(private readonly o: Required<OfflineQueueOptions>) {}

  offer(p: Pub): void {
    const fits = () => this.queue.length + 1 <= this.o.maxMessages && this.bytes + p.size <= this.o.maxBytes;
    if (!fits()) {
      if (this.o.overflow === "reject") {
        this.refused.push(p);
        return;
      }
      while (!fits()) {
        let at = this.queue.findIndex((q) => q.qos === 0);
        if (at < 0) at = 0;
        const [victim] = this.queue.splice(at, 1);
        this.bytes -= victim!.size;
        this.evicted.push(victim!);
      }
    }
    this.queue.push(p);
    this.bytes += p.size;
  }
}

interface Run {
  client: Client;
  broker: FakeBroker;
  clock: FakeClock;
  model: QueueModel;
  pubs: Pub[];
  drops: Array<ClientEvents["drop"]>;
  reconnecting: Array<ClientEvents["reconnecting"]>;
}

/** Connects once, loses the broker for `hours`, publishing one message per simulated second. */
async function offlineFor(hours: number, queue: Required<OfflineQueueOptions>, seed: number): Promise<Run> {
  const rng = mulberry32(seed);
  const broker = new FakeBroker();
  const clock = new FakeClock();
  const client = createClient({
    url: "mqtt://fake:1883",
    clientId: `offline-${queue.overflow}`,
    transport: broker.transport,
    clock,
    random: mulberry32(seed + 1),
    keepalive: 0,
    reconnect: { initialDelay: 1000, maxDelay: MAX_DELAY, multiplier: 2, jitter: 0.5 },
    offlineQueue: queue,
  });
  const drops: Run["drops"] = [];
  const reconnecting: Run["reconnecting"] = [];
  client.on("drop", (d) => drops.push(d));
  client.on("reconnecting", (r) => reconnecting.push(r));
  const connecting = client.connect();
  await (await broker.nextConnection()).accept();
  await connecting;
  broker.refuse = Number.MAX_SAFE_INTEGER;
  broker.connections[0]!.drop();
  await settle();
  expect(client.connected).toBe(false);

  const model = new QueueModel(queue);
  const pubs: Pub[] = [];
  const seconds = hours * 3600;
  let owed = 0; // simulated milliseconds not yet applied to the clock
  for (let s = 0; s < seconds; s++) {
    // First third of the time small payloads (the message count binds), then large ones (the byte count binds).
    const small = s < seconds / 3;
    const payload = new Uint8Array(small ? pick(rng, [4, 40]) : pick(rng, [100, 400])).fill(s & 0xff);
    const qos = rng() < 0.35 ? 0 : 1;
    const topic = `gw/7/offline/${s}`;
    const p: Pub = { index: s, topic, payload, qos, size: payload.length + topic.length, outcome: undefined };
    pubs.push(p);
    client.publish(topic, payload, { qos }).then(
      () => (p.outcome = "resolved"),
      (err: { code?: string }) => (p.outcome = err.code ?? String(err)),
    );
    model.offer(p);

    // Bounds and policy, at every step.
    const st = client.stats();
    if (st.queued !== model.queue.length || st.dropped !== model.evicted.length || drops.length !== model.evicted.length) {
      expect({ second: s, queued: st.queued, dropped: st.dropped, dropEvents: drops.length }).toEqual({
        second: s,
        queued: model.queue.length,
        dropped: model.evicted.length,
        dropEvents: model.evicted.length,
      });
    }
    if (st.queued > queue.maxMessages || model.bytes > queue.maxBytes) {
      throw new Error(`second ${s}: ${st.queued} messages / ${model.bytes} bytes exceed the bounds`);
    }

    owed += 1000;
    if ((clock.pending()[0] ?? Infinity) <= owed) {
      await clock.advance(owed);
      owed = 0;
    }
  }
  await clock.advance(owed);
  await settle();
  expect(clock.now()).toBeGreaterThanOrEqual(hours * 3600 * 1000);
  return { client, broker, clock, model, pubs, drops, reconnecting };
}

/** Lets the broker accept again and acknowledges everything; returns the PUBLISH packets in the order sent. */
async function reconnectAndDrain(run: Run, expected: number) {
  run.broker.refuse = 0;
  const before = run.broker.connections.length;
  for (let i = 0; i < 5 && run.broker.connections.length === before; i++) await run.clock.advance(run.clock.pending()[0] ?? MAX_DELAY);
  const conn = run.broker.connections[run.broker.connections.length - 1]!;
  await conn.accept();
  const sent = [];
  while (sent.length < expected) {
    const p = await conn.next();
    if (p.type !== "publish") throw new Error(`expected PUBLISH, got ${p.type}`);
    if (p.qos === 1) conn.send({ type: "puback", packetId: p.packetId! });
    sent.push(p);
  }
  await settle();
  expect(conn.unread()).toEqual([]);
  expect(run.client.stats()).toMatchObject({ queued: 0, inflight: 0, connected: true });
  return sent;
}

function checkReconnectTimers(run: Run, hours: number): void {
  // The broker stayed unreachable: the timers kept firing, each delay capped at maxDelay.
  const attempts = run.broker.attempts - 1;
  expect(attempts).toBeGreaterThanOrEqual((hours * 3600_000) / MAX_DELAY);
  expect(run.reconnecting.length).toBeGreaterThanOrEqual(attempts);
  expect(Math.max(...run.reconnecting.map((r) => r.delay))).toBeLessThanOrEqual(MAX_DELAY);
  expect(run.reconnecting.every((r) => r.error !== undefined)).toBe(true);
}

// The two runs are independent (own clock, broker and client): run them side by side to halve the wall time.
describe.concurrent(`${HOURS} simulated hours offline, one publish per second, QoS 0/1 mixed`, () => {
  it('"reject": bounded at every step; exactly the publishes that do not fit reject with queue-full; the rest is delivered in order', async () => {
    // The byte bound binds (the message bound is never reached): after the first refusal, smaller messages
    // that still fit are admitted, so "exactly" is not just "a prefix".
    const queue = { maxMessages: 5000, maxBytes: 120_000, overflow: "reject" } as const;
    const run = await offlineFor(HOURS, queue, 42);
    const { model, pubs } = run;
    expect(run.drops).toEqual([]);
    expect(run.client.stats().dropped).toBe(0);
    expect(model.queue.length).toBeLessThan(queue.maxMessages);
    expect(model.bytes).toBeGreaterThan(queue.maxBytes - 100);
    expect(model.refused.length).toBeGreaterThan(pubs.length / 2);
    const firstRefused = model.refused[0]!.index;
    expect(model.queue.some((p) => p.index > firstRefused)).toBe(true);
    const refused = new Set(model.refused.map((p) => p.index));
    for (const p of pubs) {
      // Admitted QoS 0 publishes resolve once queued; admitted QoS 1 ones wait for their PUBACK.
      const want = refused.has(p.index) ? "queue-full" : p.qos === 0 ? "resolved" : undefined;
      if (p.outcome !== want) expect({ index: p.index, outcome: p.outcome }).toEqual({ index: p.index, outcome: want });
    }
    checkReconnectTimers(run, HOURS);
    console.log(
      `reject: ${pubs.length} publishes over ${HOURS} h, ${run.broker.attempts - 1} refused reconnect attempts, ` +
        `${model.queue.length} queued (${model.bytes} B), ${model.refused.length} rejected with queue-full`,
    );

    const sent = await reconnectAndDrain(run, model.queue.length);
    expect(sent.map((p) => [p.topic, p.qos, p.payload.length])).toEqual(model.queue.map((p) => [p.topic, p.qos, p.payload.length]));
    expect(sent.every((p) => !p.dup)).toBe(true);
    for (const p of model.queue) expect(p.outcome).toBe("resolved");
    await run.client.end();
  }, 120_000);

  it('"drop-oldest": bounded at every step; QoS 0 evicted first, every eviction a drop event; exactly the retained set is delivered in order', async () => {
    // The message bound binds while payloads are small, the byte bound once they are large.
    const queue = { maxMessages: 1500, maxBytes: 100_000, overflow: "drop-oldest" } as const;
    const run = await offlineFor(HOURS, queue, 777);
    const { model, pubs } = run;
    // Everything was admitted; what is not queued was evicted, reported once each, in eviction order.
    expect(model.refused).toEqual([]);
    expect(model.queue.length + model.evicted.length).toBe(pubs.length);
    expect(run.client.stats().dropped).toBe(model.evicted.length);
    expect(run.drops).toEqual(model.evicted.map((p) => ({ topic: p.topic, qos: p.qos })));
    // The model evicts a QoS 1 message only when no QoS 0 message is queued; the client's evictions matched it one
    // for one. After hours of drop-oldest the queue holds QoS 1 only, and both kinds were evicted along the way.
    expect(model.queue.every((p) => p.qos === 1)).toBe(true);
    expect(model.evicted.some((p) => p.qos === 0) && model.evicted.some((p) => p.qos === 1)).toBe(true);
    const dropped = new Set(model.evicted.map((p) => p.index));
    for (const p of pubs) {
      // QoS 0 resolved when queued (its eviction is the drop event); an evicted QoS 1 publish rejects.
      const want = p.qos === 0 ? "resolved" : dropped.has(p.index) ? "message-dropped" : undefined;
      if (p.outcome !== want) expect({ index: p.index, outcome: p.outcome }).toEqual({ index: p.index, outcome: want });
    }
    checkReconnectTimers(run, HOURS);
    console.log(
      `drop-oldest: ${pubs.length} publishes over ${HOURS} h, ${run.broker.attempts - 1} refused reconnect attempts, ` +
        `${model.evicted.length} dropped (${model.evicted.filter((p) => p.qos === 0).length} QoS 0), ` +
        `${model.queue.length} retained (${model.bytes} B)`,
    );

    const sent = await reconnectAndDrain(run, model.queue.length);
    expect(sent.map((p) => [p.topic, p.qos, p.payload.length])).toEqual(model.queue.map((p) => [p.topic, p.qos, p.payload.length]));
    for (const p of model.queue) expect(p.outcome).toBe("resolved");
    await run.client.end();
  }, 120_000);
});

describe("the byte bound counts topic bytes, not characters", () => {
  it("a non-ASCII topic is counted by its UTF-8 length against maxBytes", async () => {
    const broker = new FakeBroker();
    const clock = new FakeClock();
    const topic = "温度/传感器"; // 6 UTF-16 code units, 16 UTF-8 bytes
    const payload = new Uint8Array(4);
    // Two messages are 2 x (16 + 4) = 40 bytes: a third does not fit (counting characters, 2 x 10 would leave room for 2 more).
    const client = createClient({
      url: "mqtt://fake:1883",
      transport: broker.transport,
      clock,
      random: () => 0,
      keepalive: 0,
      offlineQueue: { maxMessages: 100, maxBytes: 40, overflow: "reject" },
    });
    const connecting = client.connect();
    const conn = await broker.nextConnection();
    await conn.accept();
    await connecting;
    broker.refuse = 1;
    conn.drop();
    await settle();
    const a = client.publish(topic, payload, { qos: 1 });
    const b = client.publish(topic, payload, { qos: 1 });
    const c = client.publish(topic, payload, { qos: 1 });
    expect(client.stats().queued).toBe(2);
    await expect(c).rejects.toMatchObject({ code: "queue-full" });
    for (let i = 0; i < 3 && broker.connections.length < 2; i++) await clock.advance(clock.pending()[0] ?? 1000);
    const next = broker.connections[1]!;
    await next.accept();
    const sent = [await next.next("publish"), await next.next("publish")];
    for (const p of sent) next.send({ type: "puback", packetId: p.packetId! });
    await Promise.all([a, b]);
    await client.end();
  });
});
