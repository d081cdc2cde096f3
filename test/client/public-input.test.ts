/**
 * What the public methods accept from plain JavaScript, and how they refuse the rest: payload types, the publish and
 * subscribe options, subscribe's filters, end()'s and on()'s arguments, and the byte-valued client options (will
 * payload, password, also from beforeConnect). Every refusal is a typed error with a code, and nothing is written.
 */
import { describe, expect, it } from "vitest";
import {
  ConnectError,
  EdgemqError,
  OptionsError,
  PublishError,
  SubscribeError,
  TopicError,
  createClient,
  type Client,
  type ClientOptions,
  type Connection,
  type PublishPacket,
  type Transport,
} from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { bytes, connected, settle } from "./helpers.ts";

/** Hands any value to a method typed for narrower ones, as plain JavaScript does. */
const js = <T>(value: unknown): T => value as T;

/** The error a call rejected (or threw) with; fails when it succeeded. */
async function refusal(call: () => Promise<unknown> | unknown): Promise<EdgemqError> {
  let result: unknown;
  try {
    result = await call();
  } catch (err) {
    expect(err).toBeInstanceOf(EdgemqError);
    expect(typeof (err as EdgemqError).code).toBe("string");
    return err as EdgemqError;
  }
  throw new Error(`expected a refusal, got ${String(result)}`);
}

/** Packets the client wrote after `from` (CONNECT and earlier excluded). */
const publishesAfter = (packets: readonly { type: string }[], from: number) => packets.slice(from).filter((p) => p.type === "publish") as PublishPacket[];

describe("publish() payloads", () => {
  it("takes strings, Uint8Array views, Buffers, ArrayBuffers and any other ArrayBufferView, as their bytes", async () => {
    const { client, conn } = await connected();
    const from = conn.packets.length;
    const backing = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const i16 = Int16Array.from([0x0102, -2]);
    const expected: Array<[unknown, number[]]> = [
      ["héllo", [...bytes("héllo")]],
      [backing.subarray(2, 5), [2, 3, 4]],
      [Buffer.from("buf"), [...bytes("buf")]],
      [backing.buffer.slice(7), [7, 8, 9]],
      [new DataView(backing.buffer, 1, 3), [1, 2, 3]],
      [i16, [...new Uint8Array(i16.buffer)]],
      [new Float64Array([1.5]).subarray(0, 0), []],
      [new BigUint64Array([1n]), [...new Uint8Array(new BigUint64Array([1n]).buffer)]],
      ["", []],
    ];
    for (const [payload] of expected) await client.publish("t/ok", js(payload));
    await settle();
    expect(publishesAfter(conn.packets, from).map((p) => [...p.payload])).toEqual(expected.map(([, b]) => b));
  });

  it("writes a large DataView's bytes as they are (a view, no copy)", async () => {
    const writes: Uint8Array[] = [];
    const broker = new FakeBroker();
    const capturing: Transport = async (url, options, handlers) => {
      const c = await broker.transport(url, options, handlers);
      const keep = (parts: Uint8Array[]) => void writes.push(...parts);
      return { ...c, write: (b) => (keep([b]), c.write(b)), writeMany: (parts) => (keep(parts), parts.every((p) => c.write(p))) } satisfies Connection;
    };
    const client = createClient({ url: "mqtt://fake", transport: capturing, keepalive: 0, reconnect: false });
    const connecting = client.connect();
    await (await broker.nextConnection()).accept();
    await connecting;
    const buffer = new ArrayBuffer(40_000);
    new Uint8Array(buffer).fill(7);
    await client.publish("big", new DataView(buffer, 100, 30_000));
    expect(writes.some((w) => w.buffer === buffer && w.byteOffset === 100 && w.length === 30_000)).toBe(true);
    await client.end({ force: true });
  });

  const invalid: Array<[string, unknown]> = [
    ["a number", 21.5],
    ["NaN", Number.NaN],
    ["null", null],
    ["undefined", undefined],
    ["true", true],
    ["a bigint", 10n],
    ["a symbol", Symbol("payload")],
    ["a function", () => "x"],
    ["a plain object", { length: 3 }],
    ["an array of numbers", [1, 2, 3]],
    ["a Proxy of a Uint8Array", new Proxy(new Uint8Array(4), {})],
    ["a Proxy whose traps throw", new Proxy({}, { get: () => { throw new TypeError("trap"); }, getPrototypeOf: () => { throw new TypeError("trap"); } })],
    ["a String object", new String("boxed")],
  ];

  it.each(invalid)("refuses %s with PublishError invalid-payload at QoS 0, 1 and 2 and writes nothing", async (_label, payload) => {
    const { client, conn } = await connected();
    const from = conn.packets.length;
    for (const qos of [0, 1, 2] as const) {
      const err = await refusal(() => client.publish("t/bad", js(payload), { qos }));
      expect(err).toBeInstanceOf(PublishError);
      expect(err.code).toBe("invalid-payload");
    }
    await settle();
    expect(conn.packets.slice(from)).toEqual([]);
    expect(client.stats()).toMatchObject({ inflight: 0, queued: 0, sent: 0 });
    // The client goes on working.
    await client.publish("t/good", "fine");
    await settle();
    expect(publishesAfter(conn.packets, from).map((p) => p.topic)).toEqual(["t/good"]);
  });

  it("refuses a bad payload while offline too (nothing is queued)", async () => {
    const client = createClient({ url: "mqtt://fake", transport: new FakeBroker().transport, reconnect: false });
    const err = await refusal(() => client.publish("t", js(42), { qos: 1 }));
    expect(err.code).toBe("invalid-payload");
    expect(client.stats().queued).toBe(0);
    await client.end();
  });
});

