/**
 * Fuzzing the public surface with arbitrary JavaScript values (issue #12 item 1): every argument of publish(),
 * subscribe(), sub.unsubscribe(), end() and on(), and createClient()/connect() options down to their nested groups
 * (will, tls, reconnect, offlineQueue, servers), from fast-check's `fc.anything()` plus hand-picked nasties:
 * symbols, Proxies whose traps throw, getters that throw, objects whose toString throws, huge strings, negative,
 * NaN and infinite numbers, BigInts, functions, thenables.
 *
 * Each call either works or throws/rejects with an EdgemqError carrying a string `code` (never a bare TypeError),
 * within a deadline (never a hang); publish() and subscribe() resolve exactly when their input is valid and write
 * nothing when it is not. Throughout, a second client of the same process publishes at QoS 0, 1 and 2 and receives
 * what it published, byte for byte, and nothing escapes as an uncaught exception or unhandled rejection.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClientClosedError,
  EdgemqError,
  connect,
  createClient,
  topicFilterProblem,
  topicNameProblem,
  type Client,
  type ClientOptions,
  type Message,
  type PublishPacket,
  type Subscription,
} from "../../src/index.ts";
import { AutoBroker } from "../support/auto-broker.ts";
import { freePort } from "../support/mosquitto.ts";

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x0b_ad_1e;
const js = <T>(value: unknown): T => value as T;

// ---- hostile values ----

const thrower = (): never => {
  throw new TypeError("hostile trap");
};
const nasties: unknown[] = [
  Symbol("nasty"),
  Symbol.iterator,
  new Proxy({}, { get: thrower, has: thrower, ownKeys: thrower, getPrototypeOf: thrower, getOwnPropertyDescriptor: thrower }),
  new Proxy([], { get: thrower, getPrototypeOf: thrower }),
  new Proxy(() => undefined, { get: thrower, apply: thrower, getPrototypeOf: thrower }),
  new Proxy(new Uint8Array(4), {}),
  { get qos(): never { return thrower(); }, get retain(): never { return thrower(); }, get topic(): never { return thrower(); }, get payload(): never { return thrower(); } },
  { toString: thrower, valueOf: thrower },
  { [Symbol.toPrimitive]: thrower },
  { then: thrower },
  Object.create(null),
  Object.assign(Object.create(null), { qos: 1 }),
  "x".repeat(1 << 20),
  "\u0000",
  "\ud800",
  "a/+/b",
  "#",
  "",
  -1,
  -0,
  0.5,
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  2 ** 31,
  10n,
  -(2n ** 70n),
  () => undefined,
  async () => thrower(),
  function named() {},
  class Hostile {},
  new Date(Number.NaN),
  /re/g,
  new Map([["qos", 1]]),
  new Set(["a/b"]),
  new WeakMap(),
  Promise.resolve(1),
  new Error("an error as a value"),
  new String("boxed"),
  Object.defineProperty(new Uint8Array(3), "length", { value: 99 }),
];
/**
 * A nasty stands in the generated values as a reference, swapped for the real thing by unwrap() right before the
 * call: fast-check itself would trip over a Proxy whose traps throw (it looks for a clone method, prints values).
 */
class Nasty {
  constructor(readonly index: number) {}
  toString(): string {
    return `nasties[${this.index}]`;
  }
}
/** The value with every Nasty inside the generated arrays and plain objects replaced by the nasty itself. */
function unwrap(v: unknown): unknown {
  if (v instanceof Nasty) return nasties[v.index];
  if (Array.isArray(v)) return v.map(unwrap);
  if (v !== null && typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const out: Record<string, unknown> = Object.getPrototypeOf(v) === null ? Object.create(null) : {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: unwrap(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withDate: true, withObjectString: true }) },
  { weight: 2, arbitrary: fc.nat(nasties.length - 1).map((i) => new Nasty(i)) },
);
/** Either something plausible or anything at all. */
const maybe = <T>(plausible: fc.Arbitrary<T>) => fc.oneof(plausible, hostile);

