/**
 * Process lifetime on Deno and Bun: the programs of test/integration/process-lifetime.test.ts (cases 1, 2 and 3), each
 * run in a child process of the same runtime, with nothing else in it: this suite's own loop would hide a client
 * that lets its program exit. Deno's child imports src/index.ts and Bun's the built package by name (dist/), as
 * this suite does.
 */
import { startMosquitto } from "../support/mosquitto.ts";
import { createExits, endExits, launcherFor, publisherOutage, subscriberOutage } from "../support/lifetime.ts";
import { assert, assertEqual, test } from "./harness.ts";
import type * as Edgemq from "../../src/index.ts";

/** Registers the lifetime smoke tests; `runtime` is "deno" or "bun", `root` the repository's directory. */
export function lifetimeSmoke(m: typeof Edgemq, runtime: string, root: string): void {
  const launch = launcherFor(runtime, root);
  const tag = `${runtime}-${Date.now()}`;

  test(
    "a program whose subscriber waits to reconnect stays alive, gets the message after the restart, then exits by itself",
    async () => {
      const broker = await startMosquitto({ persistence: true });
      try {
        // The "main" shape: Bun keeps a program with an unsettled top-level await alive by itself, and Deno runs
        // unref'ed timers then, so only a program whose top level is done shows whether the client holds it.
        const run = await subscriberOutage(m, launch, broker, `life-sub-${tag}`, { shape: "main" });
        assertEqual(run.lines.length, 4, `four lines: ${JSON.stringify(run.lines)}`);
        assertEqual([run.lines[0], run.lines[1], run.lines[3]], ["ready", "offline", "got life/x hello"], "what the program printed");
        assert(/^connect sessionPresent=(true|false)$/.test(run.lines[2]!), `a reconnect: ${run.lines[2]}`);
        assertEqual(run.stderr, "", "nothing on stderr");
        assertEqual(run.exit, { code: 0, signal: null }, "exits by itself with code 0");
      } finally {
        await broker.dispose();
      }
    },
    15_000,
  );

  test(
    "a program that publishes QoS 1 while the broker is away stays alive, sends it after the restart, then exits by itself",
    async () => {
      const broker = await startMosquitto({ persistence: true });
      try {
        const run = await publisherOutage(m, launch, broker, `life-pub-${tag}`, { shape: "main" });
        assert(run.aliveDuringOutage, "the program stayed alive, its publish pending, while the broker was away");
        assertEqual(run.lines, ["ready", "offline", "published"], "what the program printed");
        assertEqual(run.stderr, "", "nothing on stderr");
        assertEqual(run.exit, { code: 0, signal: null }, "exits by itself with code 0");
        assertEqual([...new Set(run.received)], ["life/q queued"], "the subscriber got the queued message");
      } finally {
        await broker.dispose();
      }
    },
    20_000,
  );

  test(
    "a program exits by itself after end(), and at once when it only creates a client",
    async () => {
      const broker = await startMosquitto();
      try {
        const ended = await endExits(launch, broker.url, `life-end-${tag}`);
        assertEqual(ended.lines, ["connected", "ended"], "what the end() program printed");
        assertEqual(ended.stderr, "", "nothing on stderr");
        assertEqual(ended.exit, { code: 0, signal: null }, "exits by itself with code 0");
        const created = await createExits(launch, broker.url, `life-create-${tag}`);
        assertEqual(created.lines, ["created"], "what the createClient() program printed");
        assertEqual(created.stderr, "", "nothing on stderr");
        assertEqual(created.exit, { code: 0, signal: null }, "exits at once with code 0");
      } finally {
        await broker.dispose();
      }
    },
    15_000,
  );
}
