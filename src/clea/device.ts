/**
 * Device: a Clea (Astarte MQTT v1) device on top of the core client. It owns the client id and topic prefix
 * `<realm>/<deviceId>`, runs the handshake when the broker has no session for it, validates everything it sends
 * against its interfaces, keeps the properties cache, retains datastreams while offline, and turns what the
 * server sends into typed events.
 */

import { createClient, systemClock, type Client } from "../index.js";
import { deviceInfoProperties, hostInfo, type DeviceInfo } from "./edgehog/info.js";
import { EDGEHOG, edgehogInterfaces } from "./edgehog/interfaces.js";
import type { EdgehogConfig } from "./edgehog/options.js";
import type { EdgehogPort } from "./edgehog/port.js";
import { EdgehogRuntime } from "./edgehog/runtime.js";
import { InterfaceError } from "./errors.js";
import { EventStream } from "./event-stream.js";
import { Handshake, introspection } from "./handshake.js";
import type { Interface } from "./interface.js";
import { loadInterfaces, type InterfaceSource } from "./interface-loader.js";
import { Sender } from "./sender.js";
import { DEFAULT_MAX_INFLATED_SIZE, decodePayload } from "./payload.js";
import type { PropertyCache } from "./properties.js";
import type { DeviceEvent } from "./receive.js";
import type { OtaEventFields, OtaHandler, OtaHost, OtaManager } from "./ota.js";
import { encodeCapabilities } from "./capabilities.js";
import { encodeIndividual, encodeObject, encodeProperty, readableProperty, unsettable } from "./validate.js";
import type { CleaValue } from "./values.js";
import type { DeviceEvents, DeviceOptions, DeviceStats, SendOptions } from "./device-types.js";
import { DeviceEmitter } from "./device-emitter.js";
import { DeviceReceiver } from "./device-receiver.js";
import { ResumeCoordinator } from "./device-resume.js";
import { openDeviceStore } from "./device-store.js";

/** Called by connectDevice() only (not exported from the package): the turn for an events() loop after it returned has passed. */
export const SETTLE_EVENTS = Symbol("settleEvents");

/**
 * A Clea (Astarte MQTT v1) device on the core client: sends and receives data on its interfaces, runs the Astarte
 * handshake after each new session, and keeps properties and retention. Create it with connectDevice().
 *
 * @example
 * ```ts
 * const device = await connectDevice({ realm: "acme", deviceId, url, tls: { cert, key, ca }, interfaces: ["./interfaces"] });
 * device.on("warning", (w) => console.warn(w.code, w.message));
 * await device.send("com.acme.Sensors", "/press7/temperature", 21.5, { timestamp: new Date() });
 * await device.end();
 * ```
 */
export class Device {
  /** `<realm>/<deviceId>`: the MQTT client id and topic prefix. */
  readonly prefix: string;
  /** The underlying MQTT client (for stats and events of the connection). */
  readonly client: Client;
  /** Edgehog device management: `capabilities()`, `telemetry()`, `forwarderSessions()` (see connectDevice's `edgehog`). */
  readonly edgehog: EdgehogRuntime;
  private readonly interfaces = new Map<string, Interface>();
  /** The device's own events ("warning", "error", ...): see Device.on(). */
  private readonly emitter = new DeviceEmitter();
  private readonly stream: EventStream<DeviceEvent>;
  private readonly properties: PropertyCache;
  private readonly handshake: Handshake;
  private readonly sender: Sender;
  /** The handshake or resume after each CONNACK; device property publishes; stale retention. */
  private readonly resumer: ResumeCoordinator;
  /** What the server sends, turned into cache updates and events. */
  private readonly receiver: DeviceReceiver;
  private readonly now: () => number;
  /** Longest a graceful end() waits for retention to be handed over (the client's endTimeout). */
  private readonly endTimeout: number;
  private readonly ota: OtaManager;

