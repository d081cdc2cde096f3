/**
 * Process lifetime scenarios, shared by the Node suite (test/integration/process-lifetime.test.ts) and the Deno
 * and Bun suites (test/smoke/lifetime.smoke.ts). Each runs a user program (test/integration/fixtures/lifetime-child.mjs)
 * in a child process of the same runtime, with nothing else in it: a test runner would keep the event loop alive
 * and hide a client that lets its program exit, or one that keeps it from exiting.
 *
 * The contract: while a client is connecting, connected or waiting to reconnect, it holds its process open;
 * after end() it holds nothing, so a program that calls end() exits by itself.
 */

import process from "node:process";
import { startProgram, type ChildProgram, type Exit } from "./child-program.ts";
import type { Mosquitto } from "./mosquitto.ts";
import type * as Edgemq from "../../src/index.ts";

/** The program file. */
export const lifetimeChild = new URL("../integration/fixtures/lifetime-child.mjs", import.meta.url).pathname;

/**
 * How a program awaits its work (see lifetime-child.mjs): "tla" at its top level, "main" in an async main() that
 * nothing awaits (then only the client's own handles keep the process; Bun and Deno need this shape to show a
 * missing one).
 */
export type Shape = "tla" | "main";

/** Starts one of the programs of lifetime-child.mjs (`program`) against `url`. */
export type Launch = (program: string, url: string, clientId: string, shape?: Shape) => ChildProgram;

/**
 * Runs the programs on the runtime running this code: Node and Bun import the built package ("edgemq", dist/),
 * Deno imports src/index.ts as the Deno suite does. `root` is the repository's directory.
 */
