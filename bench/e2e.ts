/**
 * End-to-end throughput through mosquitto on Node, Bun and Deno: runs bench/e2e-core.ts once per runtime (one after
 * the other, each against a fresh broker), then prints each runtime's table and a summary across runtimes.
 * Ratios are computed within one runtime's run only; absolute numbers across runtimes are indicative.
 *
 * Run: npm run bench:e2e. Env: BENCH_RUNTIMES (default "node,bun,deno"), plus everything bench/e2e-core.ts reads
 * (BENCH_ROUNDS, BENCH_SCALE, BENCH_WINDOW, BENCH_CAP_BYTES, BENCH_CONTENDERS, BENCH_QOS).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { startBenchBroker } from "./lib/broker.ts";
import { buildScript } from "./lib/build.ts";
import { TABLE_HEADER, msgs, sizeName, tableRows, type RuntimeResult } from "./lib/e2e-table.ts";
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

async function runOn(name: string): Promise<RuntimeResult | string> {
  const broker = await startBenchBroker();
  try {
    const [cmd, ...args] = commands[name]!;
    const child = spawn(cmd!, args, {
      cwd: root,
      env: { ...process.env, BENCH_PORT: String(broker.port), BENCH_JSON: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    const line = out.split("\n").find((l) => l.startsWith("@@E2E "));
    if (!line) return `${name}: exited with ${code} without results${out ? `: ${out.slice(-500)}` : ""}`;
    return JSON.parse(line.slice(6)) as RuntimeResult;
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
  const names = [...new Set(res.results.map((r) => r.contender))];
  console.log(`\nend-to-end through mosquitto 2.0.11 (publisher and subscriber in one process), ${res.runtime}, median of ${rounds} alternating rounds`);
  console.log("cells: messages received per second, client process CPU per message\n");
  printTable(TABLE_HEADER(names), tableRows(res.results, names));
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
}
process.exit(0);
