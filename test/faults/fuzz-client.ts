/**
 * Fuzzing the whole client (decoder, state machine, session, requests, subscriptions) through the scripted broker.
 * One long-lived client takes mutated frames on connection after connection, with publishes, subscriptions and
 * unsubscriptions in flight so that mutated acks hit real packet ids. Some inputs replace the CONNACK. Oracles:
 *  - the only way the client leaves a connection is closing it itself with a ProtocolError, or the broker dropping it;
 *  - connect() either resolves or rejects with a ConnectError (whose cause, if any, is a ProtocolError or the drop);
 *  - every delivered message has a valid topic name and QoS; "error" events are only the documented kinds;
 *  - nothing is thrown back into the transport's onData, and every step settles (bounded).
 * Uncaught exceptions and unhandled rejections are watched by the test file.
 */
import {
  ClientClosedError,
  ConnectError,
  createClient,
  ProtocolError,
  SubscribeError,
  topicNameProblem,
  type Subscription,
} from "../../src/index.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock } from "../support/fake-clock.ts";
import { CORPUS, CORPUS_PACKETS } from "./fuzz-corpus.ts";
import { chunking, inputRng, mutatedInput, type Rng } from "./fuzz-mutate.ts";

/** Counts of a client fuzz run. */
export interface ClientFuzzStats {
  inputs: number;
  /** Inputs sent instead of a CONNACK. */
  connectPhase: number;
  connections: number;
  /** connect() outcomes: "connected" or the ConnectError code (with its cause's code). */
  connects: Record<string, number>;
  /** Inputs after which the connection was still up. */
  keptConnection: number;
  /** Connections the client closed, by ProtocolError code. */
  protocolCloses: Record<string, number>;
  /** Connections the broker dropped (to reset a stream stuck inside a packet). */
  brokerDrops: number;
  delivered: number;
  /** Packets the client wrote, by type. */
  written: Record<string, number>;
  /** "error" events, by code. */
  errorEvents: Record<string, number>;
  failures: string[];
}

export function newClientStats(): ClientFuzzStats {
  return { inputs: 0, connectPhase: 0, connections: 0, connects: {}, keptConnection: 0, protocolCloses: {}, brokerDrops: 0, delivered: 0, written: {}, errorEvents: {}, failures: [] };
}

/** Adds `b` into `a`. */
export function mergeClientStats(a: ClientFuzzStats, b: ClientFuzzStats): ClientFuzzStats {
  const add = (x: Record<string, number>, y: Record<string, number>): void => {
    for (const [k, n] of Object.entries(y)) x[k] = (x[k] ?? 0) + n;
  };
  a.inputs += b.inputs;
  a.connectPhase += b.connectPhase;
  a.connections += b.connections;
  a.keptConnection += b.keptConnection;
  a.brokerDrops += b.brokerDrops;
  a.delivered += b.delivered;
  add(a.connects, b.connects);
  add(a.protocolCloses, b.protocolCloses);
  add(a.written, b.written);
  add(a.errorEvents, b.errorEvents);
  a.failures.push(...b.failures);
  return a;
}

const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);
const FILTERS = ["cmd/#", "c", "a/b", "+/run", "s/+/°C", "$SYS/#", "x", "big", "emoji/😀"];
const STEP_BOUND_MS = 5_000;

async function turn(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}

async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`hang: ${what} still pending after ${STEP_BOUND_MS} ms`)), STEP_BOUND_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options of a client fuzz run. */
export interface ClientFuzzOptions {
  seed: number;
  count: number;
  /** Persistent session and manual acks (acked at random later), to drive the other session paths. */
  persistent?: boolean;
}

