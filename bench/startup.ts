/**
 * Import cost: fresh processes, alternating, median of BENCH_RUNS (default 20) each:
 *   bare     the runtime evaluating a module that imports nothing
 *   empty module  `import()` of an empty ES module file next to the bundle: what loading any module file costs
 *            the runtime (on Node 20 the ESM loader's file path: resolve, read, format, ~3-5 ms), which edgemq pays
 *            too; an application has paid it for its own entry module before it imports edgemq
 *   edgemq   `import()` of the built core: an ESM bundle made like dist/index.js (tsup's settings: esbuild bundle,
 *            ES2022, platform neutral, node:* external, not minified), written to .tmp/bench/ so this benchmark does
 *            not race a concurrent `npm run build` (BENCH_USE_DIST=1 imports dist/index.js instead)
 *   MQTT.js  `import("mqtt")`
 * Reported: wall time of the whole process (spawn to exit) and its difference to bare, the import() time measured
 * inside the process, and RSS / heap right after the import. On Node, plus Bun and Deno where they run it.
 * The probe itself touches no node: module on Deno (see probe()), so "bare" is the runtime alone there too.
 * After each table: edgemq over the empty module, i.e. what edgemq's own code costs beyond loading a file.
 *
 * Run: npm run bench:startup
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { root } from "./lib/root.ts";
import { median, printTable } from "./lib/measure.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

const benchDir = path.join(root, ".tmp", "bench", "edgemq-dist");

async function coreModule(): Promise<string> {
  if (process.env.BENCH_USE_DIST) return path.join(root, "dist", "index.js");
  const out = path.join(benchDir, "index.js");
  await build({
    entryPoints: [path.join(root, "src", "index.ts")],
    outfile: out,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    external: ["node:*"],
    treeShaking: true,
    logLevel: "silent",
  });
  return out;
}

const core = pathToFileURL(await coreModule()).href;
// Under the repository root like the bundle, so the same package.json ("type": "module") applies to both.
const emptyFile = path.join(benchDir, "empty.js");
fs.mkdirSync(benchDir, { recursive: true });
fs.writeFileSync(emptyFile, "export {};\n");
const subjects: Record<string, string | undefined> = {
  bare: undefined,
  "empty module": pathToFileURL(emptyFile).href,
  edgemq: core,
  "MQTT.js": "mqtt",
};

const probe = (spec: string | undefined) =>
  [
    "const t0 = performance.now();",
    spec ? `await import(${JSON.stringify(spec)});` : "",
    "const t1 = performance.now();",
    // Deno.memoryUsage() on Deno: touching the `process` global there initialises Deno's Node compatibility layer
    // (~20-25 ms), which made "bare" pay what only a module using node: built-ins should.
    "const m = globalThis.Deno ? Deno.memoryUsage() : process.memoryUsage();",
    "console.log(JSON.stringify({ importMs: t1 - t0, rss: m.rss, heapUsed: m.heapUsed }));",
  ].join("\n");

const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
const runtimes: Record<string, (script: string) => [string, string[]]> = {
  node: (s) => [process.execPath, ["--input-type=module", "-e", s]],
  bun: (s) => [bin("bun"), ["-e", s]],
  deno: (s) => [bin("deno"), ["eval", "--ext=js", s]],
};
const runtimeNames = (process.env.BENCH_RUNTIMES ?? "node,bun,deno").split(",").filter((r) => r in runtimes);

interface Probe {
  wallMs: number;
  importMs: number;
  rss: number;
  heapUsed: number;
}

function once(runtime: string, spec: string | undefined): Probe | string {
  const [cmd, args] = runtimes[runtime]!(probe(spec));
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8" });
  const wallMs = performance.now() - t0;
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) return (r.stderr || r.stdout || `exit ${r.status}`).trim().split("\n")[0]!;
  return { wallMs, ...(JSON.parse(line) as Omit<Probe, "wallMs">) };
}

const names = Object.keys(subjects);
for (const runtime of runtimeNames) {
  const results = new Map<string, Probe[]>();
  const errors = new Map<string, string>();
  for (const n of names) once(runtime, subjects[n]); // warm the file system cache and any compile cache
  for (let i = 0; i < RUNS; i++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]!;
      if (errors.has(n)) continue;
      const p = once(runtime, subjects[n]);
      if (typeof p === "string") errors.set(n, p);
      else results.set(n, [...(results.get(n) ?? []), p]);
    }
  }
  const med = (n: string, f: keyof Probe) => median((results.get(n) ?? []).map((p) => p[f]));
  const bare = med("bare", "wallMs");
  const mb = (v: number) => `${(v / 1048576).toFixed(1)} MB`;
  console.log(`\nstartup on ${runtime} (${runtime === "node" ? process.version : ""}${runtime !== "node" ? spawnSync(bin(runtime), ["--version"], { encoding: "utf8" }).stdout.split("\n")[0] : ""}), fresh process each, median of ${RUNS} alternating runs\n`);
  printTable(
    ["module", "process wall", "over bare", "import() inside", "RSS after", "RSS over bare", "heap after", "heap over bare"],
    names.map((n) =>
      errors.has(n)
        ? [n, `failed: ${errors.get(n)!.slice(0, 80)}`, "", "", "", "", "", ""]
        : [
            n,
            `${med(n, "wallMs").toFixed(1)} ms`,
            n === "bare" ? "-" : `${(med(n, "wallMs") - bare).toFixed(1)} ms`,
            `${med(n, "importMs").toFixed(1)} ms`,
            mb(med(n, "rss")),
            n === "bare" ? "-" : mb(med(n, "rss") - med("bare", "rss")),
            mb(med(n, "heapUsed")),
            n === "bare" ? "-" : mb(med(n, "heapUsed") - med("bare", "heapUsed")),
          ],
    ),
  );
  if (results.has("edgemq") && results.has("empty module")) {
    const own = (f: keyof Probe) => (med("edgemq", f) - med("empty module", f)).toFixed(1);
    console.log(`\nedgemq over the empty module: ${own("wallMs")} ms process wall, ${own("importMs")} ms import() inside`);
  }
}
fs.rmSync(benchDir, { recursive: true, force: true });
