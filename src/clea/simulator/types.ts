/** The options and events of AstarteSimulator. */

import type { ClientOptions } from "../../index.js";
import type { InterfaceSource } from "../interface-loader.js";
import type { DeviceMessageKind } from "./decode.js";
import type { Violation } from "./violations.js";

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

/** The keys of AstarteSimulatorOptions that are the simulator's own (the others go to its client). */
export const SIMULATOR_KEYS = new Set(["realm", "interfaces", "edgehog", "timeout", "maxMessageSize", "respondToEmptyCache"]);

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
