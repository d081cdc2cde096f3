/**
 * End-to-end throughput through mosquitto on Node, Bun and Deno: runs bench/e2e-core.ts once per runtime (one after
 * the other, each against a fresh broker), then prints each runtime's table and a summary across runtimes.
 * Ratios are computed within one runtime's run only; absolute numbers across runtimes are indicative.
 * The core's output is read line by line: only its "@@E2E " line is kept, and anything else it prints beyond a few
 * lines (a contender flooding stdout or stderr) is counted and summarized instead of kept or passed through.
 *
 * Run: npm run bench:e2e. Env: BENCH_RUNTIMES (default "node,bun,deno"), plus everything bench/e2e-core.ts reads
 * (BENCH_ROUNDS, BENCH_SCALE, BENCH_WINDOW, BENCH_CAP_BYTES, BENCH_CONTENDERS, BENCH_QOS).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { startBenchBroker } from "./lib/broker.ts";
import { buildScript } from "./lib/build.ts";
import {
  TABLE_HEADER,
  UNREAD,
  UNREAD_HEADER,
  UNREAD_TITLE,
  mainContenders,
  msgs,
  sizeName,
  tableRows,
  unreadRows,
  unreadSamples,
  type RuntimeResult,
} from "./lib/e2e-table.ts";
import { printTable } from "./lib/measure.ts";
import { root } from "./lib/root.ts";

const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
const core = path.join(root, "bench", "e2e-core.ts");

// Node runs a JavaScript bundle of the core (see bench/lib/build.ts); Bun and Deno run the TypeScript directly
// (their transpilers add no name-keeping wrappers).
const commands: Record<string, string[]> = {
  node: [process.execPath, await buildScript("bench/e2e-core.ts")],
  bun: [bin("bun"), core],
  deno: [bin("deno"), "run", "-A", core],
};

/** Lines a child may print (besides "@@E2E " and "[runtime] ..." progress) before the rest is only counted. */
const PASS_LINES = 20;
/** A line longer than this (without a line break) is cut: only the "@@E2E " line is ever long. */
const MAX_LINE = 64 << 20;

/**
 * Reads a child's stream line by line: hands each line to `line`, never holds more than one line. The last few
 * lines are kept for an error message.
 */
function lines(stream: NodeJS.ReadableStream, line: (l: string) => void): { tail: string[] } {
  const decoder = new TextDecoder();
  const state = { tail: [] as string[] };
  let partial = "";
  const take = (l: string) => {
    line(l);
    state.tail.push(l.slice(0, 500));
    if (state.tail.length > 5) state.tail.shift();
  };
  stream.on("data", (d: Uint8Array) => {
    partial += decoder.decode(d, { stream: true });
    let at = partial.indexOf("\n");
    while (at >= 0) {
      take(partial.slice(0, at));
      partial = partial.slice(at + 1);
      at = partial.indexOf("\n");
    }
    if (partial.length > MAX_LINE) {
      take(partial.slice(0, 1000));
      partial = "";
    }
  });
  stream.on("end", () => {
    if (partial) take(partial);
    partial = "";
  });
  return state;
}