describe("publish() options", () => {
  it("null and undefined mean the defaults, for the options and for each field", async () => {
    const { client, conn } = await connected();
    const from = conn.packets.length;
    await client.publish("o/1", "a", js(null));
    await client.publish("o/2", "b", undefined);
    await client.publish("o/3", "c", js({ qos: null, retain: null }));
    await settle();
    expect(publishesAfter(conn.packets, from).map((p) => [p.topic, p.qos, p.retain])).toEqual([["o/1", 0, false], ["o/2", 0, false], ["o/3", 0, false]]);
  });

  it.each([
    ["a number", 1],
    ["a string", "qos1"],
    ["true", true],
    ["a symbol", Symbol("o")],
    ["a function", () => 1],
  ])("refuses %s as options with OptionsError", async (_label, options) => {
    const { client, conn } = await connected();
    const from = conn.packets.length;
    const err = await refusal(() => client.publish("o", "x", js(options)));
    expect(err).toBeInstanceOf(OptionsError);
    expect(err.code).toBe("invalid-options");
    await settle();
    expect(conn.packets.slice(from)).toEqual([]);
  });

  it.each([["a number", 1], ["a string", "true"], ["an object", {}]])("refuses retain as %s with OptionsError", async (_label, retain) => {
    const { client } = await connected();
    const err = await refusal(() => client.publish("o", "x", js({ retain })));
    expect(err).toMatchObject({ name: "OptionsError", code: "invalid-options" });
  });

  it.each([3, -1, 1.5, "1", Number.NaN, {}])("refuses qos %s with invalid-qos", async (qos) => {
    const { client } = await connected();
    expect(await refusal(() => client.publish("o", "x", js({ qos })))).toMatchObject({ name: "PublishError", code: "invalid-qos" });
  });

  it("options whose getters throw are refused with OptionsError, the getter's throw as its cause (publish, subscribe, end)", async () => {
    const { client } = await connected();
    const thrown = new TypeError("getter");
    const options = { get qos(): number { throw thrown; }, get force(): boolean { throw thrown; } };
    for (const call of [() => client.publish("o", "x", js(options)), () => client.subscribe("o", js(options)), () => client.end(js(options))]) {
      const err = await refusal(call);
      expect(err).toMatchObject({ name: "OptionsError", code: "invalid-options" });
      expect(err.cause).toBe(thrown);
    }
    expect(client.connected).toBe(true);
  });

  it("a topic that is not a string, or whose toString throws, is a TopicError", async () => {
    const { client } = await connected();
    for (const topic of [7, null, Symbol("t"), Object.create(null), { toString: () => { throw new Error("no"); } }]) {
      expect(await refusal(() => client.publish(js(topic), "x"))).toMatchObject({ name: "TopicError", code: "invalid-topic" });
    }
  });
});

