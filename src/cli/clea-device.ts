/**
 * `edgemq clea device`: one Clea (Astarte MQTT v1) device from flags. It sends the --send values (or generated data at
 * --rate), prints what the server sends (data, properties, Edgehog commands), and ends gracefully.
 */
import { connectDevice, EDGEHOG, edgehogInterfaces, loadInterfaces, randomDeviceId, type Device, type DeviceOptions, type Interface } from "edgemq/clea";
import type { Io } from "./io.js";
import { parseCount, UsageError, type FlagSpec } from "./options.js";
import { noPositionals, runCommand } from "./command.js";
import { CLEA_CONNECTION_FLAGS, CLEA_CONNECTION_HELP, connectionOptions, Stopper, STOPPED } from "./clea-common.js";
import { generators, jsonValue, parseSend, textValue, type Outgoing } from "./clea-values.js";

const DEVICE_FLAGS = {
  ...CLEA_CONNECTION_FLAGS,
  realm: { type: "string" },
  "device-id": { type: "string" },
  interfaces: { type: "string", multiple: true },
  store: { type: "string" },
  "pairing-url": { type: "string" },
  "credentials-secret": { type: "string" },
  edgehog: { type: "boolean" },
  send: { type: "string", multiple: true },
  rate: { type: "string" },
  count: { type: "string" },
  watch: { type: "boolean" },
  json: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

/** Help text of `edgemq clea device`. */
export const CLEA_DEVICE_HELP = `usage: edgemq clea device --realm REALM --interfaces PATH [--send "INTERFACE PATH VALUE" ...] [flags]

Runs one Clea (Astarte MQTT v1) device. It connects, completes the Astarte handshake, then:
  --send   sends each value (in order), waits for the broker's acknowledgements and exits;
  --rate   sends generated data on every device-owned datastream, round-robin, until --count or Ctrl-C;
  neither  (or --watch) stays connected until Ctrl-C/SIGTERM.
Meanwhile it prints one line per value the server sends ("INTERFACE PATH VALUE", or with --json
{"interface","path","value","timestamp"?}; an unset property is "(unset)" or null) and per Edgehog command
("command NAME", or {"command"}). Bigints print as decimal (JSON: strings), blobs as base64, datetimes as ISO 8601.

device:
  --realm REALM           the Astarte realm (required)
  --device-id ID          22-character device id (default: a random one, printed on stderr once connected);
                          an id starting with "-" must be written --device-id=ID
  --interfaces PATH       interface JSON file or directory (repeatable)
  --store DIR             durable state (default: memory only)
  --edgehog               Edgehog device management: OTA, commands, device info, SystemStatus and
                          StorageUsage telemetry, hardware and network info, server-set periods
  --pairing-url URL, --credentials-secret SECRET
                          get the client certificate from the Astarte pairing API (kept in --store), and the
                          broker URL too unless -u/-h/-p give one; --cafile names the broker's CA
sending:
  --send "INTERFACE PATH VALUE"
                          one value (repeatable; one argument, split at the first two spaces, so quote it).
                          VALUE per the mapping type: integer, double, longinteger, boolean (true/false), string
                          (the rest of the argument), binaryblob as base64, datetime as ISO 8601, arrays as JSON
                          arrays; an object interface takes a JSON object on the object's path. Properties are
                          set, datastreams sent (with the current time for explicit_timestamp mappings)
  --rate N                generated messages per second
  --count N               with --rate: stop after N messages
  --watch                 keep running (and printing) after the sends, until Ctrl-C/SIGTERM
  --json                  print received values as JSON lines
${CLEA_CONNECTION_HELP}

exit codes: 0 done (or stopped by SIGINT/SIGTERM), 1 usage error, 2 connection failure or a value refused
(PayloadError, InterfaceError: the line names the code)`;

interface Plan {
  options: DeviceOptions;
  interfaces: Interface[];
  sends: Outgoing[];
  rate: number;
  count: number;
  watch: boolean;
  json: boolean;
  debug: boolean;
  randomId: boolean;
}

/** Runs `edgemq clea device args`; resolves with the exit code. */
export function cleaDevice(args: string[], io: Io): Promise<number> {
  const positionals = noPositionals(' (quote each --send "INTERFACE PATH VALUE")');
  const spec = { name: "clea device", flags: DEVICE_FLAGS, help: CLEA_DEVICE_HELP, positionals, phase: "connection failed" };
  return runCommand(args, io, spec, async (cmd) => {
    const stop = cmd.stopOnSignals();
    cmd.phase = "invalid interfaces";
    const plan = await makePlan(cmd.values);

    cmd.phase = "connection failed";
    const connecting = connectDevice(plan.options);
    const device = await Promise.race([connecting, stop.signalled]);
    if (device === STOPPED) {
      void connecting.then((d) => d.end({ force: true }), () => undefined);
      return 0;
    }
    const letGo = cmd.atEnd(() => device.end({ force: true }));
    // Said once connected, so that a failure stays one line.
    if (plan.randomId) io.stderr.write(`edgemq: device id ${plan.options.deviceId}\n`);
    if (plan.debug) io.stderr.write(`edgemq: connected as ${device.prefix}\n`);
    const printing = watch(device, plan.json, io);
    if ((await Promise.race([device.handshakeComplete(), stop.signalled])) === STOPPED) return await finish(device, printing);
    if (plan.debug) io.stderr.write("edgemq: handshake complete\n");

    cmd.phase = "send failed";
    for (const s of plan.sends) {
      if (stop.stopped) break;
      await sendOne(device, s);
    }
    if (plan.rate > 0) await generate(device, plan, stop);
    if (plan.watch || (plan.sends.length === 0 && plan.rate === 0)) await stop.signalled;
    cmd.phase = "disconnect failed";
    letGo();
    return await finish(device, printing);
  });
}

/** Ends the device gracefully and lets the printing loop drain; exit code 0. */
async function finish(device: Device, printing: Promise<void>): Promise<number> {
  await device.end();
  await printing;
  return 0;
}

async function makePlan(values: Record<string, unknown>): Promise<Plan> {
  const str = (name: string) => values[name] as string | undefined;
  const realm = str("realm");
  if (realm === undefined) throw new UsageError("missing --realm");
  const conn = connectionOptions(values as Parameters<typeof connectionOptions>[0]);
  const url = str("pairing-url");
  const secret = str("credentials-secret");
  if ((url === undefined) !== (secret === undefined)) throw new UsageError("--pairing-url and --credentials-secret go together");
  const rate = str("rate") === undefined ? 0 : parseCount(str("rate")!, "--rate", 1, 100_000);
  if (str("count") !== undefined && rate === 0) throw new UsageError("--count needs --rate");
  const count = str("count") === undefined ? Infinity : parseCount(str("count")!, "--count", 1, Number.MAX_SAFE_INTEGER);
  const edgehog = values.edgehog === true;
  const interfaces = await loadInterfaces((values.interfaces as string[] | undefined) ?? []);
  const known = edgehog ? [...interfaces, ...edgehogInterfaces().filter((e) => !interfaces.some((i) => i.name === e.name))] : interfaces;
  const sends = ((values.send as string[] | undefined) ?? []).map((s) => parseSend(s, known));
  if (rate > 0 && generators(interfaces).length === 0) throw new UsageError("--rate needs an interface with a device-owned datastream");
  const deviceId = str("device-id") ?? randomDeviceId();
  const options: DeviceOptions = { ...conn, realm, deviceId, interfaces };
  if (str("store") !== undefined) options.store = str("store");
  if (edgehog) options.edgehog = true;
  if (url !== undefined) {
    options.pairing = { url, credentialsSecret: secret! };
    // Without -u/-h/-p the broker URL comes from the pairing API (not the default 127.0.0.1:1883).
    if (values.url === undefined && values.host === undefined && values.port === undefined) delete options.url;
  }
  return { options, interfaces, sends, rate, count, watch: values.watch === true, json: values.json === true, debug: values.debug === true, randomId: str("device-id") === undefined };
}

/** Sends one --send value and waits for its acknowledgement. */
async function sendOne(device: Device, s: Outgoing): Promise<void> {
  const options = s.timestamp ? { timestamp: new Date() } : {};
  if (s.kind === "property") await device.setProperty(s.iface.name, s.path, s.value as never);
  else if (s.kind === "object") await device.sendObject(s.iface.name, s.path, s.value as never, options);
  else await device.send(s.iface.name, s.path, s.value as never, options);
}

/** Sends generated data at plan.rate per second, round-robin over the device-owned datastreams, until plan.count or a signal. */
async function generate(device: Device, plan: Plan, stop: Stopper): Promise<void> {
  const gens = generators(plan.interfaces);
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  const start = performance.now();
  for (let n = 0; n < plan.count && !stop.stopped && failure === undefined; n++) {
    const wait = start + (n * 1000) / plan.rate - performance.now();
    if (wait > 1) await stop.sleep(wait);
    if (stop.stopped) break;
    const g = gens[n % gens.length]!;
    const p = sendOne(device, { kind: g.kind, iface: g.iface, path: g.path, value: g.make(n), timestamp: g.timestamp }).catch((err: unknown) => {
      failure ??= err;
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
    if (pending.size >= 1000) await Promise.race(pending);
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
}

/** Prints server data, Edgehog commands and refused server messages until the device ends. */
function watch(device: Device, json: boolean, io: Io): Promise<void> {
  device.on("error", (err) => io.stderr.write(`edgemq: refused a server message${(err as { code?: string }).code ? ` [${(err as { code?: string }).code}]` : ""}: ${err.message}\n`));
  return (async () => {
    for await (const ev of device.events()) {
      // An Edgehog command (the device's "command" event) comes in this stream too: printed once, in order.
      if (ev.interface === EDGEHOG.Commands && typeof ev.value === "string") {
        io.stdout.write(json ? `${JSON.stringify({ command: ev.value })}\n` : `command ${ev.value}\n`);
      } else if (json) {
        const line: Record<string, unknown> = { interface: ev.interface, path: ev.path, value: ev.value === undefined ? null : jsonValue(ev.value) };
        if (ev.timestamp) line.timestamp = ev.timestamp.toISOString();
        io.stdout.write(`${JSON.stringify(line)}\n`);
      } else {
        io.stdout.write(`${ev.interface} ${ev.path} ${textValue(ev.value)}\n`);
      }
    }
  })();
}
