/**
 * Edgehog device-runtime parity (issue #16), each capability against the Astarte simulator on a real mosquitto: the
 * right topic, QoS, BSON types and timestamps; telemetry periods changed from the server side taking effect without
 * a restart and surviving one; LEDs, commands and remote terminal sessions through the application's handlers.
 */
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AstarteSimulator,
  connectDevice,
  DeviceWarning,
  EDGEHOG,
  randomDeviceId,
  type Device,
  type DeviceOptions,
  type ForwarderRequest,
  type ForwarderSession,
  type LedRequest,
  type SimulatedData,
} from "../../src/clea/index.ts";
import { OptionsError } from "../../src/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

let broker: Mosquitto;
let sim: AstarteSimulator;
const cleanup: Array<() => Promise<unknown>> = [];
const SYSTEM_STATUS = EDGEHOG.SystemStatus;
const PERIOD = `/request/${SYSTEM_STATUS}/periodSeconds`;
const ENABLE = `/request/${SYSTEM_STATUS}/enable`;

beforeAll(async () => {
  broker = await startMosquitto();
  sim = new AstarteSimulator({ url: broker.url, realm: "acme", edgehog: true, reconnect: false });
  await sim.start();
});

afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
  await sim?.stop().catch(() => undefined);
  await broker?.dispose();
});

function storeDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-edgehog-"));
  cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(deviceId: string, edgehog: DeviceOptions["edgehog"], extra: Partial<DeviceOptions> = {}): Promise<{ d: Device; warnings: DeviceWarning[] }> {
  const d = await connectDevice({ realm: "acme", deviceId, url: broker.url, edgehog, reconnect: { initialDelay: 50, maxDelay: 200 }, ...extra });
  cleanup.push(() => d.end({ force: true }));
  const warnings: DeviceWarning[] = [];
  d.on("warning", (w) => {
    if (w instanceof DeviceWarning) warnings.push(w);
  });
  d.on("error", () => undefined);
  return { d, warnings };
}

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const dataOf = (deviceId: string, iface: string): SimulatedData[] => sim.device(deviceId).data.filter((e) => e.interface === iface);
const messagesOn = (deviceId: string, topic: string) => sim.device(deviceId).messages.filter((m) => m.topic === topic);

