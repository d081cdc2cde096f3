/**
 * A minimal in-process MQTT broker for bench/inmem.ts: the same broker logic behind every contender, so the
 * difference between contenders is the client library. It decodes with edgemq's ServerDecoder and encodes
 * with edgemq's encodeServerPacket (both contenders pay for it equally), routes PUBLISH to exact-topic subscribers, and acks.
 *
 * I/O is asynchronous like a socket: bytes a client writes are processed on the broker's next turn (setImmediate),
 * and everything the broker owes one connection is delivered as one chunk per turn (one "read").
 */
import { ServerDecoder, encodeServerPacket, type Connection, type Packet, type QoS, type Transport } from "../../src/index.ts";
import type { PipeFactory } from "./pipe.ts";

class BrokerConnection {
  readonly decoder = new ServerDecoder({ maxPacketSize: 1 << 28 });
  inbox: Uint8Array[] = [];
  out: Uint8Array[] = [];
  outLength = 0;
  nextId = 1;
  closed = false;

  constructor(
    readonly deliver: (chunk: Uint8Array) => void,
    readonly onClose: () => void,
  ) {}

  send(p: Packet): void {
    const b = encodeServerPacket(p);
    this.out.push(b);
    this.outLength += b.length;
  }

  takeId(): number {
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    return id;
  }
}

/** The broker: open() a connection per client. */
export class MemBroker {
  private readonly subscribers = new Map<string, Array<{ conn: BrokerConnection; qos: QoS }>>();
  private readonly active = new Set<BrokerConnection>();
  private scheduled = false;

  /** Opens a connection; `deliver` receives the broker's bytes, one chunk per broker turn. */
  open(deliver: (chunk: Uint8Array) => void, onClose: () => void = () => undefined): { write(bytes: Uint8Array): void; close(): void } {
    const conn = new BrokerConnection(deliver, onClose);
    return {
      write: (bytes) => {
        if (conn.closed) return;
        conn.inbox.push(bytes);
        this.active.add(conn);
        this.schedule();
      },
      close: () => this.drop(conn),
    };
  }

  /** An edgemq Transport onto this broker (the URL is ignored). */
  transport(): Transport {
    return async (_url, _options, handlers) => {
      const c = this.open((chunk) => handlers.onData(chunk), () => handlers.onClose());
      const connection: Connection = {
        write: (bytes) => {
          c.write(bytes);
          return true;
        },
        end: () => c.close(),
        destroy: () => c.close(),
      };
      return connection;
    };
  }

  /** A pipe onto this broker for the raw client. */
  pipe(): PipeFactory {
    return async (h) => {
      const c = this.open((chunk) => h.onData(chunk), () => h.onClose());
      return { write: (b) => (c.write(b), true), cork: () => undefined, uncork: () => undefined, close: () => c.close() };
    };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private drop(conn: BrokerConnection): void {
    if (conn.closed) return;
    conn.closed = true;
    for (const [topic, list] of this.subscribers) {
      const rest = list.filter((s) => s.conn !== conn);
      if (rest.length === 0) this.subscribers.delete(topic);
      else this.subscribers.set(topic, rest);
    }
  }

  /** One broker turn: handle every connection's input, then deliver every connection's output. */
  private turn(): void {
    this.scheduled = false;
    const touched = new Set<BrokerConnection>();
    for (const conn of this.active) {
      touched.add(conn);
      const inbox = conn.inbox;
      conn.inbox = [];
      for (const chunk of inbox) {
        if (conn.closed) break;
        conn.decoder.feed(chunk, (p) => this.handle(conn, p, touched));
      }
    }
    this.active.clear();
    for (const conn of touched) {
      if (conn.out.length === 0 || conn.closed) continue;
      let chunk: Uint8Array;
      if (conn.out.length === 1) chunk = conn.out[0]!;
      else {
        chunk = new Uint8Array(conn.outLength);
        let at = 0;
        for (const b of conn.out) {
          chunk.set(b, at);
          at += b.length;
        }
      }
      conn.out = [];
      conn.outLength = 0;
      conn.deliver(chunk);
    }
  }

  private handle(conn: BrokerConnection, p: Packet, touched: Set<BrokerConnection>): void {
    switch (p.type) {
      case "connect":
        conn.send({ type: "connack", sessionPresent: false, returnCode: 0 });
        return;
      case "subscribe":
        for (const s of p.subscriptions) {
          const list = this.subscribers.get(s.topic) ?? [];
          list.push({ conn, qos: s.qos });
          this.subscribers.set(s.topic, list);
        }
        conn.send({ type: "suback", packetId: p.packetId, granted: p.subscriptions.map((s) => s.qos) });
        return;
      case "unsubscribe":
        conn.send({ type: "unsuback", packetId: p.packetId });
        return;
      case "pingreq":
        conn.send({ type: "pingresp" });
        return;
      case "publish": {
        if (p.qos === 1) conn.send({ type: "puback", packetId: p.packetId! });
        else if (p.qos === 2) conn.send({ type: "pubrec", packetId: p.packetId! });
        const list = this.subscribers.get(p.topic);
        if (!list) return;
        for (const s of list) {
          const qos = (p.qos < s.qos ? p.qos : s.qos) as QoS;
          s.conn.send({ type: "publish", topic: p.topic, payload: p.payload, qos, retain: false, dup: false, packetId: qos > 0 ? s.conn.takeId() : undefined });
          touched.add(s.conn);
        }
        return;
      }
      case "pubrec":
        conn.send({ type: "pubrel", packetId: p.packetId });
        return;
      case "pubrel":
        conn.send({ type: "pubcomp", packetId: p.packetId });
        return;
      case "disconnect":
        this.drop(conn);
        return;
      default:
        return; // puback, pubcomp from subscribers: nothing to do
    }
  }
}
