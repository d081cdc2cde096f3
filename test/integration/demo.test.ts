/** `npm run demo` is an end-to-end test: it must exit 0 with an OK summary and no lost message. */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { expect, it } from "vitest";

it("the Clea gateway demo runs against its embedded broker, survives a broker restart, completes an OTA and loses nothing", () => {
  const root = path.resolve(import.meta.dirname, "../..");
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.EDGEMQ_URL;
  const run = spawnSync(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "examples/demo.ts"], {
    cwd: root,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/broker restart/);
  expect(run.stdout).toMatch(/reconnected \(session present: (true|false), handshake: (true|false)\)/);
  expect(run.stdout).toMatch(/command received: Reboot/);
  const summary = run.stdout.trim().split("\n").at(-1)!;
  expect(summary).toMatch(/^summary: OK - telemetry sent (\d+), received \1 distinct \(\d+ duplicates, 0 lost\)/);
  expect(summary).toContain("OTA Acknowledged -> Downloading -> Deploying -> Deployed -> Rebooting -> Success");
  // Edgehog (issue #16): host telemetry, and a period the cloud side changed while the gateway ran.
  expect(run.stdout).toMatch(/cloud +SystemStatus: \d+ MiB available/);
  expect(run.stdout).toMatch(/cloud +StorageUsage root: \d+ of \d+ GiB free/);
  expect(summary).toMatch(/SystemStatus \d+ \(every 1 s, set by the server\); StorageUsage root;/);
}, 90_000);
