/**
 * A TCP fault proxy for the fault tests: listens on a free port on 127.0.0.1 and forwards each connection to
 * the broker, injecting faults per connection:
 *
 * - cut: both sockets destroyed after a number of bytes forwarded (counted over both directions; the chunk
 *   that crosses the mark is forwarded only up to it, so the peers see a torn packet) or after a time;
 * - stall: nothing is forwarded in one or both directions while both sockets stay open (a half-open link).
 *   A stalled connection does not pass on a close either: the other peer only learns by its own means
 *   (keepalive, session takeover), as across a real network partition;
 * - delay: each chunk waits a random time before it is forwarded (order is kept);
 * - segments: every chunk is written as segments of a random size, with a setImmediate between them.
 *
 * Randomness comes from a seeded PRNG, one stream per connection (derived from the seed and the connection
 * number), so a run's fault plan does not depend on how connections interleave. Runs are bounded: at most
 * `maxCuts` cuts, none after `faultWindowMs`, delays and segment sizes from bounded ranges. close() destroys
 * every socket and timer. Everything the proxy does is recorded in `events`.
 */

import * as net from "node:net";

/** An inclusive [min, max] range. */
export type Range = readonly [number, number];

/** A small, seeded PRNG (mulberry32): uniform numbers in [0, 1). */
export type Rng = () => number;

/** A mulberry32 generator for `seed`. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in the inclusive range. */
export function pick(rng: Rng, [min, max]: Range): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** The faults planned for one connection. */
export interface ConnectionPlan {
  /** Cut after this many bytes forwarded (both directions together). */
  cutAfterBytes?: number;
  /** Cut this many milliseconds after the connection was accepted. */
  cutAfterMs?: number;
  /** Delay each chunk by a random time in this range (milliseconds). */
  delayMs?: Range;
  /** Write each chunk as segments of a random size in this range (bytes, min >= 1). */
  segmentBytes?: Range;
}

/** What a plan function learns about a new connection. */
export interface ConnectionInfo {
  /** 1 for the first connection accepted, then 2, 3 ... */
  id: number;
  /** This connection's own random stream. */
  rng: Rng;
  /** Cuts still allowed by maxCuts. */
  cutsLeft: number;
}

/** Chooses the faults of a new connection. */
export type Planner = (info: ConnectionInfo) => ConnectionPlan;

/** Ranges and chances from which randomPlan() draws each connection's plan. */
export interface RandomPlanSettings {
  /** Chance (0..1) that a connection is cut at all. Default 1. */
  cutChance?: number;
  /**
   * Chance (0..1) that a cut connection also gets a time cut (whichever comes first) when both ranges are given;
   * with only cutAfterMs every cut connection gets one. Default 0.5.
   */
  timeCutChance?: number;
  cutAfterBytes?: Range;
  cutAfterMs?: Range;
  /** Chance (0..1) that a connection delays its chunks by delayMs. Default 1 when delayMs is given. */
  delayChance?: number;
  delayMs?: Range;
  /** Chance (0..1) that a connection writes in segments of segmentBytes. Default 1 when segmentBytes is given. */
  segmentChance?: number;
  segmentBytes?: Range;
}

/** A planner drawing every connection's faults from the given ranges. */
export function randomPlan(s: RandomPlanSettings): Planner {
  return ({ rng }) => {
    const plan: ConnectionPlan = {};
    if ((s.cutAfterBytes || s.cutAfterMs) && rng() < (s.cutChance ?? 1)) {
      if (s.cutAfterBytes) plan.cutAfterBytes = pick(rng, s.cutAfterBytes);
      if (s.cutAfterMs && (!s.cutAfterBytes || rng() < (s.timeCutChance ?? 0.5))) plan.cutAfterMs = pick(rng, s.cutAfterMs);
    }
    if (s.delayMs && rng() < (s.delayChance ?? 1)) plan.delayMs = s.delayMs;
    if (s.segmentBytes && rng() < (s.segmentChance ?? 1)) plan.segmentBytes = s.segmentBytes;
    return plan;
  };
}