/** Runs `count` mutated inputs through one client. */
export async function fuzzClient(options: ClientFuzzOptions): Promise<ClientFuzzStats> {
  const stats = newClientStats();
  const broker = new FakeBroker();
  const persistent = options.persistent ?? false;
  const client = createClient({
    url: "mqtt://fuzz:1883",
    transport: broker.transport,
    clock: new FakeClock(),
    random: () => 0.5,
    keepalive: 0,
    reconnect: false,
    clientId: persistent ? "fuzz-persistent" : "fuzz",
    clean: !persistent,
    manualAck: persistent,
    maxPacketSize: 8192,
    maxInflight: 8,
  });
  const fail = (what: string, index: number): void => {
    if (stats.failures.length < 20) stats.failures.push(`seed ${options.seed} input ${index}: ${what}`);
  };
  let index = -1;
  const reasons: Array<Error | undefined> = [];
  const unacked: Array<() => void> = [];
  client.on("disconnect", (d) => reasons.push(d.reason));
  client.on("error", (e) => {
    const code = (e as { code?: string }).code ?? e.name;
    bump(stats.errorEvents, code);
    if (!(e instanceof SubscribeError) && code !== "subscription-overflow") fail(`unexpected "error" event ${code}: ${e.message}`, index);
  });
  client.on("message", (m) => {
    stats.delivered++;
    if (!client.connected) fail(`delivered a message while not connected (${m.topic})`, index);
    const problem = topicNameProblem(m.topic);
    if (problem !== undefined) fail(`delivered a message on invalid topic ${JSON.stringify(m.topic)}: ${problem}`, index);
    if (m.qos !== 0 && m.qos !== 1 && m.qos !== 2) fail(`delivered QoS ${String(m.qos)}`, index);
    if (!(m.payload instanceof Uint8Array)) fail("delivered a payload that is not a Uint8Array", index);
    if (persistent) unacked.push(() => m.ack());
  });

  const subs: Subscription[] = [];
  let pendingRequests = 0;
  const settleQuietly = (p: Promise<unknown>): void => {
    pendingRequests++;
    p.then(
      (v) => {
        pendingRequests--;
        if (v && typeof v === "object" && "filters" in v) subs.push(v as Subscription);
      },
      (err: unknown) => {
        pendingRequests--;
        if (!(err instanceof ClientClosedError || err instanceof SubscribeError)) fail(`a request rejected with ${String(err)}`, index);
      },
    );
  };

  /** Keeps some publishes, subscribes and unsubscribes in flight. */
  const stir = (r: Rng): void => {
    const s = client.stats();
    if (s.inflight > 8) fail(`${s.inflight} messages in flight with maxInflight 8`, index);
    if (s.inflight + s.queued < 12 && r.int(2) === 0) {
      const qos = r.int(3) as 0 | 1 | 2;
      const p = client.publish(`up/${r.int(4)}`, "x".repeat(r.int(20)), { qos });
      p.catch((err: unknown) => {
        if (!(err instanceof ClientClosedError)) fail(`publish rejected with ${String(err)}`, index);
      });
    }
    if (pendingRequests < 4 && r.int(4) === 0) settleQuietly(client.subscribe(FILTERS.slice(r.int(4), 4 + r.int(5)), { qos: r.int(3) as 0 | 1 | 2, maxBuffered: 0 }));
    if (subs.length > 0 && pendingRequests < 4 && r.int(8) === 0) settleQuietly(subs.splice(r.int(subs.length), 1)[0]!.unsubscribe());
    while (unacked.length > 0 && r.int(3) === 0) unacked.shift()!();
  };

  const send = (conn: FakeConnection, bytes: Uint8Array, r: Rng): void => {
    let from = 0;
    for (const cut of [...chunking(bytes.length, r), bytes.length]) {
      try {
        conn.send(bytes.subarray(from, cut));
      } catch (err) {
        fail(`the client threw into the transport: ${String(err)}`, index);
      }
      from = cut;
    }
  };

  const checkConnectOutcome = (outcome: unknown): void => {
    if (outcome === undefined) return bump(stats.connects, "connected");
    if (!(outcome instanceof ConnectError)) return fail(`connect() rejected with ${String(outcome)}`, index);
    const cause = outcome.cause;
    bump(stats.connects, cause instanceof ProtocolError ? `${outcome.code} (${cause.code})` : outcome.code);
    if (cause !== undefined && !(cause instanceof ProtocolError) && !(cause instanceof Error && cause.message.startsWith("fuzz drop"))) {
      fail(`connect() failed with an unexpected cause ${String(cause)}`, index);
    }
  };

  let conn: FakeConnection | undefined;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (index = 0; index < options.count; index++) {
      const r = inputRng(options.seed, index);
      stats.inputs++;
      if (!client.connected) {
        stats.connections++;
        const outcome = client.connect().then(
          () => undefined,
          (err: unknown) => err,
        );
        conn = await bounded(broker.nextConnection(), "connection");
        await bounded(conn.next("connect"), "CONNECT");
        if (r.int(8) === 0) {
          // this input answers the CONNECT
          stats.connectPhase++;
          send(conn, mutatedInput(r).bytes, r);
          await turn();
          if (!client.connected) conn.drop(new Error("fuzz drop: no CONNACK"));
          const settled = await bounded(outcome, "connect()");
          checkConnectOutcome(settled);
          if (settled !== undefined && conn.packets.length > 1) {
            fail(`wrote ${conn.packets.slice(1).map((p) => p.type).join(", ")} on a connection that was never accepted`, index);
          }
          continue;
        }
        const sessionPresent = persistent && r.int(2) === 0;
        conn.send({ type: "connack", sessionPresent, returnCode: 0 });
        checkConnectOutcome(await bounded(outcome, "connect()"));
        if (!client.connected) continue;
      }
      const before = reasons.length;
      stir(r);
      const { bytes } = mutatedInput(r);
      // sometimes a valid packet ahead of the mutated one, in the same read
      send(conn!, r.int(4) === 0 ? withValidPrefix(bytes, r) : bytes, r);
      await turn();
      if (reasons.length > before) {
        const reason = reasons[reasons.length - 1];
        if (!(reason instanceof ProtocolError)) fail(`disconnected with ${String(reason)} (not a ProtocolError)`, index);
        else {
          bump(stats.protocolCloses, reason.code);
          if (!conn!.closedByClient) fail("a ProtocolError did not close the connection", index);
        }
        if (client.connected) fail("connected after a disconnect", index);
      } else if (!client.connected) fail("disconnected without a disconnect event", index);
      else {
        stats.keptConnection++;
        if (r.int(16) === 0) {
          stats.brokerDrops++;
          conn!.drop(new Error("fuzz drop"));
          await turn();
        }
      }
    }
  } finally {
    Error.stackTraceLimit = limit;
    for (const c of broker.connections) for (const p of c.packets) bump(stats.written, p.type);
    await client.end({ force: true });
    await turn();
  }
  return stats;
}

/** A valid non-CONNACK frame of the corpus, then `bytes`. */
function withValidPrefix(bytes: Uint8Array, r: Rng): Uint8Array {
  const k = r.int(CORPUS.length);
  const prefix = CORPUS_PACKETS[k]!.type === "connack" ? new Uint8Array(0) : CORPUS[k]!;
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix, 0);
  out.set(bytes, prefix.length);
  return out;
}

/** One-line summary for logs. */
export function clientSummary(s: ClientFuzzStats, ms: number): string {
  const fmt = (m: Record<string, number>): string =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
  return (
    `${s.inputs.toLocaleString("en")} inputs through the client in ${(ms / 1000).toFixed(1)} s over ${s.connections} connections ` +
    `(${s.connectPhase} answered the CONNECT; connect(): ${fmt(s.connects)}); still connected after ${s.keptConnection}; ` +
    `closed by the client [${fmt(s.protocolCloses)}]; broker drops ${s.brokerDrops}; delivered ${s.delivered}; ` +
    `written [${fmt(s.written)}]; error events [${fmt(s.errorEvents)}]; failures ${s.failures.length}`
  );
}
