/** Connecting, refusals, timeouts, keepalive, reconnect backoff, failover, offline queue and end(), on a fake clock. */
import { describe, expect, it } from "vitest";
import { ConnectError, createClient, OptionsError, type ClientEvents } from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { bytes, connected, settle, text } from "./helpers.ts";

describe("CONNECT and CONNACK", () => {
  it("sends client id, clean flag, keepalive, will and credentials", async () => {
    const broker = new FakeBroker();
    const client = createClient({
      url: "mqtt://fake",
      transport: broker.transport,
      clientId: "gw-01",
      clean: false,
      keepalive: 45,
      username: "u",
      password: "p",
      will: { topic: "gw/01/status", payload: "offline", qos: 1, retain: true },
    });
    const p = client.connect();
    const conn = await broker.nextConnection();
    const connect = await conn.accept(true);
    await p;
    expect(connect).toEqual({
      type: "connect",
      clientId: "gw-01",
      clean: false,
      keepalive: 45,
      username: "u",
      password: bytes("p"),
      will: { topic: "gw/01/status", payload: bytes("offline"), qos: 1, retain: true },
    });
    expect(client.sessionPresent).toBe(true);
    expect(client.connected).toBe(true);
    await client.end({ force: true });
  });

  it.each([
    [1, "unacceptable-protocol-version"],
    [2, "identifier-rejected"],
    [3, "server-unavailable"],
    [4, "bad-username-or-password"],
    [5, "not-authorized"],
  ])("CONNACK return code %i rejects with ConnectError %s", async (rc, code) => {
    const broker = new FakeBroker();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, username: "u", password: "secret-pw" });
    const p = client.connect();
    const conn = await broker.nextConnection();
    await conn.accept(false, rc);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code, returnCode: rc });
    expect(String((err as Error).message)).not.toContain("secret-pw");
    expect(client.connected).toBe(false);
  });

  it("times out when no CONNACK comes", async () => {
    const broker = new FakeBroker();
    const clock = new FakeClock();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, clock, connectTimeout: 5000 });
    const p = client.connect();
    const outcome = p.catch((e: unknown) => e);
    const conn = await broker.nextConnection();
    await conn.next("connect");
    await clock.advance(4999);
    expect(conn.closed).toBe(false);
    await clock.advance(1);
    expect(await outcome).toMatchObject({ code: "connect-timeout" });
    expect(conn.closedByClient).toBe(true);
  });

  it("a TLS record where the CONNACK should be (an mqtt:// URL to a TLS port) fails at once, saying the server speaks TLS", async () => {
    for (const record of [[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46], [0x16, 0x03, 0x01, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00]]) {
      const broker = new FakeBroker();
      const client = createClient({ url: "mqtt://fake", transport: broker.transport, clock: new FakeClock(), reconnect: false });
      const connecting = client.connect().catch((e: unknown) => e);
      const conn = await broker.nextConnection();
      await conn.next("connect");
      conn.send(Uint8Array.from(record));
      const err = await connecting;
      expect(err).toBeInstanceOf(ConnectError);
      expect(err).toMatchObject({ code: "connection-failed" });
      expect((err as Error).message).toMatch(/the server speaks TLS \(use mqtts:\/\/\)/);
    }
  });

  it("refuses an empty client id with clean=false locally, and allows it with clean=true", async () => {
    expect(() => createClient({ url: "mqtt://fake", clientId: "", clean: false })).toThrow(OptionsError);
    const broker = new FakeBroker();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, clientId: "", clean: true });
    const p = client.connect();
    const conn = await broker.nextConnection();
    expect((await conn.accept()).clientId).toBe("");
    await p;
  });

  it("rejects invalid options with OptionsError naming the option", () => {
    expect(() => createClient({ url: "ftp://x" })).toThrow(/unsupported URL scheme/);
    expect(() => createClient({ url: "mqtt://x", keepalive: 70_000 })).toThrow(/keepalive/);
    expect(() => createClient({ url: "mqtt://x", maxInflight: 0 })).toThrow(/maxInflight/);
    expect(() => createClient({ url: "mqtt://x", password: "p" })).toThrow(/password requires username/);
    expect(() => createClient({ url: "mqtt://x", will: { topic: "a/#", payload: "" } })).toThrow(/will.topic/);
    expect(() => createClient({})).toThrow(/url/);
  });
});

