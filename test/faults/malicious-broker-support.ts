/**
 * The scripted hostile broker's rig: a REAL client (createClient) behind the transport seam, so every byte the
 * broker sends is exactly what the client's decoder sees. Records what the client reports (disconnect reasons,
 * messages, errors) and guards the process against anything escaping (uncaught exceptions, unhandled rejections).
 */
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { createClient, ProtocolError, type Client, type ClientOptions, type Message, type Packet, type ProtocolErrorCode } from "../../src/index.ts";
import { concat, hex } from "../mqtt/hex.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

export { hex, settle };

/** What one client reported during a case. */
export interface Rig {
  broker: FakeBroker;
  clock: FakeClock;
  client: Client;
  conn: FakeConnection;
  /** Reasons of every "disconnect" event, in order. */
  reasons: Array<Error | undefined>;
  messages: Message[];
  errors: Error[];
}

const rigs: Rig[] = [];

/**
 * Installs process-wide listeners for the whole file and fails the suite if anything escaped. Also closes every
 * client a case opened. Call once at the top level of a test file.
 */
export function guardProcess(): { escaped: unknown[] } {
  const escaped: unknown[] = [];
  const onException = (err: unknown): void => void escaped.push(err);
  const onRejection = (reason: unknown): void => void escaped.push(reason);
  beforeAll(() => {
    process.on("uncaughtException", onException);
    process.on("unhandledRejection", onRejection);
  });
  afterEach(async () => {
    await Promise.all(rigs.splice(0).map((r) => r.client.end({ force: true }).catch(() => undefined)));
    await tick();
    expect(escaped.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await settle();
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
    expect(escaped).toEqual([]);
  });
  return { escaped };
}

/** Lets queued microtasks (the client's coalesced writes) and one macrotask turn run. */
export async function tick(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}

/** Rejects if `promise` has not settled within `ms` of real time: no case may hang. */
export async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms (hang)`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

function baseOptions(broker: FakeBroker, clock: FakeClock, options: Partial<ClientOptions>): ClientOptions {
  return {
    url: "mqtt://hostile:1883",
    transport: broker.transport,
    clock,
    random: () => 0,
    keepalive: 0,
    reconnect: false,
    clientId: "victim",
    ...options,
  };
}

function record(rig: Omit<Rig, "conn">): void {
  rig.client.on("disconnect", (d) => rig.reasons.push(d.reason));
  rig.client.on("message", (m) => rig.messages.push(m));
  rig.client.on("error", (e) => rig.errors.push(e));
}

/** A client connected (CONNACK accepted) to a fresh hostile broker. Reconnect is off unless `options` turn it on. */
export async function open(options: Partial<ClientOptions> = {}, sessionPresent = false): Promise<Rig> {
  const broker = new FakeBroker();
  const clock = new FakeClock();
  const client = createClient(baseOptions(broker, clock, options));
  const partial = { broker, clock, client, reasons: [], messages: [], errors: [] };
  record(partial);
  const connecting = client.connect();
  const conn = await within(broker.nextConnection(), "connection");
  await within(conn.accept(sessionPresent), "CONNECT");
  await within(connecting, "connect()");
  const rig: Rig = { ...partial, conn };
  rigs.push(rig);
  return rig;
}

/**
 * A client whose connect() is answered with `bytes` instead of a CONNACK. Returns how connect() settled (bounded:
 * if the bytes leave the client waiting, the case fails as a hang).
 */
export async function firstAnswer(
  bytes: Uint8Array,
  bytewise = false,
  options: Partial<ClientOptions> = {},
): Promise<{ rig: Rig; error: unknown }> {
  const broker = new FakeBroker();
  const clock = new FakeClock();
  const client = createClient(baseOptions(broker, clock, options));
  const partial = { broker, clock, client, reasons: [], messages: [], errors: [] };
  record(partial);
  const connecting = client.connect().then(
    () => undefined,
    (err: unknown) => err,
  );
  const conn = await within(broker.nextConnection(), "connection");
  await within(conn.next("connect"), "CONNECT");
  const rig: Rig = { ...partial, conn };
  rigs.push(rig);
  deliver(conn, bytes, bytewise);
  const error = await within(connecting, "connect() answered with hostile bytes");
  return { rig, error };
}

/** Sends `bytes` to the client in one chunk, or one byte per chunk. Nothing may be thrown back at the broker. */
export function deliver(conn: FakeConnection, bytes: Uint8Array, bytewise = false): void {
  if (!bytewise) {
    expect(() => conn.send(bytes)).not.toThrow();
    return;
  }
  for (let i = 0; i < bytes.length && !conn.closed; i++) expect(() => conn.send(bytes.subarray(i, i + 1))).not.toThrow();
}

/** The client closed the connection itself and reported exactly one ProtocolError with `code` as the disconnect reason. */
export function expectProtocolClose(rig: Rig, code: ProtocolErrorCode): void {
  expect(rig.reasons).toHaveLength(1);
  const reason = rig.reasons[0];
  expect(reason).toBeInstanceOf(ProtocolError);
  expect((reason as ProtocolError).code).toBe(code);
  expect(rig.conn.closedByClient).toBe(true);
  expect(rig.client.connected).toBe(false);
}

/** The connection is still up and nothing was reported. */
export function expectStillConnected(rig: Rig): void {
  expect(rig.reasons).toEqual([]);
  expect(rig.conn.closed).toBe(false);
  expect(rig.client.connected).toBe(true);
  expect(rig.errors).toEqual([]);
}

/** Packets the client wrote after the CONNECT, of the given types. */
export function sent<T extends Packet["type"]>(conn: FakeConnection, type: T): Array<Extract<Packet, { type: T }>> {
  return conn.packets.filter((p): p is Extract<Packet, { type: T }> => p.type === type);
}

/** Concatenation of byte arrays. */
export function join(...parts: Uint8Array[]): Uint8Array {
  return concat(parts);
}

/** The remaining-length bytes of `n` (MQTT variable byte integer). */
export function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    out.push(digit);
  } while (n > 0);
  return out;
}