describe("edgehog: true", () => {
  const id = randomDeviceId();
  let d: Device;

  beforeAll(async () => {
    ({ d } = await start(id, true));
    await sim.waitForHandshake(id);
  });

  it("declares every capability the SDK fills in by itself, and Edgehog (the simulator's view) agrees", async () => {
    const expected = [
      "base_image", "commands", "hardware_info", "network_interface_info", "operating_system", "runtime_info",
      "software_updates", "storage", "system_info", "system_status", "telemetry_config",
    ];
    expect(d.edgehog.capabilities()).toEqual(expected);
    await until(() => sim.device(id).edgehogCapabilities().length === expected.length);
    expect(sim.device(id).edgehogCapabilities()).toEqual(expected);
    expect(d.introspection).toContain(`${EDGEHOG.SystemStatus}:0:1`);
    expect(d.introspection).not.toContain(EDGEHOG.LedBehavior);
  });

  it("sends SystemStatus at once: the host's values with their BSON types, a timestamp, QoS 0", async () => {
    const entry = await sim.waitForData(id, SYSTEM_STATUS, "/systemStatus");
    const v = entry.value as Record<string, unknown>;
    expect(typeof v.availMemoryBytes).toBe("bigint");
    expect(typeof v.uptimeMillis).toBe("bigint");
    expect(v.uptimeMillis as bigint).toBeGreaterThan(0n);
    expect(v.bootId).toBe(fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    expect(Number.isInteger(v.taskCount)).toBe(true);
    expect(entry.qos).toBe(0);
    expect(entry.timestamp).toBeInstanceOf(Date);
    expect(Math.abs(entry.timestamp!.getTime() - Date.now())).toBeLessThan(10_000);
  });

  it("sends StorageUsage for / as label root, total and free as int64", async () => {
    const entry = await sim.waitForData(id, EDGEHOG.StorageUsage, "/root");
    const v = entry.value as { totalBytes: bigint; freeBytes: bigint };
    const st = fs.statfsSync("/");
    expect(v.totalBytes).toBe(BigInt(st.bsize) * BigInt(st.blocks));
    expect(v.freeBytes).toBeLessThanOrEqual(v.totalBytes);
    expect(entry.timestamp).toBeInstanceOf(Date);
  });

  it("sets HardwareInfo and NetworkInterfaceProperties as properties", async () => {
    expect(await sim.waitForProperty(id, EDGEHOG.HardwareInfo, "/mem/totalBytes")).toBe(BigInt(os.totalmem()));
    expect(await sim.waitForProperty(id, EDGEHOG.HardwareInfo, "/cpu/architecture")).toMatch(/^(x86_64|aarch64|arm|x86|.+)$/);
    const nic = Object.entries(os.networkInterfaces()).find(([, addrs]) => addrs?.some((a) => !a.internal && a.mac !== "00:00:00:00:00:00"));
    if (nic) expect(await sim.waitForProperty(id, EDGEHOG.NetworkInterfaceProperties, `/${nic[0]}/macAddress`)).toBe(nic[1]![0]!.mac);
    // Each property goes once at QoS 2: re-reading an unchanged host publishes nothing.
    expect(messagesOn(id, `/${EDGEHOG.HardwareInfo}/mem/totalBytes`).map((m) => m.qos)).toEqual([2]);
    expect(sim.violations.filter((v) => v.deviceId === id)).toEqual([]);
  });

  it("starts with the device's telemetry defaults: on, every 60 s", () => {
    expect(d.edgehog.telemetry()).toEqual({
      [EDGEHOG.SystemStatus]: { enabled: true, periodSeconds: 60, source: "device" },
      [EDGEHOG.StorageUsage]: { enabled: true, periodSeconds: 60, source: "device" },
    });
  });
});

describe("config.Telemetry from the server", () => {
  it("a period set by the server takes effect at once, survives a restart, and an unset returns to the device's setting", async () => {
    const id = randomDeviceId();
    const store = storeDir();
    const first = await start(id, { storageUsage: false, hardwareInfo: false, networkInterfaces: false }, { store });
    await sim.waitForData(id, SYSTEM_STATUS);

    await sim.setProperty(id, EDGEHOG.TelemetryConfig, PERIOD, 1n);
    await until(() => first.d.edgehog.telemetry()[SYSTEM_STATUS]?.periodSeconds === 1);
    const before = dataOf(id, SYSTEM_STATUS).length;
    await until(() => dataOf(id, SYSTEM_STATUS).length >= before + 3, 6000);
    const times = dataOf(id, SYSTEM_STATUS).slice(-2).map((e) => e.timestamp!.getTime());
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);
    expect(first.d.edgehog.telemetry()[SYSTEM_STATUS]).toEqual({ enabled: true, periodSeconds: 1, source: "server" });

    // A restart keeps the server's choice (the properties cache in the store directory).
    await first.d.end();
    const second = await start(id, { storageUsage: false, hardwareInfo: false, networkInterfaces: false }, { store });
    expect(second.d.edgehog.telemetry()[SYSTEM_STATUS]).toEqual({ enabled: true, periodSeconds: 1, source: "server" });
    const afterRestart = dataOf(id, SYSTEM_STATUS).length;
    await until(() => dataOf(id, SYSTEM_STATUS).length >= afterRestart + 2, 4000);

    // Disabled by the server: nothing more is sent.
    await sim.setProperty(id, EDGEHOG.TelemetryConfig, ENABLE, false);
    await until(() => second.d.edgehog.telemetry()[SYSTEM_STATUS]?.enabled === false);
    const stopped = dataOf(id, SYSTEM_STATUS).length;
    await new Promise((r) => setTimeout(r, 2200));
    expect(dataOf(id, SYSTEM_STATUS).length).toBe(stopped);

    // Unset both: back to the device's own setting (on, 60 s), sent at once.
    await sim.unsetProperty(id, EDGEHOG.TelemetryConfig, ENABLE);
    await sim.unsetProperty(id, EDGEHOG.TelemetryConfig, PERIOD);
    await until(() => second.d.edgehog.telemetry()[SYSTEM_STATUS]?.source === "device");
    expect(second.d.edgehog.telemetry()[SYSTEM_STATUS]).toEqual({ enabled: true, periodSeconds: 60, source: "device" });
    await until(() => dataOf(id, SYSTEM_STATUS).length > stopped);
    await new Promise((r) => setTimeout(r, 300));
    const settled = dataOf(id, SYSTEM_STATUS).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(dataOf(id, SYSTEM_STATUS).length).toBe(settled);
  }, 30_000);

  it("the device's own setting: off until the server turns it on; config.Telemetry left out with telemetry: false", async () => {
    const id = randomDeviceId();
    const { d } = await start(id, { telemetry: { [SYSTEM_STATUS]: { enabled: false, periodSeconds: 5 } }, storageUsage: false });
    await sim.waitForHandshake(id);
    expect(d.edgehog.telemetry()[SYSTEM_STATUS]).toEqual({ enabled: false, periodSeconds: 5, source: "device" });
    await sim.setProperty(id, EDGEHOG.TelemetryConfig, ENABLE, true);
    await sim.waitForData(id, SYSTEM_STATUS);
    expect(d.edgehog.telemetry()[SYSTEM_STATUS]).toEqual({ enabled: true, periodSeconds: 5, source: "server" });

    const other = randomDeviceId();
    const off = await start(other, { telemetry: false });
    expect(off.d.introspection).not.toContain(EDGEHOG.TelemetryConfig);
    expect(off.d.edgehog.capabilities()).not.toContain("telemetry_config");
  });
});

