/**
 * What the library prints by itself, where it lives: a plain program on the built package, alone in a child
 * process. A "message" listener that throws on every one of 100 messages, with no "error" listener attached, gives
 * one line on stderr (naming the condition and where it was thrown), not one per message; every message still arrives.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/index.ts";
import { ensureBuilt } from "../support/built-package.ts";
import { startProgram } from "../support/child-program.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const root = path.resolve(import.meta.dirname, "../..");
const program = path.join(root, "test/support/throwing-listener-child.mjs");
let broker: Mosquitto;

beforeAll(async () => {
  await ensureBuilt();
  broker = await startMosquitto();
}, 240_000);
afterAll(async () => {
  await broker?.dispose();
});

describe("a program whose message listener always throws and that listens to no error event", () => {
  it("gets one stderr line for the condition, not one per message, and every message", async () => {
    const p = startProgram(process.execPath, [program, broker.url, `console-${process.pid}`, "console/t", "100"], { env: { EDGEMQ_MODULE: "" }, cwd: root });
    try {
      await p.waitForLine("ready", 15_000);
      const pub = await connect({ url: broker.url, reconnect: false });
      for (let i = 0; i < 100; i++) await pub.publish("console/t", String(i), { qos: 1 });
      await pub.end();
      const exit = await p.waitForExit(15_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(p.lines).toEqual(["ready", "done 100"]);
      const stderr = p.stderr().trim().split("\n");
      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toMatch(/listener-error/);
      expect(stderr[0]).toMatch(/the handler is buggy/);
      expect(stderr[0]).toMatch(/throwing-listener-child\.mjs/); // where it was thrown
    } finally {
      p.kill();
    }
  }, 60_000);
});