describe("publish validation", () => {
  it("rejects invalid topics and oversize payloads with typed errors and sends nothing", async () => {
    const { client, conn } = await connected({ maxOutgoingPacketSize: 1000 });
    await expect(client.publish("a/+/b", "x")).rejects.toMatchObject({ code: "invalid-topic" });
    await expect(client.publish("", "x")).rejects.toMatchObject({ code: "invalid-topic" });
    await expect(client.publish("a\uD800", "x")).rejects.toMatchObject({ code: "invalid-topic" });
    await expect(client.publish("a", new Uint8Array(1000))).rejects.toMatchObject({ code: "payload-too-large" });
    await expect(client.publish("a", "x", { qos: 3 as 0 })).rejects.toMatchObject({ code: "invalid-qos" });
    await expect(client.subscribe("a/#/b")).rejects.toMatchObject({ code: "invalid-topic-filter" });
    await settle();
    expect(conn.unread()).toEqual([]);
    expect(client.stats().sent).toBe(0);
  });
});

describe("keepalive", () => {
  it("sends PINGREQ when idle and declares the link dead without PINGRESP within 1.5x keepalive", async () => {
    const rig = await connected({ keepalive: 10 });
    const events: string[] = [];
    rig.client.on("disconnect", (d) => events.push(`disconnect:${(d.reason as { code?: string }).code}`));
    rig.client.on("reconnecting", (r) => events.push(`reconnecting:${r.attempt}`));
    await rig.clock.advance(9_999);
    expect(rig.conn.unread()).toEqual([]);
    await rig.clock.advance(1);
    expect(await rig.conn.next()).toEqual({ type: "pingreq" });
    rig.conn.send({ type: "pingresp" });
    await settle();
    await rig.clock.advance(10_000);
    expect(await rig.conn.next()).toEqual({ type: "pingreq" });
    // No answer this time: dead after half an interval more.
    await rig.clock.advance(4_999);
    expect(rig.client.connected).toBe(true);
    await rig.clock.advance(1);
    expect(rig.client.connected).toBe(false);
    expect(events).toEqual(["disconnect:keepalive-timeout", "reconnecting:1"]);
  });

  it("keepalive 0 sends no PINGREQ", async () => {
    const rig = await connected({ keepalive: 0 });
    await rig.clock.advance(3_600_000);
    expect(rig.conn.unread()).toEqual([]);
    expect(rig.client.connected).toBe(true);
  });
});

