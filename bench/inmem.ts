/**
 * Library overhead without the kernel: the end-to-end publish/receive loop over an in-memory broker (bench/lib/
 * membroker.ts) instead of TCP. edgemq plugs in through its `transport` option, MQTT.js through a streamBuilder
 * returning a node:stream Duplex, the raw client through a pipe; all three talk to the same broker logic.
 * Everything runs on one thread, so process CPU per message = publisher + subscriber + the shared broker; the
 * "above raw" columns subtract the raw client's cost (the broker and the least a client must do), leaving what
 * each library adds.
 * A second table shows edgemq received the way MQTT.js users write it (contender "edgemq-unread":
 * client.on("message") + the Subscription from subscribe() never iterated) against MQTT.js from the same rounds,
 * with what it printed (console lines, counted, not written), what its Subscription dropped and the memory it held.
 * That contender is allowed to misbehave: its lost messages and errors are reported in its table, not fatal.
 *
 * Run: npm run bench:inmem. Env: BENCH_ROUNDS (default 5), BENCH_SCALE (count multiplier), BENCH_WINDOW (128),
 * BENCH_CONTENDERS (comma list of edgemq, MQTT.js, raw, edgemq-unread; default all).
 */
import { selectContenders, type Contender, type Target } from "./lib/contenders.ts";
import { UNREAD, UNREAD_TITLE, bytes, sizeName, summarize, unreadSamples, type CaseResult } from "./lib/e2e-table.ts";
import { MemBroker } from "./lib/membroker.ts";
import { median, printTable, rate } from "./lib/measure.ts";
import { measureOnce, type Case, type Pacing, type Sample } from "./lib/throughput.ts";

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
const samples = new Map<string, Sample[]>();
const key = (c: Case, name: string) => `${c.qos}/${c.size}/${name}`;

const contenders: Contender[] = selectContenders(process.env.BENCH_CONTENDERS);
/** Contenders whose runs threw, with the error: reported, and not run again. */
const failed = new Map<string, string>();
const tolerant = (k: Contender) => k.name === UNREAD;

/** One run; a throw or a loss by a tolerant contender is recorded instead of ending the benchmark. */
async function runOnce(k: Contender, c: Case): Promise<Sample | undefined> {
  if (failed.has(k.name)) return undefined;
  try {
    return await measureOnce(k, target, c, pacing);
  } catch (err) {
    if (!tolerant(k)) throw err;
    failed.set(k.name, `QoS ${c.qos} ${sizeName(c.size)}: ${(err as Error).message ?? String(err)}`);
    return undefined;
  }
}

for (const c of CASES) for (const k of contenders) await runOnce(k, { ...c, count: Math.max(100, Math.round(c.count / 5)) });
for (let r = 0; r < ROUNDS; r++) {
  for (const c of CASES) {
    for (let i = 0; i < contenders.length; i++) {
      const k = contenders[(i + r) % contenders.length]!;
      const s = await runOnce(k, c);
      if (!s) continue;
      if (s.lost > 0 && !tolerant(k)) throw new Error(`${k.name}: ${s.lost} messages not received in memory${s.error ? ` (publish failed: ${s.error})` : ""}`);
      const list = samples.get(key(c, k.name)) ?? [];
      list.push(s);
      samples.set(key(c, k.name), list);
    }
  }
  console.error(`inmem round ${r + 1}/${ROUNDS} done`);
}

const med = (c: Case, name: string, f: "rate" | "cpuUs") => median((samples.get(key(c, name)) ?? []).map((s) => s[f]));
const us = (v: number) => (Number.isNaN(v) ? "n/a" : `${v.toFixed(2)} µs`);
const times = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : "n/a");
const msgRate = (v: number) => (Number.isNaN(v) ? "n/a" : rate(v));
const rows = CASES.map((c) => {
  const e = med(c, "edgemq", "cpuUs");
  const m = med(c, "MQTT.js", "cpuUs");
  const w = med(c, "raw", "cpuUs");
  return [
    `QoS ${c.qos}`,
    sizeName(c.size),
    us(e),
    us(m),
    us(w),
    times(e / m),
    times(e / w),
    us(e - w),
    us(m - w),
    times((e - w) / (m - w)),
    `${msgRate(med(c, "edgemq", "rate"))} / ${msgRate(med(c, "MQTT.js", "rate"))} / ${msgRate(med(c, "raw", "rate"))}`,
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

if (contenders.some(tolerant)) {
  const results: CaseResult[] = [];
  const unread = CASES.map((c) => {
    const list = samples.get(key(c, UNREAD)) ?? [];
    const r = list.length > 0 ? summarize(c.qos, c.size, UNREAD, list) : undefined;
    if (r) results.push(r);
    const u = med(c, UNREAD, "cpuUs");
    const m = med(c, "MQTT.js", "cpuUs");
    const e = med(c, "edgemq", "cpuUs");
    const w = med(c, "raw", "cpuUs");
    const lost = r?.lost ? `${r.lost}${r.errors.length ? ` (${r.errors.join(", ")})` : ""}` : r ? "0" : "n/a";
    return [
      `QoS ${c.qos}`,
      sizeName(c.size),
      us(u),
      us(m),
      us(e),
      times(u / m),
      times(u / e),
      times((u - w) / (m - w)),
      `${msgRate(med(c, UNREAD, "rate"))} / ${msgRate(med(c, "MQTT.js", "rate"))} / ${msgRate(med(c, "edgemq", "rate"))}`,
      r?.consoleLines !== undefined ? String(r.consoleLines) : "n/a",
      r?.dropped !== undefined ? String(r.dropped) : "n/a",
      bytes(r?.retained),
      lost,
    ];
  });
  console.log(`\n${UNREAD_TITLE}, in memory (CPU per message as above), ${process.version}`);
  console.log("last columns: medians per run of console lines printed (counted, not written), messages the Subscription dropped, heap + external");
  console.log("memory the pair held when the last message arrived (released by close; n/a: no GC to force), and messages not received in all rounds\n");
  printTable(
    [
      "QoS",
      "payload",
      UNREAD,
      "MQTT.js",
      "edgemq",
      "unread/MQTT.js",
      "unread/edgemq",
      "above-raw unread/MQTT.js",
      `msg/s ${UNREAD} / MQTT.js / edgemq`,
      "console lines/run",
      "dropped/run",
      "held at end of run",
      "not received",
    ],
    unread,
  );
  for (const line of unreadSamples(results)) console.log(`console line seen: ${line}`);
  for (const [name, why] of failed) console.log(`${name} stopped after an error: ${why}`);
}
process.exit(0);
