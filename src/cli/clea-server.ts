/**
 * `edgemq clea server`: plays the Astarte side of one realm with AstarteSimulator. It prints what devices do
 * (introspection, handshake steps, data, property changes, rule violations) and runs server commands read from stdin
 * (data, properties, purges, OTA requests, Edgehog commands) until SIGINT/SIGTERM.
 */
import { AstarteSimulator, loadInterfaces, type CleaValue, type Interface, type SimulatedDevice } from "edgemq/clea";
import type { Io } from "./io.js";
import { STOPPED } from "./signals.js";
import { COMMON_FLAGS, clientOptions, UsageError, type FlagSpec } from "./options.js";
import { failureLine, reportConnection } from "./output.js";
import { runCommand } from "./command.js";
import { individualValue, jsonText, objectFields, parseJsonValue, ValueError } from "./clea-server-values.js";

const CONNECTION_FLAGS = ["host", "port", "url", "id", "keepalive", "username", "password", "cafile", "cert", "key", "insecure", "disable-clean-session", "debug", "help"] as const;

const SERVER_FLAGS: Record<string, FlagSpec> = {
  ...Object.fromEntries(CONNECTION_FLAGS.map((k) => [k, COMMON_FLAGS[k]])),
  realm: { type: "string" },
  interfaces: { type: "string", multiple: true },
  edgehog: { type: "boolean" },
  json: { type: "boolean" },
  "until-stdin-ends": { type: "boolean" },
};

/** The commands read from stdin (also printed by the `help` command). */
export const SERVER_COMMANDS = `commands (stdin, one per line; words separated by spaces; empty lines and lines starting with # are skipped):
  data DEVICE INTERFACE PATH VALUE   send on a server-owned datastream (an object interface: VALUE is a JSON object)
  set DEVICE INTERFACE PATH VALUE    set a server-owned property (remembered for the purge and emptyCache answers)
  unset DEVICE INTERFACE PATH        unset a server-owned property (its mapping must allow_unset)
  purge DEVICE [ENTRY ...]           send the consumer purge: ENTRY is INTERFACE/PATH, default every property set
  ota DEVICE UUID URL                send an Edgehog OTA update request
  ota-cancel DEVICE UUID             send an Edgehog OTA cancel request
  command DEVICE NAME                send an Edgehog command, e.g. Reboot
  devices                            list the devices seen, with their handshake state
  help                               this list
VALUE is JSON and is the rest of the line (it may contain spaces): 21.5, 7, true, "text", [1,2,3],
{"temp":21.5,"hum":40}. By mapping type: longinteger takes a number or, beyond 2^53, its digits (bare or as
a string); datetime takes ISO 8601 text ("2026-11-25T10:00:00Z") or milliseconds; binaryblob takes
{"base64":"AAEC"}. A bad line prints one "edgemq: line N: ..." error on stderr; the server keeps running.`;

/** Help text of `edgemq clea server`. */
export const SERVER_HELP = `usage: edgemq clea server --realm REALM [--interfaces PATH ...] [--edgehog] [flags]

Plays the Astarte side of REALM over the broker with AstarteSimulator: subscribes to REALM/+ and REALM/+/#,
checks what devices publish, prints it, answers emptyCache as Astarte does, and sends what stdin asks for.
Runs until SIGINT or SIGTERM; the end of stdin does not stop it (so it runs under a pipe or with stdin
closed) unless --until-stdin-ends is given. Then it disconnects and exits 0.

server:
  --realm REALM           the realm (required)
  --interfaces PATH       an interface .json file or a directory of them (repeatable)
  --edgehog               also know the bundled Edgehog interfaces (OTA, Commands, SystemInfo, ...)
  --until-stdin-ends      exit once stdin ends (after its last command)
output (stdout, one line each):
  DEVICE introspection NAME:MAJOR:MINOR;...          a device's introspection, when it arrives
  DEVICE handshake STEP                              capabilities, emptyCache, producerPurge (N properties), complete
  DEVICE INTERFACE PATH VALUE                        a datastream value or a device property set (VALUE as JSON)
  DEVICE INTERFACE PATH unset|purged                 a device property unset, or dropped by the producer purge
  DEVICE violation RULE TOPIC: DETAIL                a rule the device broke (AstarteSimulator's rule names)
  DEVICE sent COMMAND ...                            a stdin command done
  --json                  instead, one JSON object per line with "event": introspection, handshake, data,
                          property, violation, sent, device (bigints as number literals, dates as ISO text,
                          bytes as {"base64":"..."})
${SERVER_COMMANDS}
connection:
  -h HOST                 broker host (default 127.0.0.1); help is --help only
  -p PORT                 broker port (default 1883)
  -u, --url URL           broker URL, overrides -h/-p: mqtt:// mqtts:// ws:// wss://
  -i ID                   client id (default: astarte-simulator-<random>)
  -k SECONDS              keepalive (default 30; 0 disables)
  -c, --disable-clean-session
                          persistent session (clean false; needs -i): messages sent while it was away are kept
  --username NAME, --password SECRET
  --cafile FILE, --cert FILE, --key FILE
                          TLS: CA certificates, client certificate and key (PEM files)
  --insecure              do not verify the broker's certificate
  -d, --debug             report progress (connected, reconnecting) on stderr
  --help                  this text

exit codes: 0 stopped, 1 usage error (flags, interface files), 2 connection failure`;

