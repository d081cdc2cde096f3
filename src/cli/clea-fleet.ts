/**
 * `edgemq clea fleet -n N`: N simulated Clea devices in one process, connected at -R per second, each sending
 * generated data at --rate per second; a progress line on a terminal, then a table (or --json) like bench's.
 */
import { connectDevice, deviceIdFromUuid, loadInterfaces, type Device, type DeviceOptions, type Interface } from "edgemq/clea";
import type { Io } from "./io.js";
import { parseCount, UsageError, type FlagSpec } from "./options.js";
import { failureLine } from "./output.js";
import { runCommand } from "./command.js";
import { formatRows, kb, ms, percentiles, progressLine, type Percentiles } from "./bench-report.js";
import { CLEA_CONNECTION_FLAGS, CLEA_CONNECTION_HELP, connectionOptions, Stopper } from "./clea-common.js";
import { generators, type Generated } from "./clea-values.js";
import { FLEET_INTERFACE, FLEET_NAMESPACE } from "./clea-fleet-interface.js";

const FLEET_FLAGS = {
  ...CLEA_CONNECTION_FLAGS,
  devices: { type: "string", short: "n" },
  realm: { type: "string" },
  interfaces: { type: "string", multiple: true },
  "id-prefix": { type: "string" },
  "connect-rate": { type: "string", short: "R" },
  rate: { type: "string" },
  duration: { type: "string" },
  count: { type: "string" },
  json: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

/** Help text of `edgemq clea fleet`. */
export const CLEA_FLEET_HELP = `usage: edgemq clea fleet [-n N] [flags]

Runs N simulated Clea (Astarte MQTT v1) devices in this process (memory state only). Each connects, completes the
Astarte handshake and sends generated values on every device-owned datastream, round-robin, until --count messages,
--duration seconds or Ctrl-C. A progress line goes to stderr when it is a terminal; then a table (or --json).

  -n N              devices (default 10)
  --realm REALM     the Astarte realm (default fleet)
  --interfaces PATH interface JSON file or directory (repeatable; default: the built-in com.edgemq.fleet.Telemetry
                    v1.0 with /temperature double and /counter integer, guaranteed)
  --id-prefix TEXT  device i's id is the UUIDv5 of TEXT + i in the fleet namespace, the same every run
                    (default edgemq-fleet-); two fleets at once need different prefixes
  -R N              connections opened per second (default 200; 0: all at once)
  --rate N          messages per second per device (default 1)
  --count N         messages per device, then stop
  --duration S      stop S seconds after the start (connecting included)
  --json            print the results as one JSON document instead of the table
${CLEA_CONNECTION_HELP}

exit codes: 0 every device connected and nothing failed, 1 usage error, 2 otherwise`;

/** The results of a fleet run, as printed and as --json. */
export interface FleetResult {
  devices: number;
  connected: number;
  errors: number;
  reconnects: number;
  elapsedMs: number;
  /** connectDevice() to the broker's acknowledgement of the whole handshake. */
  connectMs: Percentiles;
  messages: { sent: number; received: number; perSecond: number };
  cpuMs: number;
  heapBytes: number;
  heapPerDeviceBytes: number;
}

const HANDSHAKE_TIMEOUT_MS = 60_000;

interface Run {
  devices: number;
  realm: string;
  interfaces: Interface[];
  prefix: string;
  connectRate: number;
  rate: number;
  count: number;
  duration: number | undefined;
  json: boolean;
  options: Omit<DeviceOptions, "realm" | "deviceId">;
}

/** Runs `edgemq clea fleet args`; resolves with the exit code. */
export function cleaFleet(args: string[], io: Io): Promise<number> {
  return runCommand(args, io, { name: "clea fleet", flags: FLEET_FLAGS, help: CLEA_FLEET_HELP, phase: "fleet failed" }, async ({ values }) => {
    const str = (name: string) => values[name] as string | undefined;
    const realm = str("realm") ?? "fleet";
    if (!/^[a-z][a-z0-9]{0,47}$/.test(realm)) throw new UsageError(`--realm must be lowercase letters and digits, starting with a letter, not ${JSON.stringify(realm)}`);
    const paths = (values.interfaces as string[] | undefined) ?? [];
    const run: Run = {
      devices: parseCount(str("devices") ?? "10", "-n", 1, 1_000_000),
      realm,
      interfaces: [],
      prefix: str("id-prefix") ?? "edgemq-fleet-",
      connectRate: parseCount(str("connect-rate") ?? "200", "-R", 0, 1_000_000),
      rate: parseCount(str("rate") ?? "1", "--rate", 1, 10_000),
      count: str("count") === undefined ? Infinity : parseCount(str("count")!, "--count", 0, Number.MAX_SAFE_INTEGER),
      duration: str("duration") === undefined ? undefined : parseCount(str("duration")!, "--duration", 1, 86_400 * 365),
      json: values.json === true,
      options: connectionOptions(values),
    };
    // Parsed once and shared by every device: a device keeps only a reference.
    run.interfaces = await loadInterfaces(paths.length > 0 ? paths : [FLEET_INTERFACE]);
    if (generators(run.interfaces).length === 0) throw new UsageError("the interfaces have no device-owned datastream to send on");
    const { result, firstError } = await execute(run, io);
    if (firstError !== undefined) io.stderr.write(failureLine(`${result.errors} error(s), the first`, firstError));
    io.stdout.write(run.json ? `${JSON.stringify(result)}\n` : formatFleetTable(result));
    return result.errors === 0 && result.connected === result.devices ? 0 : 2;
  });
}

async function execute(run: Run, io: Io): Promise<{ result: FleetResult; firstError: unknown }> {
  const cpu0 = process.cpuUsage();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const c = { connected: 0, errors: 0, reconnects: 0, sent: 0, received: 0 };
  let firstError: unknown;
  const fail = (err: unknown) => {
    c.errors++;
    firstError ??= err;
  };
  const samples: number[] = [];
  const devices: Device[] = [];
  const gens = generators(run.interfaces);
  let firstSend = 0;
  let lastSend = 0;
  const stop = new Stopper();
  const durationTimer = run.duration === undefined ? undefined : setTimeout(() => stop.stop(), run.duration * 1000);
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let last = { sent: 0, at: t0 };
  const progress = tty
    ? setInterval(() => {
        const now = performance.now();
        const rate = ((c.sent - last.sent) * 1000) / Math.max(1, now - last.at);
        last = { sent: c.sent, at: now };
        io.stderr.write(`\r${progressLine({ ...c, clients: run.devices, rate })}\x1b[K`);
      }, 500)
    : undefined;

  /** One device: connect, wait for the handshake, send its messages. */
  const live = async (index: number) => {
    const began = performance.now();
    let device: Device;
    try {
      const deviceId = await deviceIdFromUuid(FLEET_NAMESPACE, `${run.prefix}${index}`);
      device = await connectDevice({ ...run.options, realm: run.realm, deviceId, interfaces: run.interfaces });
    } catch (err) {
      fail(err);
      return;
    }
    devices.push(device);
    device.client.on("reconnecting", () => c.reconnects++);
    device.on("error", fail);
    device.on("warning", () => undefined);
    device.on("disconnect", ({ reason }) => {
      if (reason) fail(reason);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), HANDSHAKE_TIMEOUT_MS)));
    const outcome = await Promise.race([device.handshakeComplete(), stop.signalled, timedOut]).finally(() => clearTimeout(timer));
    if (outcome === "timeout") fail(new Error(`device ${device.prefix}: no handshake acknowledged within ${HANDSHAKE_TIMEOUT_MS / 1000} s`));
    if (stop.stopped || outcome === "timeout") return;
    c.connected++;
    const ready = performance.now();
    samples.push(ready - began);
    for (let k = 0; k < run.count && !stop.stopped; k++) {
      const wait = ready + (k * 1000) / run.rate - performance.now();
      if (wait > 1) await stop.sleep(wait);
      if (stop.stopped) break;
      try {
        await sendGenerated(device, gens[k % gens.length]!, index + k);
        c.sent++;
        lastSend = performance.now();
        if (firstSend === 0) firstSend = lastSend;
      } catch (err) {
        fail(err);
      }
    }
  };

  let heap = 0;
  try {
    const start = performance.now();
    const running: Array<Promise<void>> = [];
    for (let i = 0; i < run.devices && !stop.stopped; i++) {
      if (run.connectRate > 0) {
        const wait = start + (i * 1000) / run.connectRate - performance.now();
        if (wait > 4) await stop.sleep(wait);
        if (stop.stopped) break;
      }
      running.push(live(i));
    }
    await Promise.all(running);
    heap = Math.max(0, process.memoryUsage().heapUsed - heap0);
    c.received = devices.reduce((n, d) => n + d.stats().received, 0);
  } finally {
    clearTimeout(durationTimer);
    stop.dispose();
    if (progress) {
      clearInterval(progress);
      io.stderr.write("\n");
    }
    await Promise.all(devices.map((d) => d.end().catch(() => d.end({ force: true }).catch(() => undefined))));
  }
  const cpu = process.cpuUsage(cpu0);
  const result: FleetResult = {
    devices: run.devices,
    connected: c.connected,
    errors: c.errors,
    reconnects: c.reconnects,
    elapsedMs: performance.now() - t0,
    connectMs: percentiles(samples),
    messages: { sent: c.sent, received: c.received, perSecond: c.sent > 1 ? (c.sent * 1000) / Math.max(1, lastSend - firstSend) : c.sent },
    cpuMs: (cpu.user + cpu.system) / 1000,
    heapBytes: heap,
    heapPerDeviceBytes: heap / run.devices,
  };
  return { result, firstError };
}

