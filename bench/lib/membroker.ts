/**
 * A minimal in-process MQTT broker for bench/inmem.ts: the same broker logic behind every contender, so the
 * difference between contenders is the client library. It decodes with edgemq's ServerDecoder and encodes
 * with edgemq's encodeServerPacket (both contenders pay for it equally), routes PUBLISH to exact-topic subscribers, and acks.
 * A connection whose CONNECT says MQTT 5 gets ServerDecoder5 / encodeServerPacket5 instead (bench/mqtt5.ts).
 *
 * I/O is asynchronous like a socket: bytes a client writes are processed on the broker's next turn (setImmediate),
 * and everything the broker owes one connection is delivered as one chunk per turn (one "read").
 */
import { ServerDecoder, encodeServerPacket, type Connection, type Packet, type QoS, type Transport } from "../../src/index.ts";
import { ServerDecoder5, encodeServerPacket5, type Packet as Packet5 } from "../../src/mqtt/v5/index.ts";
import type { PipeFactory } from "./pipe.ts";

/** What the broker decodes: a 3.1.1 packet, or an MQTT 5 one on a connection whose CONNECT said level 5. */
type AnyPacket = Packet | Packet5;

/**
 * The protocol level of a CONNECT at the start of `b` (fixed header, then "MQTT" as a two-byte-length string, then the
 * level byte), or undefined while `b` is too short to tell.
 */
function connectLevel(b: Uint8Array): number | undefined {
  let at = 1;
  for (let i = 0; i < 4; i++, at++) {
    if (at >= b.length) return undefined;
    if ((b[at]! & 0x80) === 0) break;
  }
  at++; // past the last remaining-length byte
  if (at + 2 > b.length) return undefined;
  const at2 = at + 2 + ((b[at]! << 8) | b[at + 1]!);
  return at2 < b.length ? b[at2] : undefined;
}

class BrokerConnection {
  /** Chosen from the first CONNECT's protocol level: ServerDecoder (3.1.1) or ServerDecoder5. */
  decoder: { feed(chunk: Uint8Array, onPacket: (p: AnyPacket) => void): void } | undefined;
  /** Whether this connection speaks MQTT 5 (its packets are encoded with encodeServerPacket5). */
  v5 = false;
  /** Bytes received before the protocol level could be read. */
  private head: Uint8Array | undefined;
  inbox: Uint8Array[] = [];
  out: Uint8Array[] = [];
  outLength = 0;
  nextId = 1;
  closed = false;

  constructor(
    readonly deliver: (chunk: Uint8Array) => void,
    readonly onClose: () => void,
  ) {}

  /** Feeds bytes to the decoder, choosing it on the first CONNECT. */
  feed(chunk: Uint8Array, onPacket: (p: AnyPacket) => void): void {
    if (this.decoder === undefined) {
      const head = this.head ? concat(this.head, chunk) : chunk;
      const level = connectLevel(head);
      if (level === undefined) {
        this.head = head;
        return;
      }
      this.head = undefined;
      this.v5 = level === 5;
      this.decoder = this.v5 ? new ServerDecoder5({ maxPacketSize: 1 << 28 }) : new ServerDecoder({ maxPacketSize: 1 << 28 });
      chunk = head;
    }
    this.decoder.feed(chunk, onPacket);
  }

  send(p: AnyPacket): void {
    const b = this.v5 ? encodeServerPacket5(p as Packet5) : encodeServerPacket(p as Packet);
    this.out.push(b);
    this.outLength += b.length;
  }

  takeId(): number {
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    return id;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
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
        conn.feed(chunk, (p) => this.handle(conn, p, touched));
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

  /**
   * Answers one packet. On an MQTT 5 connection the broker offers no topic alias (its CONNACK has no properties), so
   * every PUBLISH names its topic; it sends reason code 0 (success) in every ack, and forwards no PUBLISH properties.
   */
  private handle(conn: BrokerConnection, p: AnyPacket, touched: Set<BrokerConnection>): void {
    const v5 = conn.v5;
    switch (p.type) {
      case "connect":
        conn.send(v5 ? { type: "connack", sessionPresent: false, reasonCode: 0 } : { type: "connack", sessionPresent: false, returnCode: 0 });
        return;
      case "subscribe": {
        for (const s of p.subscriptions) {
          const list = this.subscribers.get(s.topic) ?? [];
          list.push({ conn, qos: s.qos });
          this.subscribers.set(s.topic, list);
        }
        const granted = p.subscriptions.map((s) => s.qos);
        conn.send(v5 ? { type: "suback", packetId: p.packetId, reasonCodes: granted } : { type: "suback", packetId: p.packetId, granted });
        return;
      }
      case "unsubscribe":
        conn.send(v5 ? { type: "unsuback", packetId: p.packetId, reasonCodes: p.topics.map(() => 0) } : { type: "unsuback", packetId: p.packetId });
        return;
      case "pingreq":
        conn.send({ type: "pingresp" });
        return;
      case "publish": {
        if (p.qos === 1) conn.send(v5 ? { type: "puback", packetId: p.packetId!, reasonCode: 0 } : { type: "puback", packetId: p.packetId! });
        else if (p.qos === 2) conn.send(v5 ? { type: "pubrec", packetId: p.packetId!, reasonCode: 0 } : { type: "pubrec", packetId: p.packetId! });
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
        conn.send(v5 ? { type: "pubrel", packetId: p.packetId, reasonCode: 0 } : { type: "pubrel", packetId: p.packetId });
        return;
      case "pubrel":
        conn.send(v5 ? { type: "pubcomp", packetId: p.packetId, reasonCode: 0 } : { type: "pubcomp", packetId: p.packetId });
        return;
      case "disconnect":
        this.drop(conn);
        return;
      default:
        return; // puback, pubcomp from subscribers: nothing to do
    }
  }
}