  /**
   * Use connectDevice().
   * @internal
   */
  constructor(options: DeviceOptions, interfaces: Interface[], edgehog?: EdgehogConfig) {
    this.prefix = `${options.realm}/${options.deviceId}`;
    for (const i of interfaces) this.interfaces.set(i.name, i);
    this.now = options.now ?? Date.now;
    this.endTimeout = options.endTimeout ?? 10_000;
    this.stream = new EventStream(10_000, () => this.emitter.warn("event-buffer-full", "events() is read too slowly: dropped the oldest event"));
    const otaHost: OtaHost = { publish: (event) => this.publishOtaEvent(event), warn: (w) => this.emitter.warn("ota", w) };
    const store = openDeviceStore(options, interfaces, otaHost, (code, message) => this.emitter.warn(code, message));
    this.properties = store.properties;
    this.ota = store.ota;
    const userBeforeConnect = options.beforeConnect;
    const userBeforeResume = options.beforeResume;
    this.client = createClient({
      ...options,
      clientId: this.prefix,
      clean: true,
      // Acks wait until events() took the event a message became (DeviceReceiver), so a slow reader holds the broker
      // back instead of losing events; messages outside the device's topics are acknowledged on arrival.
      manualAck: true,
      store: store.mqtt,
      // Clean until a handshake has completed once; after that the broker keeps the session.
      beforeConnect: async (attempt) => ({ ...((await userBeforeConnect?.(attempt)) ?? {}), clean: !this.handshake.done }),
      // The handshake goes before anything else the client holds (ResumeCoordinator.resume).
      beforeResume: (resume) => this.resumer.resume(resume, userBeforeResume),
    });
    this.sender = new Sender(this.client, store.retention, this.now, (err) => this.emitter.emit("error", err), options.maxMessageSize ?? 65_535);
    this.handshake = new Handshake(store.handshake, {
      client: this.client,
      prefix: this.prefix,
      interfaces: this.interfaces,
      properties: this.properties,
      capabilities: options.capabilities ? encodeCapabilities(options.capabilities) : undefined,
      onError: (err) => this.emitter.emit("error", err),
      onComplete: (current) => this.emitter.emit("handshake", { introspection: current }),
    });
    this.resumer = new ResumeCoordinator({
      prefix: this.prefix,
      interfaces: this.interfaces,
      properties: this.properties,
      handshake: this.handshake,
      sender: this.sender,
      error: (err) => this.emitter.emit("error", err),
      warn: (code, message) => this.emitter.warn(code, message),
    });
    this.edgehog = new EdgehogRuntime(this.edgehogPort(options), edgehog);
    this.receiver = new DeviceReceiver({
      prefix: this.prefix,
      interfaces: this.interfaces,
      properties: this.properties,
      maxInflatedSize: options.maxInflatedSize ?? DEFAULT_MAX_INFLATED_SIZE,
      plaintextPurge: options.capabilities?.purgePropertiesCompressionFormat === "plaintext",
      otaRequest: (fields) => this.ota.onRequest(fields),
      command: (command) => this.emitter.emit("command", { command }),
      edgehog: (event) => this.edgehog.handle(event),
      push: (event, taken) => this.stream.push(event, taken),
      error: (err) => this.emitter.emit("error", err),
    });
    this.resumer.warnStaleRetention();
    this.client.on("connect", ({ sessionPresent }) => this.emitter.emit("connect", { sessionPresent, handshake: this.resumer.handshakeRan }));
    this.client.on("disconnect", ({ reason }) => {
      this.sender.ready = false;
      this.emitter.emit("disconnect", { reason });
    });
    this.client.on("warning", (w) => this.emitter.emit("warning", w));
    this.client.on("message", (msg) => {
      if (msg.topic.startsWith(`${this.prefix}/`)) this.receiver.receive(msg.topic, msg.payload, () => msg.ack());
      else msg.ack();
    });
    this.client.on("error", (e) => this.emitter.emit("error", e));
  }

