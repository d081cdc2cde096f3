/**
 * Memory per idle connected client: BENCH_CLIENTS (default 1,000) clients, each with one QoS 1 subscription, against
 * mosquitto (max_connections -1). Each contender runs in a fresh Node process with --expose-gc (bench/memory-child.ts);
 * the numbers are (after - before) / clients, both measured after GC, where "before" already has the library loaded
 * and one client connected. edgemq vs MQTT.js vs bare node:net sockets (the socket alone); alternating, median of
 * BENCH_ROUNDS (default 3).
 *
 * Run: npm run bench:memory
 */
import { execFileSync, spawn } from "node:child_process";
import { startBenchBroker } from "./lib/broker.ts";
import { buildScript } from "./lib/build.ts";
import { median, printTable } from "./lib/measure.ts";
import { root } from "./lib/root.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
// The child is a JavaScript bundle with edgemq inlined (see bench/lib/build.ts: tsx would add a property backing
// store to every closure, about 3.7 KB per edgemq client).
const child = await buildScript("bench/memory-child.ts");

const limit = Number(execFileSync("sh", ["-c", "ulimit -n"]).toString().trim());
if (Number.isFinite(limit) && limit < CLIENTS + 200) {
  console.log(`ulimit -n is ${limit}: too low for ${CLIENTS} clients (and the broker's sockets); raise it (ulimit -n 65536) and rerun`);
  process.exit(1);
}

interface Result {
  kind: string;
  count: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

async function runChild(kind: string, port: number): Promise<Result> {
  const p = spawn(process.execPath, ["--expose-gc", child, kind, String(CLIENTS), String(port)], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  p.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  const code = await new Promise<number | null>((resolve) => p.once("close", resolve));
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) throw new Error(`memory child ${kind} exited with ${code}: ${out}`);
  return JSON.parse(line) as Result;
}

const kinds = ["edgemq", "MQTT.js", "net"];
const results = new Map<string, Result[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[(i + r) % kinds.length]!;
    const broker = await startBenchBroker(); // a fresh broker per child: no leftover sessions
    try {
      const res = await runChild(k, broker.port);
      if (res.count !== CLIENTS) throw new Error(`${k}: ${res.count} of ${CLIENTS} clients connected`);
      results.set(k, [...(results.get(k) ?? []), res]);
    } finally {
      await broker.stop();
    }
  }
}

const kb = (v: number) => `${(v / 1024).toFixed(2)} KB`;
const m = (k: string, f: keyof Omit<Result, "kind" | "count">) => median(results.get(k)!.map((x) => x[f]));
console.log(`memory per idle connected client with one subscription, ${CLIENTS} clients, ${process.version}, median of ${ROUNDS} rounds (fresh process each)\n`);
printTable(
  ["client", "heap", "heap above net", "external", "heap + external", "RSS", "heap vs MQTT.js"],
  kinds.map((k) => [
    k === "net" ? "bare node:net socket" : k,
    kb(m(k, "heapUsed")),
    k === "net" ? "-" : kb(m(k, "heapUsed") - m("net", "heapUsed")),
    kb(m(k, "external")),
    kb(m(k, "heapUsed") + m(k, "external")),
    kb(m(k, "rss")),
    `${(m(k, "heapUsed") / m("MQTT.js", "heapUsed")).toFixed(2)}x`,
  ]),
);
process.exit(0);