async function runOn(name: string): Promise<RuntimeResult | string> {
  const broker = await startBenchBroker();
  try {
    const [cmd, ...args] = commands[name]!;
    const child = spawn(cmd!, args, {
      cwd: root,
      env: { ...process.env, BENCH_PORT: String(broker.port), BENCH_JSON: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let result: string | undefined;
    let extra = 0;
    const out = lines(child.stdout, (l) => {
      if (l.startsWith("@@E2E ")) result = l;
      else if (++extra <= PASS_LINES) console.log(`[${name} stdout] ${l}`);
    });
    let extraErr = 0;
    lines(child.stderr, (l) => {
      if (l.startsWith("[") || ++extraErr <= PASS_LINES) process.stderr.write(`${l}\n`); // progress lines always
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    if (extra > PASS_LINES) console.log(`e2e on ${name}: ${extra - PASS_LINES} more stdout lines of the benchmark process not shown`);
    if (extraErr > PASS_LINES) console.log(`e2e on ${name}: ${extraErr - PASS_LINES} more stderr lines of the benchmark process not shown`);
    if (!result) return `${name}: exited with ${code} without results${out.tail.length ? `: ${out.tail.join("\n")}` : ""}`;
    return JSON.parse(result.slice(6)) as RuntimeResult;
  } finally {
    await broker.stop();
  }
}

const runtimes = (process.env.BENCH_RUNTIMES ?? "node,bun,deno").split(",").filter((r) => r in commands);
const done: RuntimeResult[] = [];
for (const r of runtimes) {
  const res = await runOn(r);
  if (typeof res === "string") console.log(`e2e on ${r} failed: ${res}`);
  else done.push(res);
}

const rounds = process.env.BENCH_ROUNDS ?? "5";
for (const res of done) {
  const names = mainContenders(res.results);
  console.log(`\nend-to-end through mosquitto 2.0.11 (publisher and subscriber in one process), ${res.runtime}, median of ${rounds} alternating rounds`);
  console.log("cells: messages received per second, client process CPU per message\n");
  if (names.length > 0) printTable(TABLE_HEADER(names), tableRows(res.results, names));
  const unread = unreadRows(res.results);
  if (unread) {
    console.log(`\n${UNREAD_TITLE}, ${res.runtime}`);
    console.log("last columns: medians per run of console lines printed (counted, not written), messages the Subscription dropped,");
    console.log("and heap + external memory the pair held when the last message arrived (released by close; n/a: no GC to force)\n");
    printTable(UNREAD_HEADER, unread);
    for (const line of unreadSamples(res.results)) console.log(`console line seen: ${line}`);
  }
  for (const s of res.skipped) console.log(`skipped ${s}`);
}

if (done.length > 1) {
  console.log("\nedgemq across runtimes (msg/s, and edgemq / raw and edgemq / MQTT.js rate ratios within each runtime's run)\n");
  const header = ["QoS", "payload", ...done.map((d) => d.runtime)];
  const first = done[0]!;
  const rows: string[][] = [];
  for (const c of first.results.filter((r) => r.contender === "edgemq")) {
    const cells = done.map((d) => {
      const of = (n: string) => d.results.find((r) => r.qos === c.qos && r.size === c.size && r.contender === n);
      const e = of("edgemq");
      const w = of("raw");
      const m = of("MQTT.js");
      if (!e) return "n/a";
      const vsRaw = w ? `${(e.rate / w.rate).toFixed(2)}x raw` : "";
      const vsMqtt = m ? `${(e.rate / m.rate).toFixed(2)}x MQTT.js` : "no MQTT.js";
      return `${msgs(e.rate)} (${vsRaw}, ${vsMqtt})`;
    });
    rows.push([`QoS ${c.qos}`, sizeName(c.size), ...cells]);
  }
  printTable(header, rows);
  if (first.results.some((r) => r.contender === UNREAD)) {
    console.log(`\n${UNREAD} across runtimes (msg/s, and ${UNREAD} / MQTT.js rate and CPU ratios within each runtime's run)\n`);
    const unreadRowsAcross: string[][] = [];
    for (const c of first.results.filter((r) => r.contender === UNREAD)) {
      const cells = done.map((d) => {
        const of = (n: string) => d.results.find((r) => r.qos === c.qos && r.size === c.size && r.contender === n);
        const u = of(UNREAD);
        const m = of("MQTT.js");
        if (!u) return "n/a";
        return m ? `${msgs(u.rate)} (${(u.rate / m.rate).toFixed(2)}x rate, ${(u.cpuUs / m.cpuUs).toFixed(2)}x CPU)` : `${msgs(u.rate)} (no MQTT.js)`;
      });
      unreadRowsAcross.push([`QoS ${c.qos}`, sizeName(c.size), ...cells]);
    }
    printTable(header, unreadRowsAcross);
  }
}
process.exit(0);
