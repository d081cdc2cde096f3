/** Small timing helpers shared by the benchmarks: alternate contenders, several rounds, report medians. */

/** Runs `fn(n)` (which performs n operations) until `ms` elapse; returns operations per second. */
export function opsPerSecond(fn: (n: number) => void, ms = 400): number {
  let n = 1000;
  fn(n); // warm-up
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn(n);
    ops += n;
    now = performance.now();
    if (now - start < ms / 20) n *= 2;
  }
  return (ops * 1000) / (now - start);
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Formats a rate like "1.23 M/s". */
export function rate(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k/s` : `${v.toFixed(0)} /s`;
}

/** Rows as an aligned plain-text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Prints rows as an aligned plain-text table. */
export function printTable(header: string[], rows: string[][]): void {
  console.log(formatTable(header, rows));
}