type Out = (plain: string, fields: Record<string, unknown>) => void;

/** Runs `edgemq clea server args`; resolves with the exit code. */
export function cleaServer(args: string[], io: Io): Promise<number> {
  return runCommand(args, io, { name: "clea server", flags: SERVER_FLAGS, help: SERVER_HELP, phase: "connection failed" }, async (cmd) => {
    const { values } = cmd;
    const stop = cmd.stopOnSignals();
    const realm = values.realm as string | undefined;
    if (realm === undefined) throw new UsageError("missing --realm");
    if (!/^[^/+#\s]+$/.test(realm)) throw new UsageError(`invalid --realm ${JSON.stringify(realm)}: one topic level, no + or #`);
    const options = clientOptions(values);
    const sources = (values.interfaces as string[] | undefined) ?? [];
    let interfaces: Interface[];
    try {
      interfaces = await loadInterfaces(sources);
    } catch (err) {
      throw new UsageError(`cannot load --interfaces: ${(err as Error).message.replace(/\s*\n\s*/g, " ")}`);
    }
    const json = values.json === true;
    const out: Out = (plain, fields) => io.stdout.write(`${json ? jsonText(fields) : plain}\n`);

    const sim = new AstarteSimulator({ ...options, realm, interfaces, edgehog: values.edgehog === true });
    const letGo = cmd.atEnd(() => sim.client.end({ force: true }));
    if (values.debug === true) reportConnection(sim.client, options.url, io);
    const started = sim.start();
    started.catch(() => undefined); // awaited below unless a signal came first
    if ((await Promise.race([started, stop.signalled])) === STOPPED) return 0;
    watch(sim, out);
    io.stderr.write(`edgemq: serving realm ${realm} on ${options.url} (${sim.interfaces.size} interfaces); type "help" for commands\n`);

    cmd.phase = "server failed";
    const input = readLines(io.stdin, (line, n) => runLine(sim, line, n, out, io));
    const ended = input.then(() => STDIN_ENDED);
    if (values["until-stdin-ends"] === true) await Promise.race([ended, stop.signalled]);
    else await stop.signalled;
    (io.stdin as { destroy?: () => void }).destroy?.(); // stop reading, so that the process can end
    await input.catch(() => undefined);

    cmd.phase = "disconnect failed";
    letGo();
    await sim.stop();
    return 0;
  });
}

/** Reads `stdin` line by line, running `each` (awaited, in order) on every line; resolves when stdin ends. */
async function readLines(stdin: Io["stdin"], each: (line: string, n: number) => Promise<void>): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  let n = 0;
  const take = async (final: boolean) => {
    const lines = buffered.split("\n");
    buffered = final ? "" : lines.pop()!;
    for (const line of lines) {
      n++;
      await each(line.replace(/\r$/, ""), n);
    }
  };
  try {
    for await (const chunk of stdin) {
      buffered += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      await take(false);
    }
  } catch {
    // stdin destroyed while stopping, or unreadable: no more commands
  }
  buffered += decoder.decode();
  await take(true);
}

// --- what devices do ---

interface Shadow {
  properties: Map<string, string>;
}

/** Prints what each device message changed in the simulator's state (its "message" event comes after the change). */
function watch(sim: AstarteSimulator, out: Out): void {
  const shadows = new Map<string, Shadow>();
  sim.on("message", ({ deviceId, topic: suffix, kind, violations: fresh }) => {
    for (const v of fresh) out(`${v.deviceId} violation ${v.rule} ${v.topic}: ${v.detail}`, { event: "violation", ...v });
    const device = sim.devices.get(deviceId);
    if (!device) return;
    let shadow = shadows.get(deviceId);
    if (!shadow) shadows.set(deviceId, (shadow = { properties: new Map() }));
    const rejected = fresh.some((v) => v.rule !== "wrong-qos");
    const step = (name: string, plain: string, extra: Record<string, unknown> = {}) =>
      out(`${deviceId} handshake ${plain}`, { event: "handshake", deviceId, step: name, ...extra });

    if (suffix === "") {
      if (!rejected) out(`${deviceId} introspection ${device.introspectionString()}`, { event: "introspection", deviceId, introspection: device.introspectionString() });
    } else if (suffix === "/capabilities") {
      const format = device.capabilities?.purgePropertiesCompressionFormat;
      if (!rejected) step("capabilities", `capabilities purge_properties_compression_format=${format}`, { purgePropertiesCompressionFormat: format });
    } else if (suffix === "/control/emptyCache") {
      step("emptyCache", "emptyCache");
    } else if (suffix === "/control/producer/properties") {
      if (rejected) return;
      const list = device.producerPurge ?? [];
      step("producerPurge", `producerPurge (${list.length} ${list.length === 1 ? "property" : "properties"})`, { properties: list });
      propertyChanges(sim, device, shadow, out, "purged");
      if (device.handshakeComplete) step("complete", "complete");
    } else if (!suffix.startsWith("/control/")) {
      // A datastream message the simulator took is the newest entry of its data.
      const e = kind === "data" ? device.data.at(-1) : undefined;
      if (e) out(`${deviceId} ${e.interface} ${e.path} ${jsonText(e.value)}`, { event: "data", deviceId, interface: e.interface, path: e.path, value: e.value, timestamp: e.timestamp, qos: e.qos });
      const printed = propertyChanges(sim, device, shadow, out, "unset");
      // A property sent again with the same value (a new session's handshake) is printed too.
      const key = suffix.slice(1);
      const name = interfaceOf(sim, key);
      const iface = name === undefined ? undefined : sim.interfaces.get(name);
      if (!rejected && !printed.has(key) && iface?.type === "properties" && iface.ownership === "device" && device.introspection.has(iface.name)) {
        printProperty(out, deviceId, iface.name, key.slice(iface.name.length), device.properties.get(key), "unset");
      }
    }
  });
}

/** Prints the device properties that differ from `shadow` (and updates it); returns the keys printed. */
function propertyChanges(sim: AstarteSimulator, device: SimulatedDevice, shadow: Shadow, out: Out, removed: "unset" | "purged"): Set<string> {
  const printed = new Set<string>();
  for (const [key, value] of device.properties) {
    const text = jsonText(value);
    if (shadow.properties.get(key) === text) continue;
    shadow.properties.set(key, text);
    const name = interfaceOf(sim, key) ?? key.slice(0, key.indexOf("/"));
    printProperty(out, device.deviceId, name, key.slice(name.length), value, removed);
    printed.add(key);
  }
  for (const key of [...shadow.properties.keys()]) {
    if (device.properties.has(key)) continue;
    shadow.properties.delete(key);
    const name = interfaceOf(sim, key) ?? key.slice(0, key.indexOf("/"));
    printProperty(out, device.deviceId, name, key.slice(name.length), undefined, removed);
    printed.add(key);
  }
  return printed;
}

/** Prints one device property: its value, or `removed` when it is no longer set. */
function printProperty(out: Out, deviceId: string, name: string, path: string, value: CleaValue | undefined, removed: "unset" | "purged"): void {
  if (value === undefined) out(`${deviceId} ${name} ${path} ${removed}`, { event: "property", deviceId, interface: name, path, [removed]: true });
  else out(`${deviceId} ${name} ${path} ${jsonText(value)}`, { event: "property", deviceId, interface: name, path, value });
}

/** The longest known interface name that `key` (`<interface>/<path>`) starts with. */
function interfaceOf(sim: AstarteSimulator, key: string): string | undefined {
  let best: string | undefined;
  for (const name of sim.interfaces.keys()) if (key.startsWith(`${name}/`) && (best === undefined || name.length > best.length)) best = name;
  return best;
}

// --- stdin commands ---

/** The first `n` words of `text` and the rest (trimmed); throws when fewer than `n` words. */
function words(text: string, n: number, usage: string): [string[], string] {
  const out: string[] = [];
  let rest = text.trimStart();
  while (out.length < n) {
    const m = /^(\S+)\s*/.exec(rest);
    if (!m) throw new ValueError(`usage: ${usage}`);
    out.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  return [out, rest.trim()];
}

/** A DEVICE argument: one topic level. */
function deviceArg(id: string): string {
  if (/[/+#]/.test(id)) throw new ValueError(`invalid DEVICE ${JSON.stringify(id)}: no /, + or #`);
  return id;
}

/** Runs one stdin line; a failure prints one error line and does not stop the server. */
async function runLine(sim: AstarteSimulator, line: string, n: number, out: Out, io: Io): Promise<void> {
  const trimmed = line.trim();
  if (trimmed === "" || trimmed.startsWith("#")) return;
  const [[command], args] = words(trimmed, 1, "COMMAND ...");
  try {
    await execute(sim, command!, args, out, io);
  } catch (err) {
    io.stderr.write(failureLine(`line ${n} (${command})`, err));
  }
}

/** Runs one command; throws on a bad line or a refused send. */
async function execute(sim: AstarteSimulator, command: string, args: string, out: Out, io: Io): Promise<void> {
  const sent = (deviceId: string, plain: string, fields: Record<string, unknown>) => out(`${deviceId} sent ${command} ${plain}`, { event: "sent", command, deviceId, ...fields });
  switch (command) {
    case "help":
      io.stdout.write(`${SERVER_COMMANDS}\n`);
      return;
    case "devices": {
      if (args !== "") throw new ValueError("usage: devices");
      for (const d of sim.devices.values()) listDevice(sim, d, out);
      if (sim.devices.size === 0) out("no devices", { event: "devices", count: 0 });
      return;
    }
    case "data":
    case "set": {
      const [[id, name, path], text] = words(args, 3, `${command} DEVICE INTERFACE PATH VALUE`);
      const deviceId = deviceArg(id!);
      const raw = parseJsonValue(text);
      const iface = sim.interfaces.get(name!);
      let value: unknown;
      if (command === "set") {
        value = individualValue(iface, path!, raw);
        await sim.setProperty(deviceId, name!, path!, value as CleaValue);
      } else if (iface?.aggregation === "object") {
        value = objectFields(iface, path!, raw);
        await sim.sendObject(deviceId, name!, path!, value as Record<string, unknown>);
      } else {
        value = individualValue(iface, path!, raw);
        await sim.sendData(deviceId, name!, path!, value);
      }
      sent(deviceId, `${name} ${path} ${jsonText(value)}`, { interface: name, path, value });
      return;
    }
    case "unset": {
      const [[id, name, path], extra] = words(args, 3, "unset DEVICE INTERFACE PATH");
      if (extra !== "") throw new ValueError("usage: unset DEVICE INTERFACE PATH");
      const deviceId = deviceArg(id!);
      await sim.unsetProperty(deviceId, name!, path!);
      sent(deviceId, `${name} ${path}`, { interface: name, path });
      return;
    }
    case "purge": {
      const [[id], rest] = words(args, 1, "purge DEVICE [ENTRY ...]");
      const deviceId = deviceArg(id!);
      const entries = rest === "" ? undefined : rest.split(/\s+/);
      await sim.sendConsumerPurge(deviceId, entries);
      const list = [...sim.device(deviceId).serverProperties.keys()];
      sent(deviceId, list.length > 0 ? list.join(";") : "(no properties)", { properties: list });
      return;
    }
    case "ota":
    case "ota-cancel": {
      const cancel = command === "ota-cancel";
      const usage = cancel ? "ota-cancel DEVICE UUID" : "ota DEVICE UUID URL";
      const [[id, uuid, url], extra] = words(args, cancel ? 2 : 3, usage);
      if (extra !== "") throw new ValueError(`usage: ${usage}`);
      const deviceId = deviceArg(id!);
      await sim.requestOta(deviceId, cancel ? { uuid: uuid!, operation: "Cancel" } : { uuid: uuid!, url: url! });
      sent(deviceId, cancel ? uuid! : `${uuid} ${url}`, { uuid, ...(cancel ? { operation: "Cancel" } : { url, operation: "Update" }) });
      return;
    }
    case "command": {
      const [[id, name], extra] = words(args, 2, "command DEVICE NAME");
      if (extra !== "") throw new ValueError("usage: command DEVICE NAME");
      const deviceId = deviceArg(id!);
      await sim.sendCommand(deviceId, name!);
      sent(deviceId, name!, { name });
      return;
    }
    default:
      throw new ValueError(`unknown command ${JSON.stringify(command)} (type "help")`);
  }
}

/** Prints one line of the `devices` list. */
function listDevice(sim: AstarteSimulator, d: SimulatedDevice, out: Out): void {
  const steps = Object.entries(d.handshake).filter(([, v]) => v).map(([k]) => k);
  const state = d.handshakeComplete ? "complete" : steps.length > 0 ? steps.join(",") : "none";
  const violations = sim.violations.filter((v) => v.deviceId === d.deviceId).length;
  out(`${d.deviceId} handshake:${state} interfaces:${d.introspection.size} data:${d.data.length} properties:${d.properties.size} violations:${violations}`, {
    event: "device",
    deviceId: d.deviceId,
    handshake: { ...d.handshake },
    handshakeComplete: d.handshakeComplete,
    introspection: d.introspectionString(),
    data: d.data.length,
    properties: d.properties.size,
    violations,
  });
}

/** What the stdin loop resolves with when stdin ended (with --until-stdin-ends). */
const STDIN_ENDED = Symbol("stdin ended");

