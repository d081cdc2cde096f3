/**
 * The README's "gateway boots offline" example, run as a user runs it (tsx, its own process) before the broker
 * exists: it queues its readings, keeps retrying, delivers every reading once mosquitto starts, and exits 0.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort, startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const root = path.resolve(import.meta.dirname, "../..");
let broker: Mosquitto | undefined;
const store = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-boot-"));

afterAll(async () => {
  await broker?.dispose();
  fs.rmSync(store, { recursive: true, force: true });
});

it("examples/offline-boot.ts queues readings with no broker, retries, delivers all of them once the broker starts, exits 0", async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "examples/offline-boot.ts", `mqtt://127.0.0.1:${port}`, "25", store], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const deadline = Date.now() + 20_000;
  while (!/broker unreachable; attempt 2/.test(stdout)) {
    if (Date.now() > deadline) throw new Error(`the example never retried: ${stdout}${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(stdout).toContain("25 readings queued while offline");
  broker = await startMosquitto({ port, config: ["log_type debug"] });
  const code = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no exit: ${stdout}`)), 30_000).unref())]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout).toContain("connected");
  expect(stdout.trim().split("\n").at(-1)).toBe("25 readings delivered");
  const received = broker.log().match(/Received PUBLISH from gw-boot \(d\d, q1, r0, m\d+, 'plant\/gw-boot\/readings'/g) ?? [];
  expect(received.length).toBeGreaterThanOrEqual(25);
}, 60_000);