const topicName = fc.constantFrom("fz/a", "fz/b/c", "fz/ü", "fz/" + "l".repeat(300));
const topicFilter = fc.constantFrom("fz/#", "fz/+", "fz/a", "fz/+/c");
const validPayload = fc.oneof(
  fc.string(),
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 64 }).map((b) => b.buffer),
  fc.constantFrom(new DataView(new ArrayBuffer(8), 2, 3), Int16Array.from([1, -1]), Buffer.from("buf"), new Float32Array(2)),
);
const qosValue = maybe(fc.constantFrom(0, 1, 2, undefined));

// ---- what is valid ----

const isTopicName = (t: unknown) => typeof t === "string" && topicNameProblem(t) === undefined;
const isPayload = (p: unknown) => isPlainProxyFree(p) && (typeof p === "string" || ArrayBuffer.isView(p) || p instanceof ArrayBuffer);
const isQos = (q: unknown) => q === undefined || q === null || q === 0 || q === 1 || q === 2;
const isBool = (b: unknown) => b === undefined || b === null || typeof b === "boolean";
/** Reads a property as the library may, or reports that reading it throws. */
function read(o: unknown, key: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: (o as Record<string, unknown>)[key] };
  } catch {
    return { ok: false };
  }
}
function optionsValid(options: unknown, fields: Record<string, (v: unknown) => boolean>): boolean {
  if (options === undefined || options === null) return true;
  if (typeof options !== "object") return false;
  for (const [key, valid] of Object.entries(fields)) {
    const r = read(options, key);
    if (!r.ok || !valid(r.value)) return false;
  }
  return true;
}
function isPlainProxyFree(v: unknown): boolean {
  // A Proxy cannot be told apart from its target; the nasties that are Proxies are known by identity.
  return !nasties.slice(2, 6).includes(v);
}
const isFilterList = (f: unknown) => {
  if (typeof f === "string") return topicFilterProblem(f) === undefined;
  if (!Array.isArray(f) || !isPlainProxyFree(f) || f.length === 0) return false;
  return [...f].every((x) => typeof x === "string" && topicFilterProblem(x) === undefined);
};
const isMaxBuffered = (m: unknown) => m === undefined || m === null || (Number.isSafeInteger(m) && (m as number) >= 0);

// ---- checking a call ----

type Outcome = { kind: "ok"; value: unknown } | { kind: "refused"; error: unknown } | { kind: "hung" };

/** Runs `call`; a synchronous throw counts as a refusal; a promise must settle within `ms`. */
async function run(call: () => unknown, ms = 2000): Promise<Outcome> {
  let value: unknown;
  try {
    value = call();
  } catch (error) {
    return { kind: "refused", error };
  }
  if (!(value instanceof Promise)) return { kind: "ok", value };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: "hung" }), ms)));
  try {
    return await Promise.race([value.then((v): Outcome => ({ kind: "ok", value: v }), (error): Outcome => ({ kind: "refused", error })), hung]);
  } finally {
    clearTimeout(timer);
  }
}

function describeValue(v: unknown): string {
  try {
    return fc.stringify(v).slice(0, 300);
  } catch {
    return typeof v;
  }
}

/** Fails unless the outcome is success or a typed refusal. */
function expectTyped(outcome: Outcome, what: string): void {
  expect(outcome.kind, `${what} hung`).not.toBe("hung");
  if (outcome.kind !== "refused") return;
  const err = outcome.error;
  if (!(err instanceof EdgemqError) || typeof err.code !== "string") {
    throw new Error(`${what} refused with an untyped error: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : describeValue(err)}`);
  }
}

// ---- the process, the good client and the bad one ----

const escaped: unknown[] = [];
const onEscape = (e: unknown) => void escaped.push(e);
const goodBroker = new AutoBroker();
const badBroker = new AutoBroker();
let good: Client;
let goodSub: Subscription;
let goodIt: AsyncIterator<Message>;
let bad: Client;
let roundTrips = 0;
const reported: Error[] = [];

