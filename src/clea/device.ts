/**
 * Device: a Clea (Astarte MQTT v1) device on top of the core client. It owns the client id and topic prefix
 * `<realm>/<deviceId>`, runs the handshake when the broker has no session for it, validates everything it sends
 * against its interfaces, keeps the properties cache, retains datastreams while offline, and turns what the
 * server sends into typed events.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { createClient, Emitter, FileStore, MemoryStore, OptionsError, type Client, type ClientOptions, type QoS, type Subscription } from "../index.js";
import { isValidDeviceId } from "./device-id.js";
import { deviceInfoProperties, EDGEHOG, edgehogInterfaces, hostInfo, type DeviceInfo } from "./edgehog.js";
import { InterfaceError } from "./errors.js";
import { EventStream } from "./event-stream.js";
import { HandshakeState, introspection } from "./handshake.js";
import { parseInterface, resolveMapping, resolveObject, type Interface, type Mapping } from "./interface.js";
import { loadInterfaces, type InterfaceSource } from "./interface-loader.js";
import { DEFAULT_MAX_INFLATED_SIZE, decodePayload, deflateFrame, encodePayload } from "./payload.js";
import { PropertyCache } from "./properties.js";
import { decodeIncoming, type DeviceEvent } from "./receive.js";
import { pairDevice, type PairingOptions } from "./pairing.js";
import { OtaManager, type OtaEventFields, type OtaHandler } from "./ota.js";
import { StoredQueue, VolatileQueue, type RetainedMessage } from "./retention.js";
import type { CleaValue, MappingType } from "./values.js";

/** Options of connectDevice(): the device's identity and interfaces, plus any core client option. */
export interface DeviceOptions extends Omit<ClientOptions, "clientId" | "clean" | "store"> {
  /** The Astarte realm. */
  realm: string;
  /** 22-character URL-safe base64 device id (see randomDeviceId / deviceIdFromUuid). */
  deviceId: string;
  /** Interface JSON files, directories of them, or parsed objects. */
  interfaces?: InterfaceSource[];
  /** Directory for durable state: in-flight QoS, properties cache, stored retention, handshake state. Default: memory only. */
  store?: string;
  /** Bounds of retention: volatile (memory) and stored (disk) messages. Defaults 1,000 and 1,000,000. */
  retention?: { volatileMaxMessages?: number; storedMaxMessages?: number };
  /** Cap on inflating deflate frames from the server. Default 10 MiB. */
  maxInflatedSize?: number;
  /** Wall clock for timestamps and retention expiry (ms since the epoch). Default Date.now. */
  now?: () => number;
  /**
   * Edgehog device management: adds the bundled Edgehog interfaces (OTA, Commands, SystemInfo, OSInfo, BaseImage,
   * RuntimeInfo) and publishes the device info properties after connecting.
   */
  edgehog?: boolean | { info?: DeviceInfo };
  /**
   * Credentials from the Astarte pairing API instead of tls.cert/tls.key: `{ url, credentialsSecret }`, or
   * `{ url, agentToken }` to register the device first. The ECDSA key and certificate live in `<store>/credentials`
   * (key.pem 0600, cert.pem), are reused while valid, and renewed before expiry and after a TLS failure.
   * Without url/servers, the broker URL comes from the pairing API. Needs the optional `@peculiar/x509` and
   * `reflect-metadata` packages.
   */
  pairing?: PairingOptions;
}

/** Options of send() and sendObject(). */
export interface SendOptions {
  /** Required for mappings with explicit_timestamp, refused for the others. */
  timestamp?: Date;
  /** While offline, queue in the client's offline queue (kept by its store) instead of applying the mapping's retention. */
  queueOffline?: boolean;
}

/** Device events besides data (data comes from events()). */
export interface DeviceEvents {
  /** Connected; `handshake` says whether a handshake was run. */
  connect: { sessionPresent: boolean; handshake: boolean };
  disconnect: { reason: Error | undefined };
  /** The handshake's messages were all acknowledged. */
  handshake: { introspection: string };
  /** A message from the server could not be decoded or validated; the device keeps running. */
  error: Error;
  /** An Edgehog command (io.edgehog.devicemanager.Commands), e.g. "Reboot". */
  command: { command: string };
  /** Non-fatal notices (damaged files skipped, events dropped). */
  warning: string;
}

