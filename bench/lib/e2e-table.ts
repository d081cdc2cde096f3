/** Tables of the end-to-end results (shared by bench/e2e-core.ts and bench/e2e.ts). */
import { median } from "./measure.ts";
import type { Sample } from "./throughput.ts";

/** Medians of one case for one contender. */
export interface CaseResult {
  qos: number;
  size: number;
  contender: string;
  /** Messages received per second. */
  rate: number;
  /** Client CPU microseconds per message. */
  cpuUs: number;
  lost: number;
  /** Publish errors seen in any round (e.g. "queue-full"). */
  errors: string[];
  rounds: number;
  /** Console lines per run (median; counted, not written), and in all rounds together. Absent in older results. */
  consoleLines?: number;
  consoleTotal?: number;
  /** The first few distinct console lines seen in any round. */
  consoleSamples?: string[];
  /** Messages the unread Subscription dropped per run (median), for contenders that report it. */
  dropped?: number;
  /** Bytes the pair held at the end of a run and released on close (median), for contenders that report it. */
  retained?: number;
}

/** The contender of the `client.on("message")` + unread Subscription table (bench/lib/contenders.ts). */
export const UNREAD = "edgemq-unread";

/** The contenders of the main table: every one that ran except UNREAD, which has a table of its own. */
export const mainContenders = (results: CaseResult[]) => [...new Set(results.map((r) => r.contender))].filter((n) => n !== UNREAD);

/** The title line of the unread-Subscription table. */
export const UNREAD_TITLE =
  `edgemq received the MQTT.js way: client.on("message") + the Subscription from subscribe(f, { qos }) never iterated (${UNREAD}),\n` +
  `against MQTT.js client.on("message") and the edgemq contender (maxBuffered: 0) of the same run`;

/** Medians and totals of one case's samples for one contender. */
export function summarize(qos: number, size: number, contender: string, list: Sample[]): CaseResult {
  const reported = (f: "dropped" | "retained") => list.flatMap((s) => (typeof s.report?.[f] === "number" ? [s.report[f]] : []));
  const dropped = reported("dropped");
  const retained = reported("retained");
  const samples: string[] = [];
  for (const s of list) for (const line of s.consoleSamples) if (samples.length < 3 && !samples.includes(line)) samples.push(line);
  return {
    qos,
    size,
    contender,
    rate: median(list.map((s) => s.rate)),
    cpuUs: median(list.map((s) => s.cpuUs)),
    lost: list.reduce((n, s) => n + s.lost, 0),
    errors: [...new Set(list.flatMap((s) => (s.error ? [s.error] : [])))],
    rounds: list.length,
    consoleLines: median(list.map((s) => s.consoleLines)),
    consoleTotal: list.reduce((n, s) => n + s.consoleLines, 0),
    consoleSamples: samples,
    ...(dropped.length > 0 ? { dropped: median(dropped) } : {}),
    ...(retained.length > 0 ? { retained: median(retained) } : {}),
  };
}

/** What one runtime's run of bench/e2e-core.ts reports. */
export interface RuntimeResult {
  runtime: string;
  results: CaseResult[];
  skipped: string[];
}

/** "64 B", "1 KB", "64 KB". */
export const sizeName = (n: number) => (n >= 1024 ? `${n / 1024} KB` : `${n} B`);

/** Formats a throughput like "123.4 k/s". */
export function msgs(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k/s` : `${v.toFixed(0)} /s`;
}

/** One table row per case with every contender's rate and CPU, and the edgemq ratios. */
export function tableRows(results: CaseResult[], contenders: string[]): string[][] {
  const rows: string[][] = [];
  const cases = [...new Set(results.map((r) => `${r.qos}/${r.size}`))];
  for (const ck of cases) {
    const [qos, size] = ck.split("/").map(Number) as [number, number];
    const of = (name: string) => results.find((r) => r.qos === qos && r.size === size && r.contender === name);
    const e = of("edgemq");
    const m = of("MQTT.js");
    const w = of("raw");
    rows.push([
      `QoS ${qos}`,
      sizeName(size),
      ...contenders.map((n) => cell(of(n))),
      ratio(e?.rate, m?.rate),
      ratio(e?.rate, w?.rate),
      ratio(e?.cpuUs, m?.cpuUs),
      ratio(e?.cpuUs, w?.cpuUs),
    ]);
  }
  return rows;
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

/** "1.2 MB", or "n/a" when not measured. */
export function bytes(n: number | undefined): string {
  if (n === undefined) return "n/a";
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
}

/** Columns of the unread-Subscription table after QoS and payload. */
export const UNREAD_HEADER = [
  "QoS",
  "payload",
  `${UNREAD} msg/s, CPU/msg`,
  "MQTT.js msg/s, CPU/msg",
  "rate unread/MQTT.js",
  "CPU unread/MQTT.js",
  "rate unread/edgemq",
  "CPU unread/edgemq",
  "console lines/run",
  "dropped/run",
  "held at end of run",
];

/**
 * One row per case for the `client.on("message")` + unread Subscription contender against MQTT.js's
 * `client.on("message")` (and the "edgemq" contender, `maxBuffered: 0`) from the same run; undefined when the
 * contender did not run. The last columns are medians per run: console lines, messages the Subscription dropped,
 * and heap + external memory the pair held when the last message arrived (released by close).
 */
export function unreadRows(results: CaseResult[]): string[][] | undefined {
  if (!results.some((r) => r.contender === UNREAD)) return undefined;
  const rows: string[][] = [];
  const cases = [...new Set(results.map((r) => `${r.qos}/${r.size}`))];
  for (const ck of cases) {
    const [qos, size] = ck.split("/").map(Number) as [number, number];
    const of = (name: string) => results.find((r) => r.qos === qos && r.size === size && r.contender === name);
    const u = of(UNREAD);
    const m = of("MQTT.js");
    const e = of("edgemq");
    rows.push([
      `QoS ${qos}`,
      sizeName(size),
      cell(u),
      cell(m),
      ratio(u?.rate, m?.rate),
      ratio(u?.cpuUs, m?.cpuUs),
      ratio(u?.rate, e?.rate),
      ratio(u?.cpuUs, e?.cpuUs),
      u?.consoleLines !== undefined ? String(u.consoleLines) : "n/a",
      u?.dropped !== undefined ? String(u.dropped) : "n/a",
      bytes(u?.retained),
    ]);
  }
  return rows;
}

/** The distinct console lines the unread contender printed, for under its table. */
export function unreadSamples(results: CaseResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.contender !== UNREAD) continue;
    for (const line of r.consoleSamples ?? []) if (out.length < 3 && !out.some((o) => o.replace(/\d+/g, "#") === line.replace(/\d+/g, "#"))) out.push(line);
  }
  return out;
}

export const TABLE_HEADER = (contenders: string[]) => [
  "QoS",
  "payload",
  ...contenders.map((c) => `${c} msg/s, CPU/msg`),
  "rate edgemq/MQTT.js",
  "rate edgemq/raw",
  "CPU edgemq/MQTT.js",
  "CPU edgemq/raw",
];

