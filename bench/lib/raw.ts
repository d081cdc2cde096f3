/**
 * The "raw" contender: the least work an MQTT 3.1.1 client can do for the benchmark's traffic, written by hand over a
 * byte pipe. Frames are hand-encoded (no edgemq code), pre-encoded where possible; the reader only finds frame
 * boundaries and packet ids. It validates nothing and keeps no session state: it is the floor, not a client.
 *  - publisher: QoS 0 writes pre-encoded PUBLISH frames in batches (one write per batch); QoS 1/2 keeps a window of
 *    unacked packet ids, answers PUBREC with PUBREL; everything it owes after one read goes out in one write.
 *  - subscriber: counts PUBLISH frames; PUBACK / PUBREC (and PUBCOMP for a PUBREL) go out in one write per read.
 */
import type { Run } from "./run.ts";
import type { Pipe, PipeFactory } from "./pipe.ts";

const utf8 = new TextEncoder();

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function frame(first: number, body: number[] | Uint8Array): Uint8Array {
  const rl = remainingLength(body.length);
  const out = new Uint8Array(1 + rl.length + body.length);
  out[0] = first;
  out.set(rl, 1);
  out.set(body, 1 + rl.length);
  return out;
}

function str(s: string): number[] {
  const b = utf8.encode(s);
  return [b.length >> 8, b.length & 0xff, ...b];
}

/** CONNECT, clean session, no credentials. */
export function connectFrame(clientId: string, keepalive: number): Uint8Array {
  return frame(0x10, [...str("MQTT"), 4, 0x02, keepalive >> 8, keepalive & 0xff, ...str(clientId)]);
}

/** SUBSCRIBE to one filter. */
export function subscribeFrame(packetId: number, topic: string, qos: number): Uint8Array {
  return frame(0x82, [packetId >> 8, packetId & 0xff, ...str(topic), qos]);
}

/** PUBLISH; for QoS 1/2 the packet id sits at `idOffset` (patch it per message). */
export function publishFrame(topic: string, payload: Uint8Array, qos: number, packetId = 1): { bytes: Uint8Array; idOffset: number; headerLength: number } {
  const t = str(topic);
  const idLen = qos > 0 ? 2 : 0;
  const rl = remainingLength(t.length + idLen + payload.length);
  const headerLength = 1 + rl.length + t.length + idLen;
  const bytes = new Uint8Array(headerLength + payload.length);
  bytes[0] = 0x30 | (qos << 1);
  bytes.set(rl, 1);
  bytes.set(t, 1 + rl.length);
  const idOffset = 1 + rl.length + t.length;
  if (qos > 0) {
    bytes[idOffset] = packetId >> 8;
    bytes[idOffset + 1] = packetId & 0xff;
  }
  bytes.set(payload, headerLength);
  return { bytes, idOffset, headerLength };
}

/** Splits a byte stream into MQTT frames; calls back with the first byte and the body's bounds in `buf`. */
export class RawReader {
  private parts: Uint8Array[] = [];
  private pendingLength = 0;
  private need = 0;

