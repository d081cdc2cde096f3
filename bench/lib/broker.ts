/**
 * A mosquitto for benchmarks: its own config on a free port on 127.0.0.1, `log_dest none` (a log pipe nobody reads
 * stalls the broker), no connection limit, a per-client queue far larger than any benchmark's window (the broker
 * must not drop messages that a benchmark then waits for). Runs on Node, Deno and Bun.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, mosquittoBinary, waitForPort } from "../../test/support/mosquitto.ts";

/** A running benchmark broker. */
export interface BenchBroker {
  port: number;
  url: string;
  /** The broker's process id (for its CPU time from /proc). */
  pid: number;
  /** Stops the broker and removes its directory. */
  stop(): Promise<void>;
}

/**
 * mosquitto's `max_inflight_messages` (default 20). It bounds the broker's outgoing QoS 1/2 window to a client, and
 * mosquitto 2.0.11 also applies it to INCOMING QoS 2 from an MQTT 3.1.1 client: a PUBLISH beyond it is answered with
 * PUBREC / PUBCOMP as usual and then dropped (measured: 30 QoS 2 publishes in flight, 20 delivered, with every client).
 * The benchmarks keep up to 256 publishes in flight, so the broker allows 256. Env BENCH_BROKER_INFLIGHT overrides it.
 */
export const BROKER_INFLIGHT = Number(process.env.BENCH_BROKER_INFLIGHT ?? 256);

/** Starts mosquitto; `extra` lines go at the end of the config. */
export async function startBenchBroker(extra: string[] = []): Promise<BenchBroker> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-bench-"));
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "log_dest none",
      "persistence false",
      "max_connections -1",
      "max_queued_messages 1000000", // 0 ("no maximum") makes 2.0.11 drop QoS 2 publishers; a large bound does not
      "max_queued_bytes 0",
      `max_inflight_messages ${BROKER_INFLIGHT}`,
      ...extra,
    ].join("\n") + "\n",
  );
  fs.chmodSync(conf, 0o644);
  const child = spawn(mosquittoBinary(), ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Uint8Array) => {
    stderr += new TextDecoder().decode(d);
  });
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`mosquitto exited with ${code}: ${stderr}`))));
  exited.catch(() => undefined);
  await Promise.race([waitForPort(port), exited]);
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
