/**
 * Library overhead without the kernel: the end-to-end publish/receive loop over an in-memory broker (bench/lib/
 * membroker.ts) instead of TCP. edgemq plugs in through its `transport` option, MQTT.js through a streamBuilder
 * returning a node:stream Duplex, the raw client through a pipe; all three talk to the same broker logic.
 * Everything runs on one thread, so process CPU per message = publisher + subscriber + the shared broker; the
 * "above raw" columns subtract the raw client's cost (the broker and the least a client must do), leaving what
 * each library adds.
 *
 * Run: npm run bench:inmem. Env: BENCH_ROUNDS (default 5), BENCH_SCALE (count multiplier), BENCH_WINDOW (128).
 */
import { CONTENDERS, type Target } from "./lib/contenders.ts";
import { sizeName } from "./lib/e2e-table.ts";
import { MemBroker } from "./lib/membroker.ts";
import { median, printTable, rate } from "./lib/measure.ts";
import { measureOnce, type Case, type Pacing } from "./lib/throughput.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const pacing: Pacing = { window: Number(process.env.BENCH_WINDOW ?? 128), capBytes: 1 << 20, stallMs: 5000 };
const CASES: Case[] = (
  [
    [0, 64, 100_000],
    [1, 64, 50_000],
    [2, 64, 30_000],
    [1, 1024, 50_000],
    [1, 65_536, 2_000],
  ] as const
).map(([qos, size, count]) => ({ qos, size, count: Math.max(100, Math.round(count * SCALE)) }));

const target: Target = { kind: "mem", broker: new MemBroker() };
const samples = new Map<string, Array<{ rate: number; cpuUs: number }>>();
const key = (c: Case, name: string) => `${c.qos}/${c.size}/${name}`;

for (const c of CASES) for (const k of CONTENDERS) await measureOnce(k, target, { ...c, count: Math.max(100, Math.round(c.count / 5)) }, pacing);
for (let r = 0; r < ROUNDS; r++) {
  for (const c of CASES) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const k = CONTENDERS[(i + r) % CONTENDERS.length]!;
      const s = await measureOnce(k, target, c, pacing);
      if (s.lost > 0) throw new Error(`${k.name}: ${s.lost} messages not received in memory${s.error ? ` (publish failed: ${s.error})` : ""}`);
      const list = samples.get(key(c, k.name)) ?? [];
      list.push(s);
      samples.set(key(c, k.name), list);
    }
  }
}

const med = (c: Case, name: string, f: "rate" | "cpuUs") => median((samples.get(key(c, name)) ?? []).map((s) => s[f]));
const rows = CASES.map((c) => {
  const e = med(c, "edgemq", "cpuUs");
  const m = med(c, "MQTT.js", "cpuUs");
  const w = med(c, "raw", "cpuUs");
  return [
    `QoS ${c.qos}`,
    sizeName(c.size),
    `${e.toFixed(2)} µs`,
    `${m.toFixed(2)} µs`,
    `${w.toFixed(2)} µs`,
    `${(e / m).toFixed(2)}x`,
    `${(e / w).toFixed(2)}x`,
    `${(e - w).toFixed(2)} µs`,
    `${(m - w).toFixed(2)} µs`,
    `${((e - w) / (m - w)).toFixed(2)}x`,
    `${rate(med(c, "edgemq", "rate"))} / ${rate(med(c, "MQTT.js", "rate"))} / ${rate(med(c, "raw", "rate"))}`,
  ];
});
console.log(`in-memory broker, CPU per message (publisher + subscriber + broker, one thread), ${process.version}, median of ${ROUNDS} alternating rounds\n`);
printTable(
  [
    "QoS",
    "payload",
    "edgemq",
    "MQTT.js",
    "raw",
    "edgemq/MQTT.js",
    "edgemq/raw",
    "edgemq above raw",
    "MQTT.js above raw",
    "above-raw ratio",
    "msg/s edgemq / MQTT.js / raw",
  ],
  rows,
);
process.exit(0);
