/**
 * The runtime-neutral core of the end-to-end benchmark: runs under Node (tsx), Bun and Deno (`deno run -A`).
 * For every case (QoS 0/1/2 x 64 B / 1 KB / 64 KB) it runs every contender (edgemq, MQTT.js, raw, and
 * edgemq-unread: edgemq received through client.on("message") with the Subscription never iterated) in
 * alternating order for several rounds against the broker at BENCH_PORT (or a mosquitto it starts itself),
 * and prints the medians: as tables, and as one JSON line after "@@E2E " for bench/e2e.ts to collect.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_SCALE (message count multiplier, default 1), BENCH_WINDOW (unfinished
 * publishes per publisher, default 128), BENCH_CAP_BYTES (end-to-end bytes in flight, default 1 MiB),
 * BENCH_PORT (an already running broker on 127.0.0.1), BENCH_CONTENDERS (comma list of edgemq, MQTT.js, raw,
 * edgemq-unread; default all), BENCH_QOS (comma list).
 */
import process from "node:process";
import { startBenchBroker } from "./lib/broker.ts";
import { loadMqttJs, selectContenders, type Contender, type Target } from "./lib/contenders.ts";
import {
  TABLE_HEADER,
  UNREAD_HEADER,
  UNREAD_TITLE,
  mainContenders,
  summarize,
  tableRows,
  unreadRows,
  unreadSamples,
  type CaseResult,
  type RuntimeResult,
} from "./lib/e2e-table.ts";
import { printTable } from "./lib/measure.ts";
import { measureOnce, type Case, type Pacing, type Sample } from "./lib/throughput.ts";

type G = { Deno?: { version: { deno: string } }; Bun?: { version: string } };
const g = globalThis as unknown as G;
const runtime = g.Deno ? `deno ${g.Deno.version.deno}` : g.Bun ? `bun ${g.Bun.version}` : `node ${process.versions.node}`;

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const SCALE = Number(env.BENCH_SCALE ?? 1);
const pacing: Pacing = { window: Number(env.BENCH_WINDOW ?? 128), capBytes: Number(env.BENCH_CAP_BYTES ?? 1 << 20), stallMs: 5000 };

const base: Array<[Case["qos"], number, number]> = [
  [0, 64, 40_000],
  [1, 64, 20_000],
  [2, 64, 10_000],
  [0, 1024, 30_000],
  [1, 1024, 15_000],
  [2, 1024, 8_000],
  [0, 65_536, 2_000],
  [1, 65_536, 1_500],
  [2, 65_536, 1_000],
];
const qosFilter = env.BENCH_QOS ? env.BENCH_QOS.split(",").map(Number) : [0, 1, 2];
const CASES: Case[] = base
  .filter(([qos]) => qosFilter.includes(qos))
  .map(([qos, size, count]) => ({ qos, size, count: Math.max(100, Math.round(count * SCALE)) }));


/** Runs every case for every contender that loads here; logs progress to stderr. */
async function runE2E(target: Target): Promise<RuntimeResult> {
  const contenders: Contender[] = selectContenders(env.BENCH_CONTENDERS);
  const skipped: string[] = [];
  // A contender that cannot even load or connect on this runtime is reported, not fatal.
  const usable: Contender[] = [];
  for (const c of contenders) {
    try {
      if (c.name === "MQTT.js") await loadMqttJs();
      await measureOnce(c, target, { qos: 1, size: 64, count: 200 }, pacing);
      usable.push(c);
    } catch (err) {
      skipped.push(`${c.name}: ${(err as Error).message}`);
      console.error(`[${runtime}] skipping ${c.name}: ${(err as Error).message}`);
    }
  }
  const samples = new Map<string, Sample[]>();
  const key = (c: Case, name: string) => `${c.qos}/${c.size}/${name}`;
  // Warm-up: every case once per contender at a quarter of the count (JIT, socket buffers), not recorded.
  for (const c of CASES) for (const k of usable) await measureOnce(k, target, { ...c, count: Math.max(100, Math.round(c.count / 4)) }, pacing);
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of CASES) {
      for (let i = 0; i < usable.length; i++) {
        const k = usable[(i + r) % usable.length]!; // rotate who goes first
        const s = await measureOnce(k, target, c, pacing);
        const list = samples.get(key(c, k.name)) ?? [];
        list.push(s);
        samples.set(key(c, k.name), list);
      }
    }
    console.error(`[${runtime}] e2e round ${r + 1}/${ROUNDS} done`);
  }
  const results: CaseResult[] = [];
  for (const c of CASES) {
    for (const k of usable) {
      results.push(summarize(c.qos, c.size, k.name, samples.get(key(c, k.name)) ?? []));
    }
  }
  return { runtime, results, skipped };
}

async function main(): Promise<void> {
  const port = env.BENCH_PORT ? Number(env.BENCH_PORT) : undefined;
  const broker = port ? undefined : await startBenchBroker();
  const target: Target = { kind: "tcp", host: "127.0.0.1", port: port ?? broker!.port };
  try {
    const out = await runE2E(target);
    if (env.BENCH_JSON) console.log(`@@E2E ${JSON.stringify(out)}`);
    else {
      const names = mainContenders(out.results);
      console.log(`\nend-to-end through mosquitto, ${out.runtime}, median of ${ROUNDS} alternating rounds\n`);
      if (names.length > 0) printTable(TABLE_HEADER(names), tableRows(out.results, names));
      const unread = unreadRows(out.results);
      if (unread) {
        console.log(`\n${UNREAD_TITLE}\n`);
        printTable(UNREAD_HEADER, unread);
        for (const line of unreadSamples(out.results)) console.log(`console line seen: ${line}`);
      }
      for (const s of out.skipped) console.log(`skipped ${s}`);
    }
  } finally {
    await broker?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
