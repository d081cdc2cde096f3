/**
 * Crash durability against a real mosquitto: a publisher process is killed with SIGKILL at random moments
 * while it publishes QoS 1 messages, and restarted on the same FileStore directory. Every message it reported
 * as accepted (publish() had returned, so the message was in the store) must reach a persistent subscriber.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "../../src/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const tsxCli = path.resolve(here, "../../node_modules/tsx/dist/cli.mjs");
const script = path.join(here, "fixtures", "crash-publisher.ts");

/** One run of the publisher: its process group, what it printed, and how it ended. */
interface Run {
  child: ChildProcess;
  accepted: number[];
  lines: string[];
  stderr: string;
  /** Resolves when every process of the run is gone and its output is read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves at the first "accepted" line. */
  started: Promise<void>;
}

const running = new Set<Run>();

function startPublisher(args: string[]): Run {
  // detached: the tsx CLI runs the script in a child process of its own; both are in this new process group,
  // which is what gets killed.
  const child = spawn(process.execPath, [tsxCli, script, ...args], { detached: true, stdio: ["pipe", "pipe", "pipe"] });
  let markStarted: () => void = () => undefined;
  const run: Run = {
    child,
    accepted: [],
    lines: [],
    stderr: "",
    started: new Promise<void>((resolve) => (markStarted = resolve)),
    closed: new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal }))),
  };
  let partial = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      run.lines.push(line);
      const m = /^accepted (\d+)$/.exec(line);
      if (m) {
        run.accepted.push(Number(m[1]));
        markStarted();
      }
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (run.stderr += chunk));
  running.add(run);
  void run.closed.then(() => running.delete(run));
  return run;
}

function killGroup(run: Run): void {
  try {
    process.kill(-run.child.pid!, "SIGKILL");
  } catch (err) {
    if ((err as { code?: string }).code !== "ESRCH") throw err;
  }
}

/** Rejects after `ms` with `what`, unless `p` settles first. */
async function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let broker: Mosquitto;
let storeDir: string;

beforeAll(async () => {
  // Unlimited queues: the broker must not drop QoS 1 messages when the subscriber falls behind.
  broker = await startMosquitto({ config: ["max_queued_messages 0"] });
  storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-crash-"));
});

afterAll(async () => {
  for (const run of running) killGroup(run);
  await Promise.all([...running].map((r) => r.closed));
  await broker?.dispose();
  if (storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
});

describe("crash resume with a FileStore", () => {
  it("every message accepted before a SIGKILL reaches the subscriber after the publisher restarts", async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const topic = `crash/${tag}`;
    const number = (payload: Uint8Array) => Number(new TextDecoder().decode(payload));
    const received = new Set<number>();
    const iterated = new Set<number>();
    const subscriber: Client = createClient({ url: broker.url, clientId: `crash-sub-${tag}`, clean: false, reconnect: false });
    subscriber.on("message", (m) => received.add(number(m.payload)));
    await subscriber.connect();
    const sub = await subscriber.subscribe(topic, { qos: 1 });
    const draining = (async () => {
      for await (const m of sub) iterated.add(number(m.payload));
    })();

    const accepted = new Set<number>();
    const args = (first: number, end: string) => [broker.url, storeDir, `crash-pub-${tag}`, topic, String(first), end];
    const rounds = 3;
    let next = 0;
    try {
      for (let round = 0; round < rounds; round++) {
        const run = startPublisher(args(next, "forever"));
        await within(run.started, 15_000, () => `round ${round}: the publisher accepted nothing: ${run.stderr}`);
        await sleep(100 + Math.floor(Math.random() * 700));
        killGroup(run);
        const { signal } = await within(run.closed, 10_000, () => `round ${round}: the publisher did not die`);
        expect(signal).toBe("SIGKILL");
        expect(run.stderr).not.toMatch(/failed|error/);
        expect(run.accepted.length).toBeGreaterThan(0);
        for (const n of run.accepted) accepted.add(n);
        next = Math.max(...accepted) + 1;
        if (process.env.CRASH_DEBUG) console.log(`round ${round}: accepted ${run.accepted.length}, ${run.lines[0]}, received so far ${received.size}`);
      }

      const last = startPublisher(args(next, String(next + 300)));
      const { code } = await within(last.closed, 30_000, () => `the last run did not finish: ${last.stderr}`);
      expect(last.stderr).toBe("");
      expect(code).toBe(0);
      expect(last.lines[0]).toBe("connected sessionPresent=true");
      expect(last.lines.at(-1)).toBe("done acked=300 failed=0");
      for (const n of last.accepted) accepted.add(n);
      expect(accepted.size).toBe(next + 300);
    } finally {
      for (const run of running) killGroup(run);
    }

    // Everything is acknowledged by the broker now; wait (bounded) for the subscriber to have it all.
    const missing = (got: Set<number>) => [...accepted].filter((n) => !got.has(n));
    for (let waited = 0; missing(received).length + missing(iterated).length > 0 && waited < 10_000; waited += 50) await sleep(50);
    await subscriber.end();
    await draining;
    expect(missing(received)).toEqual([]);
    expect(missing(iterated)).toEqual([]);
  });
});
