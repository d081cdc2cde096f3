/**
 * Opens a Device's durable state: in its store directory (`options.store`) or, without one, in memory. The
 * properties cache, the handshake record, the retention queues, the OTA state and the MQTT session store; what
 * could not be read, and cached properties of removed or changed interfaces, are reported as warnings.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { FileStore, MemoryStore, type Store } from "../index.js";
import type { DeviceOptions } from "./device-types.js";
import type { DeviceWarningCode } from "./errors.js";
import { HandshakeState } from "./handshake.js";
import type { Interface } from "./interface.js";
import { OtaManager, type OtaHost } from "./ota.js";
import { PropertyCache } from "./properties.js";
import { Retention, StoredQueue, VolatileQueue } from "./retention.js";

/** The durable state of one Device, opened. */
export interface DeviceStore {
  /** The properties cache (device- and server-owned). */
  properties: PropertyCache;
  /** Whether the last handshake completed, and for which introspection. */
  handshake: HandshakeState;
  /** The volatile and stored retention queues. */
  retention: Retention;
  /** Edgehog OTA requests: the handler and the state of the current update. */
  ota: OtaManager;
  /** The MQTT client's store (in-flight QoS 1/2). */
  mqtt: Store;
}

/**
 * Creates the store directory if needed and loads what it holds. `warn` gets, in order: the OTA state's warning,
 * the interfaces' warnings, unreadable state files ("state-unreadable"), dropped cached properties ("data-dropped").
 */
export function openDeviceStore(
  options: DeviceOptions,
  interfaces: readonly Interface[],
  otaHost: OtaHost,
  warn: (code: DeviceWarningCode, message: string) => void,
): DeviceStore {
  const dir = options.store;
  if (dir) fs.mkdirSync(dir, { recursive: true });
  const properties = new PropertyCache(dir ? path.join(dir, "properties.json") : undefined);
  const handshake = new HandshakeState(dir ? path.join(dir, "handshake.json") : undefined);
  const volatile = new VolatileQueue(options.retention?.volatileMaxMessages ?? 1000);
  const stored = dir ? new StoredQueue(path.join(dir, "retention.log"), options.retention?.storedMaxMessages ?? 1_000_000) : undefined;
  const ota = new OtaManager(otaHost, dir ? path.join(dir, "ota.json") : undefined);
  for (const i of interfaces) for (const w of i.warnings ?? []) warn("interface-warning", w);
  for (const w of [...properties.load(), ...handshake.load(), ...(stored?.open() ?? [])]) warn("state-unreadable", w);
  const dropped = properties.retain(new Map(interfaces.map((i) => [i.name, i.major])));
  if (dropped.length > 0) warn("data-dropped", `dropped ${dropped.length} cached propert(ies) of removed or changed interfaces`);
  const mqtt = dir ? new FileStore(path.join(dir, "mqtt")) : new MemoryStore();
  return { properties, handshake, retention: new Retention(volatile, stored), ota, mqtt };
}