beforeAll(async () => {
  process.on("uncaughtException", onEscape);
  process.on("unhandledRejection", onEscape);
  good = await connect({ url: "mqtt://good", clientId: "good", transport: goodBroker.transport, keepalive: 0, reconnect: false, connectTimeout: 2000 });
  goodSub = await good.subscribe("good/#", { qos: 1 });
  goodIt = goodSub[Symbol.asyncIterator]();
  bad = await badClient();
});

afterAll(async () => {
  await good?.end({ force: true });
  await bad?.end({ force: true });
  await new Promise((r) => setImmediate(r));
  process.off("uncaughtException", onEscape);
  process.off("unhandledRejection", onEscape);
  expect(escaped).toEqual([]);
  const conn = goodBroker.connections[0]!;
  expect(conn.errors).toEqual([]);
  for (const c of [...goodBroker.connections, ...badBroker.connections]) expect(c.errors).toEqual([]);
});

async function badClient(extra: Partial<ClientOptions> = {}): Promise<Client> {
  const c = await connect({ url: "mqtt://bad", clientId: "bad", transport: badBroker.transport, keepalive: 0, reconnect: false, connectTimeout: 2000, ...extra });
  c.on("error", (e) => void reported.push(e));
  c.on("warning", (e) => void reported.push(e));
  return c;
}

/** The good client publishes at QoS 0, 1 and 2 and gets each message back, byte for byte. */
async function goodStillWorks(): Promise<void> {
  const n = roundTrips++;
  const sent = ([0, 1, 2] as const).map((qos) => ({ topic: `good/${n}/${qos}`, payload: Uint8Array.from({ length: (n % 30) + qos }, (_, i) => (i + n * 3 + qos) & 0xff), qos }));
  for (const s of sent) expect((await run(() => good.publish(s.topic, s.payload, { qos: s.qos }))).kind, `good publish ${s.topic}`).toBe("ok");
  for (const s of sent) {
    const r = await run(() => goodIt.next());
    expect(r.kind, `good receives ${s.topic}`).toBe("ok");
    const msg = (r as { value: IteratorResult<Message> }).value.value;
    expect([msg.topic, [...msg.payload]]).toEqual([s.topic, [...s.payload]]);
  }
}

/** PUBLISH packets the bad client has written so far. */
const badPublishes = () => badBroker.connections.flatMap((c) => c.packets).filter((p): p is PublishPacket => p.type === "publish").length;

// ---- the properties ----

