/**
 * Lifecycle races against the scripted broker on a fake clock: end() during an attempt, connect timeouts,
 * unanswered requests, waitOnFirstConnect, listener errors and what the library prints.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ClientClosedError,
  ConnectError,
  createClient,
  ListenerError,
  OptionsError,
  RequestTimeoutError,
  type ClientOptions,
  type Transport,
} from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { connected, settle } from "./helpers.ts";

/** A transport whose connections never open; records each attempt's abort signal. */
function hangingTransport() {
  const signals: AbortSignal[] = [];
  const transport: Transport = (_url, options) =>
    new Promise((_, reject) => {
      signals.push(options.signal!);
      options.signal?.addEventListener("abort", () => reject(options.signal!.reason));
    });
  return { transport, signals };
}

const base = (clock: FakeClock, extra: Partial<ClientOptions>): ClientOptions => ({
  url: "mqtt://fake:1883",
  clock,
  random: () => 0,
  keepalive: 0,
  ...extra,
});

const settledWith = (p: Promise<unknown>) => p.then(() => "resolved", (e: unknown) => e);

afterEach(() => vi.restoreAllMocks());

describe("end() while connecting", () => {
  it("settles connect() at once with ClientClosedError and aborts the socket being opened", async () => {
    const clock = new FakeClock();
    const { transport, signals } = hangingTransport();
    const client = createClient(base(clock, { transport, connectTimeout: 30_000 }));
    const outcome = settledWith(client.connect());
    await settle();
    expect(signals).toHaveLength(1);
    await client.end();
    const err = await outcome;
    expect(err).toBeInstanceOf(ClientClosedError);
    expect(signals[0]!.aborted).toBe(true);
    expect(clock.pending()).toEqual([]); // no timer left behind
  });

  it("while waiting for the CONNACK: rejects at once and closes the connection", async () => {
    const broker = new FakeBroker();
    const clock = new FakeClock();
    const client = createClient(base(clock, { transport: broker.transport }));
    const outcome = settledWith(client.connect());
    const conn = await broker.nextConnection();
    await conn.next("connect");
    await client.end();
    expect(await outcome).toBeInstanceOf(ClientClosedError);
    expect(conn.closedByClient).toBe(true);
  });

  it("while beforeConnect is still working: rejects at once", async () => {
    const clock = new FakeClock();
    const client = createClient(base(clock, { transport: hangingTransport().transport, beforeConnect: () => new Promise(() => undefined) }));
    const outcome = settledWith(client.connect());
    await settle();
    await client.end();
    expect(await outcome).toBeInstanceOf(ClientClosedError);
  });
});

describe("connect timeout", () => {
  it("rejects with connect-timeout and aborts (destroys) the socket being opened", async () => {
    const clock = new FakeClock();
    const { transport, signals } = hangingTransport();
    const client = createClient(base(clock, { transport, connectTimeout: 5000, reconnect: false }));
    const outcome = settledWith(client.connect());
    await settle();
    await clock.advance(5000);
    const err = await outcome;
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe("connect-timeout");
    expect(signals[0]!.aborted).toBe(true);
  });
});

describe("requests that are never answered", () => {
  it("a SUBSCRIBE without SUBACK rejects after requestTimeout with request-timeout; the subscription is gone", async () => {
    const rig = await connected({ requestTimeout: 3000 });
    const outcome = settledWith(rig.client.subscribe("never", { qos: 1 }));
    const s = await rig.conn.next("subscribe");
    await rig.clock.advance(2999);
    expect(await Promise.race([outcome, Promise.resolve("pending")])).toBe("pending");
    await rig.clock.advance(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as RequestTimeoutError).code).toBe("request-timeout");
    // a late SUBACK is harmless, and its packet id is free again afterwards
    rig.conn.send({ type: "suback", packetId: s.packetId, granted: [1] });
    await settle();
    expect(rig.client.connected).toBe(true);
    const again = rig.client.subscribe("next", { qos: 0 });
    const s2 = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: s2.packetId, granted: [0] });
    expect((await again).granted).toEqual([0]);
  });

  it("an UNSUBSCRIBE without UNSUBACK rejects after requestTimeout", async () => {
    const rig = await connected({ requestTimeout: 1000 });
    const pending = rig.client.subscribe("u", { qos: 0 });
    const s = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: s.packetId, granted: [0] });
    const sub = await pending;
    const outcome = settledWith(sub.unsubscribe());
    await rig.conn.next("unsubscribe");
    await rig.clock.advance(1000);
    expect(await outcome).toBeInstanceOf(RequestTimeoutError);
  });

  it("a SUBSCRIBE interrupted by a drop is sent again after the reconnect and resolves", async () => {
    const rig = await connected({ requestTimeout: 60_000 });
    const pending = rig.client.subscribe("again", { qos: 1 });
    const first = await rig.conn.next("subscribe");
    rig.conn.drop();
    await settle();
    await rig.clock.advance(8000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(false);
    const resent = await conn.next("subscribe");
    expect(resent.packetId).toBe(first.packetId);
    conn.send({ type: "suback", packetId: resent.packetId, granted: [1] });
    expect((await pending).granted).toEqual([1]);
  });

  it("break out of for await while offline returns at once", async () => {
    const rig = await connected();
    const pending = rig.client.subscribe("off", { qos: 1 });
    const s = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: s.packetId, granted: [1] }, { type: "publish", topic: "off", payload: new Uint8Array([1]), qos: 0, retain: false, dup: false, packetId: undefined });
    const sub = await pending;
    rig.conn.drop();
    await settle();
    let left = false;
    const loop = (async () => {
      for await (const _m of sub) break;
      left = true;
    })();
    await settle();
    expect(left).toBe(true);
    await loop;
    await rig.client.end({ force: true });
  });
});