export function launcherFor(runtime: string, root: string): Launch {
  if (runtime === "deno") {
    const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno;
    const env = { EDGEMQ_MODULE: new URL("src/index.ts", `file://${root.endsWith("/") ? root : root + "/"}`).href };
    // cwd: the repository, so Deno reads deno.json (sloppy imports: src/ imports its .ts files as .js).
    return (program, url, clientId, shape = "tla") =>
      startProgram(deno.execPath(), ["run", "-A", lifetimeChild, program, url, clientId, shape], { env, cwd: root });
  }
  // Node and Bun: process.execPath is the runtime itself. EDGEMQ_MODULE is cleared so the package is imported by name.
  return (program, url, clientId, shape = "tla") =>
    startProgram(process.execPath, [lifetimeChild, program, url, clientId, shape], { env: { EDGEMQ_MODULE: "" }, cwd: root });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a program printed and how it ended. */
export interface Outcome {
  exit: Exit;
  lines: string[];
  stderr: string;
  /** Milliseconds from the line the scenario measures from to the end of the process. */
  exitedAfterMs: number;
}

function outcome(p: ChildProgram, exit: Exit, since: number): Outcome {
  return { exit, lines: [...p.lines], stderr: p.stderr(), exitedAfterMs: Date.now() - since };
}

/**
 * Case 1. The subscriber program is connected; the broker goes away for `outageMs`. The program must still run
 * (its client waits to reconnect), reconnect when the broker is back, print the message this process publishes,
 * and then exit by itself within `exitWithinMs` of printing it. A client that held nothing while waiting to
 * reconnect lets the program end during the outage: with code 13 on Node in the "tla" shape, with code 0 on every
 * runtime in the "main" shape (Bun and Deno keep a "tla" program alive by themselves).
 */
export async function subscriberOutage(
  m: typeof Edgemq,
  launch: Launch,
  broker: Mosquitto,
  clientId: string,
  { outageMs = 3000, exitWithinMs = 5000, shape = "tla" as Shape } = {},
): Promise<Outcome> {
  const p = launch("subscriber", broker.url, clientId, shape);
  try {
    await p.waitForLine("ready", 15_000);
    await broker.stop();
    await p.waitForLine("offline", 5000);
    await sleep(outageMs);
    if (p.exit()) throw new Error(`the program exited while its client was waiting to reconnect; ${p.describe()}`);
    await broker.start();
    await p.waitForLine(/^connect /, 10_000);
    // The session is persistent (and the broker persists it), so one message is enough; publish again after a
    // second without a reply anyway, so a lost message cannot pass for a lifetime bug.
    const pub = await m.connect({ url: broker.url, clientId: `${clientId}-pub`, reconnect: false });
    let got: string | undefined;
    let gotAt = 0;
    try {
      for (let i = 0; got === undefined; i++) {
        if (i === 10) throw new Error(`the program printed no message in 10 s; ${p.describe()}`);
        await pub.publish("life/x", "hello", { qos: 1 });
        got = await p.waitForLine(/^got /, 1000).catch((err: Error) => {
          if (p.exit()) throw err;
          return undefined;
        });
        gotAt = Date.now();
      }
    } finally {
      await pub.end();
    }
    return outcome(p, await p.waitForExit(exitWithinMs - (Date.now() - gotAt)), gotAt);
  } finally {
    p.kill();
  }
}

/**
 * Case 2. A subscriber in this process holds a persistent session on "life/q"; the publisher program connects, the
 * broker goes away, the program publishes QoS 1 while offline and must stay alive (its client waits to reconnect)
 * for `outageMs`; once the broker is back the publish resolves and the program exits by itself. Returns the
 * program's outcome and what the subscriber received.
 */
export async function publisherOutage(
  m: typeof Edgemq,
  launch: Launch,
  broker: Mosquitto,
  clientId: string,
  { outageMs = 3000, shape = "tla" as Shape } = {},
): Promise<Outcome & { received: string[]; aliveDuringOutage: boolean }> {
  const received: string[] = [];
  const sub = m.createClient({ url: broker.url, clientId: `${clientId}-sub`, clean: false, reconnect: { initialDelay: 100, maxDelay: 500 } });
  sub.on("message", (msg) => received.push(`${msg.topic} ${new TextDecoder().decode(msg.payload)}`));
  await sub.connect();
  await sub.subscribe("life/q", { qos: 1, maxBuffered: 0 });
  const p = launch("publisher", broker.url, clientId, shape);
  try {
    await p.waitForLine("ready", 15_000);
    await broker.stop();
    await p.waitForLine("offline", 5000);
    await sleep(outageMs);
    // publish() is waiting for its PUBACK; the client, waiting to reconnect, must hold the program open.
    const aliveDuringOutage = p.exit() === undefined && p.lines.length === 2;
    await broker.start();
    const since = Date.now();
    const result = outcome(p, await p.waitForExit(10_000), since);
    // The subscriber's persistent session gets it, whether before or after the subscriber itself reconnected.
    for (let waited = 0; received.length === 0 && waited < 10_000; waited += 50) await sleep(50);
    return { ...result, received, aliveDuringOutage };
  } finally {
    p.kill();
    await sub.end();
  }
}

/** Case 3a. The "end" program connects and ends; it must exit by itself within `ms` of connecting. */
export async function endExits(launch: Launch, url: string, clientId: string, shape: Shape = "tla", ms = 2000): Promise<Outcome> {
  const p = launch("end", url, clientId, shape);
  try {
    await p.waitForLine("connected", 15_000);
    const since = Date.now();
    return outcome(p, await p.waitForExit(ms), since);
  } finally {
    p.kill();
  }
}

/** Case 3b. The "create" program makes a client and never connects: it must exit at once (within `ms`). */
export async function createExits(launch: Launch, url: string, clientId: string, shape: Shape = "tla", ms = 1000): Promise<Outcome> {
  const p = launch("create", url, clientId, shape);
  try {
    await p.waitForLine("created", 15_000);
    const since = Date.now();
    return outcome(p, await p.waitForExit(ms), since);
  } finally {
    p.kill();
  }
}
