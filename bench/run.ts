/**
 * Runs every benchmark one after the other (never two at once: the machine has 2 cores), each in its own process
 * as a JavaScript bundle (bench/lib/build.ts explains why not through tsx), printing its tables; then a summary of what ran. The whole output is also written to .tmp/bench-last-run.txt.
 *
 * Run: npm run bench. Env: BENCH_ONLY (comma list, e.g. "codec,size"), plus each benchmark's own variables.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildScript } from "./lib/build.ts";
import { formatTable } from "./lib/measure.ts";
import { root } from "./lib/root.ts";

const all = ["codec", "size", "startup", "inmem", "clea", "latency", "memory", "e2e", "mqtt5"];
const only = process.env.BENCH_ONLY?.split(",");
const names = only ? all.filter((n) => only.includes(n)) : all;

const logFile = path.join(root, ".tmp", "bench-last-run.txt");
fs.mkdirSync(path.dirname(logFile), { recursive: true });
const log = fs.createWriteStream(logFile);
const out = (s: string) => {
  process.stdout.write(s);
  log.write(s);
};

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
out(`edgemq benchmarks, ${new Date().toISOString()}, ${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}\n`);

const summary: string[][] = [];
for (const name of names) {
  out(`\n===== bench:${name} =====\n`);
  const t0 = performance.now();
  const child = spawn(process.execPath, [await buildScript(`bench/${name}.ts`)], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d: Uint8Array) => out(new TextDecoder().decode(d)));
  child.stderr.on("data", (d: Uint8Array) => process.stderr.write(d)); // progress lines: shown, not logged
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  summary.push([name, code === 0 ? "ok" : `FAILED (exit ${code})`, `${((performance.now() - t0) / 1000).toFixed(0)} s`]);
}
out("\n===== summary =====\n");
out(formatTable(["benchmark", "result", "time"], summary) + "\n");
out(`(written to ${path.relative(root, logFile)})\n`);
log.end();
process.exit(summary.every((s) => s[1] === "ok") ? 0 : 1);
