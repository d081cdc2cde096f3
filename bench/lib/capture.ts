/**
 * Guards for the throughput benchmarks against a contender that misbehaves (bench/lib/throughput.ts uses them):
 *  - ConsoleCapture: while a run is measured, console output (console.log/info/warn/error/debug/trace, and direct
 *    process.stdout/stderr writes) is counted and dropped instead of written, so a library that prints a line per
 *    message cannot flood the benchmark's output or the pipe bench/e2e.ts reads; the count and the first few distinct
 *    lines are reported instead. The CPU column then excludes the cost of writing those lines to a terminal or file.
 *  - retainedBytes(): heap + external memory, after forced GCs where the runtime offers one (Node: through
 *    v8.setFlagsFromString("--expose-gc"); Bun: Bun.gc; Deno: only with --v8-flags=--expose-gc), else undefined.
 * Runs on Node, Deno and Bun.
 */
import process from "node:process";
import * as v8 from "node:v8";
import * as vm from "node:vm";

const METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;
type Method = (typeof METHODS)[number];
type Writer = (chunk: unknown, ...rest: unknown[]) => boolean;

/** What a capture saw. */
export interface Captured {
  /** Console lines: one per console call (plus the line breaks inside it), or per line break of a direct write. */
  lines: number;
  /** The first few distinct lines (truncated), for the report. */
  samples: string[];
}

const MAX_SAMPLES = 3;
/** Lines looked at for samples; later ones are only counted, so that counting stays cheap. */
const SAMPLED_LINES = 50;
const SAMPLE_LENGTH = 160;

/** Counts and swallows console output between start() and stop(). */
export class ConsoleCapture implements Captured {
  lines = 0;
  samples: string[] = [];
  private looked = 0;
  private saved: Partial<Record<Method, (...args: unknown[]) => void>> | undefined;
  private savedWrites: Array<[NodeJS.WriteStream, Writer]> | undefined;

  /** Replaces the console methods (and process.stdout/stderr.write) with counters. */
  start(): void {
    if (this.saved) return;
    const c = console as unknown as Record<Method, (...args: unknown[]) => void>;
    this.saved = {};
    for (const m of METHODS) {
      this.saved[m] = c[m];
      c[m] = (...args: unknown[]) => this.take(args);
    }
    this.savedWrites = [];
    for (const stream of [process.stdout, process.stderr]) {
      try {
        const original = stream.write as Writer;
        (stream as unknown as { write: Writer }).write = (chunk: unknown, ...rest: unknown[]) => {
          const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? new TextDecoder().decode(chunk) : String(chunk);
          this.lines += countBreaks(text) || 1;
          if (this.looked < SAMPLED_LINES) this.sample(text);
          const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
          cb?.();
          return true;
        };
        this.savedWrites.push([stream, original]);
      } catch {
        // a runtime whose stdio streams cannot be patched: console calls are still counted
      }
    }
  }

  /** Restores what start() replaced. */
  stop(): void {
    if (!this.saved) return;
    const c = console as unknown as Record<Method, (...args: unknown[]) => void>;
    for (const m of METHODS) c[m] = this.saved[m]!;
    this.saved = undefined;
    for (const [stream, original] of this.savedWrites ?? []) (stream as unknown as { write: Writer }).write = original;
    this.savedWrites = undefined;
  }

  private take(args: unknown[]): void {
    let lines = 1;
    for (const a of args) if (typeof a === "string") lines += countBreaks(a);
    this.lines += lines;
    if (this.looked < SAMPLED_LINES && this.samples.length < MAX_SAMPLES) {
      this.sample(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(" "));
    }
  }

  private sample(text: string): void {
    if (this.looked++ >= SAMPLED_LINES || this.samples.length >= MAX_SAMPLES) return;
    const line = text.split("\n", 1)[0]!.slice(0, SAMPLE_LENGTH);
    // Counts in messages ("12 dropped so far") differ per line; compare without digits.
    const shape = line.replace(/\d+/g, "#");
    if (!this.samples.some((s) => s.replace(/\d+/g, "#") === shape)) this.samples.push(line);
  }
}

function countBreaks(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

let gcFn: (() => void) | null | undefined;

/** A function that forces a full GC, or undefined where the runtime offers none. */
export function forceGc(): (() => void) | undefined {
  if (gcFn !== undefined) return gcFn ?? undefined;
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void }; Deno?: unknown };
  if (typeof g.gc === "function") gcFn = g.gc;
  else if (g.Bun) gcFn = () => g.Bun!.gc(true);
  else if (g.Deno) gcFn = null;
  else {
    try {
      v8.setFlagsFromString("--expose-gc");
      gcFn = vm.runInNewContext("gc") as () => void;
    } catch {
      gcFn = null;
    }
  }
  return gcFn ?? undefined;
}

/**
 * Heap used + external memory after forced GCs, or undefined without a GC to force. Measured after closing a client,
 * memory is released over several GCs and turns (the socket lets go of the client a turn after close; V8 releases
 * ArrayBuffer backing stores, i.e. external memory, one GC after their views died), so this collects every 10 ms until
 * three readings in a row agree within 64 KB (at most 12 rounds).
 */
export async function retainedBytes(): Promise<number | undefined> {
  const gc = forceGc();
  if (!gc) return undefined;
  const total = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  gc();
  let last = total();
  let stable = 0;
  for (let i = 0; i < 12 && stable < 2; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
    const now = total();
    stable = Math.abs(now - last) < 64 << 10 ? stable + 1 : 0;
    last = now;
  }
  return last;
}