describe(`public surface fuzz (seed 0x${SEED.toString(16)})`, () => {
  it("publish(topic, payload, options): resolves exactly for valid input, else a typed refusal that writes nothing", async () => {
    const options = maybe(fc.record({ qos: qosValue, retain: maybe(fc.boolean()) }, { requiredKeys: [] }));
    await fc.assert(
      fc.asyncProperty(maybe(topicName), maybe(validPayload), options, async (...generated) => {
        const [topic, payload, opts] = generated.map(unwrap);
        if (bad.stats().connected === false) bad = await badClient();
        const before = badPublishes();
        const outcome = await run(() => bad.publish(js(topic), js(payload), js(opts)));
        const what = `publish(${describeValue(topic)}, ${describeValue(payload)}, ${describeValue(opts)})`;
        expectTyped(outcome, what);
        const valid = isTopicName(topic) && isPayload(payload) && optionsValid(opts, { qos: isQos, retain: isBool });
        expect(outcome.kind, what).toBe(valid ? "ok" : "refused");
        await new Promise((r) => setImmediate(r));
        if (!valid) expect(badPublishes(), `${what} wrote a PUBLISH`).toBe(before);
        await goodStillWorks();
      }),
      { seed: SEED, numRuns: 1000 },
    );
  }, 30_000);

  it("subscribe(filters, options) and sub.unsubscribe(...anything): typed refusals, subscriptions that work", async () => {
    const options = maybe(fc.record({ qos: qosValue, maxBuffered: maybe(fc.constantFrom(0, 10, 1000)) }, { requiredKeys: [] }));
    const filters = fc.oneof(maybe(topicFilter), fc.array(maybe(topicFilter), { maxLength: 4 }));
    await fc.assert(
      fc.asyncProperty(filters, options, hostile, async (...generated) => {
        const [f, opts, junk] = generated.map(unwrap);
        const before = badBroker.connections.flatMap((c) => c.packets).filter((p) => p.type === "subscribe").length;
        const outcome = await run(() => bad.subscribe(js(f), js(opts)));
        const what = `subscribe(${describeValue(f)}, ${describeValue(opts)})`;
        expectTyped(outcome, what);
        const valid = isFilterList(f) && optionsValid(opts, { qos: isQos, maxBuffered: isMaxBuffered });
        expect(outcome.kind, what).toBe(valid ? "ok" : "refused");
        if (outcome.kind === "ok") {
          const sub = outcome.value as Subscription;
          const un = await run(() => (sub.unsubscribe as (...a: unknown[]) => Promise<void>)(junk));
          expectTyped(un, `unsubscribe(${describeValue(junk)})`);
          expect(un.kind).toBe("ok");
          expectTyped(await run(() => sub.unsubscribe()), "a second unsubscribe()");
        } else {
          await new Promise((r) => setImmediate(r));
          expect(badBroker.connections.flatMap((c) => c.packets).filter((p) => p.type === "subscribe").length, `${what} sent a SUBSCRIBE`).toBe(before);
        }
        await goodStillWorks();
      }),
      { seed: SEED, numRuns: 400 },
    );
  }, 30_000);

  it("createClient/connect options, nested groups included: a typed refusal, or a client that connects and ends", async () => {
    const will = maybe(fc.record({ topic: maybe(topicName), payload: maybe(validPayload), qos: qosValue, retain: maybe(fc.boolean()) }, { requiredKeys: [] }));
    const tls = maybe(fc.record({ ca: hostile, cert: hostile, key: hostile, passphrase: hostile, servername: hostile, rejectUnauthorized: maybe(fc.boolean()) }, { requiredKeys: [] }));
    const reconnect = maybe(fc.oneof(fc.constant(false), fc.record({ initialDelay: maybe(fc.nat(5000)), maxDelay: maybe(fc.nat(60_000)), multiplier: maybe(fc.constantFrom(1, 2)), jitter: maybe(fc.constantFrom(0, 0.5, 1)), stableAfter: maybe(fc.nat(10_000)) }, { requiredKeys: [] })));
    const offlineQueue = maybe(fc.record({ maxMessages: maybe(fc.nat(100)), maxBytes: maybe(fc.nat(1 << 20)), overflow: maybe(fc.constantFrom("reject", "drop-oldest")) }, { requiredKeys: [] }));
    const servers = maybe(fc.array(maybe(fc.constantFrom("mqtt://bad", "mqtt://bad:1884")), { maxLength: 3 }));
    const options = fc.record(
      {
        url: maybe(fc.constant("mqtt://bad")),
        servers,
        clientId: maybe(fc.constantFrom("fz-1", "", "fz-ü")),
        clean: maybe(fc.boolean()),
        keepalive: maybe(fc.constantFrom(0, 30, 65_535)),
        username: maybe(fc.constant("user")),
        password: maybe(validPayload),
        will,
        tls,
        reconnect,
        connectTimeout: maybe(fc.constantFrom(1000, 2000)),
        maxInflight: maybe(fc.constantFrom(1, 20)),
        offlineQueue,
        maxPacketSize: maybe(fc.constantFrom(16, 1 << 20)),
        maxOutgoingPacketSize: maybe(fc.constantFrom(16, 1 << 20)),
        manualAck: maybe(fc.boolean()),
        beforeConnect: maybe(fc.constantFrom(() => undefined, () => ({ password: "p" }), () => ({ clean: true }))),
        endTimeout: maybe(fc.constantFrom(0, 1000)),
        requestTimeout: maybe(fc.constantFrom(1000, 30_000)),
        waitOnFirstConnect: maybe(fc.boolean()),
        webSocket: hostile,
        store: maybe(fc.constant(undefined)),
      },
      { requiredKeys: [] },
    );
    const whole = fc.oneof({ weight: 5, arbitrary: options }, { weight: 1, arbitrary: hostile });
    await fc.assert(
      fc.asyncProperty(whole, fc.boolean(), async (generated, viaConnect) => {
        const opts = unwrap(generated);
        const what = `${viaConnect ? "connect" : "createClient"}(${describeValue(opts)})`;
        // The scripted broker stands in for the network: a transport is not among the fuzzed options.
        const withTransport = opts !== null && typeof opts === "object" && !nasties.includes(opts) ? { ...(opts as object), transport: badBroker.transport } : opts;
        if (viaConnect) {
          const outcome = await run(() => connect(js(withTransport)));
          if (outcome.kind === "hung") {
            // Only waitOnFirstConnect keeps connect() trying; nothing else may take this long with a broker that answers at once.
            expect(read(opts, "waitOnFirstConnect"), `${what} hung`).toEqual({ ok: true, value: true });
            return;
          }
          expectTyped(outcome, what);
          if (outcome.kind === "ok") expectTyped(await run(() => (outcome.value as Client).end({ force: true })), `end after ${what}`);
        } else {
          const created = await run(() => createClient(js(withTransport)));
          expectTyped(created, what);
          if (created.kind !== "ok") return;
          const client = created.value as Client;
          client.on("error", (e) => void reported.push(e));
          const connecting = client.connect();
          const outcome = await run(() => connecting, 1500);
          if (outcome.kind === "hung") expect(read(opts, "waitOnFirstConnect"), `${what}: connect() hung`).toEqual({ ok: true, value: true });
          else expectTyped(outcome, `connect() after ${what}`);
          const ended = await run(() => client.end());
          expectTyped(ended, `end() after ${what}`);
          if (outcome.kind === "hung") {
            const settled = await run(() => connecting, 1000);
            expect(settled.kind).toBe("refused");
            expect((settled as { error: unknown }).error).toBeInstanceOf(ClientClosedError);
          }
        }
        await goodStillWorks();
      }),
      { seed: SEED, numRuns: 500 },
    );
  }, 30_000);

  it("mqtts:// with hostile tls settings over the real TCP transport: a typed refusal, never a throw", async () => {
    const port = await freePort(); // nothing listens: the attempt fails after the TLS settings are read
    const tls = maybe(fc.record({ ca: hostile, cert: hostile, key: hostile, passphrase: hostile, servername: hostile, rejectUnauthorized: hostile }, { requiredKeys: [] }));
    await fc.assert(
      fc.asyncProperty(tls, async (generated) => {
        const t = unwrap(generated);
        const what = `connect(mqtts://..., tls: ${describeValue(t)})`;
        const outcome = await run(() => connect({ url: `mqtts://127.0.0.1:${port}`, tls: js(t), reconnect: false, connectTimeout: 1000 }));
        expectTyped(outcome, what);
        expect(outcome.kind, what).toBe("refused");
      }),
      { seed: SEED, numRuns: 100 },
    );
    await goodStillWorks();
  }, 30_000);

  it("end(options) and on(event, listener) with anything", async () => {
    await fc.assert(
      fc.asyncProperty(hostile, hostile, hostile, async (...generated) => {
        const [endOptions, event, listener] = generated.map(unwrap);
        const client = await badClient({ clientId: "ender" });
        const on = await run(() => client.on(js<"message">(event), js(listener)));
        expectTyped(on, `on(${describeValue(event)}, ${describeValue(listener)})`);
        if (on.kind === "ok") expect(typeof on.value).toBe("function");
        const outcome = await run(() => client.end(js(endOptions)));
        expectTyped(outcome, `end(${describeValue(endOptions)})`);
        // A refused end() leaves the client as it was; a second, plain end() closes it.
        if (outcome.kind === "refused") expect(client.connected).toBe(true);
        expect((await run(() => client.end({ force: true }))).kind).toBe("ok");
        expect(client.connected).toBe(false);
        await goodStillWorks();
      }),
      { seed: SEED, numRuns: 200 },
    );
  }, 30_000);
});
