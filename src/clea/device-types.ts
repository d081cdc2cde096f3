/** The options, events and counters of a Device. */

import type { ClientOptions, ClientWarning } from "../index.js";
import type { DeviceWarning } from "./errors.js";
import type { DeviceCapabilities } from "./capabilities.js";
import type { EdgehogOptions } from "./edgehog/options.js";
import type { InterfaceSource } from "./interface-loader.js";
import type { PairingOptions } from "./pairing.js";

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
  retention?: {
    /** Most volatile (in-memory) messages kept. Default 1,000. */
    volatileMaxMessages?: number;
    /** Most stored (on-disk) messages kept. Default 1,000,000. */
    storedMaxMessages?: number;
  };
  /** Cap on inflating deflate frames from the server. Default 10 MiB. */
  maxInflatedSize?: number;
  /**
   * Largest payload the device sends, in bytes: larger messages are refused locally with PayloadError
   * "message-too-large" (the Astarte broker disconnects a device that sends more than its max_message_size).
   * Default 65,535, the Astarte broker's; raise it for brokers that take more.
   */
  maxMessageSize?: number;
  /** Wall clock for timestamps and retention expiry (ms since the epoch). Default Date.now. */
  now?: () => number;
  /**
   * Edgehog device management. `true` turns on every capability the SDK fills in by itself: OTA, Commands, the
   * device info properties, SystemStatus and StorageUsage telemetry, HardwareInfo, NetworkInterfaceProperties and
   * config.Telemetry. An object can switch each off and adds those that need the application (LEDs, battery,
   * geolocation, Wi-Fi, cellular, remote terminal) by giving their handler or provider. See README "Edgehog".
   */
  edgehog?: boolean | EdgehogOptions;
  /**
   * Credentials from the Astarte pairing API instead of tls.cert/tls.key: `{ url, credentialsSecret }`, or
   * `{ url, agentToken }` to register the device first. The ECDSA key and certificate live in `<store>/credentials`
   * (key.pem 0600, cert.pem), are reused while valid, and renewed before expiry and after a TLS failure.
   * Without url/servers, the broker URL comes from the pairing API. Needs the optional `@peculiar/x509` and
   * `reflect-metadata` packages.
   */
  pairing?: PairingOptions;
  /**
   * Sends the Astarte capabilities message in every handshake (Astarte >= 1.3; leave unset for older servers), e.g.
   * `{ purgePropertiesCompressionFormat: "plaintext" }`: the server then sends the consumer purge list uncompressed.
   */
  capabilities?: DeviceCapabilities;
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
  connect: {
    /** The CONNACK's session present flag. */
    sessionPresent: boolean;
    /** Whether this connection ran the full handshake (the broker had no session for the current interfaces). */
    handshake: boolean;
  };
  /** The connection ended; `reason` is undefined for end(). */
  disconnect: {
    /** Why it ended; undefined for end(). */
    reason: Error | undefined;
  };
  /** The handshake's messages were all acknowledged. */
  handshake: {
    /** The introspection string that was announced. */
    introspection: string;
  };
  /** A message from the server could not be decoded or validated; the device keeps running. */
  error: Error;
  /** An Edgehog command (io.edgehog.devicemanager.Commands), e.g. "Reboot". */
  command: {
    /** The command's name, e.g. "Reboot". */
    command: string;
  };
  /**
   * Conditions the device handled by itself, each with a `code`: a DeviceWarning (state-unreadable, data-dropped,
   * interface-warning, event-buffer-full, ota, telemetry-failed, command-refused, invalid-request, handler-failed) or the client's ClientWarning (slow-consumer, message-too-large,
   * qos-downgraded, store-damaged, ...). Those raised before a listener was attached go to the first one.
   */
  warning: DeviceWarning | ClientWarning;
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
  /** Retained messages dropped because their retention queue was full. */
  overflowed: number;
  /** Messages waiting in retention. */
  retained: number;
  /** Server messages refused. */
  errors: number;
}