/** Sends one generated value (with the current time for explicit_timestamp mappings). */
async function sendGenerated(device: Device, g: Generated, n: number): Promise<void> {
  const options = g.timestamp ? { timestamp: new Date() } : {};
  if (g.kind === "object") await device.sendObject(g.iface.name, g.path, g.make(n) as never, options);
  else await device.send(g.iface.name, g.path, g.make(n) as never, options);
}

/** The final table of a fleet run (two columns, as bench's). */
export function formatFleetTable(r: FleetResult): string {
  const rows: Array<[string, string]> = [
    ["devices connected", `${r.connected} of ${r.devices}`],
    ["errors", String(r.errors)],
    ["reconnects", String(r.reconnects)],
    ["elapsed", ms(r.elapsedMs)],
    ["connect + handshake p50 / p99 / max", `${ms(r.connectMs.p50)} / ${ms(r.connectMs.p99)} / ${ms(r.connectMs.max)}`],
    ["messages sent / received", `${r.messages.sent} / ${r.messages.received}`],
    ["throughput", `${Math.round(r.messages.perSecond)} msg/s`],
    ["CPU", `${ms(r.cpuMs)} (${ms(r.cpuMs / Math.max(1, r.devices))} per device)`],
    ["heap", `${kb(r.heapBytes)} (${kb(r.heapPerDeviceBytes)} per device)`],
  ];
  return formatRows(rows);
}
