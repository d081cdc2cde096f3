/**
 * Process lifetime on Node: "While a client is connecting, connected, or waiting to reconnect, it holds the process
 * open (a ref'ed handle). After end() it holds nothing: a program that calls end() exits by itself."
 *
 * vitest keeps its own event loop alive, so a client that lets its program exit (an unref'ed reconnect timer) or
 * keeps it from exiting (a timer left after end()) passes every in-process test. Each case here runs a small user
 * program (fixtures/lifetime-child.mjs) in a child `node` on the built package (`import "edgemq"` -> dist/, built
 * first if stale) and watches what it prints and how it ends. The same programs run on Deno and Bun in
 * test/smoke/lifetime.smoke.ts.
 */
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as edgemq from "../../src/index.ts";
import { ensureBuilt } from "../support/built-package.ts";
import { createExits, endExits, launcherFor, publisherOutage, subscriberOutage } from "../support/lifetime.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const root = path.resolve(import.meta.dirname, "../..");
const launch = launcherFor("node", root);
const tag = `${process.pid}-${Date.now()}`;

let broker: Mosquitto;
/** Whether the broker runs: a test that stops it and fails before starting it again leaves it to afterEach. */
let up = false;
/** Accepts TCP connections and never answers: a broker that never sends CONNACK. */
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
let silentUrl: string;

beforeAll(async () => {
  await ensureBuilt();
  // Persistence: the subscriber's session (and its subscription) survives the broker's restart.
  const mosquitto = await startMosquitto({ persistence: true });
  up = true;
  broker = {
    ...mosquitto,
    stop: async () => {
      up = false;
      await mosquitto.stop();
    },
    start: async () => {
      await mosquitto.start();
      up = true;
    },
  };
  silent = net.createServer((s) => {
    silentSockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => silentSockets.delete(s));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentUrl = `mqtt://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  for (const s of silentSockets) s.destroy();
  if (silent) await new Promise((resolve) => silent.close(resolve));
  await broker?.dispose();
});

afterEach(async () => {
  if (broker && !up) await broker.start();
});

describe("a program whose only work is a client", () => {
  // "tla": the program, awaiting at its top level (a client holding nothing ends it with code 13).
  // "main": the same in an async main() nothing awaits (a client holding nothing ends it silently, with code 0).
  it.each(["tla", "main"] as const)(
    "stays alive while its subscriber waits to reconnect, gets the message after the restart, then exits by itself (%s)",
    async (shape) => {
      const run = await subscriberOutage(edgemq, launch, broker, `life-sub-${shape}-${tag}`, { shape });
      expect(run.lines).toEqual(["ready", "offline", expect.stringMatching(/^connect sessionPresent=(true|false)$/), "got life/x hello"]);
      expect(run.stderr).toBe("");
      expect(run.exit).toEqual({ code: 0, signal: null });
    },
  );

  it("keeps a QoS 1 publish made while the broker is away, sends it after the restart, then exits by itself", async () => {
    const run = await publisherOutage(edgemq, launch, broker, `life-pub-${tag}`);
    expect(run.aliveDuringOutage, "the program stayed alive, its publish pending, while the broker was away").toBe(true);
    expect(run.lines).toEqual(["ready", "offline", "published"]);
    expect(run.stderr).toBe("");
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(run.received.length).toBeGreaterThan(0);
    expect(new Set(run.received)).toEqual(new Set(["life/q queued"]));
  });

  it("exits by itself right after end()", async () => {
    const run = await endExits(launch, broker.url, `life-end-${tag}`);
    expect(run.lines).toEqual(["connected", "ended"]);
    expect(run.stderr).toBe("");
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(run.exitedAfterMs).toBeLessThan(2000);
  });

  it("exits at once when it only creates a client", async () => {
    const run = await createExits(launch, broker.url, `life-create-${tag}`);
    expect(run.lines).toEqual(["created"]);
    expect(run.stderr).toBe("");
    expect(run.exit).toEqual({ code: 0, signal: null });
  });

  it("exits by itself after end() while waiting to reconnect, though the next attempt is 15-30 s away", async () => {
    const p = launch("end-while-waiting", broker.url, `life-wait-${tag}`);
    try {
      await p.waitForLine("ready", 15_000);
      await broker.stop();
      await p.waitForLine("ended", 5000);
      const exit = await p.waitForExit(2000);
      expect(p.lines).toEqual(["ready", "offline", "ended"]);
      expect(p.stderr()).toBe("");
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      p.kill();
    }
  });

  it("stays alive while connecting, until the connect timeout", async () => {
    const p = launch("connect-timeout", silentUrl, `life-timeout-${tag}`);
    try {
      const started = Date.now();
      const exit = await p.waitForExit(15_000);
      expect(p.lines).toEqual(["connect rejected connect-timeout"]);
      expect(p.stderr()).toBe("");
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500); // connectTimeout: nothing ended it sooner
    } finally {
      p.kill();
    }
  });

  it("exits by itself after end() while waiting for a CONNACK (connectTimeout 30 s)", async () => {
    const p = launch("end-while-connecting", silentUrl, `life-connecting-${tag}`);
    try {
      await p.waitForLine("ended", 15_000);
      const exit = await p.waitForExit(2000);
      expect(p.lines).toEqual(["connect rejected ClientClosedError", "ended"]);
      expect(p.stderr()).toBe("");
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      p.kill();
    }
  });

  it("without reconnect, ends as soon as the connection drops, with its await unsettled (Node: exit code 13)", async () => {
    // With reconnect: false a drop leaves the client idle: no socket, no timer. The program is still in
    // `for await (const m of sub)`, but nothing can ever deliver a message: only another connect() would, and the
    // program's only code is the one waiting. Holding the process open would hang it forever, so the client lets
    // it go, and Node ends a program whose top-level await can no longer settle with exit code 13 ("unsettled
    // top-level await"). The code 13 is Node's, not the client's: the program neither exits 0 as if it had finished
    // nor hangs; it ends at once (here within 2 s of the drop) and says why.
    const p = launch("no-reconnect", broker.url, `life-noreconnect-${tag}`);
    try {
      await p.waitForLine("ready", 15_000);
      await broker.stop();
      await p.waitForLine("offline", 5000);
      const exit = await p.waitForExit(2000);
      expect(p.lines).toEqual(["ready", "offline"]);
      expect(p.stderr()).toBe(""); // Node 20 says nothing (later versions print "Warning: Detected unsettled top-level await")
      expect(exit).toEqual({ code: 13, signal: null });
    } finally {
      p.kill();
    }
  });
});
