/**
 * Process lifetime with Edgehog on (issue #16): the periodic telemetry and property refresh timers must not keep a
 * program alive after device.end(), nor print anything. A child `node` runs a user's program on the built package.
 */
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../support/built-package.ts";
import { startProgram } from "../support/child-program.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const root = path.resolve(import.meta.dirname, "../..");
let broker: Mosquitto;

beforeAll(async () => {
  await ensureBuilt();
  broker = await startMosquitto();
}, 180_000);

afterAll(async () => {
  await broker?.dispose();
});

it("a program with edgehog: true exits by itself, code 0 and nothing on stderr, right after device.end()", async () => {
  const program = startProgram(process.execPath, [path.join(import.meta.dirname, "fixtures-programs/edgehog-device.mjs"), broker.url], { cwd: root });
  try {
    const exit = await program.waitForExit(15_000);
    expect(program.lines).toEqual(["ready true", "ended"]);
    expect(program.stderr()).toBe("");
    expect(exit).toEqual({ code: 0, signal: null });
  } finally {
    program.kill();
  }
}, 30_000);
