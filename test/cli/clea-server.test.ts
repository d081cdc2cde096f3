/**
 * `edgemq clea server`, the built command in a child process, against a real mosquitto, with a real Clea device
 * (connectDevice) in this process: what the server prints, and what its stdin commands make the device receive.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { connect } from "../../src/index.ts";
import { connectDevice, encodePayload, type Device, type DeviceEvent } from "../../src/clea/index.ts";
import { ensureBuilt } from "../support/built-package.js";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.js";
import { cliPath, root, startCli } from "./cli-process.js";

const DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";
const INTERFACES = [path.resolve(import.meta.dirname, "../../examples/interfaces"), path.resolve(import.meta.dirname, "../clea/fixtures")];

let broker: Mosquitto;
const cleanup: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  await ensureBuilt();
  broker = await startMosquitto();
}, 180_000);

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

afterAll(async () => {
  await broker?.dispose();
});

/** The server's arguments: realm acme on the test broker, the test interfaces and Edgehog's. */
const serverArgs = (...extra: string[]) => ["clea", "server", "--realm", "acme", "-p", String(broker.port), "--interfaces", INTERFACES[0]!, "--interfaces", INTERFACES[1]!, "--edgehog", ...extra];

/** `edgemq clea server` with its stdin kept open for write(); resolves once it serves (its stderr line). */
async function startServer(...extra: string[]) {
  const child = spawn(process.execPath, [cliPath, ...serverArgs(...extra)], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdin.on("error", () => undefined);
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    return closed;
  });
  const until = async (what: () => string, text: string, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!what().includes(text)) {
      if (child.exitCode !== null) throw new Error(`the server exited before printing ${JSON.stringify(text)}\nstdout: ${out}\nstderr: ${err}`);
      if (Date.now() > deadline) throw new Error(`the server did not print ${JSON.stringify(text)} within ${ms} ms\nstdout: ${out}\nstderr: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const server = {
    child,
    stdout: () => out,
    stderr: () => err,
    write: (line: string) => child.stdin.write(`${line}\n`),
    waitForStdout: (text: string, ms?: number) => until(() => out, text, ms),
    waitForStderr: (text: string, ms?: number) => until(() => err, text, ms),
    closed,
  };
  await server.waitForStderr("edgemq: serving realm acme");
  return server;
}

async function device(): Promise<Device> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-clea-server-"));
  const d = await connectDevice({ realm: "acme", deviceId: DEVICE_ID, url: broker.url, interfaces: INTERFACES, store, edgehog: true });
  cleanup.push(() => fs.rmSync(store, { recursive: true, force: true }));
  cleanup.push(() => d.end({ force: true }).catch(() => undefined));
  return d;
}

it("prints the device's introspection, handshake, data and properties; its stdin commands reach the device; SIGTERM exits 0", async () => {
  const server = await startServer();
  const d = await device();
  await d.handshakeComplete();
  await server.waitForStdout(`${DEVICE_ID} handshake complete\n`);
  const introspection = server.stdout().split("\n").find((l) => l.startsWith(`${DEVICE_ID} introspection `));
  expect(introspection).toContain("com.acme.Sensors:1:0");
  expect(introspection).toContain("io.edgehog.devicemanager.Commands:");
  expect(server.stdout()).toContain(`${DEVICE_ID} handshake emptyCache\n`);

  await d.send("com.acme.Sensors", "/press7/temperature", 21.5, { timestamp: new Date("2026-11-25T10:00:00Z") });
  await server.waitForStdout(`${DEVICE_ID} com.acme.Sensors /press7/temperature 21.5\n`);
  await d.sendObject("com.acme.Environment", "/room1", { temp: 21.5, hum: 40 }, { timestamp: new Date("2026-11-25T10:00:00Z") });
  await server.waitForStdout(`${DEVICE_ID} com.acme.Environment /room1 {"temp":21.5,"hum":40}\n`);
  await d.setProperty("com.acme.Config", "/display/name", "Press 7");
  await server.waitForStdout(`${DEVICE_ID} com.acme.Config /display/name "Press 7"\n`);

  const events = d.events()[Symbol.asyncIterator]();
  const next = async (): Promise<DeviceEvent> => (await events.next()).value as DeviceEvent;
  server.write(`data ${DEVICE_ID} com.acme.Commands /request "hello world"`);
  expect(await next()).toEqual({ interface: "com.acme.Commands", path: "/request", value: "hello world" });
  await server.waitForStdout(`${DEVICE_ID} sent data com.acme.Commands /request "hello world"\n`);

  server.write(`set ${DEVICE_ID} com.acme.ServerConfig /limit/value 12345678901234567`);
  expect(await next()).toEqual({ interface: "com.acme.ServerConfig", path: "/limit/value", value: 12345678901234567n });
  expect(d.getProperty("com.acme.ServerConfig", "/limit/value")).toBe(12345678901234567n);

  // Malformed lines: one error line each, and the server goes on.
  server.write(`data ${DEVICE_ID} com.acme.Commands`);
  server.write("frobnicate now");
  server.write(`data ${DEVICE_ID} com.acme.Commands /request not-json`);
  await server.waitForStderr(`(frobnicate): unknown command "frobnicate"`);
  await server.waitForStderr("(data): VALUE is not JSON");
  expect(server.stderr()).toMatch(/edgemq: line \d+ \(data\): usage: data DEVICE INTERFACE PATH VALUE\n/);

  const command = new Promise<string>((resolve) => d.on("command", ({ command }) => resolve(command)));
  server.write(`command ${DEVICE_ID} Reboot`);
  expect(await command).toBe("Reboot");

  server.write("devices");
  await server.waitForStdout(`${DEVICE_ID} handshake:complete `);
  expect(server.stdout()).not.toContain(" violation ");

  server.child.kill("SIGTERM");
  expect(await server.closed).toBe(0);
});

it("prints a violation with its rule", async () => {
  const server = await startServer("--json");
  const d = await device();
  await d.handshakeComplete();
  await server.waitForStdout(`"step":"complete"`);
  // A guaranteed (QoS 1) mapping published at QoS 0 by a hand-written client under the device's prefix.
  const raw = await connect({ url: broker.url, reconnect: false });
  cleanup.push(() => raw.end({ force: true }));
  await raw.publish(`acme/${DEVICE_ID}/com.acme.Sensors/press7/temperature`, encodePayload(3.5, { type: "double" }), { qos: 0 });
  await server.waitForStdout(`"event":"violation"`);
  const lines = server.stdout().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.find((l) => l.event === "introspection")).toMatchObject({ deviceId: DEVICE_ID, introspection: expect.stringContaining("com.acme.Sensors:1:0") });
  expect(lines.find((l) => l.event === "violation")).toMatchObject({ deviceId: DEVICE_ID, rule: "wrong-qos", topic: `acme/${DEVICE_ID}/com.acme.Sensors/press7/temperature` });
  await server.waitForStdout(`"event":"data","deviceId":"${DEVICE_ID}","interface":"com.acme.Sensors","path":"/press7/temperature","value":3.5`);
  server.child.kill("SIGINT");
  expect(await server.closed).toBe(0);
});

it("keeps running when stdin ends, unless --until-stdin-ends", async () => {
  const kept = startCli(serverArgs()); // stdin closed at once
  cleanup.push(() => kept.child.exitCode === null && kept.child.kill("SIGKILL"));
  await kept.waitForStderr("edgemq: serving realm acme");
  await new Promise((r) => setTimeout(r, 300));
  expect(kept.child.exitCode).toBeNull();
  kept.child.kill("SIGTERM");
  expect(await kept.exited()).toMatchObject({ code: 0 });

  const done = await startCli(serverArgs("--until-stdin-ends"), "devices\nhelp\n").exited();
  expect(done.code).toBe(0);
  expect(done.stdout).toMatch(/^no devices\ncommands \(stdin/);
});

it("exits 1 on a usage error, 2 when the broker cannot be reached", async () => {
  const noRealm = await startCli(["clea", "server", "-p", String(broker.port)]).exited();
  expect(noRealm).toMatchObject({ code: 1, stderr: `edgemq: missing --realm (see "edgemq clea server --help")\n` });
  const badInterfaces = await startCli(["clea", "server", "--realm", "acme", "--interfaces", "/nonexistent/x.json"]).exited();
  expect(badInterfaces.code).toBe(1);
  expect(badInterfaces.stderr).toMatch(/^edgemq: cannot load --interfaces: /);
  const refused = await startCli(["clea", "server", "--realm", "acme", "-p", "1"]).exited();
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/^edgemq: connection failed/);
});
