/**
 * Fuzzing the whole MQTT 5 client (v5 decoder, topic aliases, reason codes, session, requests, subscriptions)
 * through the scripted broker speaking v5, as fuzz-client.ts does for 3.1.1. One long-lived client with
 * `protocolVersion: 5` takes mutated v5 frames (or random bytes) on connection after connection, with publishes,
 * subscriptions and unsubscriptions in flight so that mutated acks hit real packet ids. Some inputs replace the
 * CONNACK. With `reconnect` on, the client itself reconnects (fake clock) instead of the loop calling connect().
 * Oracles:
 *  - the only ways the client leaves a connection: closing it itself with a ProtocolError, a server DISCONNECT
 *    (ConnectionLostError "server-disconnect" with a reason code), or the broker dropping it;
 *  - connect() (or a reconnect attempt) either succeeds or fails with a ConnectError (whose cause, if any, is a
 *    ProtocolError or the drop);
 *  - publish() settles with success, PublishError "publish-refused" (a reason code >= 0x80) or another documented
 *    PublishError (PUBLISH_REFUSALS), or ClientClosedError;
 *    subscribe()/unsubscribe() with success, SubscribeError or ClientClosedError;
 *  - every delivered message has a valid topic name (aliases resolved) and QoS; "error" events are only the documented kinds;
 *  - never more in flight than the window; nothing is thrown back into the transport's onData; every step settles.
 * Uncaught exceptions and unhandled rejections are watched by the test file.
 */
import {
  ClientClosedError,
  ConnectError,
  ConnectionLostError,
  createClient,
  ProtocolError,
  PublishError,
  SubscribeError,
  topicNameProblem,
  type Client,
  type Subscription,
} from "../../src/index.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import type { Clock } from "../../src/index.ts";
import { CORPUS5, CORPUS5_PACKETS } from "./fuzz-corpus-v5.ts";
import { newClientStats, type ClientFuzzStats } from "./fuzz-client.ts";
import { chunking, inputRng, mutatedInput5, randomInput5, type Rng } from "./fuzz-mutate-v5.ts";

export { clientSummary, mergeClientStats, newClientStats, type ClientFuzzStats } from "./fuzz-client.ts";

type Conn = FakeConnection<Packet5>;

const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);
const FILTERS = ["cmd/#", "c", "a/b", "+/run", "s/+/°C", "$SYS/#", "x", "big", "emoji/😀", "$share/g/svc/#"];
const STEP_BOUND_MS = 5_000;
const WINDOW = 8;
/**
 * Documented refusals of a v5 publish besides the server's reason code: expired while it waited (the fake clock runs
 * with reconnects), or beyond what a (fuzzed) CONNACK said the server takes (Maximum QoS, Retain Available, Maximum
 * Packet Size).
 */
const PUBLISH_REFUSALS = new Set<string>(["message-expired", "qos-not-supported", "retain-not-supported", "payload-too-large"]);

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

/**
 * A manual clock like test/support/fake-clock.ts, whose advance() lets promises settle with setImmediate turns
 * rather than ten 1-ms timers (a reconnect per input would otherwise cost ~25 ms each).
 */
class QuickClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.timers.set(++this.seq, { at: this.t + Math.max(0, ms), fn });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await turn();
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
    await turn();
  }
}

/** Options of a v5 client fuzz run. */
export interface ClientFuzz5Options {
  seed: number;
  count: number;
  /** Persistent session (Session Expiry Interval) and manual acks (acked at random later). */
  persistent?: boolean;
  /** The client reconnects by itself (backoff on the fake clock) instead of the loop calling connect(). */
  reconnect?: boolean;
  /** Called after every `every` inputs with the input index (to sample memory). */
  sample?: { every: number; fn: (index: number, client: Client) => void };
}

/** Extra counts of a v5 run. */
export interface ClientFuzz5Stats extends ClientFuzzStats {
  /** Server DISCONNECTs that ended a connection, by reason code. */
  serverDisconnects: Record<string, number>;
  /** publish() outcomes: "ok", or the error code. */
  publishes: Record<string, number>;
}

