/**
 * The `edgemq` command (dist/cli.js, so `npm run build` first) run by Deno or Bun itself (`deno run -A dist/cli.js`,
 * `bun dist/cli.js`) against a real mosquitto: `sub` receives what `pub` publishes, at each QoS, and both exit 0.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { startMosquitto } from "../support/mosquitto.ts";
import { assertEqual, test } from "./harness.ts";

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Registers the CLI smoke tests; `runtime` is "deno" or "bun", `root` the repository's directory. */
export function cliSmoke(runtime: string, root: string): void {
  const cli = `${root.endsWith("/") ? root : root + "/"}dist/cli.js`;
  const deno = (globalThis as unknown as { Deno?: { execPath(): string } }).Deno;
  const [command, prefix] = runtime === "deno" && deno ? [deno.execPath(), ["run", "-A", cli]] : [process.execPath, [cli]];

  /** Starts `edgemq args` with this runtime; `stdin` is written and closed. */
  const start = (args: string[], stdin = "") => {
    const child = spawn(command, [...prefix, ...args], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin!.end(stdin);
    const done = new Promise<Run>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
    const stderrIncludes = async (text: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (!stderr.includes(text)) {
        if (child.exitCode !== null) throw new Error(`edgemq ${args.join(" ")} exited early: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`edgemq ${args.join(" ")} did not print ${text}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { child, done, stderrIncludes, stdout: () => stdout };
  };

  test(
    `${runtime} runs dist/cli.js: sub -C receives pub -m at QoS 0, 1 and 2 and pub -l lines; both exit 0`,
    async () => {
      const broker = await startMosquitto();
      try {
        const port = String(broker.port);
        const topic = `smoke/cli/${runtime}/${Date.now()}`;
        const sub = start(["sub", "-d", "-p", port, "-t", `${topic}/#`, "-q", "2", "-C", "5", "-v"]);
        await sub.stderrIncludes("edgemq: subscribed", 10_000);
        for (const qos of ["0", "1", "2"]) {
          const pub = await start(["pub", "-p", port, "-t", `${topic}/q${qos}`, "-q", qos, "-m", `hello ${qos}`]).done;
          assertEqual(pub, { code: 0, signal: null, stdout: "", stderr: "" }, `pub at QoS ${qos}`);
        }
        const lines = await start(["pub", "-p", port, "-t", `${topic}/l`, "-q", "1", "-l"], "one\ntwo\n").done;
        assertEqual(lines, { code: 0, signal: null, stdout: "", stderr: "" }, "pub -l");
        const got = await sub.done;
        assertEqual(got.code, 0, `sub exit code (stderr: ${got.stderr})`);
        assertEqual(
          got.stdout.split("\n"),
          [`${topic}/q0 hello 0`, `${topic}/q1 hello 1`, `${topic}/q2 hello 2`, `${topic}/l one`, `${topic}/l two`, ""],
          "what sub printed",
        );
      } finally {
        await broker.dispose();
      }
    },
    30_000,
  );

  test(
    `${runtime} runs dist/cli.js: sub without -C exits 0 on SIGTERM; a refused connection exits 2 naming its code`,
    async () => {
      const broker = await startMosquitto();
      try {
        const port = String(broker.port);
        const topic = `smoke/cli/${runtime}/signal-${Date.now()}`;
        const id = `smoke-cli-${runtime}-${Date.now()}`;
        const sub = start(["sub", "-d", "-p", port, "-i", id, "-t", topic, "-q", "1", "--json"]);
        await sub.stderrIncludes("edgemq: subscribed", 10_000);
        assertEqual((await start(["pub", "-p", port, "-t", topic, "-q", "1", "-m", "x"]).done).code, 0, "pub exit code");
        const deadline = Date.now() + 5000;
        while (!sub.stdout().includes('"payload":"x"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        sub.child.kill("SIGTERM");
        const got = await sub.done;
        // Deno's node:child_process reports a child it sent a signal to as ended by that signal, even when the child
        // handled it and exited 0; there the broker's log shows the graceful end (a DISCONNECT, not a dropped socket).
        const exit = runtime === "deno" && got.signal === "SIGTERM" ? [0, null] : [got.code, got.signal];
        assertEqual(exit, [0, null], `sub exit after SIGTERM (stdout: ${got.stdout}, stderr: ${got.stderr})`);
        assertEqual(got.stderr.split("\n").filter((l) => l && !l.startsWith("edgemq: connected") && !l.startsWith("edgemq: subscribed")), [], "no error on stderr");
        const logged = Date.now() + 3000;
        while (!broker.log().includes(`Client ${id} disconnected.`) && Date.now() < logged) await new Promise((r) => setTimeout(r, 50));
        assertEqual(broker.log().includes(`Client ${id} disconnected.`), true, `a graceful DISCONNECT in the broker's log:\n${broker.log()}`);
        assertEqual(JSON.parse(got.stdout), { topic, qos: 1, retain: false, dup: false, payload: "x" }, "the --json line");
      } finally {
        await broker.dispose();
      }
      const refused = await start(["pub", "-p", "1", "-t", "x", "-m", "y"]).done;
      assertEqual(refused.code, 2, "exit code of a refused connection");
      assertEqual(/^edgemq: connection failed \[connection-failed\]: [^\n]*\n$/.test(refused.stderr), true, `one stderr line: ${refused.stderr}`);
    },
    30_000,
  );
}
