/**
 * AstarteSimulator: plays Astarte's side of the MQTT v1 protocol for one realm over any MQTT broker, for device tests.
 * It connects as an ordinary client, subscribes to everything devices of the realm publish, decodes it with the
 * interfaces it knows, records what the Astarte broker would punish, and publishes what the server would send.
 */

import { createClient, Emitter, type Client, type ClientOptions, type Message } from "../../index.js";
import { EDGEHOG, edgehogInterfaces } from "../edgehog/interfaces.js";
import type { Interface } from "../interface.js";
import { loadInterfaces, type InterfaceSource } from "../interface-loader.js";
import type { OtaEventFields } from "../ota.js";
import type { CleaValue } from "../values.js";
import { handleDeviceMessage, type DecodeContext, type DeviceMessageKind } from "./decode.js";
import { MAX_LOGGED_MESSAGES, SimulatedDevice, type SimulatedData } from "./device-state.js";
import { consumerPurgeMessage, individualMessage, objectMessage, serverInterface, unsetMessage, type ServerMessage } from "./encode.js";
import { sameValue } from "./values.js";
import type { Violation, ViolationRule } from "./violations.js";
import { Waiters } from "./waiters.js";

export {
  SimulatedDevice,
  type DeviceMessageKind,
  type IntrospectionEntry,
  type SimulatedCapabilities,
  type SimulatedData,
  type SimulatedHandshake,
  type SimulatedMessage,
} from "./device-state.js";

/** What the simulator's "message" event carries: one device message, after the simulator took it into its state. */
export interface SimulatorMessageEvent {
  /** The device that published it. */
  deviceId: string;
  /** The topic after `<realm>/<deviceId>` ("" for the introspection). */
  topic: string;
  /** What it was ("violation" when it broke a rule). */
  kind: DeviceMessageKind;
  /** The QoS it was published with. */
  qos: 0 | 1 | 2;
  /** The violations it caused (already in `violations`). */
  violations: Violation[];
}

/** Events of AstarteSimulator. */
export interface SimulatorEvents {
  /** A device message was taken into the simulator's state (its own echoes are not reported). */
  message: SimulatorMessageEvent;
}
export type { Violation, ViolationRule } from "./violations.js";

/** Options of AstarteSimulator: the realm, the interfaces it knows, plus any core client option (url, tls, ...). */
export interface AstarteSimulatorOptions extends ClientOptions {
  /** The Astarte realm: the simulator subscribes to `<realm>/+` and `<realm>/+/#`. */
  realm: string;
  /** Interfaces the simulator knows (by name and major): JSON files, directories of them, or parsed objects. */
  interfaces?: InterfaceSource[];
  /** Also know the bundled Edgehog interfaces (OTARequest, OTAEvent, Commands, SystemInfo, ...). Default false. */
  edgehog?: boolean;
  /** Default timeout of the waitFor*() helpers, in milliseconds. Default 5,000. */
  timeout?: number;
  /** Largest payload a device may publish (the broker's max_message_size). Default 65,535. */
  maxMessageSize?: number;
  /**
   * Answer a device's emptyCache as Astarte does: send the consumer purge, then every server-owned property the
   * simulator set for the device. Default true.
   */
  respondToEmptyCache?: boolean;
}

/** Options of the waitFor*() helpers. */
export interface WaitOptions {
  /** Milliseconds before the wait rejects. Default: the simulator's `timeout` (5,000). */
  timeout?: number;
}

/** Options of waitForViolation(). */
export interface WaitForViolationOptions extends WaitOptions {
  /** Only a violation by this device. */
  deviceId?: string;
}

/** Options of sendData() and sendObject(). */
export interface ServerSendOptions {
  /** Sent as `t` (the server normally sends none). */
  timestamp?: Date;
}

/** An Edgehog OTA request (io.edgehog.devicemanager.OTARequest `/request`). */
export interface OtaRequestOptions {
  /** The request id (a UUID). */
  uuid: string;
  /** The image URL (may be left out for a Cancel). */
  url?: string;
  /** "Update" (default) or "Cancel". */
  operation?: "Update" | "Cancel";
}

const SIM_KEYS = new Set(["realm", "interfaces", "edgehog", "timeout", "maxMessageSize", "respondToEmptyCache"]);