describe("application providers and handlers", () => {
  const id = randomDeviceId();
  let d: Device;
  let warnings: DeviceWarning[];
  const leds: LedRequest[] = [];
  const sessions: Array<{ request: ForwarderRequest; session: ForwarderSession }> = [];
  let refuse = false;
  const commands: string[] = [];

  beforeAll(async () => {
    ({ d, warnings } = await start(id, {
      systemStatus: false,
      storageUsage: false,
      battery: () => [{ slot: "main", levelPercentage: 87.5, levelAbsoluteError: 0.5, status: "Discharging" }],
      geolocation: async () => [{ id: "gps", latitude: 45.07, longitude: 7.69, accuracy: 3 }],
      wifi: () => [{ essid: "plant-7", macAddress: "00:aa:bb:cc:dd:ee", channel: 6, rssi: -52, connected: true }],
      cellular: () => [{ id: "modem0", apn: "iot.example", imei: "356938035643809", carrier: "Acme Mobile", cellId: 123456789n, mobileCountryCode: 222, rssi: -71.5, technology: "EUTRAN" }],
      leds: (r) => void leds.push(r),
      commands: (command) => {
        commands.push(command);
        return refuse ? { refuse: "an update is being written" } : undefined;
      },
      forwarder: (request, session) => void sessions.push({ request, session }),
    }));
    await sim.waitForHandshake(id);
  });

  it("turns on the capabilities whose provider or handler the application gives", () => {
    expect(d.edgehog.capabilities()).toEqual(
      expect.arrayContaining(["battery_status", "geolocation", "wifi", "cellular_connection", "led_behaviors", "remote_terminal", "commands"]),
    );
    expect(d.edgehog.capabilities()).not.toContain("system_status");
  });

  it("sends battery, geolocation, Wi-Fi and cellular readings with the interfaces' types", async () => {
    expect((await sim.waitForData(id, EDGEHOG.BatteryStatus, "/main")).value).toEqual({ levelPercentage: 87.5, levelAbsoluteError: 0.5, status: "Discharging" });
    expect((await sim.waitForData(id, EDGEHOG.Geolocation, "/gps")).value).toEqual({ latitude: 45.07, longitude: 7.69, accuracy: 3 });
    const ap = await sim.waitForData(id, EDGEHOG.WiFiScanResults, "/ap");
    expect(ap.value).toEqual({ essid: "plant-7", macAddress: "00:aa:bb:cc:dd:ee", channel: 6, rssi: -52, connected: true });
    expect(ap.timestamp).toBeInstanceOf(Date);
    const cell = await sim.waitForData(id, EDGEHOG.CellularConnectionStatus, "/modem0");
    expect(cell.value).toEqual({ carrier: "Acme Mobile", cellId: 123456789n, mobileCountryCode: 222, rssi: -71.5, technology: "EUTRAN" });
    expect(await sim.waitForProperty(id, EDGEHOG.CellularConnectionProperties, "/modem0/imei")).toBe("356938035643809");
    expect(await sim.waitForProperty(id, EDGEHOG.CellularConnectionProperties, "/modem0/apn")).toBe("iot.example");
    // Each went at its mapping's QoS with its mapping's BSON types: the simulator (Astarte's rules) saw no violation.
    expect(sim.violations.filter((v) => v.deviceId === id)).toEqual([]);
    expect(sim.device(id).messages.filter((m) => m.topic.startsWith(`/${EDGEHOG.BatteryStatus}/`)).map((m) => m.qos)).toContain(0);
  });

  it("delivers each LED behaviour with its blink pattern; an unknown one is a warning", async () => {
    await sim.sendData(id, EDGEHOG.LedBehavior, "/status/behavior", "DoubleBlink60Seconds");
    await until(() => leds.length === 1);
    expect(leds[0]).toEqual({ ledId: "status", behavior: "DoubleBlink60Seconds", durationMs: 60_000, pattern: { repetitions: 2, onMs: 300, offMs: 200, pauseMs: 800 } });
    await sim.sendData(id, EDGEHOG.LedBehavior, "/status/behavior", "Blink30Seconds");
    await until(() => warnings.some((w) => w.code === "invalid-request"));
    expect(leds).toHaveLength(1);
  });

  it("runs Reboot through the command handler, which may refuse with a reason", async () => {
    await sim.sendCommand(id, "Reboot");
    await until(() => commands.length === 1);
    expect(warnings.filter((w) => w.code === "command-refused")).toEqual([]);
    refuse = true;
    await sim.sendCommand(id, "Reboot");
    await until(() => warnings.some((w) => w.code === "command-refused"));
    expect(warnings.find((w) => w.code === "command-refused")!.message).toBe("Reboot refused: an update is being written");
  });

  it("opens a remote terminal session: Connecting, then Connected as the hook says, unset when it ends", async () => {
    const token = "tok-1";
    await sim.sendObject(id, EDGEHOG.ForwarderSessionRequest, "/request", { session_token: token, host: "forwarder.example", port: 4000, secure: true });
    await until(() => sessions.length === 1);
    expect(sessions[0]!.request).toEqual({ sessionToken: token, host: "forwarder.example", port: 4000, secure: true });
    expect(await sim.waitForProperty(id, EDGEHOG.ForwarderSessionState, `/${token}/status`, "Connecting")).toBe("Connecting");
    await sessions[0]!.session.connected();
    expect(await sim.waitForProperty(id, EDGEHOG.ForwarderSessionState, `/${token}/status`, "Connected")).toBe("Connected");
    expect(d.edgehog.forwarderSessions()).toEqual({ [token]: "Connected" });
    await sessions[0]!.session.disconnected();
    await until(() => !sim.device(id).properties.has(`${EDGEHOG.ForwarderSessionState}/${token}/status`));
    // Reports after the end change nothing.
    await sessions[0]!.session.connected();
    expect(d.edgehog.forwarderSessions()).toEqual({ [token]: "Disconnected" });
  });

  it("refuses a malformed session request with a warning", async () => {
    await sim.sendObject(id, EDGEHOG.ForwarderSessionRequest, "/request", { session_token: "a", host: "h", port: 70000, secure: true });
    await until(() => warnings.some((w) => w.code === "invalid-request" && w.message.includes("port 70000")));
    expect(sessions).toHaveLength(1);
  });
});