  /**
   * Adds a listener; returns the function that removes it. Warnings raised while no "warning" listener was attached
   * (those of connectDevice() among them: damaged state files, data of changed interfaces) are delivered to the
   * first one, a microtask later.
   * @param event The event's name (see DeviceEvents).
   * @param listener Called with the event's payload.
   * @returns The function that removes the listener.
   * @example
   * ```ts
   * device.on("command", ({ command }) => {
   *   if (command === "Reboot") scheduleReboot();
   * });
   * ```
   */
  on<K extends keyof DeviceEvents>(event: K, listener: (payload: DeviceEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /**
   * Values the server sends (server-owned datastreams and properties), as `{ interface, path, value, timestamp? }`
   * (value undefined = unset). Each call starts a new iterator that sees every later event; the first one also gets
   * those that arrived since connectDevice() returned. A slow loop holds back the acks of QoS 1/2 messages, so the
   * broker waits instead of events being lost. The loop ends with end().
   * @returns An async iterable of DeviceEvent.
   * @example
   * ```ts
   * for await (const ev of device.events()) {
   *   if (ev.interface === "com.acme.Commands") handle(ev.path, ev.value);
   * }
   * ```
   */
  events(): AsyncIterable<DeviceEvent> {
    return this.stream.iterate();
  }

  /**
   * Waits for the broker to acknowledge a complete handshake (subscriptions, introspection, emptyCache, purge,
   * device-owned properties) for the current interfaces. Optional: data sent earlier is held or retained until then anyway.
   * @returns A promise that resolves once acknowledged; at once if it already was.
   */
  handshakeComplete(): Promise<void> {
    return this.handshake.complete();
  }

  /** The current introspection string. */
  get introspection(): string {
    return introspection(this.interfaces.values());
  }

  /**
   * Sends one value on an individual device-owned datastream. QoS follows the mapping's reliability (unreliable 0,
   * guaranteed 1, unique 2). While offline or during the handshake the message is retained as the mapping's
   * retention says (discard, volatile, stored), or with `queueOffline` put in the client's offline queue.
   * @param interfaceName The interface's name, e.g. "com.acme.Sensors".
   * @param path A path matching one of its mappings, e.g. "/press7/temperature".
   * @param value A value of the mapping's type (number, bigint, boolean, string, Uint8Array, Date, or an array).
   * @param options `timestamp` (required for explicit_timestamp mappings, refused for others), `queueOffline`.
   * @returns A promise that resolves when the client resolves the publish (written for QoS 0, PUBACK for QoS 1,
   * PUBCOMP for QoS 2), or at once when the message was retained or discarded.
   * @throws (as a rejection) InterfaceError ("interface-not-found", "mapping-not-found", "write-on-server-owned",
   * "invalid-timestamp", ...) or PayloadError ("unexpected-value-type", "message-too-large", ...) before anything is
   * sent; the client's PublishError or ClientClosedError after.
   * @example
   * ```ts
   * await device.send("com.acme.Sensors", "/press7/temperature", 21.5, { timestamp: new Date() });
   * ```
   */
  async send(interfaceName: string, path: string, value: CleaValue, options: SendOptions = {}): Promise<void> {
    const { iface, mapping, payload } = encodeIndividual(this.interfaces, interfaceName, path, value, options.timestamp);
    await this.sender.send(`${this.prefix}/${iface.name}${path}`, payload, mapping, iface.major, options.queueOffline);
  }

  /**
   * Sends an object on an object-aggregated device-owned datastream; `path` is the common prefix of its mappings
   * and each key is a last endpoint level. Resolves, retains and refuses as send() does (PayloadError
   * "missing-object-key" or "unexpected-object-key" for fields that do not match the mappings).
   * @param interfaceName The interface's name.
   * @param path The object's path, e.g. "/room1" for mappings "/%{room}/temp" and "/%{room}/hum".
   * @param object The fields, by key.
   * @param options `timestamp`, `queueOffline`, as for send().
   * @returns A promise that resolves as send()'s does.
   * @example
   * ```ts
   * await device.sendObject("com.acme.Environment", "/room1", { temp: 21.5, hum: 40 }, { timestamp: new Date() });
   * ```
   */
  async sendObject(interfaceName: string, path: string, object: Record<string, CleaValue>, options: SendOptions = {}): Promise<void> {
    const { iface, mapping, payload } = encodeObject(this.interfaces, interfaceName, path, object, options.timestamp);
    await this.sender.send(`${this.prefix}/${iface.name}${path}`, payload, mapping, iface.major, options.queueOffline);
  }

  /**
   * Sets a device-owned property. An unchanged value is not republished. Resolves once the broker acknowledged it
   * (QoS 2) or, while the device is offline or its handshake runs, once it is recorded in the properties cache
   * (durable with `store`): it is published once, with the latest value, when the device is ready again.
   * @param interfaceName A device-owned properties interface.
   * @param path A path matching one of its mappings.
   * @param value A value of the mapping's type.
   * @returns A promise that resolves on the broker's PUBCOMP, once cached while not ready, or at once if unchanged.
   * @throws (as a rejection) InterfaceError or PayloadError for a wrong interface, path or value; the client's
   * errors (PublishError, ClientClosedError) for the publish.
   * @example
   * ```ts
   * await device.setProperty("com.acme.Config", "/display/name", "Press 7");
   * ```
   */
  async setProperty(interfaceName: string, path: string, value: CleaValue): Promise<void> {
    const { iface, payload } = encodeProperty(this.interfaces, interfaceName, path, value);
    const ready = this.sender.ready;
    if (!this.properties.set("device", iface.name, iface.major, path, payload, !ready)) return;
    if (ready) await this.resumer.publishProperty(`${this.prefix}/${iface.name}${path}`, payload);
  }

  /**
   * Unsets a device-owned property (the mapping must allow_unset). Resolves as setProperty() does.
   * @param interfaceName A device-owned properties interface.
   * @param path The property's path.
   * @returns A promise that resolves as setProperty()'s does.
   * @throws (as a rejection) InterfaceError "unset-not-allowed" when the mapping has no allow_unset, and as
   * setProperty() does.
   */
  async unsetProperty(interfaceName: string, path: string): Promise<void> {
    const iface = unsettable(this.interfaces, interfaceName, path);
    const ready = this.sender.ready;
    if (!this.properties.unset(iface.name, path, !ready)) return;
    if (ready) await this.resumer.publishProperty(`${this.prefix}/${iface.name}${path}`, new Uint8Array(0));
  }

  /**
   * The cached value of a property (device- or server-owned), as last set here or received from the server.
   * @param interfaceName A properties interface.
   * @param path The property's path.
   * @returns The value, or undefined when unset (or never set).
   * @throws InterfaceError if the interface is unknown or not a properties interface, or no mapping matches `path`.
   * @example
   * ```ts
   * const interval = device.getProperty("com.acme.Config", "/sampling/intervalMs") ?? 1000;
   * ```
   */
  getProperty(interfaceName: string, path: string): CleaValue | undefined {
    const { iface, mapping } = readableProperty(this.interfaces, interfaceName, path);
    const cached = this.properties.get(iface.name, path);
    return cached ? (decodePayload(cached.payload, { type: mapping.type })?.value as CleaValue | undefined) : undefined;
  }

  /**
   * Handles Edgehog OTA requests: the handler gets `{ uuid, url, operation, signal }` and a reporter,
   * `report(status, { progress, code, message })`. The OTA interfaces, if not declared, are part of the device
   * (and its introspection) when this returns; they are announced at once when connected, else on connecting.
   * Returns a function that removes the handler. Each request is answered with "Acknowledged" before the handler
   * runs; a handler that throws reports Failure/InternalError, one that returns without a final status reports
   * Success, and a Cancel before Deploying aborts its `signal`.
   * @param handler Called with the request and `report(status, details?)`; the SDK flashes nothing itself.
   * @returns The function that removes the handler.
   * @example
   * ```ts
   * device.onOta(async ({ url, signal }, report) => {
   *   await report("Downloading", { progress: 0 });
   *   const image = await fetch(url, { signal });
   *   // ... write and verify the image ...
   *   await report("Deploying");
   *   await report("Deployed");
   *   await report("Rebooting"); // reboot here: Success is reported on the next start
   * });
   * ```
   */
  onOta(handler: OtaHandler): () => void {
    const missing = edgehogInterfaces().filter(
      (i) => (i.name === EDGEHOG.OTARequest || i.name === EDGEHOG.OTAEvent) && !this.interfaces.has(i.name),
    );
    if (missing.length > 0) {
      for (const iface of missing) this.interfaces.set(iface.name, iface);
      // A failed announcement leaves the handshake state stale, so the next connection runs a full handshake.
      this.handshake.reannounce().catch((err: Error) => this.emitter.emit("error", err));
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
   * @param source A .json file path, interface JSON, or an Interface. An interface of the same name is replaced.
   * @returns A promise of the added Interface, resolved once the new introspection was announced.
   * @throws InterfaceError "invalid-interface" (as a rejection) for an invalid or unreadable interface.
   * @example
   * ```ts
   * const iface = await device.addInterface("./interfaces/com.acme.Config.json");
   * ```
   */
  async addInterface(source: InterfaceSource): Promise<Interface> {
    const [iface] = await loadInterfaces([source]);
    this.interfaces.set(iface!.name, iface!);
    for (const w of iface!.warnings ?? []) this.emitter.warn("interface-warning", w);
    this.resumer.warnStaleRetention();
    await this.handshake.reannounce();
    return iface!;
  }

  /**
   * Removes an interface at run time: its cached properties go, its subscription ends, the introspection is
   * republished; retained messages for it are dropped (with a "data-dropped" warning, if there were any).
   * @param name The interface's name.
   * @returns A promise that resolves once the introspection was announced.
   * @throws InterfaceError "interface-not-found" (as a rejection) if the device has no such interface.
   */
  async removeInterface(name: string): Promise<void> {
    if (!this.interfaces.delete(name)) throw new InterfaceError("interface-not-found", `no interface ${name}`, name);
    this.properties.retain(new Map([...this.interfaces.values()].map((i) => [i.name, i.major])));
    this.resumer.warnStaleRetention();
    await this.handshake.unsubscribe(name);
    await this.handshake.reannounce();
  }

  /** Events no events() loop picked up right after connectDevice() returned no longer hold their acks. */
  [SETTLE_EVENTS](): void {
    this.stream.settle();
  }

  /**
   * Counters of the device layer (the connection's are in `client.stats()`).
   * @returns A fresh snapshot.
   */
  stats(): DeviceStats {
    const { sender } = this;
    return {
      sent: sender.sent,
      received: this.receiver.received,
      discarded: sender.discarded,
      expired: sender.expired,
      errors: this.receiver.errors,
      overflowed: sender.overflowed,
      retained: sender.retained,
    };
  }

  /**
   * Disconnects gracefully (waiting for in-flight acks, up to the client's endTimeout) and closes the store files;
   * events() loops end. Messages kept by "stored" retention stay on disk for the next run.
   * @param options `force: true` drops the connection without DISCONNECT (the broker publishes the will).
   * @returns A promise that resolves once closed.
   * @throws OptionsError (as a rejection) for invalid options.
   */
  async end(options: { force?: boolean } = {}): Promise<void> {
    // Gracefully, what retention still holds is handed to the client first (whose end() then waits for the acks).
    await this.edgehog.stop(options?.force !== true);
    if (options?.force !== true) await this.sender.handedOver(this.endTimeout);
    this.sender.ready = false;
    await this.client.end(options);
    this.stream.end();
    this.sender.close();
  }

  /** Connects; resolves after the first CONNACK (the handshake messages are then on their way). */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  /** Sends an OTAEvent, timestamped now and queued while offline; resolves like sendObject(). */
  private publishOtaEvent(event: OtaEventFields): Promise<void> {
    return this.sendObject(EDGEHOG.OTAEvent, "/event", { ...event }, { timestamp: new Date(this.now()), queueOffline: true });
  }

  /** The Device as its Edgehog runtime uses it. */
  private edgehogPort(options: DeviceOptions): EdgehogPort {
    return {
      sendObject: (iface, path, object, timestamp) => this.sendObject(iface, path, object, { timestamp }),
      setProperty: (iface, path, value) => this.setProperty(iface, path, value),
      unsetProperty: (iface, path) => this.unsetProperty(iface, path),
      getProperty: (iface, path) => (this.interfaces.has(iface) ? this.getProperty(iface, path) : undefined),
      propertyPaths: (iface) => this.properties.list("device").filter((p) => p.interfaceName === iface).map((p) => p.path),
      interfaces: () => this.interfaces.values(),
      warn: (code, message) => this.emitter.warn(code, message),
      now: this.now,
      clock: options.clock ?? systemClock,
    };
  }
}
