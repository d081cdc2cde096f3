/**
 * Round-trip latency through mosquitto at a steady moderate rate: QoS 1, 64-byte payloads carrying a sequence
 * number, publisher and subscriber in one process; the time from the publish() call to the subscriber's message
 * callback. edgemq vs MQTT.js, with the raw client as the floor; alternating, several rounds; the table shows the
 * median over rounds of each round's p50 / p99 / max.
 *
 * Run: npm run bench:latency. Env: BENCH_ROUNDS (5), BENCH_RATE (messages per second, 1000), BENCH_SECONDS (2).
 */
import mqtt from "mqtt";
import { connect } from "../src/index.ts";
import { startBenchBroker } from "./lib/broker.ts";
import { median, printTable } from "./lib/measure.ts";
import { netPipe } from "./lib/pipe.ts";
import { RawClient } from "./lib/raw.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const SIZE = 64;

/** A publisher/subscriber pair that reports each received message's sequence number. */
interface LatencyPair {
  send(seq: number): void;
  close(): Promise<void>;
}
type Opener = (port: number, topic: string, onSeq: (seq: number) => void) => Promise<LatencyPair>;

const seqPayload = (seq: number) => {
  const p = new Uint8Array(SIZE);
  new DataView(p.buffer).setUint32(0, seq);
  return p;
};
const readSeq = (b: Uint8Array, at = 0) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

const openers: Record<string, Opener> = {
  edgemq: async (port, topic, onSeq) => {
    const url = `mqtt://127.0.0.1:${port}`;
    const pub = await connect({ url, reconnect: false, keepalive: 60 });
    const sub = await connect({ url, reconnect: false, keepalive: 60 });
    sub.on("message", (m) => onSeq(readSeq(m.payload)));
    await sub.subscribe(topic, { qos: 1, maxBuffered: 0 });
    return {
      send: (seq) => void pub.publish(topic, seqPayload(seq), { qos: 1 }).catch(() => undefined),
      close: async () => {
        await pub.end();
        await sub.end();
      },
    };
  },
  "MQTT.js": async (port, topic, onSeq) => {
    const open = () =>
      new Promise<mqtt.MqttClient>((resolve, reject) => {
        const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, keepalive: 60 });
        c.once("connect", () => resolve(c));
        c.once("error", reject);
      });
    const pub = await open();
    const sub = await open();
    sub.on("message", (_t, payload) => onSeq(readSeq(payload)));
    await sub.subscribeAsync(topic, { qos: 1 });
    return {
      send: (seq) => void pub.publish(topic, Buffer.from(seqPayload(seq).buffer), { qos: 1 }),
      close: async () => {
        await pub.endAsync();
        await sub.endAsync();
      },
    };
  },
  raw: async (port, topic, onSeq) => {
    const pipe = netPipe("127.0.0.1", port);
    const pub = await RawClient.connect(pipe, `raw-lat-pub-${process.pid}`);
    const sub = await RawClient.connect(pipe, `raw-lat-sub-${process.pid}`);
    sub.onMessage = (first, buf, start) => {
      const topicLength = (buf[start]! << 8) | buf[start + 1]!;
      onSeq(readSeq(buf, start + 2 + topicLength + (first & 0x06 ? 2 : 0)));
    };
    await sub.subscribe(topic, 1);
    return {
      send: (seq) => pub.publishOne(topic, seqPayload(seq), 1),
      close: async () => {
        pub.close();
        sub.close();
      },
    };
  },
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let topics = 0;
async function once(port: number, open: Opener): Promise<{ p50: number; p99: number; max: number; lost: number }> {
  const total = Math.round(RATE * SECONDS);
  const sentAt = new Float64Array(total);
  const rtt: number[] = [];
  let allIn: () => void = () => undefined;
  const finished = new Promise<void>((r) => (allIn = r));
  const pair = await open(port, `bench/latency/${process.pid}/${++topics}`, (seq) => {
    rtt.push(performance.now() - sentAt[seq]!);
    if (rtt.length === total) allIn();
  });
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * RATE) / 1000) + 1);
      while (sent < due) {
        sentAt[sent] = performance.now();
        pair.send(sent++);
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.race([finished, new Promise((r) => setTimeout(r, 5000))]);
  await pair.close();
  const sorted = rtt.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, lost: total - rtt.length };
}

const broker = await startBenchBroker();
const names = Object.keys(openers);
const results = new Map<string, Array<{ p50: number; p99: number; max: number; lost: number }>>();
try {
  for (const n of names) await once(broker.port, openers[n]!); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length]!;
      const list = results.get(n) ?? [];
      list.push(await once(broker.port, openers[n]!));
      results.set(n, list);
    }
  }
} finally {
  await broker.stop();
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
const stat = (n: string, f: "p50" | "p99" | "max") => median(results.get(n)!.map((x) => x[f]));
console.log(`round-trip latency through mosquitto, QoS 1, ${SIZE} B, ${RATE} msg/s for ${SECONDS} s, ${process.version}, median of ${ROUNDS} alternating rounds\n`);
printTable(
  ["client", "p50", "p99", "max", "lost", "p50 vs edgemq", "p99 vs edgemq"],
  names.map((n) => [
    n,
    ms(stat(n, "p50")),
    ms(stat(n, "p99")),
    ms(stat(n, "max")),
    String(results.get(n)!.reduce((a, x) => a + x.lost, 0)),
    `${(stat(n, "p50") / stat("edgemq", "p50")).toFixed(2)}x`,
    `${(stat(n, "p99") / stat("edgemq", "p99")).toFixed(2)}x`,
  ]),
);
process.exit(0);