describe("remote terminal across a restart", () => {
  it("clears a session state the previous run left (edgehog-device-runtime#346)", async () => {
    const id = randomDeviceId();
    const store = storeDir();
    let session: ForwarderSession | undefined;
    const first = await start(id, { forwarder: (_r, s) => void (session = s) }, { store });
    await sim.waitForHandshake(id);
    await sim.sendObject(id, EDGEHOG.ForwarderSessionRequest, "/request", { session_token: "stale", host: "h", port: 1, secure: false });
    await until(() => session !== undefined);
    await session!.connected();
    await sim.waitForProperty(id, EDGEHOG.ForwarderSessionState, "/stale/status", "Connected");
    await first.d.end({ force: true }); // a crash: nothing is reported

    expect(sim.device(id).properties.get(`${EDGEHOG.ForwarderSessionState}/stale/status`)).toBe("Connected");
    const second = await start(id, { forwarder: () => undefined }, { store });
    await until(() => !sim.device(id).properties.has(`${EDGEHOG.ForwarderSessionState}/stale/status`));
    expect(second.d.edgehog.forwarderSessions()).toEqual({});
  });
});

describe("failures stay inside the device", () => {
  it("a provider that throws or returns wrong values gives telemetry-failed warnings, and the others still send", async () => {
    const id = randomDeviceId();
    const { warnings } = await start(id, {
      systemStatus: false,
      storageUsage: false,
      battery: () => {
        throw new Error("no battery gauge");
      },
      geolocation: () => [{ id: "gps", latitude: "north" as unknown as number, longitude: 7 }],
      wifi: () => "none" as unknown as [],
      cellular: () => [{ id: "modem/0" }],
    });
    await until(() => warnings.filter((w) => w.code === "telemetry-failed").length === 4);
    const messages = warnings.map((w) => w.message).sort();
    expect(messages[0]).toContain("no battery gauge");
    expect(messages.join("\n")).toMatch(/Geolocation.*latitude/);
    expect(messages.join("\n")).toContain("wifi provider must return an array");
    expect(messages.join("\n")).toContain("modem/0");
  });

  it("refuses a malformed edgehog option before connecting, naming the field", async () => {
    const bad: unknown[] = [
      "yes",
      { systemStatus: "on" },
      { leds: true },
      { telemetry: { "com.acme.Other": {} } },
      { telemetry: { [SYSTEM_STATUS]: { periodSeconds: 0 } } },
      { storageUsage: { paths: { "a/b": "/" } } },
      { ledz: () => undefined },
    ];
    for (const edgehog of bad) {
      await expect(connectDevice({ realm: "acme", deviceId: randomDeviceId(), url: broker.url, edgehog: edgehog as DeviceOptions["edgehog"] })).rejects.toBeInstanceOf(OptionsError);
    }
  });
});

