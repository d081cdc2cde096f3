/** What `edgemq bench` measures and prints: percentiles, the live progress line, the final table and its JSON form. */

/** Samples (milliseconds) summarised as count, p50, p99 and max. */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** The p50/p99/max of `samples` (sorted in place); zeros when there are none. */
export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { count: samples.length, p50: at(0.5), p99: at(0.99), max: samples[samples.length - 1]! };
}

/** One bench run's results, as printed and as --json. */
export interface BenchResult {
  mode: "conn" | "pub" | "sub";
  clients: number;
  connected: number;
  errors: number;
  reconnects: number;
  /** Milliseconds from the first connect attempt to the last client connected (or the run's end). */
  elapsedMs: number;
  connectMs: Percentiles;
  messages?: { sent: number; received: number; payloadBytes: number; qos: number; perSecond: number };
  /** Publish to PUBACK/PUBCOMP (pub), or publish to receipt by the paired subscriber (pub --latency). */
  latencyMs?: Percentiles;
  /** Process CPU time and memory, total and per client. */
  cpuMs: number;
  heapBytes: number;
  heapPerClientBytes: number;
}

/** Milliseconds as "3.90 ms" / "532.4 ms". */
export const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
/** Bytes as "10.6 KB". */
export const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

/** Two columns, the labels padded to the longest. */
export function formatRows(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n") + "\n";
}

/** The final table (plain text, two columns). */
export function formatTable(r: BenchResult): string {
  const rows: Array<[string, string]> = [
    ["mode", r.mode],
    ["clients connected", `${r.connected} of ${r.clients}`],
    ["errors", String(r.errors)],
    ["reconnects", String(r.reconnects)],
    ["elapsed", ms(r.elapsedMs)],
    ["connect time p50 / p99 / max", `${ms(r.connectMs.p50)} / ${ms(r.connectMs.p99)} / ${ms(r.connectMs.max)}`],
  ];
  if (r.messages) {
    rows.push(["messages sent / received", `${r.messages.sent} / ${r.messages.received}`]);
    rows.push(["payload, QoS", `${r.messages.payloadBytes} B, QoS ${r.messages.qos}`]);
    rows.push(["throughput", `${Math.round(r.messages.perSecond)} msg/s`]);
  }
  if (r.latencyMs) rows.push([r.mode === "pub" ? "latency p50 / p99 / max" : "latency", `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} / ${ms(r.latencyMs.max)}`]);
  rows.push(["client CPU", `${ms(r.cpuMs)} (${ms(r.cpuMs / Math.max(1, r.clients))} per client)`]);
  rows.push(["heap", `${kb(r.heapBytes)} (${kb(r.heapPerClientBytes)} per client)`]);
  return formatRows(rows);
}

/** The live progress line (rewritten in place on a terminal). */
export function progressLine(p: { connected: number; clients: number; sent: number; received: number; errors: number; reconnects: number; rate: number }): string {
  return `connected ${p.connected}/${p.clients}  sent ${p.sent}  received ${p.received}  rate ${Math.round(p.rate)} msg/s  errors ${p.errors}  reconnects ${p.reconnects}`;
}