/** Counters of a device. */
export interface DeviceStats {
  /** Datastream messages and property changes handed to the client. */
  sent: number;
  /** Valid server messages turned into events. */
  received: number;
  /** Datastream messages dropped while offline (retention "discard"). */
  discarded: number;
  /** Retained messages dropped because they expired or their queue was full. */
  expired: number;
  overflowed: number;
  /** Messages waiting in retention. */
  retained: number;
  /** Server messages refused. */
  errors: number;
}

const RELIABILITY_QOS: Record<Mapping["reliability"], QoS> = { unreliable: 0, guaranteed: 1, unique: 2 };

export class Device {
  /** `<realm>/<deviceId>`: the MQTT client id and topic prefix. */
  readonly prefix: string;
  /** The underlying MQTT client (for stats and events of the connection). */
  readonly client: Client;
  private readonly interfaces = new Map<string, Interface>();
  /** Filters subscribed (or being subscribed); the client resubscribes them by itself on new sessions. */
  private readonly subscribed = new Set<string>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly emitter = new Emitter<DeviceEvents>();
  private readonly stream: EventStream<DeviceEvent>;
  private readonly properties: PropertyCache;
  private readonly handshakeState: HandshakeState;
  private readonly volatile: VolatileQueue;
  private readonly stored: StoredQueue | undefined;
  private readonly maxInflatedSize: number;
  private readonly now: () => number;
  /** True once this connection's handshake (or the decision to skip it) has been issued: sends go straight out. */
  private online = false;
  private counters = { sent: 0, received: 0, discarded: 0, expired: 0, errors: 0 };
  private handshakeWaiters: Array<() => void> = [];
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
    this.handshakeState = new HandshakeState(dir ? path.join(dir, "handshake.json") : undefined);
    this.volatile = new VolatileQueue(options.retention?.volatileMaxMessages ?? 1000);
    this.stored = dir ? new StoredQueue(path.join(dir, "retention.log"), options.retention?.storedMaxMessages ?? 1_000_000) : undefined;
    this.stream = new EventStream(10_000, () => this.emitter.emit("warning", "event buffer full: dropped the oldest event", noop));
    this.ota = new OtaManager(
      { publish: (event) => this.publishOtaEvent(event), warn: (w) => this.emit("warning", w) },
      dir ? path.join(dir, "ota.json") : undefined,
    );
    const warnings = [...this.properties.load(), ...this.handshakeState.load(), ...(this.stored?.open() ?? [])];
    const dropped = this.properties.retain(new Map([...this.interfaces.values()].map((i) => [i.name, i.major])));
    if (dropped.length > 0) warnings.push(`dropped ${dropped.length} cached propert(ies) of removed or changed interfaces`);
    const userBeforeConnect = options.beforeConnect;
    this.client = createClient({
      ...options,
      clientId: this.prefix,
      clean: true,
      store: dir ? new FileStore(path.join(dir, "mqtt")) : new MemoryStore(),
      // Clean until a handshake has completed once; after that the broker keeps the session.
      beforeConnect: async (attempt) => ({ ...((await userBeforeConnect?.(attempt)) ?? {}), clean: !this.handshakeState.done }),
    });
    this.client.on("connect", ({ sessionPresent }) => this.onConnect(sessionPresent));
    this.client.on("disconnect", ({ reason }) => {
      this.online = false;
      this.emitter.emit("disconnect", { reason }, noop);
    });
    this.client.on("warning", (w) => this.emit("warning", w));
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
    if (this.handshakeState.done && this.handshakeState.introspection === this.introspection) return Promise.resolve();
    return new Promise((resolve) => this.handshakeWaiters.push(resolve));
  }

  /** The current introspection string. */
  get introspection(): string {
    return introspection(this.interfaces.values());
  }

  /** Sends one value on an individual device-owned datastream. QoS follows the mapping's reliability. */
  async send(interfaceName: string, path: string, value: CleaValue, options: SendOptions = {}): Promise<void> {
    const iface = this.writable(interfaceName, "datastream", "individual");
    const { mapping } = resolveMapping(iface, path);
    this.checkTimestamp(iface, mapping, options.timestamp);
    const payload = encodePayload(value, { type: mapping.type, timestamp: options.timestamp });
    await this.dispatch(`${this.prefix}/${iface.name}${path}`, payload, mapping, options.queueOffline);
  }

  /** Sends an object on an object-aggregated device-owned datastream; `path` is the common prefix. */
  async sendObject(interfaceName: string, path: string, object: Record<string, CleaValue>, options: SendOptions = {}): Promise<void> {
    const iface = this.writable(interfaceName, "datastream", "object");
    const { mappings } = resolveObject(iface, path);
    const first = Object.values(mappings)[0]!;
    this.checkTimestamp(iface, first, options.timestamp);
    const types: Record<string, MappingType> = {};
    for (const [k, m] of Object.entries(mappings)) types[k] = m.type;
    if (Object.keys(object).length === 0) throw new InterfaceError("mapping-not-found", `${iface.name}${path}: an object needs at least one field`, iface.name);
    const payload = encodePayload(object, { type: types, timestamp: options.timestamp });
    await this.dispatch(`${this.prefix}/${iface.name}${path}`, payload, first, options.queueOffline);
  }

  /** Sets a device-owned property. An unchanged value is not republished. Resolves once acknowledged (QoS 2) or queued while offline. */
  async setProperty(interfaceName: string, path: string, value: CleaValue): Promise<void> {
    const iface = this.writable(interfaceName, "properties", "individual");
    const { mapping } = resolveMapping(iface, path);
    const payload = encodePayload(value, { type: mapping.type });
    if (!this.properties.set("device", iface.name, iface.major, path, payload)) return;
    this.counters.sent++;
    // Offline, the client queues it (and its store keeps it): property order is preserved across reconnects.
    await this.client.publish(`${this.prefix}/${iface.name}${path}`, payload, { qos: 2 });
  }

  /** Unsets a device-owned property (the mapping must allow_unset). */
  async unsetProperty(interfaceName: string, path: string): Promise<void> {
    const iface = this.writable(interfaceName, "properties", "individual");
    const { mapping } = resolveMapping(iface, path);
    if (!mapping.allowUnset) throw new InterfaceError("unset-not-allowed", `${iface.name}${path}: the mapping does not allow unset`, iface.name);
    if (!this.properties.unset(iface.name, path)) return;
    this.counters.sent++;
    await this.client.publish(`${this.prefix}/${iface.name}${path}`, new Uint8Array(0), { qos: 2 });
  }

  /** The cached value of a property (device- or server-owned), or undefined when unset. */
  getProperty(interfaceName: string, path: string): CleaValue | undefined {
    const iface = this.interface(interfaceName);
    if (iface.type !== "properties") throw new InterfaceError("invalid-interface", `${iface.name} is not a properties interface`, iface.name);
    const { mapping } = resolveMapping(iface, path);
    const cached = this.properties.get(iface.name, path);
    return cached ? (decodePayload(cached.payload, { type: mapping.type })?.value as CleaValue | undefined) : undefined;
  }

  /**
   * Handles Edgehog OTA requests: the handler gets `{ uuid, url, operation, signal }` and a reporter,
   * `report(status, { progress, code, message })`. Adds the OTA interfaces if they were not declared.
   * Returns a function that removes the handler.
   */
  onOta(handler: OtaHandler): () => void {
    for (const iface of edgehogInterfaces()) {
      if ((iface.name === EDGEHOG.OTARequest || iface.name === EDGEHOG.OTAEvent) && !this.interfaces.has(iface.name)) {
        this.addInterface(iface).catch((err: Error) => this.emit("error", err));
      }
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

  /** Adds an interface at run time (republishing the introspection, subscribing for server-owned ones). */
  async addInterface(source: InterfaceSource): Promise<Interface> {
    const [iface] = typeof source === "string" ? await loadInterfaces([source]) : [parseInterface(source)];
    this.interfaces.set(iface!.name, iface!);
    await this.reannounce();
    return iface!;
  }

  /** Removes an interface at run time: its cached properties go, its subscription ends, the introspection is republished. */
  async removeInterface(name: string): Promise<void> {
    if (!this.interfaces.delete(name)) throw new InterfaceError("interface-not-found", `no interface ${name}`, name);
    this.properties.retain(new Map([...this.interfaces.values()].map((i) => [i.name, i.major])));
    const filter = `${this.prefix}/${name}/#`;
    const sub = this.subscriptions.get(filter);
    this.subscriptions.delete(filter);
    this.subscribed.delete(filter);
    await sub?.unsubscribe().catch(() => undefined);
    await this.reannounce();
  }

  /** Counters. */
  stats(): DeviceStats {
    return {
      ...this.counters,
      overflowed: this.volatile.overflowed + (this.stored?.overflowed ?? 0),
      retained: this.volatile.length + (this.stored?.length ?? 0),
    };
  }

  /** Disconnects gracefully (waiting for in-flight acks) and closes the store files. */
  async end(options: { force?: boolean } = {}): Promise<void> {
    this.online = false;
    await this.client.end(options);
    this.stream.end();
    this.stored?.close();
  }

  // --- connection and handshake ---

  /** Connects; resolves after the first CONNACK (the handshake messages are then on their way). */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  private onConnect(sessionPresent: boolean): void {
    const current = this.introspection;
    const skip = sessionPresent && this.handshakeState.done && this.handshakeState.introspection === current;
    if (!skip) this.handshake(current);
    this.online = true;
    this.flushRetention();
    this.emitter.emit("connect", { sessionPresent, handshake: !skip }, noop);
  }

  /** Issues the handshake in protocol order; marks it done once every message is acknowledged. */
  private handshake(current: string): void {
    this.handshakeState.save({ done: false, introspection: current });
    const acks: Array<Promise<unknown>> = [this.subscribeServerInterfaces()];
    acks.push(this.client.publish(this.prefix, current, { qos: 2 }));
    acks.push(this.client.publish(`${this.prefix}/control/emptyCache`, "1", { qos: 2 }));
    const deviceProps = this.properties.list("device");
    const purge = deviceProps.map((p) => `${p.interfaceName}${p.path}`).join(";");
    acks.push(this.client.publish(`${this.prefix}/control/producer/properties`, deflateFrame(new TextEncoder().encode(purge)), { qos: 2 }));
    for (const p of deviceProps) acks.push(this.client.publish(`${this.prefix}/${p.interfaceName}${p.path}`, p.payload, { qos: 2 }));
    Promise.all(acks).then(
      () => {
        if (this.introspection !== current) return; // interfaces changed meanwhile: the next announcement finishes it
        this.handshakeState.save({ done: true, introspection: current });
        for (const w of this.handshakeWaiters.splice(0)) w();
        this.emitter.emit("handshake", { introspection: current }, noop);
      },
      (err: Error) => {
        if (err.name !== "ClientClosedError") this.emit("error", err);
      },
    );
  }

  /** Subscribes (once; the client resubscribes on new sessions) to consumer properties and every server-owned interface. */
  private subscribeServerInterfaces(): Promise<unknown> {
    const wanted = [`${this.prefix}/control/consumer/properties`];
    for (const i of this.interfaces.values()) if (i.ownership === "server") wanted.push(`${this.prefix}/${i.name}/#`);
    const pending: Array<Promise<unknown>> = [];
    for (const filter of wanted) {
      if (this.subscribed.has(filter)) continue;
      this.subscribed.add(filter);
      // Messages are read from the client's "message" event, in arrival order across interfaces.
      const p = this.client.subscribe(filter, { qos: 2, maxBuffered: 0 }).then(
        (sub) => {
          this.subscriptions.set(filter, sub);
        },
        (err: Error) => {
          this.subscribed.delete(filter);
          throw err;
        },
      );
      pending.push(p);
    }
    return Promise.all(pending);
  }

  /** Republishes the introspection (and subscribes to new server interfaces) after a run-time change. */
  private async reannounce(): Promise<void> {
    const current = this.introspection;
    if (!this.client.connected) {
      // Not connected: the next connection sees a different introspection and runs a full handshake.
      return;
    }
    await Promise.all([this.subscribeServerInterfaces(), this.client.publish(this.prefix, current, { qos: 2 })]);
    if (this.introspection === current) this.handshakeState.save({ done: true, introspection: current });
  }

  // --- sending ---

  private async dispatch(topic: string, payload: Uint8Array, mapping: Mapping, queueOffline = false): Promise<void> {
    const qos = RELIABILITY_QOS[mapping.reliability];
    if ((this.online && this.client.connected) || queueOffline) {
      this.counters.sent++;
      await this.client.publish(topic, payload, { qos });
      return;
    }
    const message: RetainedMessage = { topic, payload, qos, expiresAt: mapping.expiry > 0 ? this.now() + mapping.expiry * 1000 : undefined };
    if (mapping.retention === "stored" && this.stored) this.stored.push(message);
    else if (mapping.retention !== "discard") this.volatile.push(message);
    else this.counters.discarded++;
  }

  /** Sends what retention held, oldest first, before anything new; expired messages are dropped. */
  private flushRetention(): void {
    const now = this.now();
    const stored = this.stored?.pending(now);
    const volatile = this.volatile.drain(now);
    this.counters.expired += (stored?.expired ?? 0) + volatile.expired;
    for (const { message, done } of stored?.messages ?? []) {
      this.counters.sent++;
      // Handed to the client (whose store keeps QoS 1/2): no longer ours to keep.
      this.client.publish(message.topic, message.payload, { qos: message.qos }).catch((err: Error) => this.emit("error", err));
      done();
    }
    for (const message of volatile.messages) {
      this.counters.sent++;
      this.client.publish(message.topic, message.payload, { qos: message.qos }).catch((err: Error) => this.emit("error", err));
    }
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

  // --- validation helpers ---

  private interface(name: string): Interface {
    const iface = this.interfaces.get(name);
    if (!iface) throw new InterfaceError("interface-not-found", `no interface ${name} (declared: ${[...this.interfaces.keys()].join(", ") || "none"})`, name);
    return iface;
  }

  private writable(name: string, type: Interface["type"], aggregation: Interface["aggregation"]): Interface {
    const iface = this.interface(name);
    if (iface.ownership !== "device") throw new InterfaceError("write-on-server-owned", `${name} is server-owned: the device cannot write it`, name);
    if (iface.type !== type) throw new InterfaceError("invalid-interface", `${name} is a ${iface.type} interface, not ${type}`, name);
    if (iface.aggregation !== aggregation) {
      throw new InterfaceError("invalid-interface", `${name} has ${iface.aggregation} aggregation: use ${iface.aggregation === "object" ? "sendObject" : "send"}()`, name);
    }
    return iface;
  }

  private checkTimestamp(iface: Interface, mapping: Mapping, timestamp: Date | undefined): void {
    if (mapping.explicitTimestamp && timestamp === undefined) {
      throw new InterfaceError("invalid-timestamp", `${iface.name}${mapping.endpoint} requires an explicit timestamp`, iface.name);
    }
    if (!mapping.explicitTimestamp && timestamp !== undefined) {
      throw new InterfaceError("invalid-timestamp", `${iface.name}${mapping.endpoint} has no explicit_timestamp: a timestamp cannot be sent`, iface.name);
    }
  }

  private emit<K extends keyof DeviceEvents>(event: K, payload: DeviceEvents[K]): void {
    if (event === "error" && !this.emitter.has("error")) {
      console.warn(`edgemq/clea: ${(payload as Error).message}`);
      return;
    }
    this.emitter.emit(event, payload, (err) => console.error("edgemq/clea: a listener threw:", err));
  }
}

function noop(): void {}

/** Validates the identity, loads the interfaces, connects. Resolves after the first CONNACK; the handshake follows. */
export async function connectDevice(options: DeviceOptions): Promise<Device> {
  if (typeof options.realm !== "string" || !/^[a-z][a-z0-9]{0,47}$/.test(options.realm)) {
    throw new OptionsError(`realm ${JSON.stringify(options.realm)} must be lowercase letters and digits, starting with a letter`);
  }
  if (!isValidDeviceId(options.deviceId)) {
    throw new OptionsError(`device id ${JSON.stringify(options.deviceId)} is not 22 characters of URL-safe base64 encoding 128 bits`);
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
