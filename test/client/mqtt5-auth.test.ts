/**
 * MQTT 5 enhanced authentication (issue #17) with scramAuth(), against the scripted broker playing a SCRAM server
 * (test/support/scram-server.ts): the exchange packet by packet, a wrong password, a server that cannot prove itself
 * (nothing is sent or delivered before the server's signature is verified), a broker breaking the exchange, and the
 * option refused without MQTT 5.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AuthError, ConnectError, createClient, OptionsError, scramAuth, type Client, type Message } from "../../src/index.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";
import { ScramServer } from "../support/scram-server.ts";

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end({ force: true }).catch(() => undefined);
});

const METHOD = "SCRAM-SHA-256";
const salt = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

function client(password: string, extra: Record<string, unknown> = {}): { c: Client; broker: FakeBroker<Packet5> } {
  const broker = FakeBroker.v5();
  const c = createClient({ url: "mqtt://fake", transport: broker.transport, clock: new FakeClock(), keepalive: 0, reconnect: false, protocolVersion: 5, auth: scramAuth({ username: "gw-01", password, mechanism: METHOD }), ...extra });
  clients.push(c);
  return { c, broker };
}

/** Plays the server side up to the client's final message; returns what the server decided. */
async function exchange(conn: FakeConnection<Packet5>, server: ScramServer) {
  const connect = (await conn.next("connect")) as Extract<Packet5, { type: "connect" }>;
  expect(connect.properties?.authenticationMethod).toBe(METHOD);
  const serverFirst = await server.first(connect.properties!.authenticationData!);
  conn.send({ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: serverFirst } });
  const auth = (await conn.next("auth")) as Extract<Packet5, { type: "auth" }>;
  expect(auth.reasonCode).toBe(0x18);
  expect(auth.properties?.authenticationMethod).toBe(METHOD);
  return server.final(auth.properties!.authenticationData!);
}

