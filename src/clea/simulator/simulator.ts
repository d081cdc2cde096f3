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
import { dataSeen, handshakeSeen, otaEventSeen, propertySeen, violationSeen, type Condition } from "./conditions.js";
import { Echoes } from "./echoes.js";
import {
  SIMULATOR_KEYS,
  type AstarteSimulatorOptions,
  type OtaRequestOptions,
  type ServerSendOptions,
  type SimulatorEvents,
  type WaitForViolationOptions,
  type WaitOptions,
} from "./types.js";
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

export type {
  AstarteSimulatorOptions,
  OtaRequestOptions,
  ServerSendOptions,
  SimulatorEvents,
  SimulatorMessageEvent,
  WaitForViolationOptions,
  WaitOptions,
} from "./types.js";
export type { Violation, ViolationRule } from "./violations.js";

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
  private readonly echoes = new Echoes();
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
    for (const [k, v] of Object.entries(options)) if (!SIMULATOR_KEYS.has(k)) clientOptions[k] = v;
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
    return this.wait(handshakeSeen(this.deviceStates, deviceId), options);
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
    return this.wait(dataSeen(this.deviceStates, deviceId, iface, path, predicate), options);
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
    return this.wait(propertySeen(this.deviceStates, deviceId, iface, path, value), options);
  }

  /**
   * Waits for a violation (of `rule`, if given); violations recorded before the call count too.
   * @param rule The rule, or undefined for any.
   * @param options `deviceId` to match one device only; `timeout` in milliseconds.
   * @returns A promise of the first matching violation.
   * @throws (as a rejection) Error naming the rule and the violations recorded, after the timeout.
   */
  waitForViolation(rule?: ViolationRule, options: WaitForViolationOptions = {}): Promise<Violation> {
    return this.wait(violationSeen(this.violations, rule, options.deviceId), options);
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
    return this.wait(otaEventSeen(this.deviceStates, deviceId, predicate), options);
  }

  /**
   * Adds a listener: "message" is called once per device message, after the simulator took it into its state (so
   * `device(id)` already shows it). Returns the function that removes the listener.
   */
  on<K extends keyof SimulatorEvents>(event: K, listener: (payload: SimulatorEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  // --- internals ---

  /** Waits for `condition`, until the wait's timeout (or the simulator's). */
  private wait<T>(condition: Condition<T>, options: WaitOptions): Promise<T> {
    return this.waiters.wait(condition.what, options.timeout ?? this.timeout, condition.probe, condition.explain);
  }

  /** Reads one message: the simulator's own echo is skipped, anything else is a device's and is checked and recorded. */
  private onMessage(m: Message): void {
    const prefix = `${this.realm}/`;
    if (!m.topic.startsWith(prefix)) return;
    if (this.echoes.take(m.topic, m.payload)) return;
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
    const unexpect = this.echoes.expect(topic, msg.payload);
    try {
      await this.client.publish(topic, msg.payload, { qos: msg.qos });
    } catch (err) {
      unexpect();
      throw err;
    }
  }
}

function bundled(name: string): Interface {
  return edgehogInterfaces().find((i) => i.name === name)!;
}
