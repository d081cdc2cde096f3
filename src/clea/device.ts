/**
 * Device: a Clea (Astarte MQTT v1) device on top of the core client. It owns the client id and topic prefix
 * `<realm>/<deviceId>`, runs the handshake when the broker has no session for it, validates everything it sends
 * against its interfaces, keeps the properties cache, retains datastreams while offline, and turns what the
 * server sends into typed events.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { createClient, Emitter, FileStore, ListenerError, MemoryStore, OptionsError, type Client } from "../index.js";
import { isValidDeviceId } from "./device-id.js";
import { deviceInfoProperties, EDGEHOG, edgehogInterfaces, hostInfo, type DeviceInfo } from "./edgehog.js";
import { InterfaceError } from "./errors.js";
import { EventStream } from "./event-stream.js";
import { Handshake, HandshakeState, introspection } from "./handshake.js";
import type { Interface } from "./interface.js";
import { loadInterfaces, type InterfaceSource } from "./interface-loader.js";
import { Sender } from "./sender.js";
import { DEFAULT_MAX_INFLATED_SIZE, decodePayload } from "./payload.js";
import { PropertyCache } from "./properties.js";
import { decodeIncoming, type DeviceEvent } from "./receive.js";
import { pairDevice } from "./pairing.js";
import { OtaManager, type OtaEventFields, type OtaHandler } from "./ota.js";
import { StoredQueue, VolatileQueue } from "./retention.js";
import { encodeIndividual, encodeObject, encodeProperty, readableProperty, unsettable } from "./validate.js";
import type { CleaValue } from "./values.js";
import type { DeviceEvents, DeviceOptions, DeviceStats, SendOptions } from "./device-types.js";

export class Device {
  /** `<realm>/<deviceId>`: the MQTT client id and topic prefix. */
  readonly prefix: string;
  /** The underlying MQTT client (for stats and events of the connection). */
  readonly client: Client;
  private readonly interfaces = new Map<string, Interface>();
  private readonly emitter = new Emitter<DeviceEvents>();
  /** What was printed for lack of an "error" listener: one line per distinct condition, never one per occurrence. */
  private printed: Set<string> | undefined;
  private readonly stream: EventStream<DeviceEvent>;
  private readonly properties: PropertyCache;
  private readonly handshake: Handshake;
  private readonly sender: Sender;
  private readonly maxInflatedSize: number;
  private readonly now: () => number;
  private readonly counters = { received: 0, errors: 0 };
  private readonly ota: OtaManager;

  /** Use connectDevice(). */
  constructor(options: DeviceOptions, interfaces: Interface[]) {
    this.prefix = `${options.realm}/${options.deviceId}`;
    for (const i of interfaces) this.interfaces.set(i.name, i);
    this.maxInflatedSize = options.maxInflatedSize ?? DEFAULT_MAX_INFLATED_SIZE;
    this.now = options.now ?? Date.now;
    const dir = options.store;
    if (dir) fs.mkdirSync(dir, { recursive: true });
    this.properties = new PropertyCache(dir ? path.join(dir, "properties.json") : undefined);
    const handshakeState = new HandshakeState(dir ? path.join(dir, "handshake.json") : undefined);
    const volatile = new VolatileQueue(options.retention?.volatileMaxMessages ?? 1000);
    const stored = dir ? new StoredQueue(path.join(dir, "retention.log"), options.retention?.storedMaxMessages ?? 1_000_000) : undefined;
    this.stream = new EventStream(10_000, () => this.emit("warning", "event buffer full: dropped the oldest event"));
    this.ota = new OtaManager(
      { publish: (event) => this.publishOtaEvent(event), warn: (w) => this.emit("warning", w) },
      dir ? path.join(dir, "ota.json") : undefined,
    );
    const warnings = [...interfaces.flatMap((i) => i.warnings ?? []), ...this.properties.load(), ...handshakeState.load(), ...(stored?.open() ?? [])];
    const dropped = this.properties.retain(new Map([...this.interfaces.values()].map((i) => [i.name, i.major])));
    if (dropped.length > 0) warnings.push(`dropped ${dropped.length} cached propert(ies) of removed or changed interfaces`);
    const userBeforeConnect = options.beforeConnect;
    this.client = createClient({
      ...options,
      clientId: this.prefix,
      clean: true,
      store: dir ? new FileStore(path.join(dir, "mqtt")) : new MemoryStore(),
      // Clean until a handshake has completed once; after that the broker keeps the session.
      beforeConnect: async (attempt) => ({ ...((await userBeforeConnect?.(attempt)) ?? {}), clean: !this.handshake.done }),
    });
    this.sender = new Sender(this.client, volatile, stored, this.now, (err) => this.emit("error", err), options.maxMessageSize ?? 65_535);
    this.handshake = new Handshake(handshakeState, {
      client: this.client,
      prefix: this.prefix,
      interfaces: this.interfaces,
      properties: this.properties,
      onError: (err) => this.emit("error", err),
      onComplete: (current) => this.emit("handshake", { introspection: current }),
    });
    this.client.on("connect", ({ sessionPresent }) => this.onConnect(sessionPresent));
    this.client.on("disconnect", ({ reason }) => {
      this.sender.online = false;
      this.emit("disconnect", { reason });
    });
    this.client.on("warning", (w) => this.emit("warning", w.message));
    this.client.on("message", (msg) => {
      if (msg.topic.startsWith(`${this.prefix}/`)) this.receive(msg.topic, msg.payload);
    });
    this.client.on("error", (e) => this.emit("error", e));
    for (const w of warnings) queueMicrotask(() => this.emit("warning", w));
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof DeviceEvents>(event: K, listener: (payload: DeviceEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** Values the server sends, as `{ interface, path, value, timestamp? }` (value undefined = unset). */
  events(): AsyncIterable<DeviceEvent> {
    return this.stream.iterate();
  }

  /** Resolves once the broker acknowledged a complete handshake for the current interfaces (at once if it already has). */
  handshakeComplete(): Promise<void> {
    return this.handshake.complete();
  }

  /** The current introspection string. */
  get introspection(): string {
    return introspection(this.interfaces.values());
  }

  /** Sends one value on an individual device-owned datastream. QoS follows the mapping's reliability. */
  async send(interfaceName: string, path: string, value: CleaValue, options: SendOptions = {}): Promise<void> {
    const { iface, mapping, payload } = encodeIndividual(this.interfaces, interfaceName, path, value, options.timestamp);
    await this.sender.send(`${this.prefix}/${iface.name}${path}`, payload, mapping, options.queueOffline);
  }

  /** Sends an object on an object-aggregated device-owned datastream; `path` is the common prefix. */
  async sendObject(interfaceName: string, path: string, object: Record<string, CleaValue>, options: SendOptions = {}): Promise<void> {
    const { iface, mapping, payload } = encodeObject(this.interfaces, interfaceName, path, object, options.timestamp);
    await this.sender.send(`${this.prefix}/${iface.name}${path}`, payload, mapping, options.queueOffline);
  }

  /** Sets a device-owned property. An unchanged value is not republished. Resolves once acknowledged (QoS 2) or queued while offline. */
  async setProperty(interfaceName: string, path: string, value: CleaValue): Promise<void> {
    const { iface, payload } = encodeProperty(this.interfaces, interfaceName, path, value);
    if (!this.properties.set("device", iface.name, iface.major, path, payload)) return;
    // Offline, the client queues it (and its store keeps it): property order is preserved across reconnects.
    await this.sender.publish(`${this.prefix}/${iface.name}${path}`, payload, 2);
  }

  /** Unsets a device-owned property (the mapping must allow_unset). */
  async unsetProperty(interfaceName: string, path: string): Promise<void> {
    const iface = unsettable(this.interfaces, interfaceName, path);
    if (!this.properties.unset(iface.name, path)) return;
    await this.sender.publish(`${this.prefix}/${iface.name}${path}`, new Uint8Array(0), 2);
  }

  /** The cached value of a property (device- or server-owned), or undefined when unset. */
  getProperty(interfaceName: string, path: string): CleaValue | undefined {
    const { iface, mapping } = readableProperty(this.interfaces, interfaceName, path);
    const cached = this.properties.get(iface.name, path);
    return cached ? (decodePayload(cached.payload, { type: mapping.type })?.value as CleaValue | undefined) : undefined;
  }

  /**
   * Handles Edgehog OTA requests: the handler gets `{ uuid, url, operation, signal }` and a reporter,
   * `report(status, { progress, code, message })`. The OTA interfaces, if not declared, are part of the device
   * (and its introspection) when this returns; they are announced at once when connected, else on connecting.
   * Returns a function that removes the handler.
   */
  onOta(handler: OtaHandler): () => void {
    const missing = edgehogInterfaces().filter(
      (i) => (i.name === EDGEHOG.OTARequest || i.name === EDGEHOG.OTAEvent) && !this.interfaces.has(i.name),
    );
    if (missing.length > 0) {
      for (const iface of missing) this.interfaces.set(iface.name, iface);
      // A failed announcement leaves the handshake state stale, so the next connection runs a full handshake.
      this.handshake.reannounce().catch((err: Error) => this.emit("error", err));
    }
    return this.ota.setHandler(handler);
  }

  /** Publishes the Edgehog device info properties (SystemInfo, OSInfo, BaseImage, RuntimeInfo), filled from the runtime where omitted. */
  async publishDeviceInfo(info: DeviceInfo = {}): Promise<void> {
    const host = await hostInfo();
    const sets = deviceInfoProperties(info, host).filter(([iface]) => this.interfaces.has(iface));
    await Promise.all(sets.map(([iface, path, value]) => this.setProperty(iface, path, value)));
  }

  /** Reports the outcome of an OTA update a restart interrupted. */
  resumeOta(): Promise<void> {
    return this.ota.resume();
  }

  /**
   * Adds an interface at run time (republishing the introspection, subscribing for server-owned ones).
   * Takes a .json file path, interface JSON as an object, or an already parsed `Interface`.
   */
  async addInterface(source: InterfaceSource): Promise<Interface> {
    const [iface] = await loadInterfaces([source]);
    this.interfaces.set(iface!.name, iface!);
    for (const w of iface!.warnings ?? []) this.emit("warning", w);
    await this.handshake.reannounce();
    return iface!;
  }

  /** Removes an interface at run time: its cached properties go, its subscription ends, the introspection is republished. */
  async removeInterface(name: string): Promise<void> {
    if (!this.interfaces.delete(name)) throw new InterfaceError("interface-not-found", `no interface ${name}`, name);
    this.properties.retain(new Map([...this.interfaces.values()].map((i) => [i.name, i.major])));
    await this.handshake.unsubscribe(name);
    await this.handshake.reannounce();
  }

  /** Counters. */
  stats(): DeviceStats {
    const { sender } = this;
    return {
      sent: sender.sent,
      received: this.counters.received,
      discarded: sender.discarded,
      expired: sender.expired,
      errors: this.counters.errors,
      overflowed: sender.overflowed,
      retained: sender.retained,
    };
  }

  /** Disconnects gracefully (waiting for in-flight acks) and closes the store files. */
  async end(options: { force?: boolean } = {}): Promise<void> {
    this.sender.online = false;
    await this.client.end(options);
    this.stream.end();
    this.sender.close();
  }

  /** Connects; resolves after the first CONNACK (the handshake messages are then on their way). */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  private onConnect(sessionPresent: boolean): void {
    const handshake = this.handshake.onConnect(sessionPresent);
    this.sender.online = true;
    this.sender.flush();
    this.emit("connect", { sessionPresent, handshake });
  }

  // --- receiving ---

  private receive(topic: string, payload: Uint8Array): void {
    try {
      const incoming = decodeIncoming(this.prefix, this.interfaces, topic, payload, this.maxInflatedSize);
      if (incoming.kind === "purge") {
        for (const p of this.properties.list("server")) {
          if (incoming.keep.has(`${p.interfaceName}${p.path}`)) continue;
          this.properties.unset(p.interfaceName, p.path);
          this.deliver({ interface: p.interfaceName, path: p.path, value: undefined });
        }
        return;
      }
      const { event, iface } = incoming;
      if (iface.name === EDGEHOG.OTARequest && event.value && typeof event.value === "object") {
        this.counters.received++;
        this.ota.onRequest(event.value as Record<string, unknown>);
        return;
      }
      if (iface.name === EDGEHOG.Commands && typeof event.value === "string") this.emit("command", { command: event.value });
      if (iface.type === "properties") {
        if (event.value === undefined) this.properties.unset(iface.name, event.path);
        else this.properties.set("server", iface.name, iface.major, event.path, payload);
      }
      this.deliver(event);
    } catch (err) {
      this.counters.errors++;
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
    }
  }

  private publishOtaEvent(event: OtaEventFields): Promise<void> {
    return this.sendObject(EDGEHOG.OTAEvent, "/event", { ...event }, { timestamp: new Date(this.now()), queueOffline: true });
  }

  private deliver(event: DeviceEvent): void {
    this.counters.received++;
    this.stream.push(event);
  }

  private emit<K extends keyof DeviceEvents>(event: K, payload: DeviceEvents[K]): void {
    if (event === "error" && !this.emitter.has("error")) {
      this.print(payload as Error);
      return;
    }
    for (const err of this.emitter.emit(event, payload) ?? []) {
      if (event === "error") this.print(new ListenerError(event, err));
      else this.emit("error", new ListenerError(event, err));
    }
  }

  private print(err: Error): void {
    const code = (err as { code?: string }).code ?? err.name;
    if ((this.printed ??= new Set()).has(code)) return;
    this.printed.add(code);
    console.warn(`edgemq/clea error [${code}]: ${err.message}; add an "error" listener to handle these (further ones are not printed)`);
  }
}

/** Validates the identity, loads the interfaces, connects. Resolves after the first CONNACK; the handshake follows. */
export async function connectDevice(options: DeviceOptions): Promise<Device> {
  if (typeof options.realm !== "string" || !/^[a-z][a-z0-9]{0,47}$/.test(options.realm)) {
    throw new OptionsError(`realm ${JSON.stringify(options.realm)} must be lowercase letters and digits, starting with a letter`);
  }
  if (!isValidDeviceId(options.deviceId)) {
    throw new OptionsError(`device id ${JSON.stringify(options.deviceId)} is not 22 characters of URL-safe base64 encoding 128 bits`);
  }
  const max = options.maxMessageSize;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) {
    throw new OptionsError(`maxMessageSize must be a whole number of bytes >= 1, got ${String(max)}`);
  }
  const interfaces = await loadInterfaces(options.interfaces ?? []);
  if (options.edgehog) {
    const declared = new Set(interfaces.map((i) => i.name));
    for (const iface of edgehogInterfaces()) if (!declared.has(iface.name)) interfaces.push(iface);
  }
  // Pairing (pairing.ts): certificate in tls, broker URL, renewal in beforeConnect and after a TLS failure.
  const paired = options.pairing ? await pairDevice(options) : undefined;
  const device = new Device(paired?.options ?? options, interfaces);
  await (paired ? paired.connect(device) : device.connect());
  if (options.edgehog) {
    const info = typeof options.edgehog === "object" ? options.edgehog.info : undefined;
    await device.publishDeviceInfo(info);
  }
  await device.resumeOta();
  return device;
}