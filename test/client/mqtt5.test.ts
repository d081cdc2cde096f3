/**
 * The MQTT 5 client (issue #17) packet by packet against the scripted broker speaking v5, on a fake clock: CONNECT
 * properties, refusing CONNACK reason codes, Server Keep Alive, the server's Receive Maximum, reason codes on acks,
 * topic aliases both ways, a server DISCONNECT, received properties, and the v5 options as plain JavaScript gives them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConnectError, ConnectionLostError, createClient, OptionsError, ProtocolError, PublishError, SubscribeError, type Client, type ClientOptions, type Message } from "../../src/index.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end({ force: true }).catch(() => undefined);
});

type Conn = FakeConnection<Packet5>;

async function start(extra: Partial<ClientOptions> = {}, connack: Record<string, unknown> = {}): Promise<{ client: Client; conn: Conn; broker: FakeBroker<Packet5>; clock: FakeClock }> {
  const broker = FakeBroker.v5();
  const clock = new FakeClock();
  const client = createClient({ url: "mqtt://fake", transport: broker.transport, clock, random: () => 0.5, keepalive: 0, protocolVersion: 5, ...extra });
  clients.push(client);
  const connecting = client.connect();
  const conn = await broker.nextConnection();
  await conn.accept(false, 0, connack);
  await connecting;
  return { client, conn, broker, clock };
}

const publishes = (conn: Conn) => conn.packets.filter((p): p is Extract<Packet5, { type: "publish" }> => p.type === "publish");

describe("CONNECT and CONNACK", () => {
  it("sends protocol level 5 with the session expiry, receive maximum, topic alias maximum, maximum packet size and user properties", async () => {
    const { conn } = await start({ clientId: "gw-5", sessionExpiryInterval: 3600, receiveMaximum: 32, topicAliasMaximum: 8, maxPacketSize: 65_536, userProperties: { site: "plant-7", tag: ["a", "b"] } });
    const connect = conn.packets[0] as Extract<Packet5, { type: "connect" }>;
    expect(connect.clientId).toBe("gw-5");
    expect(connect.properties).toEqual({
      sessionExpiryInterval: 3600,
      receiveMaximum: 32,
      topicAliasMaximum: 8,
      maximumPacketSize: 65_536,
      userProperties: [["site", "plant-7"], ["tag", "a"], ["tag", "b"]],
    });
    // Level 5 on the wire: bytes 8 (after the fixed header, "MQTT" and its length) of the first write.
    expect(conn.writes[0]![8]).toBe(5);
  });

  it("a refusing CONNACK gives ConnectError with the reason code, its name and the reason string", async () => {
    const broker = FakeBroker.v5();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, clock: new FakeClock(), protocolVersion: 5, reconnect: false });
    clients.push(client);
    const connecting = client.connect().catch((e: unknown) => e);
    const conn = await broker.nextConnection();
    await conn.next("connect");
    conn.send({ type: "connack", sessionPresent: false, reasonCode: 0x87, properties: { reasonString: "tenant suspended" } });
    const err = (await connecting) as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe("not-authorized");
    expect(err.reasonCode).toBe(0x87);
    expect(err.returnCode).toBeUndefined();
    expect(err.reasonString).toBe("tenant suspended");
    expect(err.message).toBe("connection refused: Not authorized (CONNACK 0x87): tenant suspended");
  });

  it("a reason without a 3.1.1 counterpart is connection-refused", async () => {
    const broker = FakeBroker.v5();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, clock: new FakeClock(), protocolVersion: 5, reconnect: false });
    clients.push(client);
    const connecting = client.connect().catch((e: unknown) => e);
    const conn = await broker.nextConnection();
    await conn.next("connect");
    conn.send({ type: "connack", sessionPresent: false, reasonCode: 0x9f });
    expect(await connecting).toMatchObject({ code: "connection-refused", reasonCode: 0x9f, message: expect.stringContaining("Connection rate exceeded") });
  });

  it("follows the server's keepalive (Server Keep Alive) instead of its own", async () => {
    const { conn, clock } = await start({ keepalive: 60 }, { serverKeepAlive: 5 });
    await clock.advance(5000);
    expect(conn.packets.map((p) => p.type)).toEqual(["connect", "pingreq"]);
  });
});

describe("flow control and acks", () => {
  it("keeps at most the server's Receive Maximum of QoS 1/2 messages in flight, whatever maxInflight says", async () => {
    const { client, conn } = await start({ maxInflight: 50 }, { receiveMaximum: 2 });
    const done = Array.from({ length: 5 }, (_, i) => client.publish("t", String(i), { qos: 1 }));
    await settle();
    expect(publishes(conn)).toHaveLength(2);
    conn.send({ type: "puback", packetId: publishes(conn)[0]!.packetId!, reasonCode: 0 });
    await settle();
    expect(publishes(conn)).toHaveLength(3);
    for (const p of publishes(conn).slice(1)) conn.send({ type: "puback", packetId: p.packetId!, reasonCode: 0 });
    await settle();
    for (const p of publishes(conn).slice(3)) conn.send({ type: "puback", packetId: p.packetId!, reasonCode: 0 });
    await Promise.all(done);
    expect(publishes(conn)).toHaveLength(5);
  });

  it("a PUBACK or PUBREC with a failure reason rejects the publish with publish-refused; a refused QoS 2 gets no PUBREL", async () => {
    const { client, conn } = await start();
    const one = client.publish("a/b", "x", { qos: 1 }).catch((e: unknown) => e);
    const two = client.publish("a/c", "y", { qos: 2 }).catch((e: unknown) => e);
    await settle();
    const [p1, p2] = publishes(conn);
    conn.send({ type: "puback", packetId: p1!.packetId!, reasonCode: 0x87, properties: { reasonString: "no write access" } });
    conn.send({ type: "pubrec", packetId: p2!.packetId!, reasonCode: 0x97 });
    const e1 = (await one) as PublishError;
    expect(e1).toBeInstanceOf(PublishError);
    expect(e1).toMatchObject({ code: "publish-refused", reasonCode: 0x87, reasonString: "no write access" });
    expect(e1.message).toBe('the broker refused the message on "a/b": Not authorized (0x87): no write access');
    expect(await two).toMatchObject({ code: "publish-refused", reasonCode: 0x97, message: expect.stringContaining("Quota exceeded") });
    await settle();
    expect(conn.packets.some((p) => p.type === "pubrel")).toBe(false);
    expect(client.stats().inflight).toBe(0);
  });
});

describe("Assigned Client Identifier", () => {
  it("an empty clientId (with clean: false, allowed under MQTT 5): the CONNACK's Assigned Client Identifier becomes client.clientId and the next CONNECT's, so the session resumes", async () => {
    const { client, conn, broker, clock } = await start({ clientId: "", clean: false, sessionExpiryInterval: 300, reconnect: { initialDelay: 0 } }, { assignedClientIdentifier: "srv-42" });
    expect(conn.packets[0]).toMatchObject({ type: "connect", clientId: "", clean: false });
    expect(client.clientId).toBe("srv-42");
    conn.drop();
    await clock.advance(10);
    const next = await broker.nextConnection();
    await next.accept(true);
    expect(next.packets[0]).toMatchObject({ type: "connect", clientId: "srv-42", clean: false });
    expect(client.sessionPresent).toBe(true);
  });

  it("an empty clientId with clean: false stays an OptionsError under MQTT 3.1.1", () => {
    expect(() => createClient({ url: "mqtt://fake", clientId: "", clean: false })).toThrow(OptionsError);
    expect(() => createClient({ url: "mqtt://fake", clientId: "", clean: false, protocolVersion: 5 })).not.toThrow();
  });
});

describe("UNSUBACK reason codes", () => {
  it("an UNSUBACK with a failure reason rejects unsubscribe() with SubscribeError unsubscribe-refused (the refused filters, the codes per filter, the reason string); 0x11 No subscription existed is no failure", async () => {
    const { client, conn } = await start();
    const answers: Array<{ reasonCodes: number[]; properties?: { reasonString: string } }> = [
      { reasonCodes: [0x00, 0x87, 0x11], properties: { reasonString: "acl" } },
      { reasonCodes: [0x11] },
    ];
    conn.watch((p) => {
      if (p.type === "subscribe") conn.send({ type: "suback", packetId: p.packetId, reasonCodes: p.subscriptions.map(() => 1) });
      if (p.type === "unsubscribe") conn.send({ type: "unsuback", packetId: p.packetId, ...answers.shift()! });
    });
    const sub = await client.subscribe(["plant/a", "plant/b", "plant/c"], { qos: 1 });
    const err = (await sub.unsubscribe().catch((e: unknown) => e)) as SubscribeError;
    expect(err).toBeInstanceOf(SubscribeError);
    expect(err).toMatchObject({ code: "unsubscribe-refused", refused: ["plant/b"], granted: [], reasonCodes: [0x00, 0x87, 0x11], reasonString: "acl" });
    expect(err.message).toBe('the broker refused to unsubscribe from "plant/b": Not authorized (0x87): acl');
    const other = await client.subscribe("plant/d", { qos: 1 });
    await other.unsubscribe();
    expect(client.connected).toBe(true);
  });
});

describe("subscription identifiers", () => {
  it("a SUBSCRIBE carries its identifier; after a lost session the filters are subscribed again grouped by identifier", async () => {
    const { client, conn, broker, clock } = await start({ reconnect: { initialDelay: 0 } });
    const subscribed = (c: Conn) => c.watch((p) => {
      if (p.type === "subscribe") c.send({ type: "suback", packetId: p.packetId, reasonCodes: p.subscriptions.map(() => 1) });
    });
    subscribed(conn);
    await client.subscribe(["a/#", "b/#"], { qos: 1, subscriptionIdentifier: 7 });
    await client.subscribe("c/#", { qos: 1, subscriptionIdentifier: 9 });
    await client.subscribe("d/#", { qos: 1 });
    const sent = conn.packets.filter((p): p is Extract<Packet5, { type: "subscribe" }> => p.type === "subscribe");
    expect(sent.map((p) => [p.subscriptions.map((s) => s.topic), p.properties?.subscriptionIdentifier])).toEqual([[["a/#", "b/#"], 7], [["c/#"], 9], [["d/#"], undefined]]);
    conn.drop();
    await clock.advance(10);
    const next = await broker.nextConnection();
    subscribed(next);
    await next.accept();
    await settle();
    const again = next.packets.filter((p): p is Extract<Packet5, { type: "subscribe" }> => p.type === "subscribe");
    expect(again.map((p) => [p.subscriptions.map((s) => s.topic), p.properties?.subscriptionIdentifier])).toEqual([[["d/#"], undefined], [["a/#", "b/#"], 7], [["c/#"], 9]]);
  });
});

describe("what the server takes", () => {
  it("refuses, before sending, what the CONNACK ruled out: QoS above Maximum QoS, retain without Retain Available, packets above Maximum Packet Size", async () => {
    const { client, conn } = await start({}, { maximumQoS: 1, retainAvailable: false, maximumPacketSize: 100 });
    await expect(client.publish("t", "x", { qos: 2 })).rejects.toMatchObject({ code: "qos-not-supported" });
    await expect(client.publish("t", "x", { retain: true })).rejects.toMatchObject({ code: "retain-not-supported" });
    await expect(client.publish("t", new Uint8Array(200))).rejects.toMatchObject({ code: "payload-too-large" });
    const ok = client.publish("t", "x", { qos: 1 });
    await settle();
    expect(publishes(conn).map((p) => [p.topic, p.qos])).toEqual([["t", 1]]);
    conn.send({ type: "puback", packetId: publishes(conn)[0]!.packetId!, reasonCode: 0 });
    await ok;
  });
});

describe("a new connection's limits apply to what the previous one left (found by the v5 hostile-broker suite)", () => {
  it("in-flight messages are sent again no faster than the new Receive Maximum, the rest as acks make room, before new ones", async () => {
    const { client, conn, broker, clock } = await start({ clean: false, clientId: "gw", sessionExpiryInterval: 60, reconnect: { initialDelay: 0 } });
    const done = [1, 2, 3].map((i) => client.publish("t", String(i), { qos: 1 }));
    await settle();
    expect(publishes(conn)).toHaveLength(3);
    conn.drop();
    await clock.advance(10);
    const next = await broker.nextConnection();
    await next.accept(true, 0, { receiveMaximum: 1 });
    const fresh = client.publish("t", "4", { qos: 1 });
    await settle();
    expect(publishes(next).map((p) => [new TextDecoder().decode(p.payload), p.dup])).toEqual([["1", true]]);
    for (let i = 0; i < 3; i++) {
      next.send({ type: "puback", packetId: publishes(next)[i]!.packetId!, reasonCode: 0 });
      await settle();
      expect(publishes(next)).toHaveLength(i + 2);
    }
    expect(publishes(next).map((p) => [new TextDecoder().decode(p.payload), p.dup])).toEqual([["1", true], ["2", true], ["3", true], ["4", false]]);
    next.send({ type: "puback", packetId: publishes(next)[3]!.packetId!, reasonCode: 0 });
    await Promise.all([...done, fresh]);
  });

  it("a message in flight or queued that the new Maximum Packet Size rules out ends with payload-too-large instead of being sent", async () => {
    const { client, conn, broker, clock } = await start({ clean: false, clientId: "gw", sessionExpiryInterval: 60, reconnect: { initialDelay: 0 } });
    const inflight = client.publish("plant/7/big", "x".repeat(200), { qos: 1 }).catch((e: unknown) => e);
    await settle();
    conn.drop();
    await settle();
    const queued = client.publish("plant/7/big0", "y".repeat(300)).catch((e: unknown) => e); // QoS 0, offline
    const small = client.publish("plant/7/ok", "z", { qos: 1 });
    await clock.advance(10);
    const next = await broker.nextConnection();
    await next.accept(true, 0, { maximumPacketSize: 64 });
    await settle();
    expect(await inflight).toMatchObject({ code: "payload-too-large" });
    expect(publishes(next).map((p) => p.topic)).toEqual(["plant/7/ok"]);
    next.send({ type: "puback", packetId: publishes(next)[0]!.packetId!, reasonCode: 0 });
    await small;
    expect(await queued).toBeUndefined(); // a queued QoS 0 publish had resolved; it is counted as dropped
    expect(client.stats()).toMatchObject({ inflight: 0, dropped: 2 });
  });
});

describe("topic aliases", () => {
  it("outgoing: assigns aliases within the server's maximum, sends a known topic as its alias alone, reuses the least recently used, starts over on a new connection", async () => {
    const { client, conn, broker, clock } = await start({ reconnect: { initialDelay: 0 } }, { topicAliasMaximum: 2 });
    for (const t of ["plant/a/temp", "plant/a/temp", "plant/b/temp", "plant/a/temp", "plant/c/temp", "plant/b/temp", "x"]) await client.publish(t, "v");
    await settle();
    expect(publishes(conn).map((p) => [p.topic, p.properties?.topicAlias])).toEqual([
      ["plant/a/temp", 1],
      ["", 1],
      ["plant/b/temp", 2],
      ["", 1],
      ["plant/c/temp", 2], // b was the least recently used
      ["plant/b/temp", 1], // and a, now
      ["x", undefined], // too short to be worth an alias
    ]);
    conn.drop();
    await clock.advance(10);
    const next = await broker.nextConnection();
    await next.accept(false, 0, { topicAliasMaximum: 2 });
    await client.publish("plant/a/temp", "v");
    await settle();
    expect(publishes(next).map((p) => [p.topic, p.properties?.topicAlias])).toEqual([["plant/a/temp", 1]]);
  });

  it("no alias at all when the server takes none", async () => {
    const { client, conn } = await start();
    await client.publish("plant/a/temp", "v");
    await client.publish("plant/a/temp", "v");
    await settle();
    expect(publishes(conn).map((p) => [p.topic, p.properties?.topicAlias])).toEqual([["plant/a/temp", undefined], ["plant/a/temp", undefined]]);
  });

  it("incoming: learns an alias and resolves it; an alias beyond this client's maximum or never learnt drops the connection", async () => {
    const { client, conn, broker, clock } = await start({ topicAliasMaximum: 2, reconnect: { initialDelay: 0 } });
    const got: Message[] = [];
    client.on("message", (m) => got.push(m));
    const errors: Error[] = [];
    client.on("disconnect", ({ reason }) => errors.push(reason!));
    conn.send({ type: "publish", topic: "cmd/gw/reboot", payload: new Uint8Array([1]), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } });
    conn.send({ type: "publish", topic: "", payload: new Uint8Array([2]), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } });
    await settle();
    expect(got.map((m) => [m.topic, m.payload[0]])).toEqual([["cmd/gw/reboot", 1], ["cmd/gw/reboot", 2]]);
    conn.send({ type: "publish", topic: "", payload: new Uint8Array([3]), qos: 0, retain: false, dup: false, properties: { topicAlias: 3 } });
    await settle();
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect((errors[0] as ProtocolError).code).toBe("invalid-topic-alias");
    expect(conn.packets.at(-1)).toMatchObject({ type: "disconnect", reasonCode: 0x94 }); // Topic Alias invalid, then closed
    // The new connection knows no alias.
    await clock.advance(10);
    const next = await broker.nextConnection();
    await next.accept();
    next.send({ type: "publish", topic: "", payload: new Uint8Array([4]), qos: 0, retain: false, dup: false, properties: { topicAlias: 2 } });
    await settle();
    expect((errors[1] as ProtocolError).code).toBe("invalid-topic-alias");
    expect(got).toHaveLength(2);
  });
});

describe("received properties and a server DISCONNECT", () => {
  it("gives a message's properties with repeated user property keys as arrays", async () => {
    const { client, conn } = await start();
    const got: Message[] = [];
    client.on("message", (m) => got.push(m));
    conn.send({
      type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: false,
      properties: { contentType: "application/json", messageExpiryInterval: 30, userProperties: [["a", "1"], ["b", "2"], ["a", "3"]], subscriptionIdentifiers: [7] },
    });
    await settle();
    expect(got[0]!.properties).toEqual({ contentType: "application/json", messageExpiryInterval: 30, userProperties: { a: ["1", "3"], b: "2" }, subscriptionIdentifiers: [7] });
  });

  it("reports a server DISCONNECT with its reason code, reason string and server reference, then reconnects", async () => {
    const { client, conn, broker, clock } = await start({ reconnect: { initialDelay: 0 } });
    const events: Array<{ reason: Error | undefined; reasonCode?: number; reasonString?: string; serverReference?: string }> = [];
    client.on("disconnect", (e) => events.push(e));
    conn.send({ type: "disconnect", reasonCode: 0x9c, properties: { reasonString: "moving to b", serverReference: "mqtt://b.example:1883" } });
    await settle();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reasonCode: 0x9c, reasonString: "moving to b", serverReference: "mqtt://b.example:1883" });
    expect(events[0]!.reason).toBeInstanceOf(ConnectionLostError);
    expect((events[0]!.reason as ConnectionLostError).code).toBe("server-disconnect");
    expect(events[0]!.reason!.message).toBe("the server disconnected: Use another server (0x9c): moving to b");
    await clock.advance(10);
    await broker.nextConnection();
  });

  it("with followServerReference, a DISCONNECT's Server Reference sends the next attempt there (host:port on the same scheme); without it, the list is kept", async () => {
    const { conn, broker, clock } = await start({ url: "mqtt://a.example:1883", followServerReference: true, reconnect: { initialDelay: 0 } });
    conn.send({ type: "disconnect", reasonCode: 0x9c, properties: { serverReference: "b.example:1884" } });
    await settle();
    await clock.advance(10);
    const next = await broker.nextConnection();
    expect(next.url.href).toBe("mqtt://b.example:1884");
    await next.accept();
    const plain = await start({ url: "mqtt://a.example:1883", reconnect: { initialDelay: 0 } });
    plain.conn.send({ type: "disconnect", reasonCode: 0x9c, properties: { serverReference: "b.example:1884" } });
    await settle();
    await plain.clock.advance(10);
    expect((await plain.broker.nextConnection()).url.href).toBe("mqtt://a.example:1883");
  });

  it("with followServerReference, a CONNACK refusing with 'Server moved' and a reference is followed by connect()", async () => {
    const broker = FakeBroker.v5();
    const client = createClient({ url: "mqtt://a.example", transport: broker.transport, clock: new FakeClock(), keepalive: 0, protocolVersion: 5, reconnect: false, followServerReference: true });
    clients.push(client);
    const servers: string[] = [];
    client.on("connect", ({ server }) => servers.push(server));
    const connecting = client.connect();
    const first = await broker.nextConnection();
    await first.next("connect");
    first.send({ type: "connack", sessionPresent: false, reasonCode: 0x9d, properties: { serverReference: "mqtt://c.example:1999" } });
    const second = await broker.nextConnection();
    await second.accept();
    await connecting;
    expect(servers).toEqual(["mqtt://c.example:1999"]);
  });

  it("end() sends DISCONNECT with reason 0, and with sessionExpiryInterval the broker's new keeping time", async () => {
    const { client, conn } = await start();
    await client.end();
    expect(conn.packets.at(-1)).toEqual({ type: "disconnect", reasonCode: 0, properties: {} });
    const other = await start({ sessionExpiryInterval: 60 });
    await other.client.end({ sessionExpiryInterval: 0 });
    expect(other.conn.packets.at(-1)).toEqual({ type: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  });

  it("a message that expires while queued offline is dropped (publish-expired), one still alive goes with what is left", async () => {
    const { client, conn, broker, clock } = await start({ reconnect: { initialDelay: 30_000, maxDelay: 30_000, jitter: 0 } });
    conn.drop();
    await settle();
    const short = client.publish("t/short", "a", { qos: 1, messageExpiryInterval: 10 }).catch((e: unknown) => e);
    const long = client.publish("t/long", "b", { qos: 1, messageExpiryInterval: 100 });
    await clock.advance(30_000);
    const next = await broker.nextConnection();
    await next.accept();
    const sent = await next.next("publish");
    expect(sent.topic).toBe("t/long");
    expect(sent.properties?.messageExpiryInterval).toBe(70);
    next.send({ type: "puback", packetId: sent.packetId!, reasonCode: 0 });
    await long;
    expect(await short).toMatchObject({ code: "message-expired" });
    expect(client.stats().dropped).toBe(1);
    expect(client.stats().sent).toBe(1); // the expired one never went out
  });
});

describe("the client's Receive Maximum", () => {
  it("counts QoS 1/2 messages until PUBACK or PUBCOMP (not PUBREC); a server beyond it is reported once per connection (ClientWarning receive-maximum-exceeded) and its messages are still taken", async () => {
    const { client, conn } = await start({ receiveMaximum: 2, manualAck: true, reconnect: false });
    const got: Message[] = [];
    client.on("message", (m) => got.push(m));
    const warnings: Error[] = [];
    client.on("warning", (w) => warnings.push(w));
    const publish = (id: number, qos: 1 | 2) => conn.send({ type: "publish", topic: "cmd/x", payload: new Uint8Array([id]), qos, retain: false, dup: false, packetId: id });
    publish(1, 1);
    publish(2, 2);
    publish(2, 2); // a redelivery of one still open takes no second place
    await settle();
    for (const m of got) m.ack(); // PUBACK 1, PUBREC 2: message 2 stays open until its PUBCOMP
    await settle();
    publish(3, 1);
    await settle();
    conn.send({ type: "pubrel", packetId: 2, reasonCode: 0 }); // PUBCOMP 2
    await settle();
    publish(4, 1);
    await settle();
    expect(warnings).toEqual([]);
    publish(5, 1); // 3 and 4 unanswered: a third is one too many
    publish(6, 1);
    await settle();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ name: "ClientWarning", code: "receive-maximum-exceeded" });
    expect(client.connected).toBe(true);
    for (const m of got.slice(2)) m.ack();
    await settle();
    expect(got.map((m) => m.payload[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(conn.packets.map((p) => [p.type, "packetId" in p ? p.packetId : undefined])).toEqual([
      ["connect", undefined], ["puback", 1], ["pubrec", 2], ["pubcomp", 2], ["puback", 3], ["puback", 4], ["puback", 5], ["puback", 6],
    ]);
  });
});

describe("v5 options from plain JavaScript", () => {
  it.each([3, "5", 5.5, "v5", true])("createClient refuses protocolVersion %s with OptionsError", (protocolVersion) => {
    expect(() => createClient({ url: "mqtt://fake", protocolVersion } as unknown as ClientOptions)).toThrow(OptionsError);
  });

  it("a 3.1.1 client: request(), reauthenticate() and end({ sessionExpiryInterval }) reject with OptionsError, and the client goes on", async () => {
    const broker = new FakeBroker();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, clock: new FakeClock(), keepalive: 0, reconnect: false });
    clients.push(client);
    const connecting = client.connect();
    const conn = await broker.nextConnection();
    await conn.accept();
    await connecting;
    await expect(client.request("svc/echo", "ping")).rejects.toThrow(/request\(\) needs protocolVersion: 5/);
    await expect(client.reauthenticate()).rejects.toThrow(/reauthenticate\(\) needs protocolVersion: 5/);
    await expect(client.end({ sessionExpiryInterval: 5 })).rejects.toBeInstanceOf(OptionsError);
    expect(client.connected).toBe(true);
    await client.end();
    expect(conn.unread().at(-1)).toEqual({ type: "disconnect" });
  });

  // The v5 options are checked by the v5 part, loaded by connect() (and publish() and subscribe()) before anything is sent.
  const bad: Array<[string, Record<string, unknown>]> = [
    ["sessionExpiryInterval -1", { protocolVersion: 5, sessionExpiryInterval: -1 }],
    ["receiveMaximum 0", { protocolVersion: 5, receiveMaximum: 0 }],
    ["topicAliasMaximum 70000", { protocolVersion: 5, topicAliasMaximum: 70_000 }],
    ["userProperties with a number", { protocolVersion: 5, userProperties: { a: 1 } }],
    ["userProperties as an array", { protocolVersion: 5, userProperties: [["a", "b"]] }],
  ];
  it.each(bad)("connect() refuses %s with OptionsError, before opening a connection", async (_name, options) => {
    const broker = FakeBroker.v5();
    const client = createClient({ url: "mqtt://fake", transport: broker.transport, reconnect: false, ...options } as ClientOptions);
    clients.push(client);
    await expect(client.connect()).rejects.toBeInstanceOf(OptionsError);
    await expect(client.publish("t", "x")).rejects.toBeInstanceOf(OptionsError);
    expect(broker.attempts).toBe(0);
  });

  it("publish and subscribe refuse wrong v5 fields with OptionsError and send nothing", async () => {
    const { client, conn } = await start();
    const wrong: Array<Record<string, unknown>> = [
      { contentType: 5 },
      { messageExpiryInterval: 1.5 },
      { payloadFormatIndicator: 2 },
      { responseTopic: "a/#" },
      { correlationData: { not: "bytes" } },
      { userProperties: { k: ["ok", 3] } },
    ];
    await expect(client.subscribe("t", { subscriptionIdentifier: 0 } as never)).rejects.toBeInstanceOf(OptionsError);
    for (const options of wrong) await expect(client.publish("t", "x", options as never)).rejects.toBeInstanceOf(OptionsError);
    await expect(client.subscribe("t", { retainHandling: 3 } as never)).rejects.toBeInstanceOf(OptionsError);
    await expect(client.subscribe("t", { noLocal: "yes" } as never)).rejects.toBeInstanceOf(OptionsError);
    await settle();
    expect(conn.packets.map((p) => p.type)).toEqual(["connect"]);
  });
});
