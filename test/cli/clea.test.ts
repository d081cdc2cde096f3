/**
 * `edgemq clea device` and `edgemq clea fleet`: the built command in child processes against a real mosquitto, with
 * the AstarteSimulator on the server side.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AstarteSimulator, randomDeviceId } from "../../src/clea/index.js";
import { FLEET_INTERFACE } from "../../src/cli/clea-fleet-interface.js";
import { ensureBuilt } from "../support/built-package.js";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.js";
import { runCli, startCli, type CliProcess } from "./cli-process.js";

let broker: Mosquitto;
const port = () => String(broker.port);

beforeAll(async () => {
  await ensureBuilt();
  // The simulator subscribes at QoS 2 to see each message's QoS. Under the fleet's load, mosquitto 2.0.11's outgoing
  // window to it (max_inflight_messages, 20) fills, and a device's QoS 1 data can overtake its queued QoS 2
  // introspection on the way to the simulator (a false data-before-introspection). No window: delivered in order.
  broker = await startMosquitto({ config: ["max_queued_messages 10000", "max_inflight_messages 0"] });
}, 180_000);

afterAll(async () => {
  await broker?.dispose();
});

async function simulator(realm: string, interfaces: object[] | string[], edgehog = false): Promise<AstarteSimulator> {
  const sim = new AstarteSimulator({ url: broker.url, realm, interfaces, edgehog, timeout: 10_000 });
  await sim.start();
  return sim;
}

async function waitForStdout(p: CliProcess, text: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!p.stdout().includes(text)) {
    if (p.child.exitCode !== null) throw new Error(`exited before printing ${JSON.stringify(text)}: ${p.stdout()} ${p.stderr()}`);
    if (Date.now() > deadline) throw new Error(`did not print ${JSON.stringify(text)}: stdout ${JSON.stringify(p.stdout())} stderr ${JSON.stringify(p.stderr())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("edgemq clea device", () => {
  it("sends an individual datastream, an object and a property, decoded by the server with no violation", async () => {
    const sim = await simulator("acme", ["examples/interfaces"]);
    try {
      const id = randomDeviceId();
      const out = await runCli([
        "clea", "device", "-p", port(), "--realm", "acme", `--device-id=${id}`, "--interfaces", "examples/interfaces",
        "--send", "com.acme.Sensors /press7/temperature 21.5",
        "--send", 'com.acme.Environment /room1 {"temp": 19.5, "hum": 40}',
        "--send", "com.acme.Config /display/name Press 7",
        "--send", "com.acme.Config /sampling/intervalMs 250",
      ]);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      const temp = await sim.waitForData(id, "com.acme.Sensors", "/press7/temperature");
      expect(temp.value).toBe(21.5);
      expect(temp.qos).toBe(1);
      expect(temp.timestamp).toBeInstanceOf(Date);
      const env = await sim.waitForData(id, "com.acme.Environment", "/room1");
      expect(env.value).toEqual({ temp: 19.5, hum: 40 });
      expect(await sim.waitForProperty(id, "com.acme.Config", "/display/name")).toBe("Press 7");
      expect(await sim.waitForProperty(id, "com.acme.Config", "/sampling/intervalMs")).toBe(250);
      expect(sim.violations).toEqual([]);
    } finally {
      await sim.stop();
    }
  });

  it("exits 2 naming the code for a value of the wrong type", async () => {
    const out = await runCli([
      "clea", "device", "-p", port(), "--realm", "acme", `--device-id=${randomDeviceId()}`, "--interfaces", "examples/interfaces",
      "--send", "com.acme.Sensors /press7/temperature warm",
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^edgemq: .*\[unexpected-value-type\].*\n$/);
  });

  it("exits 2 naming the code for an unknown interface or path", async () => {
    const out = await runCli(["clea", "device", "-p", port(), "--realm", "acme", "--interfaces", "examples/interfaces", "--send", "com.acme.Nope /a 1"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("[interface-not-found]");
    const path = await runCli(["clea", "device", "-p", port(), "--realm", "acme", "--interfaces", "examples/interfaces", "--send", "com.acme.Config /nope 1"]);
    expect(path.code).toBe(2);
    expect(path.stderr).toContain("[mapping-not-found]");
  });

  it("--watch prints server data, properties and commands, and exits 0 on SIGTERM", async () => {
    const sim = await simulator("acme", ["test/clea/fixtures/com.acme.Commands.json", "test/clea/fixtures/com.acme.ServerConfig.json"], true);
    const id = randomDeviceId();
    const p = startCli(["clea", "device", "-p", port(), "--realm", "acme", `--device-id=${id}`, "--interfaces", "test/clea/fixtures/com.acme.Commands.json", "--interfaces", "test/clea/fixtures/com.acme.ServerConfig.json", "--edgehog", "--watch"]);
    try {
      await sim.waitForHandshake(id);
      await sim.sendData(id, "com.acme.Commands", "/request", "open valve");
      await sim.setProperty(id, "com.acme.ServerConfig", "/limit/value", 10n);
      await sim.sendCommand(id, "Reboot");
      await waitForStdout(p, "com.acme.Commands /request open valve\n");
      await waitForStdout(p, "com.acme.ServerConfig /limit/value 10\n");
      await waitForStdout(p, "command Reboot\n");
      p.child.kill("SIGTERM");
      const out = await p.exited();
      expect(out.code).toBe(0);
      expect(out.stderr).toBe("");
      expect(sim.violations).toEqual([]);
    } finally {
      p.child.kill("SIGKILL");
      await sim.stop();
    }
  });

  it("--rate --count sends generated data on every device-owned datastream", async () => {
    const sim = await simulator("acme", ["examples/interfaces"]);
    try {
      const id = randomDeviceId();
      const out = await runCli(["clea", "device", "-p", port(), "--realm", "acme", `--device-id=${id}`, "--interfaces", "examples/interfaces", "--rate", "100", "--count", "4"]);
      expect(out.code).toBe(0);
      await sim.waitForData(id, "com.acme.Environment", "/1");
      await sim.waitForData(id, "com.acme.Sensors", "/1/temperature");
      // The command exits once the broker acknowledged its messages; the simulator may still be receiving them.
      for (let waited = 0; sim.device(id).data.length < 4 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      expect(sim.device(id).data).toHaveLength(4);
      expect(sim.violations).toEqual([]);
    } finally {
      await sim.stop();
    }
  });

  it("usage errors exit 1 with one line", async () => {
    for (const args of [
      ["clea", "device", "--interfaces", "examples/interfaces"],
      ["clea", "device", "--realm", "acme", "--bogus"],
      ["clea", "device", "--realm", "acme", "--interfaces", "examples/interfaces", "--send", "com.acme.Config"],
      ["clea", "device", "--realm", "acme", "--count", "3"],
      ["clea", "fleet", "-n", "many"],
      ["clea", "fleet", "--realm", "Bad Realm"],
    ]) {
      const out = await runCli(args);
      expect(out.code, args.join(" ")).toBe(1);
      expect(out.stderr.split("\n").filter(Boolean), args.join(" ")).toHaveLength(1);
    }
  });
});

describe("edgemq clea fleet", () => {
  it("runs 1,000 devices: all connected, 2,000 messages, exit 0", async () => {
    const sim = await simulator("fleettest", [FLEET_INTERFACE]);
    try {
      const out = await runCli(["clea", "fleet", "-p", port(), "--realm", "fleettest", "-n", "1000", "--count", "2", "-R", "1000", "--json"], undefined, 25_000);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      const result = JSON.parse(out.stdout);
      expect(result).toMatchObject({ devices: 1000, connected: 1000, errors: 0, messages: { sent: 2000 } });
      const deadline = Date.now() + 5_000;
      const count = () => [...sim.devices.values()].reduce((n, d) => n + d.data.length, 0);
      while (count() < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(count()).toBe(2000);
      expect([...sim.devices.values()].filter((d) => d.handshakeComplete)).toHaveLength(1000);
      expect(sim.violations).toEqual([]);
    } finally {
      await sim.stop();
    }
  }, 40_000);

  it("prints a table", async () => {
    const out = await runCli(["clea", "fleet", "-p", port(), "--realm", "fleettable", "-n", "3", "--count", "1", "--id-prefix", "table-"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/devices connected +3 of 3/);
    expect(out.stdout).toMatch(/messages sent \/ received +3 \/ 0/);
  });
});
