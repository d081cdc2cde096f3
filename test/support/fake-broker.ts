/**
 * A scripted broker behind the client's Transport seam: the test reads exactly what the client wrote (decoded
 * with a ServerDecoder, raw bytes kept too) and answers with packets or raw bytes of its choosing.
 */
import { ServerDecoder, encode, type Connection, type ConnectionHandlers, type Packet, type Transport, type TransportOptions } from "../../src/index.ts";
import { ServerDecoder5 } from "../../src/mqtt/v5/decode-server.ts";
import { encodeServerPacket5 } from "../../src/mqtt/v5/encode-server.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";

/** The wire a scripted broker speaks: MQTT 3.1.1 (the default) or 5. */
interface Codec<P> {
  decoder: { push(bytes: Uint8Array): P[] };
  encode(p: P): Uint8Array;
}

const v311 = (): Codec<Packet> => ({ decoder: new ServerDecoder({ maxPacketSize: 1 << 28 }), encode });
const v5 = (): Codec<Packet5> => ({ decoder: new ServerDecoder5({ maxPacketSize: 1 << 28 }), encode: encodeServerPacket5 });

/** One client connection as the scripted broker sees it (`P`: the packets of the protocol version it speaks). */
export class FakeConnection<P extends { type: string } = Packet> {
  /** Every packet the client sent, in order. */
  readonly packets: P[] = [];
  /** Raw bytes of every write. */
  readonly writes: Uint8Array[] = [];
  closed = false;
  /** Whether the client closed it (end/destroy) rather than the broker. */
  closedByClient = false;
  private readonly decoder: Codec<P>["decoder"];
  private waiters: Array<() => void> = [];
  private watchers: Array<(p: P) => void> = [];
  private read = 0;

  constructor(
    readonly url: URL,
    private readonly handlers: ConnectionHandlers,
    private readonly codec: Codec<P> = v311() as unknown as Codec<P>,
  ) {
    this.decoder = codec.decoder;
  }

  /** The connection object given to the client. */
  readonly connection: Connection = {
    write: (bytes) => {
      if (this.closed) return false;
      this.writes.push(bytes.slice());
      for (const p of this.decoder.push(bytes.slice())) {
        this.packets.push(p);
        for (const w of this.watchers) queueMicrotask(() => w(p));
      }
      for (const w of this.waiters.splice(0)) w();
      return true;
    },
    end: () => this.clientClose(),
    destroy: () => this.clientClose(),
  };

  /** The next packet the client sends (waits for it); `type` asserts its type. */
  async next<T extends P["type"]>(type?: T, timeoutMs = 2000): Promise<Extract<P, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.packets.length) {
      if (Date.now() > deadline) throw new Error(`no packet from the client within ${timeoutMs} ms (expected ${type ?? "any"})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const p = this.packets[this.read++]!;
    if (type && p.type !== type) throw new Error(`expected ${type} from the client, got ${JSON.stringify(p)}`);
    return p as Extract<P, { type: T }>;
  }

  /**
   * Calls `fn` (a microtask later) with every packet not yet taken with next() and every packet the client sends
   * from now on, without taking them; returns the function that stops it.
   */
  watch(fn: (p: P) => void): () => void {
    for (const p of this.unread()) queueMicrotask(() => fn(p));
    this.watchers.push(fn);
    return () => {
      this.watchers = this.watchers.filter((w) => w !== fn);
    };
  }

  /** Marks every packet sent so far as taken: next() returns only later ones. */
  skipAll(): void {
    this.read = this.packets.length;
  }

  /** Packets not yet taken with next(). */
  unread(): P[] {
    return this.packets.slice(this.read);
  }

  /** Sends packets (or raw bytes) to the client, all in one chunk. */
  send(...items: Array<P | Uint8Array>): void {
    const parts = items.map((x) => (x instanceof Uint8Array ? x : this.codec.encode(x)));
    const total = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      total.set(p, at);
      at += p.length;
    }
    if (!this.closed) this.handlers.onData(total);
  }

  /** Reads CONNECT and answers CONNACK (`returnCode`: the reason code under MQTT 5; `properties` only there). */
  async accept(sessionPresent = false, returnCode = 0, properties?: Record<string, unknown>): Promise<Extract<P, { type: "connect" }>> {
    const connect = await this.next("connect" as P["type"]);
    const v5 = this.codec.encode !== encode;
    this.send((v5 ? { type: "connack", sessionPresent, reasonCode: returnCode, properties } : { type: "connack", sessionPresent, returnCode }) as unknown as P);
    return connect as Extract<P, { type: "connect" }>;
  }

  /** The broker drops the connection. */
  drop(error: Error = new Error("dropped by the fake broker")): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(error);
  }

  private clientClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closedByClient = true;
    queueMicrotask(() => this.handlers.onClose(undefined));
  }
}

/** Hands out FakeConnections; `refuse` makes the next attempts fail at the transport. MQTT 3.1.1 unless `version` is 5. */
export class FakeBroker<P extends { type: string } = Packet> {
  readonly connections: FakeConnection<P>[] = [];
  private waiters: Array<(c: FakeConnection<P>) => void> = [];

  constructor(private readonly version: 4 | 5 = 4) {}

  /** A scripted MQTT 5 broker. */
  static v5(): FakeBroker<Packet5> {
    return new FakeBroker<Packet5>(5);
  }
  /** Number of upcoming attempts to fail with ECONNREFUSED. */
  refuse = 0;
  attempts = 0;

  /** Transport options of each attempt, in order. */
  readonly options: TransportOptions[] = [];

  readonly transport: Transport = async (url, options, handlers) => {
    this.attempts++;
    this.options.push(options);
    if (this.refuse > 0) {
      this.refuse--;
      throw Object.assign(new Error("connect ECONNREFUSED (fake)"), { code: "ECONNREFUSED" });
    }
    const c = new FakeConnection<P>(url, handlers, (this.version === 5 ? v5() : v311()) as unknown as Codec<P>);
    this.connections.push(c);
    const w = this.waiters.shift();
    if (w) w(c);
    return c.connection;
  };

  /** The next connection the client opens (or the latest one not yet taken). */
  async nextConnection(timeoutMs = 2000): Promise<FakeConnection<P>> {
    const taken = this.taken;
    if (this.connections.length > taken) {
      this.taken++;
      return this.connections[taken]!;
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((c) => {
        clearTimeout(t);
        this.taken++;
        resolve(c);
      });
    });
  }

  private taken = 0;
}