/** Options of the proxy. */
export interface FaultProxyOptions {
  /** The broker's port on 127.0.0.1 (or host and port). */
  target: number | { host: string; port: number };
  /** Seed of the PRNG. Default 1. */
  seed?: number;
  /** The faults of each new connection. Default: none (a plain forwarder). Change later with configure(). */
  plan?: Planner;
  /** Most cuts over the proxy's life; later planned cuts are skipped. Default 1000. */
  maxCuts?: number;
  /** No cut happens later than this many milliseconds after the proxy started. Default 10 minutes. */
  faultWindowMs?: number;
  /** Bytes held for a slow or stalled direction before its source is paused. Default 1 MiB. */
  maxBuffered?: number;
}

/** One thing the proxy did. */
export interface FaultEvent {
  /** Milliseconds since the proxy started. */
  at: number;
  conn: number;
  kind: "accept" | "upstream-failed" | "cut" | "stall" | "resume" | "close";
  detail?: string;
}

/** Counters of the proxy. */
export interface FaultProxyStats {
  accepted: number;
  active: number;
  cuts: number;
  cutsByBytes: number;
  cutsByTime: number;
  /** Cuts asked for with cutAll(). */
  cutsManual: number;
  stalls: number;
  /** Connections whose upstream could not be reached (e.g. the broker is down). */
  upstreamFailures: number;
  bytesUp: number;
  bytesDown: number;
  /** Socket writes made per direction (with segments, one per segment). */
  writesUp: number;
  writesDown: number;
}

/** Which way(s) a stall holds: "up" is client -> broker, "down" broker -> client. */
export type Direction = "up" | "down" | "both";

/** One direction of one connection: a FIFO of chunks and the loop that forwards them. */
class Pipe {
  private readonly chunks: Uint8Array[] = [];
  private held = 0;
  private pumping = false;
  private stallRelease: (() => void) | undefined;
  stalled = false;
  /** The source closed: forward what is left, then close the destination. */
  sourceClosed = false;

  constructor(
    readonly name: "up" | "down",
    private readonly conn: ProxyConnection,
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
  ) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.held > this.conn.proxy.maxBuffered) this.src.pause();
    void this.pump();
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
    const r = this.stallRelease;
    this.stallRelease = undefined;
    r?.();
    void this.pump();
  }

  /** Wakes a loop waiting on a stall so it can see the connection is gone. */
  abort(): void {
    const r = this.stallRelease;
    this.stallRelease = undefined;
    r?.();
  }

  get idle(): boolean {
    return !this.pumping && this.chunks.length === 0;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.chunks.length > 0 && !this.conn.closed) {
        if (this.stalled) {
          await new Promise<void>((resolve) => (this.stallRelease = resolve));
          continue;
        }
        const chunk = this.chunks.shift()!;
        this.held -= chunk.length;
        if (this.held <= this.conn.proxy.maxBuffered / 2 && !this.conn.closed) this.src.resume();
        const plan = this.conn.plan;
        if (plan.delayMs) await this.conn.sleep(pick(this.conn.rng, plan.delayMs));
        if (plan.segmentBytes) {
          for (let at = 0; at < chunk.length && !this.conn.closed; ) {
            const n = Math.max(1, pick(this.conn.rng, plan.segmentBytes));
            const ok = this.forward(chunk.subarray(at, at + n));
            at += n;
            if (!ok) break;
            await new Promise<void>((resolve) => setImmediate(resolve));
            while (this.stalled && !this.conn.closed) await new Promise<void>((resolve) => (this.stallRelease = resolve));
          }
        } else this.forward(chunk);
        if (!this.conn.closed && this.dst.writableNeedDrain) await new Promise<void>((resolve) => this.dst.once("drain", resolve).once("close", resolve));
      }
    } finally {
      this.pumping = false;
    }
    if (this.sourceClosed && this.chunks.length === 0) this.conn.finish();
  }

  /** Forwards bytes unless a byte cut falls inside them: then forwards up to the mark and cuts. Returns false after a cut. */
  private forward(bytes: Uint8Array): boolean {
    if (this.conn.closed) return false;
    const room = this.conn.bytesUntilCut();
    if (room !== undefined && bytes.length >= room) {
      const prefix = bytes.subarray(0, room);
      this.conn.count(this.name, prefix.length);
      if (prefix.length > 0) this.dst.write(prefix);
      this.conn.cut("bytes", `after ${this.conn.forwarded} bytes (${this.name})`);
      return false;
    }
    this.conn.count(this.name, bytes.length);
    this.dst.write(bytes);
    return true;
  }
}