/**
 * An Astarte server simulator for one realm. Devices are tracked by id (`device(id)`); rule violations go to
 * `violations`; server data, properties, purges, OTA requests and commands are published with `send*`, `setProperty`,
 * `requestOta` and `sendCommand`. The simulator's own publications come back through its subscription and are
 * recognised (same topic and bytes) and skipped, so a device publishing exactly the same bytes on the same topic
 * right after the simulator is not seen.
 * @example
 * ```ts
 * const sim = new AstarteSimulator({ url: "mqtt://127.0.0.1:1883", realm: "acme", interfaces: ["./interfaces"] });
 * await sim.start();
 * const device = await sim.waitForHandshake("V_zv6ThCCtXWveQ8mPjsKg");
 * await sim.sendCommand(device.deviceId, "Reboot");
 * const reading = await sim.waitForData(device.deviceId, "com.acme.Sensors", "/press7/temperature");
 * console.log(reading.value, sim.violations);
 * await sim.stop();
 * ```
 */
export class AstarteSimulator {
  /** The realm played. */
  readonly realm: string;
  /** The MQTT client the simulator uses (connected by start()). */
  readonly client: Client;
  /** Every rule broken by a device, in order. */
  readonly violations: Violation[] = [];
  private readonly deviceStates = new Map<string, SimulatedDevice>();
  private readonly known = new Map<string, Interface>();
  private readonly sources: InterfaceSource[];
  private readonly edgehog: boolean;
  private readonly timeout: number;
  private readonly maxMessageSize: number;
  private readonly respond: boolean;
  private readonly waiters = new Waiters();
  private readonly echoes = new Map<string, number>();
  private readonly emitter = new Emitter<SimulatorEvents>();
  private started = false;