describe("subscribe() arguments", () => {
  it("an empty list rejects with SubscribeError no-filters (refused and granted empty), nothing sent", async () => {
    const { client, conn } = await connected();
    const from = conn.packets.length;
    const err = await refusal(() => client.subscribe([]));
    expect(err).toBeInstanceOf(SubscribeError);
    expect(err).toMatchObject({ name: "SubscribeError", code: "no-filters", refused: [], granted: [] });
    await settle();
    expect(conn.packets.slice(from)).toEqual([]);
  });

  it.each([5, -1, 1.5, "1", Number.NaN, {}])("qos %s rejects with SubscribeError invalid-qos", async (qos) => {
    const { client, conn } = await connected();
    const from = conn.packets.length;
    const err = await refusal(() => client.subscribe("a/b", js({ qos })));
    expect(err).toBeInstanceOf(SubscribeError);
    expect(err).toMatchObject({ code: "invalid-qos", refused: [], granted: [] });
    await settle();
    expect(conn.packets.slice(from)).toEqual([]);
  });

  it.each([
    ["a number", 42],
    ["null", null],
    ["undefined", undefined],
    ["an object", { topic: "a" }],
    ["a list with a number", ["a", 1]],
    ["a list with null", [null]],
    ["a Set", new Set(["a"])],
    ["a Proxy of an array whose traps throw", new Proxy(["a"], { get: () => { throw new TypeError("trap"); } })],
  ])("%s as filters rejects with TopicError invalid-topic-filter", async (_label, filters) => {
    const { client, conn } = await connected();
    const from = conn.packets.length;
    const err = await refusal(() => client.subscribe(js(filters)));
    expect(err).toBeInstanceOf(TopicError);
    expect(err.code).toBe("invalid-topic-filter");
    await settle();
    expect(conn.packets.slice(from)).toEqual([]);
  });

  it("refuses options that are not an object, and a maxBuffered that is not a count, with OptionsError", async () => {
    const { client } = await connected();
    for (const options of [7, "x", true, () => ({}), { maxBuffered: -1 }, { maxBuffered: 1.5 }, { maxBuffered: "10" }]) {
      expect(await refusal(() => client.subscribe("a", js(options)))).toMatchObject({ name: "OptionsError", code: "invalid-options" });
    }
  });

  it("null options mean the defaults", async () => {
    const { client, conn } = await connected();
    const subscribing = client.subscribe("n/1", js(null));
    const sub = await conn.next("subscribe");
    expect(sub.subscriptions).toEqual([{ topic: "n/1", qos: 0 }]);
    conn.send({ type: "suback", packetId: sub.packetId, granted: [0] });
    await subscribing;
  });
});

describe("end() and on() arguments", () => {
  it("end(null) is a graceful end; end() with options that are not an object, or a bad timeout, is refused and leaves the client open", async () => {
    for (const options of [5, "force", { timeout: -1 }, { timeout: Number.NaN }, { timeout: Infinity }, { force: "yes" }]) {
      const { client } = await connected();
      const err = await refusal(() => client.end(js(options)));
      expect(err).toMatchObject({ name: "OptionsError", code: "invalid-options" });
      expect(client.connected).toBe(true);
      await client.end({ force: true });
    }
    const { client, conn } = await connected();
    await client.end(js(null));
    expect(conn.unread().map((p) => p.type)).toEqual(["disconnect"]);
  });

  it("on() with a listener that is not a function throws OptionsError", async () => {
    const { client } = await connected();
    for (const listener of [undefined, null, 1, "f", {}]) {
      expect(await refusal(() => client.on("message", js(listener)))).toMatchObject({ name: "OptionsError", code: "invalid-options" });
    }
  });
});

