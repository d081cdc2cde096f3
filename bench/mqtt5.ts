/**
 * MQTT 5 beside MQTT 3.1.1, and edgemq beside MQTT.js, in the same run (issue #17): end-to-end throughput and client
 * CPU per message through mosquitto 2.0.11 (which speaks both), on Node. Four contenders, each a publisher +
 * subscriber pair in this process (bench/lib/contenders.ts): edgemq 3.1.1, edgemq v5 (`protocolVersion: 5`),
 * MQTT.js 3.1.1 and MQTT.js v5 (`protocolVersion: 5`), all on their defaults otherwise, paced alike
 * (bench/lib/run.ts) and measured alike (bench/lib/throughput.ts). Every round runs every case for every contender,
 * rotating who goes first; the tables give medians and the ratios edgemq v5 / MQTT.js v5 and v5 / 3.1.1 per client.
 * Then the same over the in-memory broker of bench:inmem (bench/lib/membroker.ts, which speaks v5 to a connection whose
 * CONNECT says so): library CPU without the kernel; there the broker's share of CPU is in every number, and it pays
 * for the v5 codec on v5 connections.
 *
 * Topic aliases: mosquitto offers v5 clients 10 (its `max_topic_alias`), and edgemq v5 uses them by default (after the
 * first PUBLISH the topic goes as a 3-byte alias); MQTT.js assigns none unless asked (`autoAssignTopicAlias`). The
 * default run measures both clients as they come; BENCH_TOPIC_ALIAS=0 makes mosquitto offer none (same wire for
 * both), BENCH_TOPIC_ALIAS=mqttjs turns on MQTT.js's `autoAssignTopicAlias` as well.
 *
 * Run: npm run bench:mqtt5. Env: BENCH_ROUNDS (default 5), BENCH_SCALE (message count multiplier, default 1),
 * BENCH_WINDOW (unfinished publishes per publisher, default 128), BENCH_CAP_BYTES (bytes in flight end to end,
 * default 1 MiB), BENCH_QOS (comma list, default 0,1,2), BENCH_TOPIC_ALIAS (see above), BENCH_CONTENDERS (comma list
 * of the four names, default all), BENCH_TARGETS ("mosquitto", "memory", default both), BENCH_PORT (a broker
 * already running on 127.0.0.1 instead of a fresh mosquitto).
 */
import process from "node:process";
import { startBenchBroker } from "./lib/broker.ts";
import { edgemqAt, loadMqttJs, mqttjsAt, type Contender, type Target } from "./lib/contenders.ts";
import { MemBroker } from "./lib/membroker.ts";
import { msgs, sizeName, summarize, type CaseResult } from "./lib/e2e-table.ts";
import { printTable } from "./lib/measure.ts";
import { measureOnce, type Case, type Pacing, type Sample } from "./lib/throughput.ts";

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const SCALE = Number(env.BENCH_SCALE ?? 1);
const pacing: Pacing = { window: Number(env.BENCH_WINDOW ?? 128), capBytes: Number(env.BENCH_CAP_BYTES ?? 1 << 20), stallMs: 5000 };
const ALIAS = env.BENCH_TOPIC_ALIAS ?? "default"; // "default" | "0" | "mqttjs"

const base: Array<[Case["qos"], number, number]> = [
  [0, 64, 24_000],
  [1, 64, 12_000],
  [2, 64, 6_000],
  [1, 1024, 8_000],
  [2, 1024, 5_000],
];
const qosFilter = env.BENCH_QOS ? env.BENCH_QOS.split(",").map(Number) : [0, 1, 2];
const CASES: Case[] = base
  .filter(([qos]) => qosFilter.includes(qos))
  .map(([qos, size, count]) => ({ qos, size, count: Math.max(100, Math.round(count * SCALE)) }));

/** In memory the runs are short (edgemq moves several 100 k/s there), so twice the messages: a GC or a JIT pause in
 * a run of a few 10 ms weighs too much. */
const MEM_CASES: Case[] = CASES.map((c) => ({ ...c, count: c.count * 2 }));

const EM4 = "edgemq 3.1.1";
const EM5 = "edgemq v5";
const MJ4 = "MQTT.js 3.1.1";
const MJ5 = "MQTT.js v5";
const all: Contender[] = [
  edgemqAt(EM4, 4),
  edgemqAt(EM5, 5),
  mqttjsAt(MJ4, 4),
  mqttjsAt(MJ5, 5, ALIAS === "mqttjs" ? { autoAssignTopicAlias: true } : {}),
];
/** BENCH_CONTENDERS: a comma list of names (e.g. "edgemq v5,MQTT.js v5", for profiling one); default all four. */
const wanted = env.BENCH_CONTENDERS?.split(",").map((n) => n.trim());
const contenders = wanted ? all.filter((c) => wanted.includes(c.name)) : all;
if (contenders.length === 0) throw new Error(`BENCH_CONTENDERS matches none of: ${all.map((c) => c.name).join(", ")}`);

