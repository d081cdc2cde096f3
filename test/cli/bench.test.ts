/**
 * `edgemq bench`, the built command in a child process against mosquitto: 10,000 connections on this machine,
 * pipelined publishers with latency, subscribers that stop at a count, --json and the table, exit codes.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../support/built-package.ts";
import { freePort, startMosquitto, type Mosquitto } from "../support/mosquitto.ts";
import { startCli } from "./cli-process.ts";

let broker: Mosquitto;

beforeAll(async () => {
  await ensureBuilt();
  broker = await startMosquitto();
}, 180_000);

afterAll(async () => {
  await broker?.dispose();
});

const json = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown> & {
  connected: number;
  errors: number;
  connectMs: { count: number; p50: number; p99: number; max: number };
  messages?: { sent: number; received: number; perSecond: number };
  latencyMs?: { count: number; p50: number; p99: number; max: number };
  heapPerClientBytes: number;
};

it("bench conn -c 10000 opens ten thousand connections to mosquitto, reports connect times, and exits 0", async () => {
  const run = startCli(["bench", "conn", "-c", "10000", "-R", "5000", "-p", String(broker.port), "--json"]);
  const { code, stdout, stderr } = await run.exited(120_000);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const r = json(stdout);
  expect(r).toMatchObject({ mode: "conn", clients: 10000, connected: 10000, errors: 0 });
  expect(r.connectMs.count).toBe(10000);
  expect(r.connectMs.p50).toBeGreaterThan(0);
  expect(r.connectMs.max).toBeGreaterThanOrEqual(r.connectMs.p99);
  expect(r.heapPerClientBytes).toBeGreaterThan(0);
}, 150_000);

it("bench pub with --latency: every message published and received, latency and throughput reported", async () => {
  const run = startCli(["bench", "pub", "-c", "4", "-n", "500", "-s", "128", "-q", "1", "-t", "load/%i", "--latency", "-p", String(broker.port), "--json"]);
  const { code, stdout, stderr } = await run.exited(60_000);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const r = json(stdout);
  expect(r.messages).toMatchObject({ sent: 2000, received: 2000, payloadBytes: 128, qos: 1 });
  expect(r.messages!.perSecond).toBeGreaterThan(0);
  expect(r.latencyMs!.count).toBe(2000);
  expect(r.latencyMs!.p99).toBeGreaterThanOrEqual(r.latencyMs!.p50);
}, 90_000);

it("bench sub stops after -n messages in all and prints the table", async () => {
  const subscribers = startCli(["bench", "sub", "-c", "3", "-t", "fan/out", "-n", "300", "-q", "1", "-p", String(broker.port)]);
  // Publish rounds of 100 until the subscribers have had 300 in all (the first round may come before they subscribed).
  const running = () => subscribers.child.exitCode === null && subscribers.child.signalCode === null;
  for (let round = 0; round < 10 && running(); round++) {
    const publisher = startCli(["bench", "pub", "-c", "1", "-n", "100", "-q", "1", "-t", "fan/out", "-p", String(broker.port), "--json"]);
    expect((await publisher.exited(30_000)).code).toBe(0);
    for (let waited = 0; waited < 2000 && running(); waited += 50) await new Promise((r) => setTimeout(r, 50));
  }
  const { code, stdout, stderr } = await subscribers.exited(10_000);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout).toMatch(/^mode\s+sub$/m);
  expect(stdout).toMatch(/^clients connected\s+3 of 3$/m);
  expect(Number(/^messages sent \/ received\s+0 \/ (\d+)$/m.exec(stdout)?.[1])).toBeGreaterThanOrEqual(300);
}, 60_000);

it("usage errors exit 1 with one line; an unreachable broker exits 2 naming the failure", async () => {
  const bad = await startCli(["bench", "flood"]).exited();
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^edgemq: bench needs conn, pub or sub, not "flood"/);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  const badQos = await startCli(["bench", "pub", "-q", "3"]).exited();
  expect(badQos.code).toBe(1);
  const port = await freePort();
  const down = await startCli(["bench", "conn", "-c", "3", "-p", String(port), "--json"]).exited(30_000);
  expect(down.code).toBe(2);
  expect(json(down.stdout)).toMatchObject({ connected: 0, errors: 3 });
}, 60_000);

it("on a terminal, a progress line is rewritten in place on stderr while the bench runs", () => {
  // util-linux's script(1) gives the command a pseudo-terminal; its output is what the terminal showed.
  const cli = path.resolve(import.meta.dirname, "../../dist/cli.js");
  const run = spawnSync("script", ["-qec", `${process.execPath} ${cli} bench conn -c 20 --hold 2 -p ${broker.port}`, "/dev/null"], { encoding: "utf8", timeout: 30_000 });
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/\rconnected 20\/20 {2}sent 0 {2}received 0 {2}rate 0 msg\/s {2}errors 0 {2}reconnects 0/);
  expect(run.stdout).toMatch(/clients connected +20 of 20/);
}, 40_000);
