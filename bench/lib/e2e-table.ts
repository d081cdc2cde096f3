/** Tables of the end-to-end results (shared by bench/e2e-core.ts and bench/e2e.ts). */

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
    const cell = (r: CaseResult | undefined) =>
      r ? `${msgs(r.rate)} ${r.cpuUs.toFixed(1)} µs${r.lost ? ` (${r.lost} not received${r.errors.length ? `: ${r.errors.join(", ")}` : ""})` : ""}` : "n/a";
    const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : "n/a");
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

export const TABLE_HEADER = (contenders: string[]) => [
  "QoS",
  "payload",
  ...contenders.map((c) => `${c} msg/s, CPU/msg`),
  "rate edgemq/MQTT.js",
  "rate edgemq/raw",
  "CPU edgemq/MQTT.js",
  "CPU edgemq/raw",
];