describe("waitOnFirstConnect", () => {
  it("keeps trying with the backoff until the first CONNACK, reporting each attempt", async () => {
    const broker = new FakeBroker();
    const clock = new FakeClock();
    broker.refuse = 3;
    const client = createClient(base(clock, { transport: broker.transport, waitOnFirstConnect: true, reconnect: { initialDelay: 1000, maxDelay: 4000, jitter: 0 } }));
    const attempts: number[] = [];
    client.on("reconnecting", (r) => attempts.push(r.delay));
    let done = false;
    const connecting = client.connect().then(() => (done = true));
    await clock.advance(1000 + 2000 + 4000);
    const conn = await broker.nextConnection();
    expect(done).toBe(false);
    await conn.accept();
    await connecting;
    expect(attempts).toEqual([1000, 2000, 4000]);
    expect(broker.attempts).toBe(4);
    await client.end();
  });

  it("end() meanwhile rejects connect() with ClientClosedError and stops trying", async () => {
    const broker = new FakeBroker();
    const clock = new FakeClock();
    broker.refuse = 100;
    const client = createClient(base(clock, { transport: broker.transport, waitOnFirstConnect: true }));
    const outcome = settledWith(client.connect());
    await clock.advance(5000);
    await client.end();
    expect(await outcome).toBeInstanceOf(ClientClosedError);
    const attempts = broker.attempts;
    await clock.advance(120_000);
    expect(broker.attempts).toBe(attempts);
  });

  it("without it, connect() rejects after trying every server once; with reconnect: false it is refused", async () => {
    const broker = new FakeBroker();
    const clock = new FakeClock();
    broker.refuse = 1;
    const client = createClient(base(clock, { transport: broker.transport }));
    expect(await settledWith(client.connect())).toBeInstanceOf(ConnectError);
    expect(() => createClient(base(clock, { transport: broker.transport, waitOnFirstConnect: true, reconnect: false }))).toThrow(OptionsError);
  });
});

describe("listener errors and output", () => {
  it("a message listener that throws is reported as ListenerError with the original error as cause, stack intact", async () => {
    const rig = await connected();
    const thrown = new TypeError("boom in handler");
    rig.client.on("message", () => {
      throw thrown;
    });
    const errors: Error[] = [];
    rig.client.on("error", (e) => errors.push(e));
    rig.conn.send({ type: "publish", topic: "t", payload: new Uint8Array(1), qos: 1, retain: false, dup: false, packetId: 1 });
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ListenerError);
    expect((errors[0] as ListenerError).code).toBe("listener-error");
    expect((errors[0] as ListenerError).event).toBe("message");
    expect(errors[0]!.cause).toBe(thrown);
    expect((errors[0]!.cause as Error).stack).toContain("lifecycle.test.ts");
    expect(rig.conn.packets.some((p) => p.type === "puback")).toBe(true); // the message still counts as taken
  });

  it("with no error listener, one line per distinct condition, never one per occurrence", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const rig = await connected();
    rig.client.on("message", () => {
      throw new Error("always");
    });
    for (let i = 0; i < 100; i++) rig.conn.send({ type: "publish", topic: "t", payload: new Uint8Array(1), qos: 0, retain: false, dup: false, packetId: undefined });
    await settle();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/listener-error.*always/);
    expect(error).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it("prints nothing in normal operation: drops, reconnects, an unread subscription, slow iterators", async () => {
    const spies = [vi.spyOn(console, "warn"), vi.spyOn(console, "error"), vi.spyOn(console, "log"), vi.spyOn(console, "info")];
    const rig = await connected();
    rig.client.on("message", () => undefined);
    const pending = rig.client.subscribe("n/#", { qos: 1, maxBuffered: 10 });
    const s = await rig.conn.next("subscribe");
    rig.conn.send({ type: "suback", packetId: s.packetId, granted: [1] });
    await pending;
    for (let i = 1; i <= 500; i++) rig.conn.send({ type: "publish", topic: "n/x", payload: new Uint8Array(4096), qos: 1, retain: false, dup: false, packetId: i });
    rig.conn.drop();
    await settle();
    await rig.clock.advance(8000);
    const conn = await rig.broker.nextConnection();
    await conn.accept(true);
    await settle();
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    await rig.client.end();
  });
});