  /**
   * Creates the simulator (not connected; call start()).
   * @param options The realm, the interfaces, and the core client options (`url`, `tls`, ...). The client id
   * defaults to `astarte-simulator-<random>`.
   * @throws OptionsError for invalid client options.
   */
  constructor(options: AstarteSimulatorOptions) {
    this.realm = options.realm;
    this.sources = options.interfaces ?? [];
    this.edgehog = options.edgehog ?? false;
    this.timeout = options.timeout ?? 5000;
    this.maxMessageSize = options.maxMessageSize ?? 65_535;
    this.respond = options.respondToEmptyCache ?? true;
    const clientOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) if (!SIM_KEYS.has(k)) clientOptions[k] = v;
    this.client = createClient({
      clientId: `astarte-simulator-${Math.random().toString(36).slice(2, 10)}`,
      ...(clientOptions as ClientOptions),
    });
    this.client.on("message", (m) => this.onMessage(m));
  }

  /** Devices seen so far (or addressed by a server action), by id. */
  get devices(): ReadonlyMap<string, SimulatedDevice> {
    return this.deviceStates;
  }

  /** The interfaces the simulator knows, by name (loaded by start()). */
  get interfaces(): ReadonlyMap<string, Interface> {
    return this.known;
  }

  /**
   * Loads the interfaces, connects, and subscribes to `<realm>/+` and `<realm>/+/#` at QoS 2.
   * @returns A promise that resolves once subscribed.
   * @throws (as a rejection) InterfaceError for an invalid interface; ConnectError or SubscribeError from the client.
   */
  async start(): Promise<void> {
    if (this.started) return;
    for (const iface of await loadInterfaces(this.sources)) this.known.set(iface.name, iface);
    if (this.edgehog) for (const iface of edgehogInterfaces()) if (!this.known.has(iface.name)) this.known.set(iface.name, iface);
    await this.client.connect();
    await this.client.subscribe([`${this.realm}/+`, `${this.realm}/+/#`], { qos: 2 });
    this.started = true;
  }

  /**
   * Disconnects. Pending waitFor*() calls reject.
   * @returns A promise that resolves once the client has ended.
   */
  async stop(): Promise<void> {
    this.started = false;
    this.waiters.failAll(new Error("AstarteSimulator: stopped while waiting"));
    await this.client.end();
  }

  /**
   * The state of a device, created empty if the simulator has not seen it yet.
   * @param deviceId The device id.
   * @returns Its live state object (updated as messages arrive).
   */
  device(deviceId: string): SimulatedDevice {
    let d = this.deviceStates.get(deviceId);
    if (!d) {
      d = new SimulatedDevice(deviceId);
      this.deviceStates.set(deviceId, d);
    }
    return d;
  }

  // --- server actions ---

  /**
   * Publishes a value on an individual server-owned datastream, at the QoS of the mapping's reliability.
   * @param deviceId The device.
   * @param iface The interface name.
   * @param path The path.
   * @param value The value, converted with the mapping's type.
   * @param options `timestamp` to send a `t`.
   * @returns A promise that resolves when the broker acknowledged the message.
   * @throws (as a rejection) InterfaceError for an unknown, device-owned or mismatched interface or path; PayloadError for a value that does not fit.
   */
  async sendData(deviceId: string, iface: string, path: string, value: unknown, options: ServerSendOptions = {}): Promise<void> {
    await this.publish(deviceId, individualMessage(serverInterface(this.known, iface, "datastream"), path, value, options.timestamp));
  }

  /**
   * Publishes an object on a server-owned object datastream.
   * @param deviceId The device.
   * @param iface The interface name.
   * @param path The object's path (the endpoints' common prefix).
   * @param fields The fields, by key, converted with their mappings' types.
   * @param options `timestamp` to send a `t`.
   * @returns A promise that resolves when the broker acknowledged the message.
   * @throws (as a rejection) InterfaceError or PayloadError as sendData().
   */
  async sendObject(deviceId: string, iface: string, path: string, fields: Record<string, unknown>, options: ServerSendOptions = {}): Promise<void> {
    await this.publish(deviceId, objectMessage(serverInterface(this.known, iface, "datastream", "object"), path, fields, options.timestamp));
  }

  /**
   * Sets a server-owned property (QoS 2) and remembers it for the consumer purge and emptyCache answers.
   * @param deviceId The device.
   * @param iface The interface name.
   * @param path The path.
   * @param value The value, converted with the mapping's type.
   * @returns A promise that resolves when the broker acknowledged the message.
   * @throws (as a rejection) InterfaceError or PayloadError as sendData().
   */
  async setProperty(deviceId: string, iface: string, path: string, value: CleaValue): Promise<void> {
    const msg = individualMessage(serverInterface(this.known, iface, "properties"), path, value);
    this.device(deviceId).serverProperties.set(`${iface}${path}`, value);
    await this.publish(deviceId, msg);
  }

  /**
   * Unsets a server-owned property (empty payload, QoS 2); the mapping must allow_unset.
   * @param deviceId The device.
   * @param iface The interface name.
   * @param path The path.
   * @returns A promise that resolves when the broker acknowledged the message.
   * @throws (as a rejection) InterfaceError ("unset-not-allowed" when the mapping has no allow_unset).
   */
  async unsetProperty(deviceId: string, iface: string, path: string): Promise<void> {
    const msg = unsetMessage(serverInterface(this.known, iface, "properties"), path);
    this.device(deviceId).serverProperties.delete(`${iface}${path}`);
    await this.publish(deviceId, msg);
  }

  /**
   * Sends the consumer purge: the server-owned properties still set (`<interface><path>` entries). The device drops
   * every other one. A zlib frame, or plain text when the device declared `purge_properties_compression_format:
   * "plaintext"`.
   * @param deviceId The device.
   * @param entries The entries to list; default every server property the simulator set. Properties not listed are
   * forgotten by the simulator too.
   * @returns A promise that resolves when the broker acknowledged the message.
   */
  async sendConsumerPurge(deviceId: string, entries?: readonly string[]): Promise<void> {
    const device = this.device(deviceId);
    const list = entries ?? [...device.serverProperties.keys()];
    const keep = new Set(list);
    for (const key of [...device.serverProperties.keys()]) if (!keep.has(key)) device.serverProperties.delete(key);
    await this.publish(deviceId, consumerPurgeMessage(list, device.capabilities?.purgePropertiesCompressionFormat === "plaintext"));
  }

  /**
   * Sends an Edgehog OTA request: an io.edgehog.devicemanager.OTARequest object on `/request` with `operation`,
   * `url` and `uuid` (the bundled interface is used when the simulator was not given one).
   * @param deviceId The device.
   * @param request `uuid`, `url`, and `operation` ("Update" by default, or "Cancel").
   * @returns A promise that resolves when the message was sent (QoS 0).
   */
  async requestOta(deviceId: string, request: OtaRequestOptions): Promise<void> {
    const iface = this.known.get(EDGEHOG.OTARequest) ?? bundled(EDGEHOG.OTARequest);
    const fields = { operation: request.operation ?? "Update", url: request.url ?? "", uuid: request.uuid };
    await this.publish(deviceId, objectMessage(iface, "/request", fields));
  }

  /**
   * Sends an Edgehog command (io.edgehog.devicemanager.Commands `/request`, QoS 2), e.g. "Reboot".
   * @param deviceId The device.
   * @param command The command.
   * @returns A promise that resolves when the broker acknowledged the message.
   */
  async sendCommand(deviceId: string, command: string): Promise<void> {
    const iface = this.known.get(EDGEHOG.Commands) ?? bundled(EDGEHOG.Commands);
    await this.publish(deviceId, individualMessage(iface, "/request", command));
  }

  // --- waiting ---

  /**
   * Waits until the device sent its introspection, emptyCache and producer purge.
   * @param deviceId The device.
   * @param options `timeout` in milliseconds.
   * @returns A promise of the device's state.
   * @throws (as a rejection) Error naming the device and what was seen, after the timeout.
   */
  waitForHandshake(deviceId: string, options: WaitOptions = {}): Promise<SimulatedDevice> {
    return this.waiters.wait(
      `the handshake of device ${deviceId}`,
      options.timeout ?? this.timeout,
      () => {
        const d = this.deviceStates.get(deviceId);
        return d?.handshakeComplete ? d : undefined;
      },
      () => {
        const h = this.deviceStates.get(deviceId)?.handshake;
        const seen = h ? Object.entries(h).filter(([, v]) => v).map(([k]) => k) : [];
        return `seen: ${seen.length > 0 ? seen.join(", ") : "nothing"}`;
      },
    );
  }

  /**
   * Waits for a datastream message from the device on `iface` (and `path`, if given) that satisfies `predicate`;
   * messages received before the call count too (the first match is returned).
   * @param deviceId The device.
   * @param iface The interface name.
   * @param path The path, or undefined for any.
   * @param predicate Extra condition on the entry.
   * @param options `timeout` in milliseconds.
   * @returns A promise of the matching entry.
   * @throws (as a rejection) Error naming what was waited for, after the timeout.
   */
  waitForData(deviceId: string, iface: string, path?: string, predicate?: (entry: SimulatedData) => boolean, options: WaitOptions = {}): Promise<SimulatedData> {
    return this.waiters.wait(`data from device ${deviceId} on ${iface}${path ?? " (any path)"}`, options.timeout ?? this.timeout, () =>
      this.deviceStates.get(deviceId)?.data.find((e) => e.interface === iface && (path === undefined || e.path === path) && (!predicate || predicate(e))),
    );
  }

  /**
   * Waits until a device-owned property is set (to `value`, if given; compared by value, bigints, dates, bytes and
   * arrays included).
   * @param deviceId The device.
   * @param iface The interface name.
   * @param path The path.
   * @param value The value expected, or undefined for any.
   * @param options `timeout` in milliseconds.
   * @returns A promise of the property's value.
   * @throws (as a rejection) Error naming the property and its current value, after the timeout.
   */
  waitForProperty(deviceId: string, iface: string, path: string, value?: CleaValue, options: WaitOptions = {}): Promise<CleaValue> {
    const key = `${iface}${path}`;
    const current = () => this.deviceStates.get(deviceId)?.properties.get(key);
    return this.waiters.wait(
      `property ${key} of device ${deviceId}${value === undefined ? "" : ` = ${String(value)}`}`,
      options.timeout ?? this.timeout,
      () => {
        const v = current();
        return v !== undefined && (value === undefined || sameValue(v, value)) ? v : undefined;
      },
      () => `current value: ${String(current())}`,
    );
  }

  /**
   * Waits for a violation (of `rule`, if given); violations recorded before the call count too.
   * @param rule The rule, or undefined for any.
   * @param options `deviceId` to match one device only; `timeout` in milliseconds.
   * @returns A promise of the first matching violation.
   * @throws (as a rejection) Error naming the rule and the violations recorded, after the timeout.
   */
  waitForViolation(rule?: ViolationRule, options: WaitForViolationOptions = {}): Promise<Violation> {
    return this.waiters.wait(
      `a violation${rule ? ` of ${rule}` : ""}${options.deviceId ? ` by device ${options.deviceId}` : ""}`,
      options.timeout ?? this.timeout,
      () => this.violations.find((v) => (!rule || v.rule === rule) && (!options.deviceId || v.deviceId === options.deviceId)),
      () => `recorded: ${this.violations.map((v) => v.rule).join(", ") || "none"}`,
    );
  }

  /**
   * Waits for an io.edgehog.devicemanager.OTAEvent from the device that satisfies `predicate`; events received before
   * the call count too.
   * @param deviceId The device.
   * @param predicate Condition on the event's fields (requestUUID, status, statusProgress, statusCode, message).
   * @param options `timeout` in milliseconds.
   * @returns A promise of the matching data entry (its value holds the fields).
   * @throws (as a rejection) Error naming what was waited for and the statuses seen, after the timeout.
   */
  waitForOtaEvent(deviceId: string, predicate?: (event: OtaEventFields, entry: SimulatedData) => boolean, options: WaitOptions = {}): Promise<SimulatedData> {
    const events = () => this.deviceStates.get(deviceId)?.data.filter((e) => e.interface === EDGEHOG.OTAEvent) ?? [];
    return this.waiters.wait(
      `an OTAEvent from device ${deviceId}`,
      options.timeout ?? this.timeout,
      () => events().find((e) => !predicate || predicate(e.value as unknown as OtaEventFields, e)),
      () => `statuses seen: ${events().map((e) => String((e.value as Record<string, unknown>).status)).join(", ") || "none"}`,
    );
  }

  /**
   * Adds a listener: "message" is called once per device message, after the simulator took it into its state (so
   * `device(id)` already shows it). Returns the function that removes the listener.
   */
  on<K extends keyof SimulatorEvents>(event: K, listener: (payload: SimulatorEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  // --- internals ---

  /** Reads one message: the simulator's own echo is skipped, anything else is a device's and is checked and recorded. */
  private onMessage(m: Message): void {
    const prefix = `${this.realm}/`;
    if (!m.topic.startsWith(prefix)) return;
    const key = echoKey(m.topic, m.payload);
    const pending = this.echoes.get(key);
    if (pending !== undefined) {
      if (pending <= 1) this.echoes.delete(key);
      else this.echoes.set(key, pending - 1);
      return;
    }
    const rest = m.topic.slice(prefix.length);
    const slash = rest.indexOf("/");
    const deviceId = slash < 0 ? rest : rest.slice(0, slash);
    const suffix = slash < 0 ? "" : rest.slice(slash);
    const device = this.device(deviceId);
    const before = this.violations.length;
    let kind: DeviceMessageKind = "ignored";
    const ctx: DecodeContext = {
      interfaces: this.known,
      maxMessageSize: this.maxMessageSize,
      report: (rule, detail) => this.violations.push({ deviceId, rule, topic: m.topic, detail }),
    };
    try {
      kind = handleDeviceMessage(ctx, device, suffix, m.payload, m.qos);
      if (kind === "emptyCache" && this.respond) {
        this.answerEmptyCache(deviceId).catch(() => undefined); // stopping, or the broker went away: nothing to answer to
      }
    } finally {
      device.messages.push({ topic: suffix, kind, qos: m.qos });
      if (device.messages.length > MAX_LOGGED_MESSAGES) device.messages.shift();
      this.waiters.changed();
      const thrown = this.emitter.emit("message", { deviceId, topic: suffix, kind, qos: m.qos, violations: this.violations.slice(before) });
      // A listener that threw: the client reports it (its "error" event, as a ListenerError), the others still ran.
      if (thrown && thrown.length > 0) throw thrown[0];
    }
  }

  /** As Astarte: the consumer purge, then every server-owned property still set. */
  private async answerEmptyCache(deviceId: string): Promise<void> {
    const device = this.device(deviceId);
    await this.sendConsumerPurge(deviceId);
    for (const [key, value] of [...device.serverProperties]) {
      const name = [...this.known.keys()].find((n) => key.startsWith(`${n}/`));
      if (!name) continue;
      await this.publish(deviceId, individualMessage(serverInterface(this.known, name, "properties"), key.slice(name.length), value));
    }
  }

  /** Publishes `msg` under the device's prefix, expecting its echo. */
  private async publish(deviceId: string, msg: ServerMessage): Promise<void> {
    if (!this.started) throw new Error("AstarteSimulator: call start() before sending");
    const topic = `${this.realm}/${deviceId}${msg.suffix}`;
    const key = echoKey(topic, msg.payload);
    this.echoes.set(key, (this.echoes.get(key) ?? 0) + 1);
    try {
      await this.client.publish(topic, msg.payload, { qos: msg.qos });
    } catch (err) {
      const n = this.echoes.get(key) ?? 0;
      if (n <= 1) this.echoes.delete(key);
      else this.echoes.set(key, n - 1);
      throw err;
    }
  }
}

function bundled(name: string): Interface {
  return edgehogInterfaces().find((i) => i.name === name)!;
}

/** Topic, length and an FNV-1a hash of the payload: identifies the simulator's own messages when they come back. */
function echoKey(topic: string, payload: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < payload.length; i++) h = Math.imul(h ^ payload[i]!, 0x01000193);
  return `${topic}\u0000${payload.length}\u0000${(h >>> 0).toString(16)}`;
}