describe("reconnect", () => {
  it("backs off exponentially with jitter, capped at maxDelay, and resets only after a stable connection", async () => {
    let r = 0.5;
    const rig = await connected({
      random: () => r,
      reconnect: { initialDelay: 1000, multiplier: 2, maxDelay: 8000, jitter: 0.5, stableAfter: 20_000 },
    });
    const delays: number[] = [];
    rig.client.on("reconnecting", (e) => delays.push(e.delay));
    rig.broker.refuse = 5;
    rig.conn.drop();
    for (let i = 0; i < 6; i++) await rig.clock.advance(rig.clock.pending()[0] ?? 0);
    // jitter 0.5 with random 0.5 takes 25% off each delay.
    expect(delays).toEqual([750, 1500, 3000, 6000, 6000, 6000]);
    const conn = await rig.broker.nextConnection();
    await conn.accept();
    await settle();
    // Dropped again before stableAfter: the delay keeps growing.
    conn.drop();
    await settle();
    expect(delays.at(-1)).toBe(6000);
    await rig.clock.advance(6000);
    const conn2 = await rig.broker.nextConnection();
    await conn2.accept();
    await rig.clock.advance(20_000);
    r = 0;
    conn2.drop();
    await settle();
    expect(delays.at(-1)).toBe(1000);
  });

  it("CONNACK 4/5 on reconnect back off to maxDelay, and beforeConnect refreshes credentials per attempt", async () => {
    const attempts: number[] = [];
    const rig = await connected({
      username: "dev",
      password: "old",
      beforeConnect: (attempt) => {
        attempts.push(attempt);
        return { password: `token-${attempt}` };
      },
    });
    const delays: number[] = [];
    rig.client.on("reconnecting", (e) => delays.push(e.delay));
    rig.conn.drop();
    await rig.clock.advance(rig.clock.pending()[0]!);
    const c1 = await rig.broker.nextConnection();
    const connect1 = await c1.accept(false, 5);
    expect(text(connect1.password!)).toBe("token-1");
    await settle();
    await rig.clock.advance(rig.clock.pending()[0]!);
    const c2 = await rig.broker.nextConnection();
    expect(text((await c2.accept()).password!)).toBe("token-2");
    expect(delays).toEqual([1000, 8000]);
    expect(attempts).toEqual([0, 1, 2]);
  });

  it("fails over to the next server in order when one is unreachable", async () => {
    const broker = new FakeBroker();
    const clock = new FakeClock();
    const down = new Set(["a.test"]);
    const transport: typeof broker.transport = (url, o, h) =>
      down.has(url.hostname) ? Promise.reject(new Error(`connect ECONNREFUSED ${url.hostname}`)) : broker.transport(url, o, h);
    const client = createClient({ servers: ["mqtt://a.test", "mqtt://b.test"], transport, clock, random: () => 0 });
    const p = client.connect();
    const c1 = await broker.nextConnection();
    expect(c1.url.hostname).toBe("b.test");
    await c1.accept();
    await p;
    // b goes down and a comes back: the client moves to a.
    down.clear();
    down.add("b.test");
    c1.drop();
    for (let i = 0; i < 3 && broker.connections.length < 2; i++) await clock.advance(clock.pending()[0] ?? 0);
    const c2 = await broker.nextConnection();
    expect(c2.url.hostname).toBe("a.test");
  });

  it("rejects connect() after trying every server once", async () => {
    const client = createClient({
      servers: ["mqtt://a.test", "mqtt://b.test"],
      transport: (url) => Promise.reject(new Error(`connect ECONNREFUSED ${url.hostname}`)),
    });
    await expect(client.connect()).rejects.toMatchObject({ code: "connection-failed", message: expect.stringContaining("b.test") });
  });
});

describe("offline queue", () => {
  it('"reject" refuses the publish that does not fit, with a typed error', async () => {
    const rig = await connected({ offlineQueue: { maxMessages: 2, overflow: "reject" } });
    rig.conn.drop();
    await settle();
    const a = rig.client.publish("t", "a", { qos: 1 });
    const b = rig.client.publish("t", "b");
    await expect(rig.client.publish("t", "c", { qos: 1 })).rejects.toMatchObject({ code: "queue-full" });
    expect(rig.client.stats().queued).toBe(2);
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    await conn.accept();
    const sent = [await conn.next("publish"), await conn.next("publish")];
    expect(sent.map((p) => text(p.payload))).toEqual(["a", "b"]);
    conn.send({ type: "puback", packetId: sent[0]!.packetId! });
    await Promise.all([a, b]);
  });

  it('"drop-oldest" evicts the oldest QoS 0 message first, reports it, and respects maxBytes', async () => {
    const rig = await connected({ offlineQueue: { maxMessages: 3, maxBytes: 1000, overflow: "drop-oldest" } });
    const dropped: ClientEvents["drop"][] = [];
    rig.client.on("drop", (d) => dropped.push(d));
    rig.conn.drop();
    await settle();
    const q1 = rig.client.publish("t", "1", { qos: 1 });
    const q0a = rig.client.publish("t", "2");
    const q0b = rig.client.publish("t", "3");
    // QoS 0 publishes resolve once queued; their later eviction shows in the "drop" event and stats.
    await Promise.all([q0a, q0b]);
    const q1b = rig.client.publish("t", "4", { qos: 1 }); // evicts "2" (oldest QoS 0)
    const q1c = rig.client.publish("t", "5", { qos: 1 }); // evicts "3"
    const q1d = rig.client.publish("t", "6", { qos: 1 }); // no QoS 0 left: evicts the oldest, "1"
    await expect(q1).rejects.toMatchObject({ code: "message-dropped" });
    expect(dropped).toEqual([
      { topic: "t", qos: 0 },
      { topic: "t", qos: 0 },
      { topic: "t", qos: 1 },
    ]);
    expect(rig.client.stats()).toMatchObject({ dropped: 3, queued: 3 });
    // A message larger than maxBytes can never fit.
    await expect(rig.client.publish("t", new Uint8Array(2000), { qos: 1 })).rejects.toMatchObject({ code: "payload-too-large" });
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    await conn.accept();
    const sent = [await conn.next("publish"), await conn.next("publish"), await conn.next("publish")];
    expect(sent.map((p) => text(p.payload))).toEqual(["4", "5", "6"]);
    for (const p of sent) conn.send({ type: "puback", packetId: p.packetId! });
    await Promise.all([q1b, q1c, q1d]);
  });
});