describe("byte-valued options", () => {
  const base: ClientOptions = { url: "mqtt://fake", transport: new FakeBroker().transport, reconnect: false };

  it.each([
    ["will payload as a number", { will: { topic: "w", payload: js(21.5) } }],
    ["will payload null", { will: { topic: "w", payload: js(null) } }],
    ["will payload over 65,535 bytes", { will: { topic: "w", payload: new Uint8Array(65_536) } }],
    ["will retain not a boolean", { will: { topic: "w", payload: "x", retain: js(1) } }],
    ["will that is a number", { will: js(5) }],
    ["password as a number", { username: "u", password: js(1234) }],
    ["password as an object", { username: "u", password: js({}) }],
    ["password over 65,535 bytes", { username: "u", password: new Uint8Array(65_536) }],
    ["username as a number", { username: js(7) }],
    ["clientId as a number", { clientId: js(7) }],
    ["clientId with U+0000", { clientId: "a\u0000b" }],
    ["clean as a string", { clean: js("false") }],
    ["options as null", js(null)],
    ["options as a number", js(3)],
    ["servers as a string", { servers: js("mqtt://a") }],
    ["a url that is a bigint", { url: js(10n) }],
    ["reconnect as a number", { reconnect: js(5) }],
    ["reconnect.stableAfter NaN", { reconnect: { stableAfter: Number.NaN } }],
    ["offlineQueue as a string", { offlineQueue: js("big") }],
    ["tls as a number", { tls: js(1) }],
    ["store that is not a Store", { store: js({}) }],
    ["beforeConnect that is not a function", { beforeConnect: js(1) }],
    ["endTimeout Infinity", { endTimeout: Infinity }],
    ["keepalive whose toString throws", { keepalive: js({ toString: () => { throw new Error("no"); } }) }],
  ])("%s: createClient throws OptionsError", async (_label, options) => {
    const merged = options === null || typeof options !== "object" ? options : { ...base, ...options };
    const err = await refusal(() => createClient(js(merged)));
    expect(err).toBeInstanceOf(OptionsError);
    expect(err.code).toBe("invalid-options");
  });

  it("options whose getters throw: OptionsError with the throw as its cause", async () => {
    const thrown = new TypeError("getter");
    const options = { ...base, get keepalive(): number { throw thrown; } };
    const err = await refusal(() => createClient(options));
    expect(err).toMatchObject({ name: "OptionsError", code: "invalid-options" });
    expect(err.cause).toBe(thrown);
  });

  it("takes the will payload and the password as an ArrayBuffer or any view, as their bytes", async () => {
    const { conn } = await connected({
      will: { topic: "w", payload: js(new DataView(Uint8Array.from([9, 8, 7, 6]).buffer, 1, 2)) },
      username: "u",
      password: js(Uint8Array.from([1, 2, 3]).buffer),
    });
    const connect = conn.packets[0] as Extract<(typeof conn.packets)[number], { type: "connect" }>;
    expect([...connect.will!.payload]).toEqual([8, 7]);
    expect([...connect.password!]).toEqual([1, 2, 3]);
  });

  it("a password from beforeConnect that is not bytes fails the attempt with OptionsError, and the next client connects", async () => {
    const broker = new FakeBroker();
    const bad = createClient({ ...base, transport: broker.transport, username: "u", beforeConnect: () => ({ password: js(21.5) }) });
    const err = await refusal(() => bad.connect());
    expect(err).toMatchObject({ name: "OptionsError", code: "invalid-options" });
    const good = createClient({ ...base, transport: broker.transport, connectTimeout: 2000 });
    const connecting = good.connect();
    const conn = await broker.nextConnection();
    await conn.accept();
    await connecting;
    await good.end({ force: true });
    await bad.end();
  });

  it("a beforeConnect that throws fails the attempt with ConnectError connection-failed, the throw as its cause", async () => {
    const thrown = new Error("token service down");
    const client: Client = createClient({ ...base, beforeConnect: () => { throw thrown; } });
    const err = await refusal(() => client.connect());
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: "connection-failed" });
    expect(err.cause).toBe(thrown);
    await client.end();
  });
});
