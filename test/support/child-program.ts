/**
 * A child process whose output is read line by line, for tests that watch a whole program (its output, whether
 * and how it exits). Runs on Node, Deno and Bun (node:child_process).
 */

import { spawn, type ChildProcess } from "node:child_process";
import process from "node:process";

/** How a program ended. */
export interface Exit {
  code: number | null;
  signal: string | null;
}

/** A running program. */
export interface ChildProgram {
  readonly child: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** How it ended, once it has (and its output is read); undefined while it runs. */
  exit(): Exit | undefined;
  /** Resolves when it has ended and its output is read. */
  readonly closed: Promise<Exit>;
  /** Resolves with the first stdout line that matches, rejects after `ms` or if the program ends first. */
  waitForLine(match: string | RegExp, ms: number): Promise<string>;
  /** Resolves with how it ended, rejects if it still runs after `ms`. */
  waitForExit(ms: number): Promise<Exit>;
  /** SIGKILL, if it still runs. */
  kill(): void;
  /** What it printed, for error messages. */
  describe(): string;
}

/** Starts `command args` with stdin closed (the program reads nothing) and its output piped. */
export function startProgram(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): ChildProgram {
  const env = { ...process.env, ...options.env };
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env, cwd: options.cwd });
  const lines: string[] = [];
  let stderr = "";
  let partial = "";
  let ended: Exit | undefined;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    notify();
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const closed = new Promise<Exit>((resolve) => {
    child.once("error", (err) => {
      stderr += `spawn failed: ${err.message}\n`;
      ended = { code: null, signal: null };
      resolve(ended);
      notify();
    });
    child.once("close", (code, signal) => {
      if (partial) lines.push(partial);
      partial = "";
      ended ??= { code, signal };
      resolve(ended);
      notify();
    });
  });

  const describe = () =>
    `stdout: ${JSON.stringify(lines)}, stderr: ${JSON.stringify(stderr)}` + (ended ? `, exited with code ${ended.code} signal ${ended.signal}` : ", still running");

  /** Resolves when `check` returns a value, re-checking on every output and at exit; rejects after `ms`. */
  const until = <T>(check: () => T | undefined, ms: number, what: () => string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(new Error(`${what()} within ${ms} ms; ${describe()}`))), ms);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        listeners.delete(listener);
        then();
      };
      const listener = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          finish(() => reject(err as Error));
          return;
        }
        if (value !== undefined) finish(() => resolve(value!));
      };
      listeners.add(listener);
      listener();
    });

  return {
    child,
    lines,
    stderr: () => stderr,
    exit: () => ended,
    closed,
    describe,
    waitForLine: (match, ms) =>
      until(
        () => {
          const line = lines.find((l) => (typeof match === "string" ? l === match : match.test(l)));
          if (line !== undefined) return line;
          if (ended) throw new Error(`the program ended before printing ${String(match)}; ${describe()}`);
          return undefined;
        },
        ms,
        () => `no line ${String(match)}`,
      ),
    waitForExit: (ms) => until(() => ended, ms, () => "the program did not exit by itself"),
    kill: () => {
      if (!ended) child.kill("SIGKILL");
    },
  };
}
