/**
 * Measures one publish/receive run of one contender: messages received by the subscriber per second (first
 * publish to last receipt) and this process's CPU time per message (process.cpuUsage delta / messages: publisher,
 * subscriber and, in bench/inmem, the in-memory broker). Console output during the run (open to close) is counted
 * and dropped (bench/lib/capture.ts), so a contender that prints per message is reported, not a flood.
 */
import process from "node:process";
import type { QoS } from "../../src/index.ts";
import { ConsoleCapture } from "./capture.ts";
import type { Contender, PairReport, Target } from "./contenders.ts";
import { Run } from "./run.ts";

/** One benchmark case. */
export interface Case {
  qos: QoS;
  size: number;
  count: number;
}

/** The outcome of one run. */
export interface Sample {
  /** Messages received per second. */
  rate: number;
  /** Client process CPU microseconds per message received. */
  cpuUs: number;
  received: number;
  /** Messages that never arrived (a failed publish leaves the rest unsent). */
  lost: number;
  /** Why publishing stopped early (the error's code or message), if it did. */
  error?: string;
  /** Console lines printed from open to close (counted, not written). */
  consoleLines: number;
  /** The first few distinct console lines, if any. */
  consoleSamples: string[];
  /** What the pair reported about itself (contenders with report()). */
  report?: PairReport;
}

/** Pacing of a run. */
export interface Pacing {
  /** Unfinished publishes per publisher. */
  window: number;
  /** Bytes in flight end to end (published, not received); the cap in messages is derived per payload size. */
  capBytes: number;
  /** Give up when nothing arrived for this long. */
  stallMs: number;
}

/** The end-to-end cap in messages for a payload size: at least 2x the window, at most capBytes. */
export function capFor(size: number, pacing: Pacing): number {
  return Math.max(2 * pacing.window, Math.min(4096, Math.floor(pacing.capBytes / Math.max(size, 64))));
}

let topicSeq = 0;

/** Runs one case once for one contender (fresh connections, fresh topic), its console output counted, not written. */
export async function measureOnce(contender: Contender, target: Target, c: Case, pacing: Pacing): Promise<Sample> {
  const capture = new ConsoleCapture();
  capture.start();
  try {
    const s = await measureRun(contender, target, c, pacing);
    return { ...s, consoleLines: capture.lines, consoleSamples: capture.samples };
  } finally {
    capture.stop();
  }
}

async function measureRun(contender: Contender, target: Target, c: Case, pacing: Pacing): Promise<Omit<Sample, "consoleLines" | "consoleSamples">> {
  const topic = `bench/${contender.name.replace(/\W/g, "")}/${process.pid}/${++topicSeq}`;
  const run = new Run(c.count, capFor(c.size, pacing));
  const pair = await contender.open(target, topic, c.qos, () => run.received1(), pacing.window);
  const payload = new Uint8Array(c.size);
  for (let i = 0; i < payload.length; i++) payload[i] = 97 + (i % 26);
  let lastCount = -1;
  let lastChange = performance.now();
  let stalled = false;
  const watchdog = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (run.received === c.count) {
        clearInterval(timer);
        resolve();
      } else if (run.received !== lastCount) {
        lastCount = run.received;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > pacing.stallMs) {
        stalled = true;
        run.lastAt = lastChange;
        clearInterval(timer);
        resolve();
      }
    }, 100);
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const published = pair.publish(run, payload, pacing.window);
  let error: string | undefined;
  published.catch((err: unknown) => {
    error = (err as { code?: string }).code ?? (err as Error).message ?? String(err);
  });
  await Promise.race([run.done, watchdog]);
  const cpu = process.cpuUsage(cpu0);
  const ms = (run.lastAt || performance.now()) - t0;
  if (!stalled) await Promise.race([published, watchdog]);
  await watchdog;
  await pair.close();
  const received = run.received;
  const report = pair.report?.();
  return {
    rate: (received * 1000) / ms,
    cpuUs: (cpu.user + cpu.system) / Math.max(1, received),
    received,
    lost: c.count - received,
    ...(error !== undefined ? { error } : {}),
    ...(report !== undefined ? { report } : {}),
  };
}