/** Runs `count` mutated v5 inputs through one client. */
export async function fuzzClient5(options: ClientFuzz5Options): Promise<ClientFuzz5Stats> {
  const stats: ClientFuzz5Stats = { ...newClientStats(), serverDisconnects: {}, publishes: {} };
  // A fresh scripted broker per connection, so that the run holds no connection it is done with (the memory check
  // measures the client, not the harness); what each wrote is counted when it is let go.
  let broker = FakeBroker.v5();
  const letGo = (): void => {
    for (const c of broker.connections) for (const p of c.packets) bump(stats.written, p.type);
    broker = FakeBroker.v5();
  };
  const clock = new QuickClock();
  const persistent = options.persistent ?? false;
  const auto = options.reconnect ?? false;
  const client = createClient({
    url: "mqtt://fuzz5:1883",
    transport: (url, o, handlers) => broker.transport(url, o, handlers),
    clock,
    random: () => 0.5,
    keepalive: 0,
    reconnect: auto ? { initialDelay: 10, maxDelay: 10, multiplier: 1, jitter: 0 } : false,
    clientId: persistent ? "fuzz5-persistent" : "fuzz5",
    clean: !persistent,
    manualAck: persistent,
    maxPacketSize: 8192,
    maxInflight: WINDOW,
    protocolVersion: 5,
    topicAliasMaximum: 4,
    receiveMaximum: 16,
    ...(persistent ? { sessionExpiryInterval: 600 } : {}),
  });
  const fail = (what: string, index: number): void => {
    if (stats.failures.length < 20) stats.failures.push(`seed ${options.seed} input ${index}: ${what}`);
  };
  let index = -1;
  const reasons: Array<{ reason: Error | undefined; reasonCode?: number }> = [];
  const attemptErrors: Error[] = [];
  const unacked: Array<() => void> = [];
  let conn: Conn | undefined;
  let connectEvents = 0;
  client.on("connect", () => connectEvents++);
  client.on("disconnect", (d) => reasons.push(d));
  client.on("reconnecting", (r) => {
    if (r.error) attemptErrors.push(r.error);
  });
  client.on("error", (e) => {
    const code = (e as { code?: string }).code ?? e.name;
    bump(stats.errorEvents, code);
    if (!(e instanceof SubscribeError) && code !== "subscription-overflow") fail(`unexpected "error" event ${code}: ${e.message}`, index);
  });
  client.on("warning", (w) => bump(stats.errorEvents, `warning ${w.code}`));
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
    if (s.inflight > WINDOW) fail(`${s.inflight} messages in flight with maxInflight ${WINDOW}`, index);
    if (s.inflight + s.queued < 12 && r.int(2) === 0) {
      const qos = r.int(3) as 0 | 1 | 2;
      const props = r.int(3) === 0 ? { messageExpiryInterval: 1 + r.int(100), userProperties: { k: "v" } } : {};
      client.publish(`up/${r.int(6)}/topic`, "x".repeat(r.int(20)), { qos, ...props }).then(
        () => bump(stats.publishes, "ok"),
        (err: unknown) => {
          const code = (err as { code?: string }).code ?? String(err);
          bump(stats.publishes, code);
          if (err instanceof PublishError && err.code === "publish-refused") {
            const rc = (err as PublishError & { reasonCode?: number }).reasonCode;
            if (rc === undefined || rc < 0x80) fail(`publish-refused with reason code ${String(rc)}`, index);
          } else if (!(err instanceof ClientClosedError || (err instanceof PublishError && PUBLISH_REFUSALS.has(err.code)))) {
            fail(`publish rejected with ${String(err)}`, index);
          }
        },
      );
    }
    if (pendingRequests < 4 && r.int(4) === 0) settleQuietly(client.subscribe(FILTERS.slice(r.int(4), 4 + r.int(6)), { qos: r.int(3) as 0 | 1 | 2, maxBuffered: 0, noLocal: r.int(2) === 0 }));
    if (subs.length > 0 && pendingRequests < 4 && r.int(8) === 0) settleQuietly(subs.splice(r.int(subs.length), 1)[0]!.unsubscribe());
    while (unacked.length > 0 && r.int(3) === 0) unacked.shift()!();
  };

  const send = (conn: Conn, bytes: Uint8Array, r: Rng): void => {
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

  const inputBytes = (r: Rng): Uint8Array => (r.int(10) === 0 ? randomInput5(r) : mutatedInput5(r).bytes);

  /** Opens the next connection: by connect(), or by letting the client's backoff run. Returns how that went. */
  const nextConnection = async (): Promise<{ conn: Conn; outcome: Promise<unknown> }> => {
    letGo();
    // until the first CONNACK, connect() is what tries (a failed first connect() schedules nothing)
    if (!auto || connectEvents === 0) {
      const outcome = client.connect().then(
        () => undefined,
        (err: unknown) => err,
      );
      return { conn: await bounded(broker.nextConnection(), "connection"), outcome };
    }
    const before = attemptErrors.length;
    const connectsBefore = connectEvents;
    await clock.advance(10);
    const opened = await bounded(broker.nextConnection(), "reconnection");
    const outcome = new Promise<unknown>((resolve) => {
      const poll = (): void => {
        // connected, even if what followed the CONNACK in the same read closed the connection again
        if (client.connected || connectEvents > connectsBefore) resolve(undefined);
        else if (attemptErrors.length > before) resolve(attemptErrors[attemptErrors.length - 1]);
        else setImmediate(poll);
      };
      poll();
    });
    return { conn: opened, outcome };
  };

  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (index = 0; index < options.count; index++) {
      const r = inputRng(options.seed, index);
      stats.inputs++;
      if (options.sample && index % options.sample.every === 0) options.sample.fn(index, client);
      if (!client.connected) {
        stats.connections++;
        const next = await nextConnection();
        conn = next.conn;
        await bounded(conn.next("connect"), "CONNECT");
        if (r.int(8) === 0) {
          // this input answers the CONNECT
          stats.connectPhase++;
          send(conn, inputBytes(r), r);
          await turn();
          if (!client.connected) conn.drop(new Error("fuzz drop: no CONNACK"));
          const settled = await bounded(next.outcome, `connect() at input ${index}`);
          checkConnectOutcome(settled);
          if (settled !== undefined && conn.packets.some((p, k) => k > 0 && p.type !== "auth")) {
            fail(`wrote ${conn.packets.slice(1).map((p) => p.type).join(", ")} on a connection that was never accepted`, index);
          }
          continue;
        }
        const sessionPresent = persistent && r.int(2) === 0;
        const properties = r.int(2) === 0 ? { topicAliasMaximum: r.int(4), receiveMaximum: 1 + r.int(10) } : {};
        conn.send({ type: "connack", sessionPresent, reasonCode: 0, properties });
        checkConnectOutcome(await bounded(next.outcome, `connect() at input ${index}`));
        if (!client.connected) continue;
      }
      const before = reasons.length;
      stir(r);
      const bytes = inputBytes(r);
      // sometimes a valid packet ahead of the fuzzed one, in the same read
      send(conn!, r.int(4) === 0 ? withValidPrefix(bytes, r) : bytes, r);
      await turn();
      if (reasons.length > before) {
        const { reason, reasonCode } = reasons[reasons.length - 1]!;
        if (reason instanceof ProtocolError) {
          bump(stats.protocolCloses, reason.code);
          if (!conn!.closedByClient) fail("a ProtocolError did not close the connection", index);
        } else if (reason instanceof ConnectionLostError && reason.code === "server-disconnect") {
          if (typeof reasonCode !== "number") fail("a server DISCONNECT reported without its reason code", index);
          bump(stats.serverDisconnects, `0x${(reasonCode ?? 0).toString(16)}`);
          if (!conn!.closed) fail("a server DISCONNECT left the connection open", index);
        } else fail(`disconnected with ${String(reason)} (neither a ProtocolError nor a server DISCONNECT)`, index);
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
  }
  const last = conn;
  letGo();
  await proveStillWorks(client, last, () => broker, clock, auto, (what) => fail(what, options.count));
  await client.end({ force: true });
  await turn();
  return stats;
}

/** After the run: a clean connection carries a QoS 2 publish out and a QoS 1 message in. */
async function proveStillWorks(client: Client, last: Conn | undefined, brokerNow: () => FakeBroker<Packet5>, clock: QuickClock, auto: boolean, fail: (what: string) => void): Promise<void> {
  try {
    if (client.connected) last?.drop(new Error("fuzz drop: final"));
    await turn();
    if (auto) await clock.advance(10);
    else void client.connect().catch((err: unknown) => fail(`final connect() rejected with ${String(err)}`));
    const conn = await bounded(brokerNow().nextConnection(), "final connection");
    await bounded(conn.accept(false, 0, {}), "final CONNECT");
    await turn();
    if (!client.connected) return fail("not connected on a clean final connection");
    const got: string[] = [];
    const off = client.on("message", (m) => got.push(m.topic));
    const out = client.publish("final/out", "ok", { qos: 2 });
    conn.watch((p) => {
      if (p.type === "publish" && p.qos === 2) conn.send({ type: "pubrec", packetId: p.packetId!, reasonCode: 0 });
      if (p.type === "publish" && p.qos === 1) conn.send({ type: "puback", packetId: p.packetId!, reasonCode: 0 });
      if (p.type === "pubrel") conn.send({ type: "pubcomp", packetId: p.packetId, reasonCode: 0 });
      if (p.type === "subscribe") conn.send({ type: "suback", packetId: p.packetId, reasonCodes: p.subscriptions.map(() => 0) });
    });
    await bounded(out, "the final QoS 2 publish");
    conn.send({ type: "publish", topic: "final/in", payload: new Uint8Array([1]), qos: 1, retain: false, dup: false, packetId: 999 });
    await turn();
    off();
    if (!got.includes("final/in")) fail("the final QoS 1 message was not delivered");
  } catch (err) {
    fail(`the client did not work on a clean final connection: ${String(err)}`);
  }
}

/** A valid non-CONNACK frame of the v5 corpus, then `bytes`. */
function withValidPrefix(bytes: Uint8Array, r: Rng): Uint8Array {
  const k = r.int(CORPUS5.length);
  const prefix = CORPUS5_PACKETS[k]!.type === "connack" ? new Uint8Array(0) : CORPUS5[k]!;
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix, 0);
  out.set(bytes, prefix.length);
  return out;
}
