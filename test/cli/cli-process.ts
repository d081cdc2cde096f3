/**
 * Runs the built `edgemq` command (dist/cli.js) in a child process of this Node, as a user runs it, and collects
 * its output: for the CLI tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository's directory. */
export const root = path.resolve(import.meta.dirname, "../..");
/** The built command. */
export const cliPath = path.join(root, "dist/cli.js");

/** A running `edgemq` process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stderr contains `text` (e.g. the -d line "subscribed"); rejects after `ms` or if it exits first. */
  waitForStderr(text: string, ms?: number): Promise<void>;
  /** Resolves with the exit code (signal: null code) once it ended and its output is read; rejects after `ms`. */
  exited(ms?: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}

/** Starts `edgemq args`; `stdin` (if given) is written and closed; "open" leaves stdin open and unwritten. */
export function startCli(args: string[], stdin?: string | Uint8Array | "open"): CliProcess {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: the build did not make it`);
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  if (stdin === "open") child.stdin!.on("error", () => undefined);
  else if (stdin !== undefined) child.stdin!.end(stdin);
  else child.stdin!.end();
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  const describe = () => `stdout: ${JSON.stringify(out)}\nstderr: ${JSON.stringify(err)}`;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForStderr(text, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!err.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`edgemq ${args.join(" ")} exited before printing ${JSON.stringify(text)}\n${describe()}`);
        if (Date.now() > deadline) throw new Error(`edgemq ${args.join(" ")} did not print ${JSON.stringify(text)} within ${ms} ms\n${describe()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async exited(ms = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`edgemq ${args.join(" ")} still ran after ${ms} ms (killed)\n${describe()}`));
        }, ms);
      });
      try {
        const exit = await Promise.race([closed, timeout]);
        return { ...exit, stdout: out, stderr: err };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs `edgemq args` to its end (stdin: `stdin`, or closed); rejects if it runs longer than `ms`. */
export function runCli(args: string[], stdin?: string | Uint8Array, ms = 10_000): ReturnType<CliProcess["exited"]> {
  return startCli(args, stdin).exited(ms);
}

/** Starts `edgemq sub -d args` and resolves once it has subscribed (its -d line on stderr). */
export async function startSubscriber(args: string[]): Promise<CliProcess> {
  const p = startCli(["sub", "-d", ...args]);
  await p.waitForStderr("edgemq: subscribed");
  return p;
}
