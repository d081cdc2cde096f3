/** What AstarteSimulator knows about one device: its introspection, handshake, properties and received data. */

import type { QoS } from "../../index.js";
import type { CleaValue } from "../values.js";
import { edgehogCapabilities, type EdgehogCapability } from "../edgehog/capabilities.js";
import type { DeviceMessageKind } from "./decode.js";

export type { DeviceMessageKind } from "./decode.js";

/** Most entries a device's `messages` log keeps (the oldest go first). */
export const MAX_LOGGED_MESSAGES = 10_000;

/** One message a device published, as the simulator took it, in arrival order. */
export interface SimulatedMessage {
  /** The topic after `<realm>/<deviceId>` ("" for the introspection, "/control/emptyCache", "/<interface><path>"). */
  topic: string;
  /** What it was ("violation" when it broke a rule and was dropped). */
  kind: DeviceMessageKind;
  /** The QoS the device published with. */
  qos: QoS;
}

/** A datastream message received from a device, decoded with its mapping types. */
export interface SimulatedData {
  /** The interface name. */
  interface: string;
  /** The path within the interface (for an object, the common prefix). */
  path: string;
  /** The decoded value: a scalar or array, or for object aggregation a record of fields. */
  value: CleaValue | Record<string, CleaValue>;
  /** The message's explicit timestamp (`t`), when present. */
  timestamp?: Date;
  /** The QoS the device published with. */
  qos: QoS;
}

/** Which parts of the Astarte handshake a device has sent (in any session so far). */
export interface SimulatedHandshake {
  /** The introspection (`<realm>/<deviceId>`). */
  introspection: boolean;
  /** The capabilities message (`/capabilities`, optional). */
  capabilities: boolean;
  /** `/control/emptyCache`. */
  emptyCache: boolean;
  /** The producer properties purge (`/control/producer/properties`). */
  producerPurge: boolean;
}

/** The capabilities a device declared, decoded. */
export interface SimulatedCapabilities {
  /** `purge_properties_compression_format`: "zlib" (default) or "plaintext". */
  purgePropertiesCompressionFormat: "zlib" | "plaintext";
}

/** One interface version as the device's introspection declares it. */
export interface IntrospectionEntry {
  /** Major version. */
  major: number;
  /** Minor version. */
  minor: number;
}

/** The simulator's view of one device; created on the device's first message (or first server action). */
export class SimulatedDevice {
  /** The device id (the topic level after the realm). */
  readonly deviceId: string;
  /** The last introspection: interface name -> declared version. Empty until one is received. */
  readonly introspection: Map<string, IntrospectionEntry> = new Map();
  /** Which handshake messages were received. */
  readonly handshake: SimulatedHandshake = { introspection: false, capabilities: false, emptyCache: false, producerPurge: false };
  /** The declared capabilities, once a valid capabilities message was received. */
  capabilities: SimulatedCapabilities | undefined;
  /** The entries (`<interface><path>`) of the last producer purge list, once one was received. */
  producerPurge: string[] | undefined;
  /** Device-owned properties that are set: `${interface}${path}` -> value. Unsets and the producer purge remove entries. */
  readonly properties: Map<string, CleaValue> = new Map();
  /** Server-owned properties the simulator set for this device and did not unset: `${interface}${path}` -> value. */
  readonly serverProperties: Map<string, CleaValue> = new Map();
  /** Datastream messages received from the device, in arrival order (the newest 10,000). */
  readonly data: SimulatedData[] = [];
  /** Every message the device published, in arrival order: the order and QoS of its handshake, among others (the newest 10,000). */
  readonly messages: SimulatedMessage[] = [];

  /** Creates the (empty) state of `deviceId`. */
  constructor(deviceId: string) {
    this.deviceId = deviceId;
  }

  /** Keeps a received datastream message (the oldest goes beyond 10,000: a long-running simulator stays bounded). */
  record(entry: SimulatedData): void {
    this.data.push(entry);
    if (this.data.length > MAX_LOGGED_MESSAGES) this.data.shift();
  }

  /** Whether the introspection, emptyCache and producer purge have all been received. */
  get handshakeComplete(): boolean {
    return this.handshake.introspection && this.handshake.emptyCache && this.handshake.producerPurge;
  }

  /** The Edgehog capabilities Edgehog would show for this device, from its introspection. */
  edgehogCapabilities(): EdgehogCapability[] {
    return edgehogCapabilities([...this.introspection.entries()].map(([name, v]) => ({ name, ...v })));
  }

  /** The introspection string as Astarte would store it (`name:major:minor` joined by `;`, in name order). */
  introspectionString(): string {
    return [...this.introspection.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, v]) => `${name}:${v.major}:${v.minor}`)
      .join(";");
  }
}