describe("end()", () => {
  it("graceful: waits for in-flight acks, then sends DISCONNECT", async () => {
    const { client, conn } = await connected();
    const p = client.publish("t", "x", { qos: 1 });
    const pub = await conn.next("publish");
    let ended = false;
    const ending = client.end().then(() => (ended = true));
    await settle();
    expect(ended).toBe(false);
    conn.send({ type: "puback", packetId: pub.packetId! });
    await ending;
    await p;
    expect(await conn.next()).toEqual({ type: "disconnect" });
    expect(conn.closedByClient).toBe(true);
    await expect(client.publish("t", "y")).rejects.toMatchObject({ code: "client-closed" });
  });

  it("graceful end gives up waiting after its timeout and rejects what is unfinished", async () => {
    const rig = await connected();
    const p = rig.client.publish("t", "x", { qos: 1 });
    const outcome = p.catch((e: unknown) => e);
    await rig.conn.next("publish");
    const ending = rig.client.end({ timeout: 3000 });
    await rig.clock.advance(3000);
    await ending;
    expect(await outcome).toMatchObject({ code: "client-closed" });
    expect(await rig.conn.next()).toEqual({ type: "disconnect" });
  });

  it("force: drops the connection without DISCONNECT", async () => {
    const { client, conn } = await connected();
    await client.end({ force: true });
    await settle();
    expect(conn.unread()).toEqual([]);
    expect(conn.closedByClient).toBe(true);
  });
});

describe("connect() during a reconnect cycle", () => {
  it("waits for the running cycle instead of opening a second connection", async () => {
    const rig = await connected();
    rig.conn.drop();
    await settle();
    let resolved = false;
    const again = rig.client.connect().then(() => (resolved = true));
    await settle();
    expect(resolved).toBe(false);
    expect(rig.broker.attempts).toBe(1);
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    await conn.accept();
    await again;
    expect(rig.broker.attempts).toBe(2);
  });
});

describe("per-attempt settings", () => {
  it("beforeConnect can switch the clean flag for later attempts", async () => {
    let clean = true;
    const rig = await connected({ clientId: "dev", beforeConnect: () => ({ clean }) });
    expect(rig.conn.packets[0]).toMatchObject({ type: "connect", clean: true });
    clean = false;
    rig.conn.drop();
    await rig.clock.advance(1000);
    const conn = await rig.broker.nextConnection();
    expect(await conn.accept(true)).toMatchObject({ clean: false });
  });

  it("beforeConnect can hand in fresh TLS credentials for an attempt", async () => {
    let cert = "cert-1";
    const rig = await connected({ tls: { ca: "ca" }, beforeConnect: () => ({ tls: { ca: "ca", cert, key: "k" } }) });
    cert = "cert-2";
    rig.conn.drop();
    await rig.clock.advance(1000);
    await rig.broker.nextConnection();
    expect(rig.broker.options.map((o) => o.tls?.cert)).toEqual(["cert-1", "cert-2"]);
  });
});
