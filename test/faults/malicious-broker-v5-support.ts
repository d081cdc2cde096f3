/**
 * The hostile-broker rig of malicious-broker-support.ts for MQTT 5: a REAL client (createClient, `protocolVersion:
 * 5`) behind the transport seam of the scripted broker speaking v5, so every byte the broker sends is exactly what
 * the client's v5 decoder and wire see. Records what the client reports. Use with guardProcess() from
 * malicious-broker-support.ts (uncaught exceptions and unhandled rejections fail the file); this module closes
 * every client a case opened.
 */
import { afterEach, expect } from "vitest";
import { createClient, ProtocolError, type Client, type ClientOptions, type Message, type ProtocolErrorCode } from "../../src/index.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { tick, within } from "./malicious-broker-support.ts";

export type Conn5 = FakeConnection<Packet5>;

/** A "disconnect" event as the client emitted it (MQTT 5 adds the server's reason code and reason string). */
export interface Disconnect5 {
  reason: Error | undefined;
  reasonCode?: number;
  reasonString?: string;
  serverReference?: string;
}

/** What one v5 client reported during a case. */
export interface Rig5 {
  broker: FakeBroker<Packet5>;
  clock: FakeClock;
  client: Client;
  conn: Conn5;
  /** Every "disconnect" event, in order. */
  disconnects: Disconnect5[];
  /** Reasons of every "disconnect" event, in order. */
  reasons: Array<Error | undefined>;
  messages: Message[];
  errors: Error[];
  /** Errors of every "reconnecting" event, in order. */
  reconnecting: Array<Error | undefined>;
}

const rigs: Rig5[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.client.end({ force: true }).catch(() => undefined)));
  await tick();
});

type Partial5 = Omit<Rig5, "conn">;

function build(options: Partial<ClientOptions>): Partial5 {
  const broker = FakeBroker.v5();
  const clock = new FakeClock();
  const client = createClient({
    url: "mqtt://hostile5:1883",
    transport: broker.transport,
    clock,
    random: () => 0,
    keepalive: 0,
    reconnect: false,
    clientId: "victim5",
    protocolVersion: 5,
    ...options,
  });
  const rig: Partial5 = { broker, clock, client, disconnects: [], reasons: [], messages: [], errors: [], reconnecting: [] };
  client.on("disconnect", (d) => {
    rig.disconnects.push(d as Disconnect5);
    rig.reasons.push(d.reason);
  });
  client.on("message", (m) => rig.messages.push(m));
  client.on("error", (e) => rig.errors.push(e));
  client.on("reconnecting", (r) => rig.reconnecting.push(r.error));
  return rig;
}

/** A v5 client connected (CONNACK with `connack` properties accepted). Reconnect is off unless `options` turn it on. */
export async function open5(options: Partial<ClientOptions> = {}, connack: Record<string, unknown> = {}, sessionPresent = false): Promise<Rig5> {
  const partial = build(options);
  const connecting = partial.client.connect();
  const conn = await within(partial.broker.nextConnection(), "connection");
  const rig: Rig5 = { ...partial, conn };
  rigs.push(rig);
  await within(conn.accept(sessionPresent, 0, connack), "CONNECT");
  await within(connecting, "connect()");
  return rig;
}

/** A v5 client whose connect() is answered with `bytes` instead of a CONNACK; returns how connect() settled (bounded). */
export async function firstAnswer5(bytes: Uint8Array, bytewise = false, options: Partial<ClientOptions> = {}): Promise<{ rig: Rig5; error: unknown }> {
  const partial = build(options);
  const connecting = partial.client.connect().then(
    () => undefined,
    (err: unknown) => err,
  );
  const conn = await within(partial.broker.nextConnection(), "connection");
  await within(conn.next("connect"), "CONNECT");
  const rig: Rig5 = { ...partial, conn };
  rigs.push(rig);
  deliver5(conn, bytes, bytewise);
  const error = await within(connecting, "connect() answered with hostile bytes");
  return { rig, error };
}

/** Sends `bytes` to the client in one chunk, or one byte per chunk. Nothing may be thrown back at the broker. */
export function deliver5(conn: Conn5, bytes: Uint8Array, bytewise = false): void {
  if (!bytewise) {
    expect(() => conn.send(bytes)).not.toThrow();
    return;
  }
  for (let i = 0; i < bytes.length && !conn.closed; i++) expect(() => conn.send(bytes.subarray(i, i + 1))).not.toThrow();
}

/** The client closed the connection itself and reported exactly one ProtocolError with `code` as the disconnect reason. */
export function expectProtocolClose5(rig: Rig5, code: ProtocolErrorCode, conn: Conn5 = rig.conn, count = 1): void {
  expect(rig.reasons).toHaveLength(count);
  const reason = rig.reasons[count - 1];
  expect(reason).toBeInstanceOf(ProtocolError);
  expect((reason as ProtocolError).code).toBe(code);
  expect(conn.closedByClient).toBe(true);
  expect(rig.client.connected).toBe(false);
}

/** The connection is still up and nothing was reported. */
export function expectStillConnected5(rig: Rig5, conn: Conn5 = rig.conn): void {
  expect(rig.reasons).toEqual([]);
  expect(conn.closed).toBe(false);
  expect(rig.client.connected).toBe(true);
  expect(rig.errors).toEqual([]);
}

/** Packets the client wrote on `conn`, of the given type. */
export function sent5<T extends Packet5["type"]>(conn: Conn5, type: T): Array<Extract<Packet5, { type: T }>> {
  return conn.packets.filter((p): p is Extract<Packet5, { type: T }> => p.type === type);
}

/** Lets the reconnect delay pass on the fake clock and accepts the next connection (CONNACK with `connack`). */
export async function reconnect5(rig: Rig5, sessionPresent: boolean, connack: Record<string, unknown> = {}, delay = 8_000): Promise<Conn5> {
  await rig.clock.advance(delay);
  const conn = await within(rig.broker.nextConnection(), "reconnection");
  await within(conn.accept(sessionPresent, 0, connack), "CONNECT on the new connection");
  await tick();
  return conn;
}