  feed(chunk: Uint8Array, onFrame: (first: number, buf: Uint8Array, start: number, end: number) => void): void {
    if (this.pendingLength > 0) {
      this.parts.push(chunk);
      this.pendingLength += chunk.length;
      if (this.need > 0 && this.pendingLength < this.need) return;
      const all = new Uint8Array(this.pendingLength);
      let at = 0;
      for (const p of this.parts) {
        all.set(p, at);
        at += p.length;
      }
      chunk = all;
      this.parts = [];
      this.pendingLength = 0;
    }
    this.need = 0;
    const n = chunk.length;
    let at = 0;
    while (n - at >= 2) {
      let len = 0;
      let mul = 1;
      let i = at + 1;
      let complete = false;
      for (; i < n && i < at + 5; ) {
        const b = chunk[i++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      const end = i + len;
      if (end > n) {
        this.need = end - at;
        break;
      }
      onFrame(chunk[at]!, chunk, i, end);
      at = end;
    }
    if (at < n) {
      const rest = chunk.subarray(at);
      this.parts.push(rest);
      this.pendingLength = rest.length;
    }
  }
}

/** Frames at or above this size are written as header + payload (corked) instead of being copied into a batch. */
const COPY_LIMIT = 4096;

/** One raw connection: publisher, subscriber, or both. */
export class RawClient {
  private pipe!: Pipe;
  private readonly reader = new RawReader();
  private waiting: { type: number; resolve: () => void } | undefined;
  private owed: number[] = []; // ack frames (first byte << 16 | packet id) owed after this read
  private writable = true;
  /** Called for every PUBLISH received: its first byte, and its body (topic onwards) as buf[start..end). */
  onMessage: (first: number, buf: Uint8Array, start: number, end: number) => void = () => undefined;
  // publisher state
  private run: Run | undefined;
  private window = 0;
  private inflight = 0;
  private nextId = 1;
  private qos = 0;
  private template: { bytes: Uint8Array; idOffset: number; headerLength: number } | undefined;
  private payload: Uint8Array = new Uint8Array(0);
  private batch0: Uint8Array | undefined; // QoS 0: many pre-encoded frames back to back
  private finished: (() => void) | undefined;

  /** Connects (CONNECT, waits for CONNACK). */
  static async connect(open: PipeFactory, clientId: string): Promise<RawClient> {
    const c = new RawClient();
    c.pipe = await open({
      onData: (chunk) => c.onData(chunk),
      onDrain: () => {
        c.writable = true;
        c.pump();
      },
      onClose: () => undefined,
    });
    const acked = c.expect(0x20);
    c.pipe.write(connectFrame(clientId, 60));
    await acked;
    return c;
  }

  /** Subscribes to one filter and waits for the SUBACK. */
  async subscribe(topic: string, qos: number): Promise<void> {
    const acked = this.expect(0x90);
    this.pipe.write(subscribeFrame(1, topic, qos));
    await acked;
  }

  /** Publishes run.count messages; resolves when the last one is finished (written / PUBACK / PUBCOMP). */
  publishAll(run: Run, topic: string, payload: Uint8Array, qos: number, window: number): Promise<void> {
    this.run = run;
    this.qos = qos;
    this.window = window;
    this.payload = payload;
    this.template = publishFrame(topic, payload, qos);
    const len = this.template.bytes.length;
    if (qos === 0 && len < COPY_LIMIT) {
      const k = Math.max(1, Math.min(256, Math.floor(65_536 / len)));
      this.batch0 = new Uint8Array(k * len);
      for (let i = 0; i < k; i++) this.batch0.set(this.template.bytes, i * len);
    }
    const finished = new Promise<void>((resolve) => (this.finished = resolve));
    this.pump();
    return finished;
  }

  /** Writes one PUBLISH with the next packet id (for paced senders; acks are counted, not awaited). */
  publishOne(topic: string, payload: Uint8Array, qos: number): void {
    const f = publishFrame(topic, payload, qos, qos > 0 ? this.takeId() : 1);
    if (qos > 0) this.inflight++;
    this.pipe.write(f.bytes);
  }

  /** DISCONNECT and close. */
  close(): void {
    this.pipe.write(new Uint8Array([0xe0, 0]));
    this.pipe.close();
  }

  private expect(type: number): Promise<void> {
    return new Promise((resolve) => (this.waiting = { type, resolve }));
  }

  private onData(chunk: Uint8Array): void {
    this.reader.feed(chunk, (first, buf, start, end) => {
      const type = first & 0xf0;
      switch (type) {
        case 0x30: {
          const qos = (first >> 1) & 3;
          if (qos > 0) {
            const topicLength = (buf[start]! << 8) | buf[start + 1]!;
            const at = start + 2 + topicLength;
            this.owed.push(((qos === 1 ? 0x40 : 0x50) << 16) | (buf[at]! << 8) | buf[at + 1]!);
          }
          this.onMessage(first, buf, start, end);
          return;
        }
        case 0x40: // PUBACK
        case 0x70: // PUBCOMP
          this.inflight--;
          return;
        case 0x50: // PUBREC -> PUBREL
          this.owed.push((0x62 << 16) | (buf[start]! << 8) | buf[start + 1]!);
          return;
        case 0x60: // PUBREL -> PUBCOMP
          this.owed.push((0x70 << 16) | (buf[start]! << 8) | buf[start + 1]!);
          return;
        default:
          if (this.waiting && this.waiting.type === type) {
            const w = this.waiting;
            this.waiting = undefined;
            w.resolve();
          }
      }
    });
    if (this.owed.length > 0) {
      const acks = new Uint8Array(this.owed.length * 4);
      let at = 0;
      for (const a of this.owed) {
        acks[at] = a >>> 16;
        acks[at + 1] = 2;
        acks[at + 2] = (a >> 8) & 0xff;
        acks[at + 3] = a & 0xff;
        at += 4;
      }
      this.owed = [];
      if (!this.pipe.write(acks)) this.writable = false;
    }
    if (this.run) this.pump();
  }

  /** Writes as many publishes as the window, the run's cap and the pipe allow, in one write (or one corked writev). */
  private pump = (): void => {
    const run = this.run;
    const t = this.template;
    if (!run || !t) return;
    if (run.published >= run.count) {
      if (this.inflight === 0 && this.finished) {
        const f = this.finished;
        this.finished = undefined;
        this.run = undefined;
        f();
      }
      return;
    }
    if (!this.writable) return;
    let n = run.count - run.published;
    if (this.qos > 0) n = Math.min(n, this.window - this.inflight);
    n = Math.min(n, run.cap - (run.published - run.received));
    if (n <= 0) {
      if (!run.hasRoom) run.onRoom(this.pump);
      return;
    }
    const len = t.bytes.length;
    let ok = true;
    if (this.qos === 0 && this.batch0) {
      const per = this.batch0.length / len;
      for (let left = n; left > 0; left -= per) ok = this.pipe.write(this.batch0.subarray(0, Math.min(left, per) * len)) && ok;
    } else if (len < COPY_LIMIT) {
      const out = new Uint8Array(n * len);
      for (let i = 0; i < n; i++) {
        const at = i * len;
        out.set(t.bytes, at);
        const id = this.takeId();
        out[at + t.idOffset] = id >> 8;
        out[at + t.idOffset + 1] = id & 0xff;
      }
      ok = this.pipe.write(out);
    } else {
      this.pipe.cork();
      for (let i = 0; i < n; i++) {
        if (this.qos === 0) {
          ok = this.pipe.write(t.bytes) && ok;
          continue;
        }
        const header = t.bytes.slice(0, t.headerLength);
        const id = this.takeId();
        header[t.idOffset] = id >> 8;
        header[t.idOffset + 1] = id & 0xff;
        ok = this.pipe.write(header) && ok;
        ok = this.pipe.write(this.payload) && ok;
      }
      this.pipe.uncork();
    }
    run.published += n;
    if (this.qos > 0) this.inflight += n;
    if (!ok) this.writable = false;
    if (this.qos === 0 && run.published >= run.count) this.pump();
    else if (this.writable && !run.hasRoom) run.onRoom(this.pump);
  };

  private takeId(): number {
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    return id;
  }
}