/** Every case for every contender against `target`, alternating, ROUNDS rounds after a warm-up; the medians. */
async function runAll(target: Target, label: string, cases: Case[]): Promise<CaseResult[]> {
  const samples = new Map<string, Sample[]>();
  const key = (c: Case, name: string) => `${c.qos}/${c.size}/${name}`;
  // Warm-up: every case once per contender at a quarter of the count (JIT, the lazily loaded v5 part, socket buffers).
  for (const c of cases) for (const k of contenders) await measureOnce(k, target, { ...c, count: Math.max(100, Math.round(c.count / 4)) }, pacing);
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      for (let i = 0; i < contenders.length; i++) {
        const k = contenders[(i + r) % contenders.length]!; // rotate who goes first
        const s = await measureOnce(k, target, c, pacing);
        if (target.kind === "mem" && s.lost > 0) throw new Error(`${k.name}: ${s.lost} messages not received in memory${s.error ? ` (publish failed: ${s.error})` : ""}`);
        const list = samples.get(key(c, k.name)) ?? [];
        list.push(s);
        samples.set(key(c, k.name), list);
      }
    }
    console.error(`mqtt5 ${label} round ${r + 1}/${ROUNDS} done`);
  }
  const results: CaseResult[] = [];
  for (const c of cases) for (const k of contenders) results.push(summarize(c.qos, c.size, k.name, samples.get(key(c, k.name)) ?? []));
  return results;
}

/** BENCH_TARGETS: "mosquitto", "memory" or both (default), in that order. */
const targets = (env.BENCH_TARGETS ?? "mosquitto,memory").split(",").map((t) => t.trim());

async function main(): Promise<void> {
  await loadMqttJs();
  if (targets.includes("mosquitto")) {
    const port = env.BENCH_PORT ? Number(env.BENCH_PORT) : undefined;
    const broker = port ? undefined : await startBenchBroker(ALIAS === "0" ? ["max_topic_alias 0"] : []);
    try {
      const results = await runAll({ kind: "tcp", host: "127.0.0.1", port: port ?? broker!.port }, "mosquitto", CASES);
      const aliasNote =
        ALIAS === "0"
          ? "mosquitto max_topic_alias 0: no topic aliases for either client"
          : ALIAS === "mqttjs"
            ? "topic aliases: edgemq v5 by default, MQTT.js v5 with autoAssignTopicAlias (mosquitto offers 10)"
            : "topic aliases as each client defaults: edgemq v5 uses mosquitto's 10, MQTT.js v5 none";
      console.log(`MQTT 5 and 3.1.1 end to end through mosquitto 2.0.11 (publisher and subscriber in one process), node ${process.versions.node}, median of ${ROUNDS} alternating rounds`);
      console.log(`window ${pacing.window}, ${aliasNote}`);
      console.log("cells: messages received per second, client process CPU per message (publisher + subscriber + the kernel's share)\n");
      print(results);
    } finally {
      await broker?.stop();
    }
  }
  if (targets.includes("memory")) {
    const results = await runAll({ kind: "mem", broker: new MemBroker() }, "in-memory", MEM_CASES);
    if (targets.includes("mosquitto")) console.log("");
    console.log(`MQTT 5 and 3.1.1 over the in-memory broker of bench:inmem (no kernel), node ${process.versions.node}, median of ${ROUNDS} alternating rounds`);
    console.log(`window ${pacing.window}, no topic aliases (the broker offers none); one thread: CPU per message includes the broker, which`);
    console.log("decodes and encodes v5 for v5 connections, so the v5 / 3.1.1 CPU ratios include the broker's own v5 cost\n");
    print(results);
  }
}

function print(results: CaseResult[]): void {
  const cases = [...new Set(results.map((r) => `${r.qos}/${r.size}`))].map((k) => k.split("/").map(Number) as [number, number]);
  const of = (qos: number, size: number, name: string) => results.find((r) => r.qos === qos && r.size === size && r.contender === name);
  const names = [EM4, EM5, MJ4, MJ5];
  printTable(
    ["QoS", "payload", ...names.map((n) => `${n} msg/s, CPU/msg`)],
    cases.map(([qos, size]) => [`QoS ${qos}`, sizeName(size), ...names.map((n) => cell(of(qos, size, n)))]),
  );
  console.log("\nratios within this run: rate (msg/s) a/b, CPU per message a/b (rate above 1x and CPU below 1x favour a)\n");
  const pairs: Array<[string, string, string]> = [
    [EM5, MJ5, "edgemq v5 / MQTT.js v5"],
    [EM5, EM4, "edgemq v5 / edgemq 3.1.1"],
    [MJ5, MJ4, "MQTT.js v5 / MQTT.js 3.1.1"],
    [EM4, MJ4, "edgemq 3.1.1 / MQTT.js 3.1.1"],
  ];
  printTable(
    ["QoS", "payload", ...pairs.flatMap(([, , label]) => [`rate ${label}`, `CPU ${label}`])],
    cases.map(([qos, size]) => [
      `QoS ${qos}`,
      sizeName(size),
      ...pairs.flatMap(([a, b]) => {
        const x = of(qos, size, a);
        const y = of(qos, size, b);
        return [ratio(x?.rate, y?.rate), ratio(x?.cpuUs, y?.cpuUs)];
      }),
    ]),
  );
}

/** "123.4 k/s 5.6 µs", with what went wrong in brackets (totals over the recorded runs). */
function cell(r: CaseResult | undefined): string {
  if (!r) return "n/a";
  const notes: string[] = [];
  if (r.lost) notes.push(`${r.lost} not received${r.errors.length ? `: ${r.errors.join(", ")}` : ""}`);
  if (r.consoleTotal) notes.push(`${r.consoleTotal} console lines in ${r.rounds} runs`);
  return `${msgs(r.rate)} ${r.cpuUs.toFixed(1)} µs${notes.length ? ` (${notes.join("; ")})` : ""}`;
}

const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : "n/a");

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