describe("the README's Edgehog snippet", () => {
  it("runs as written: capabilities, telemetry settings, storage labels, battery, LED, command refusal and a terminal session", async () => {
    const realm = "acme";
    const deviceId = randomDeviceId();
    const url = broker.url;
    const tls = undefined;
    const store = storeDir();
    const gauge = { level: async () => 64 };
    const blinks: unknown[] = [];
    const statusLed = { blink: (...args: unknown[]) => void blinks.push(args) };
    let reboots = 0;
    const scheduleReboot = () => void reboots++;
    const otaRunning = false;
    const terminal = new EventEmitter();
    const openTerminal = async (_o: { host: string; port: number; secure: boolean; sessionToken: string }) => terminal;
    // As the README shows it:
    const device = await connectDevice({
      realm, deviceId, url, tls, store,
      edgehog: {
        info: { serialNumber: "GW-0042", partNumber: "SECO-GW-1", baseImage: { name: "gw-os", version: "1.9.0" } },
        storageUsage: { paths: { root: "/", data: "/var" } },
        telemetry: { "io.edgehog.devicemanager.SystemStatus": { periodSeconds: 300 } }, // until the server says otherwise
        battery: async () => [{ slot: "main", levelPercentage: await gauge.level(), levelAbsoluteError: 1, status: "Discharging" }],
        leds: ({ ledId, pattern, durationMs }) => statusLed.blink(ledId, pattern, durationMs),
        commands: (command) => (otaRunning ? { refuse: "an update is being written" } : scheduleReboot()),
        forwarder: async ({ host, port, secure, sessionToken }, session) => {
          const terminal = await openTerminal({ host, port, secure, sessionToken }); // your terminal bridge
          await session.connected();
          terminal.on("close", () => session.disconnected());
        },
      },
    });
    cleanup.push(() => device.end({ force: true }));
    expect(device.edgehog.capabilities()).toEqual(expect.arrayContaining(["base_image", "battery_status", "commands", "led_behaviors", "remote_terminal", "storage", "system_status", "telemetry_config"]));
    expect(device.edgehog.telemetry()["io.edgehog.devicemanager.SystemStatus"]).toEqual({ enabled: true, periodSeconds: 300, source: "device" });

    expect(await sim.waitForProperty(deviceId, EDGEHOG.SystemInfo, "/serialNumber")).toBe("GW-0042");
    await sim.waitForData(deviceId, EDGEHOG.StorageUsage, "/root");
    await sim.waitForData(deviceId, EDGEHOG.StorageUsage, "/data");
    expect((await sim.waitForData(deviceId, EDGEHOG.BatteryStatus, "/main")).value).toEqual({ levelPercentage: 64, levelAbsoluteError: 1, status: "Discharging" });
    await sim.sendData(deviceId, EDGEHOG.LedBehavior, "/power/behavior", "SlowBlink60Seconds");
    await until(() => blinks.length === 1);
    expect(blinks[0]).toEqual(["power", { repetitions: 1, onMs: 2000, offMs: 2000, pauseMs: 0 }, 60_000]);
    await sim.sendCommand(deviceId, "Reboot");
    await until(() => reboots === 1);
    await sim.sendObject(deviceId, EDGEHOG.ForwarderSessionRequest, "/request", { session_token: "s1", host: "fw.example", port: 443, secure: true });
    await sim.waitForProperty(deviceId, EDGEHOG.ForwarderSessionState, "/s1/status", "Connected");
    terminal.emit("close");
    await until(() => !sim.device(deviceId).properties.has(`${EDGEHOG.ForwarderSessionState}/s1/status`));
  });
});