/** One proxied connection. */
class ProxyConnection {
  readonly rng: Rng;
  plan: ConnectionPlan;
  readonly upstream: net.Socket;
  readonly up: Pipe;
  readonly down: Pipe;
  closed = false;
  forwarded = 0;
  private connected = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(readonly proxy: FaultProxy, readonly id: number, readonly client: net.Socket) {
    this.rng = mulberry32((proxy.seed ^ Math.imul(id, 0x9e3779b9)) >>> 0);
    this.plan = proxy.planFor({ id, rng: this.rng, cutsLeft: proxy.cutsLeft });
    client.setNoDelay(true);
    client.pause();
    this.upstream = net.connect(proxy.target);
    this.upstream.setNoDelay(true);
    this.up = new Pipe("up", this, client, this.upstream);
    this.down = new Pipe("down", this, this.upstream, client);
    this.upstream.once("connect", () => {
      this.connected = true;
      client.resume();
      if (this.plan.cutAfterMs !== undefined) {
        this.timer(() => this.cut("time", `after ${this.plan.cutAfterMs} ms`), this.plan.cutAfterMs);
      }
    });
    client.on("data", (d: Uint8Array) => this.up.push(d));
    this.upstream.on("data", (d: Uint8Array) => this.down.push(d));
    client.on("error", () => undefined);
    this.upstream.on("error", (err) => {
      if (!this.connected) {
        proxy.record(id, "upstream-failed", err.message);
        proxy.counters.upstreamFailures++;
        this.destroy();
      }
    });
    client.on("close", () => this.sourceClosed(this.up));
    this.upstream.on("close", () => this.sourceClosed(this.down));
  }

  /**
   * Bytes left before a planned byte cut, if one applies. A cut the proxy's bounds no longer allow is dropped
   * from the plan here, before any chunk is split for it: the stream must stay intact unless it is really cut.
   */
  bytesUntilCut(): number | undefined {
    if (this.plan.cutAfterBytes === undefined) return undefined;
    if (!this.proxy.mayCut()) {
      this.plan = { ...this.plan, cutAfterBytes: undefined };
      return undefined;
    }
    return Math.max(0, this.plan.cutAfterBytes - this.forwarded);
  }

  count(direction: "up" | "down", n: number): void {
    this.forwarded += n;
    const c = this.proxy.counters;
    if (direction === "up") {
      c.bytesUp += n;
      c.writesUp++;
    } else {
      c.bytesDown += n;
      c.writesDown++;
    }
  }

  /**
   * Executes a cut. A time cut the proxy's bounds no longer allow is dropped and forwarding goes on; a byte cut
   * was checked against them by bytesUntilCut() before its chunk was split.
   */
  cut(kind: "bytes" | "time" | "manual", detail: string): void {
    if (this.closed) return;
    if (kind === "time" && !this.proxy.mayCut()) {
      this.plan = { ...this.plan, cutAfterMs: undefined };
      return;
    }
    const c = this.proxy.counters;
    c.cuts++;
    if (kind === "bytes") c.cutsByBytes++;
    else if (kind === "time") c.cutsByTime++;
    else c.cutsManual++;
    this.proxy.record(this.id, "cut", `${kind}: ${detail}`);
    // Bytes already handed to a socket go out before its FIN; nothing more is forwarded.
    this.closed = true;
    this.client.end();
    this.upstream.end();
    this.timer(() => this.destroy(), 50);
  }

  stall(direction: Direction): void {
    if (this.closed) return;
    if (direction !== "down") this.up.stall();
    if (direction !== "up") this.down.stall();
    this.proxy.record(this.id, "stall", direction);
  }

  resume(): void {
    if (this.closed) return;
    this.proxy.record(this.id, "resume");
    this.up.resume();
    this.down.resume();
    // A close that happened during the stall is passed on now, after what was held.
    for (const [pipe, src] of [[this.up, this.client], [this.down, this.upstream]] as const) {
      if (src.destroyed && !this.closed) this.sourceClosed(pipe);
    }
  }