describe("SCRAM-SHA-256 through CONNECT, AUTH and CONNACK", () => {
  it("authenticates both ways: the client's proof, then the server's signature, before anything else goes out", async () => {
    const { c, broker } = client("pencil");
    const queued = c.publish("gw/01/up", "hello", { qos: 1 }); // waits for the connection
    const connecting = c.connect();
    const conn = await broker.nextConnection();
    const server = new ScramServer({ username: "gw-01", password: "pencil", salt, iterations: 4096, mechanism: METHOD });
    const final = await exchange(conn, server);
    expect(final.accepted).toBe(true);
    conn.send({ type: "connack", sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: METHOD, authenticationData: final.message } });
    await connecting;
    const publish = await conn.next("publish");
    expect(publish.topic).toBe("gw/01/up");
    conn.send({ type: "puback", packetId: publish.packetId!, reasonCode: 0 });
    await queued;
  });

  it("a wrong password: the server refuses in its CONNACK, and connect() rejects with its reason", async () => {
    const { c, broker } = client("not-the-password");
    const connecting = c.connect().catch((e: unknown) => e);
    const conn = await broker.nextConnection();
    const server = new ScramServer({ username: "gw-01", password: "pencil", salt, iterations: 4096, mechanism: METHOD });
    const final = await exchange(conn, server);
    expect(final.accepted).toBe(false);
    conn.send({ type: "connack", sessionPresent: false, reasonCode: 0x86, properties: { reasonString: "invalid proof" } });
    expect(await connecting).toMatchObject({ code: "bad-username-or-password", reasonCode: 0x86 });
  });

  it("a server that cannot prove the password: connect() rejects with authentication-failed, and nothing was sent or delivered", async () => {
    const { c, broker } = client("pencil");
    const got: Message[] = [];
    c.on("message", (m) => got.push(m));
    const queued = c.publish("gw/01/up", "secret", { qos: 1 }).catch((e: unknown) => e);
    const connecting = c.connect().catch((e: unknown) => e);
    const conn = await broker.nextConnection();
    // An impostor: it plays the exchange, then accepts with a signature it cannot make (it has no keys of the password).
    const impostor = new ScramServer({ username: "gw-01", password: "pencil", salt, iterations: 4096, mechanism: METHOD });
    await exchange(conn, impostor);
    const forged = new TextEncoder().encode(`v=${btoa(String.fromCharCode(...new Uint8Array(32)))}`);
    // Its CONNACK, and a message right behind it in the same chunk.
    conn.send(
      { type: "connack", sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: METHOD, authenticationData: forged } },
      { type: "publish", topic: "gw/01/cmd", payload: new Uint8Array([1]), qos: 0, retain: false, dup: false },
    );
    const err = (await connecting) as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe("authentication-failed");
    expect((err.cause as AuthError).code).toBe("auth-server-signature");
    await settle();
    expect(conn.packets.map((p) => p.type)).toEqual(["connect", "auth"]);
    expect(got).toEqual([]);
    await c.end({ force: true });
    expect(await queued).toMatchObject({ code: "client-closed" });
  });

  it("an AUTH for another method, or one the exchange does not expect, drops the connection", async () => {
    const { c, broker } = client("pencil");
    const connecting = c.connect().catch((e: unknown) => e);
    const conn = await broker.nextConnection();
    await conn.next("connect");
    conn.send({ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: new Uint8Array([1]) } });
    expect(await connecting).toMatchObject({ code: "connection-failed" });
  });

  it("re-authenticates on the live connection (AUTH 0x19, the challenge, AUTH success verified); a forged success drops the connection", async () => {
    const { c, broker } = client("pencil");
    const connecting = c.connect();
    const conn = await broker.nextConnection();
    const server = new ScramServer({ username: "gw-01", password: "pencil", salt, iterations: 4096, mechanism: METHOD });
    const final = await exchange(conn, server);
    conn.send({ type: "connack", sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: METHOD, authenticationData: final.message } });
    await connecting;

    const again = c.reauthenticate();
    const start = (await conn.next("auth")) as Extract<Packet5, { type: "auth" }>;
    expect(start.reasonCode).toBe(0x19);
    const serverFirst = await server.first(start.properties!.authenticationData!);
    conn.send({ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: serverFirst } });
    const answer = (await conn.next("auth")) as Extract<Packet5, { type: "auth" }>;
    const verdict = await server.final(answer.properties!.authenticationData!);
    conn.send({ type: "auth", reasonCode: 0, properties: { authenticationMethod: METHOD, authenticationData: verdict.message } });
    await again;
    expect(c.connected).toBe(true);

    const third = c.reauthenticate().catch((e: unknown) => e);
    const s3 = (await conn.next("auth")) as Extract<Packet5, { type: "auth" }>;
    conn.send({ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: await server.first(s3.properties!.authenticationData!) } });
    await conn.next("auth");
    conn.send({ type: "auth", reasonCode: 0, properties: { authenticationMethod: METHOD, authenticationData: new TextEncoder().encode(`v=${btoa(String.fromCharCode(...new Uint8Array(32)))}`) } });
    expect(await third).toMatchObject({ name: "AuthError", code: "auth-server-signature" });
    await settle();
    expect(conn.closed).toBe(true);
  });

  it("a handler of one's own that throws a plain error during reauthenticate(): ConnectError authentication-failed (its cause the error), and the connection drops", async () => {
    const broken = new Error("token service unreachable");
    let calls = 0;
    const auth = {
      method: "TOKEN",
      start: async () => new TextEncoder().encode(`t${calls++}`),
      next: async (): Promise<Uint8Array | undefined> => {
        if (calls > 1) throw broken; // the re-authentication's challenge
        return undefined;
      },
    };
    const broker = FakeBroker.v5();
    const c = createClient({ url: "mqtt://fake", transport: broker.transport, clock: new FakeClock(), keepalive: 0, reconnect: false, protocolVersion: 5, auth });
    clients.push(c);
    const connecting = c.connect();
    const conn = await broker.nextConnection();
    await conn.next("connect");
    conn.send({ type: "connack", sessionPresent: false, reasonCode: 0, properties: { authenticationMethod: "TOKEN" } });
    await connecting;
    const again = c.reauthenticate().catch((e: unknown) => e);
    expect(((await conn.next("auth")) as Extract<Packet5, { type: "auth" }>).reasonCode).toBe(0x19);
    conn.send({ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "TOKEN" } });
    const err = await again;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: "authentication-failed", cause: broken });
    await settle();
    expect(conn.closed).toBe(true);
  });

  it("reauthenticate() without auth is an OptionsError; an AUTH nobody asked for drops the connection", async () => {
    const broker = FakeBroker.v5();
    const c = createClient({ url: "mqtt://fake", transport: broker.transport, clock: new FakeClock(), keepalive: 0, reconnect: false, protocolVersion: 5 });
    clients.push(c);
    const connecting = c.connect();
    const conn = await broker.nextConnection();
    await conn.accept();
    await connecting;
    await expect(c.reauthenticate()).rejects.toBeInstanceOf(OptionsError);
    const lost: Array<Error | undefined> = [];
    c.on("disconnect", ({ reason }) => lost.push(reason));
    conn.send({ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: METHOD } });
    await settle();
    expect(lost[0]).toMatchObject({ code: "unexpected-packet-type" });
    expect(conn.packets.at(-1)).toMatchObject({ type: "disconnect", reasonCode: 0x82 }); // Protocol Error, then closed
  });

  it("auth without protocolVersion 5 is an OptionsError at once; an auth that is not a handler rejects connect() with one, like every v5 option", async () => {
    const auth = scramAuth({ username: "u", password: "p", mechanism: METHOD });
    expect(() => createClient({ url: "mqtt://fake", auth })).toThrow(OptionsError);
    const c = createClient({ url: "mqtt://fake", protocolVersion: 5, auth: { method: "X" } as never, reconnect: false });
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as Error).message).toMatch(/auth must be an enhanced-authentication handler/);
    await c.end();
  });
});
