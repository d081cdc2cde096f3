/**
 * A tiny in-process broker behind the client's Transport seam that answers by itself: CONNACK, SUBACK (granting
 * what was asked), UNSUBACK, PUBACK, PUBREC/PUBCOMP, PINGRESP, and delivers each PUBLISH to the connections
 * subscribed to a matching filter (QoS 0 or 1). It keeps every byte each connection wrote and every packet decoded
 * from them, and records bytes it could not decode, so a test can check a client's bytes exactly.
 */
import { ServerDecoder, encode, topicMatches, type Connection, type ConnectionHandlers, type Packet, type Transport } from "../../src/index.ts";
import { concat } from "../mqtt/hex.ts";

/** One client connection as the broker sees it. */
export class AutoConnection {
  /** Raw bytes of every write, copied as they came. */
  readonly writes: Uint8Array[] = [];
  /** Every packet decoded from the writes, in order. */
  readonly packets: Packet[] = [];
  /** Why the bytes could not be decoded (a client that wrote garbage). */
  readonly errors: Error[] = [];
  readonly filters = new Set<string>();
  closed = false;
  private readonly decoder = new ServerDecoder({ maxPacketSize: 1 << 28 });
  private nextId = 1;

  constructor(private readonly broker: AutoBroker, readonly url: URL, private readonly handlers: ConnectionHandlers) {}

  readonly connection: Connection = {
    write: (bytes) => {
      if (this.closed) return false;
      const copy = bytes.slice();
      this.writes.push(copy);
      let packets: Packet[] = [];
      try {
        packets = this.decoder.push(copy);
      } catch (err) {
        this.errors.push(err as Error);
      }
      for (const p of packets) {
        this.packets.push(p);
        this.answer(p);
      }
      return true;
    },
    end: () => this.close(),
    destroy: () => this.close(),
  };

  /** Every byte the client wrote, joined. */
  bytes(): Uint8Array {
    return concat(this.writes);
  }

  /** Sends packets to the client (asynchronously, as a socket would). */
  send(...packets: Packet[]): void {
    const bytes = concat(packets.map((p) => encode(p)));
    queueMicrotask(() => {
      if (!this.closed) this.handlers.onData(bytes);
    });
  }

  /** The broker drops the connection. */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(new Error("dropped by the auto broker"));
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.handlers.onClose(undefined));
  }

  private answer(p: Packet): void {
    switch (p.type) {
      case "connect":
        this.send({ type: "connack", sessionPresent: false, returnCode: 0 });
        return;
      case "subscribe":
        for (const s of p.subscriptions) this.filters.add(s.topic);
        this.send({ type: "suback", packetId: p.packetId, granted: p.subscriptions.map((s) => s.qos) });
        return;
      case "unsubscribe":
        for (const t of p.topics) this.filters.delete(t);
        this.send({ type: "unsuback", packetId: p.packetId });
        return;
      case "publish":
        if (p.qos === 1) this.send({ type: "puback", packetId: p.packetId! });
        if (p.qos === 2) this.send({ type: "pubrec", packetId: p.packetId! });
        this.broker.route(p.topic, p.payload, p.qos === 0 ? 0 : 1);
        return;
      case "pubrel":
        this.send({ type: "pubcomp", packetId: p.packetId });
        return;
      case "pingreq":
        this.send({ type: "pingresp" });
        return;
      case "disconnect":
        this.close();
        return;
      default:
        return;
    }
  }

  /** Delivers a message if a filter of this connection matches. */
  deliver(topic: string, payload: Uint8Array, qos: 0 | 1): void {
    if (this.closed || ![...this.filters].some((f) => topicMatches(f, topic))) return;
    const packetId = qos === 0 ? undefined : (this.nextId = (this.nextId % 65_535) + 1);
    this.send({ type: "publish", topic, payload, qos, retain: false, dup: false, packetId });
  }
}

/** Accepts every connection and routes publishes between its connections. */
export class AutoBroker {
  readonly connections: AutoConnection[] = [];

  readonly transport: Transport = async (url, _options, handlers) => {
    const c = new AutoConnection(this, url, handlers);
    this.connections.push(c);
    return c.connection;
  };

  route(topic: string, payload: Uint8Array, qos: 0 | 1): void {
    for (const c of this.connections) c.deliver(topic, payload, qos);
  }
}