  get stalled(): boolean {
    return this.up.stalled || this.down.stalled;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timer(resolve, ms));
  }

  /** The source of `pipe` closed. Forward what it sent, then close the other side, unless the link is stalled. */
  private sourceClosed(pipe: Pipe): void {
    if (this.closed) return;
    if (this.stalled) {
      // Half-open: the other side must not learn of the close from us. It stays open until its peer closes it.
      const other = pipe === this.up ? this.upstream : this.client;
      if (other.destroyed || other.readyState === "closed") this.destroy();
      return;
    }
    pipe.sourceClosed = true;
    if (pipe.idle) this.finish();
  }

  /** Ends the connection after a source closed and its bytes were forwarded. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.end();
    this.upstream.end();
    this.timer(() => this.destroy(), 50);
  }

  destroy(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.up.abort();
    this.down.abort();
    this.client.destroy();
    this.upstream.destroy();
    if (this.proxy.forget(this)) this.proxy.record(this.id, "close");
  }

  private timer(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

/** A running fault proxy. Create with startFaultProxy(). */
export class FaultProxy {
  readonly seed: number;
  readonly target: { host: string; port: number };
  readonly maxBuffered: number;
  readonly events: FaultEvent[] = [];
  readonly counters: FaultProxyStats = {
    accepted: 0,
    active: 0,
    cuts: 0,
    cutsByBytes: 0,
    cutsByTime: 0,
    cutsManual: 0,
    stalls: 0,
    upstreamFailures: 0,
    bytesUp: 0,
    bytesDown: 0,
    writesUp: 0,
    writesDown: 0,
  };
  private readonly server: net.Server;
  private readonly conns = new Set<ProxyConnection>();
  private readonly started = performance.now();
  private readonly maxCuts: number;
  private readonly faultWindowMs: number;
  private planner: Planner;
  private nextId = 1;
  private closing = false;
  port = 0;

  constructor(options: FaultProxyOptions) {
    this.seed = options.seed ?? 1;
    this.target = typeof options.target === "number" ? { host: "127.0.0.1", port: options.target } : options.target;
    this.planner = options.plan ?? (() => ({}));
    this.maxCuts = options.maxCuts ?? 1000;
    this.faultWindowMs = options.faultWindowMs ?? 10 * 60_000;
    this.maxBuffered = options.maxBuffered ?? 1 << 20;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** The proxy's mqtt:// URL. */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Listens on a free port on 127.0.0.1. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Replaces the planner used for connections accepted from now on. */
  configure(plan: Planner): void {
    this.planner = plan;
  }

  /** Counters so far (a copy). */
  stats(): FaultProxyStats {
    return { ...this.counters, active: this.conns.size };
  }

  /** Stalls every open connection (existing ones only; new connections are not stalled). Returns how many. */
  stall(direction: Direction = "both"): number {
    let n = 0;
    for (const c of this.conns) {
      if (c.closed) continue;
      c.stall(direction);
      n++;
    }
    this.counters.stalls += n;
    return n;
  }

  /** Resumes every stalled connection: what was held is forwarded. */
  resume(): void {
    for (const c of this.conns) if (c.stalled) c.resume();
  }

  /** Cuts every open connection now (not counted against maxCuts). Returns how many. */
  cutAll(): number {
    let n = 0;
    for (const c of [...this.conns]) {
      if (c.closed) continue;
      c.cut("manual", "cutAll()");
      n++;
    }
    return n;
  }

  /** Stops listening and destroys every connection and timer. */
  async close(): Promise<void> {
    this.closing = true;
    for (const c of [...this.conns]) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Milliseconds since the proxy started. */
  elapsed(): number {
    return performance.now() - this.started;
  }

  // --- for ProxyConnection ---

  /** @internal */
  get cutsLeft(): number {
    return Math.max(0, this.maxCuts - this.counters.cuts);
  }

  /** @internal Whether a planned cut may happen now. */
  mayCut(): boolean {
    return this.counters.cuts < this.maxCuts && this.elapsed() <= this.faultWindowMs;
  }

  /** @internal */
  planFor(info: ConnectionInfo): ConnectionPlan {
    return this.planner(info);
  }

  /** @internal */
  record(conn: number, kind: FaultEvent["kind"], detail?: string): void {
    if (this.events.length >= 100_000) this.events.splice(0, 10_000);
    this.events.push({ at: Math.round(this.elapsed()), conn, kind, detail });
  }

  /** @internal Returns whether it was still known. */
  forget(c: ProxyConnection): boolean {
    return this.conns.delete(c);
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const id = this.nextId++;
    this.counters.accepted++;
    const conn = new ProxyConnection(this, id, socket);
    this.record(id, "accept", JSON.stringify(conn.plan));
    this.conns.add(conn);
  }
}

/** Starts a fault proxy in front of `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxy(options);
  await proxy.listen();
  return proxy;
}
