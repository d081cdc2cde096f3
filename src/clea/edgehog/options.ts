/**
 * The `edgehog` option of connectDevice(): which Edgehog capabilities the device has, and the application's
 * providers and handlers for those the SDK cannot fill in by itself. Checked before connecting, so a plain
 * JavaScript caller gets an OptionsError naming the bad field instead of a failure later.
 */

import { OptionsError } from "../../index.js";
import type { DeviceInfo } from "./info.js";
import { EDGEHOG } from "./interfaces.js";
import type { CommandHandler } from "./commands.js";
import type { ForwarderHandler } from "./forwarder.js";
import type { LedHandler } from "./leds.js";
import type { BatterySlot, CellularModem, GeolocationFix, WifiAccessPoint } from "./providers.js";

/** A telemetry interface: sent on a schedule the server can change through config.Telemetry. */
export type TelemetryInterface =
  | typeof EDGEHOG.SystemStatus
  | typeof EDGEHOG.StorageUsage
  | typeof EDGEHOG.BatteryStatus
  | typeof EDGEHOG.Geolocation
  | typeof EDGEHOG.WiFiScanResults
  | typeof EDGEHOG.CellularConnectionStatus;

/** The telemetry interfaces, in the order a tick sends them. */
export const TELEMETRY_INTERFACES: readonly TelemetryInterface[] = [
  EDGEHOG.SystemStatus,
  EDGEHOG.StorageUsage,
  EDGEHOG.BatteryStatus,
  EDGEHOG.Geolocation,
  EDGEHOG.WiFiScanResults,
  EDGEHOG.CellularConnectionStatus,
];

/** The device's own setting for one telemetry interface; the server's config.Telemetry overrides it while set. */
export interface TelemetrySetting {
  /** Whether it is sent. Default true. */
  enabled?: boolean;
  /** Seconds from the end of one send to the start of the next (whole seconds >= 1). Default 60, as Edgehog's runtime. */
  periodSeconds?: number;
}

/** A value the application provides, read at each telemetry tick (sync or async). */
export type Provider<T> = () => T | Promise<T>;

/** Which filesystems StorageUsage reports. */
export interface StorageUsageOptions {
  /** Label (one path segment, e.g. "data") -> a directory on the filesystem to report, e.g. "/var/lib/app". */
  paths: Record<string, string>;
}

/**
 * What `edgehog: { ... }` may say. Capabilities the SDK fills in by itself are on unless set to `false`; those
 * that need the application are on when it gives their provider or handler.
 */
export interface EdgehogOptions {
  /** Device info to publish (serial and part number, base image, ...). */
  info?: DeviceInfo;
  /** SystemStatus (memory, boot id, tasks, uptime), periodic. Default on. */
  systemStatus?: boolean;
  /** StorageUsage, periodic: `true` reads "/" as label "root"; `{ paths: { label: dir } }` reads those. Default on. */
  storageUsage?: boolean | StorageUsageOptions;
  /** HardwareInfo properties (CPU, memory), refreshed when they change. Default on. */
  hardwareInfo?: boolean;
  /** NetworkInterfaceProperties (MAC, technology per interface), refreshed when they change. Default on. */
  networkInterfaces?: boolean;
  /** The device's telemetry settings per interface; `false` leaves config.Telemetry out (the server cannot change them). */
  telemetry?: false | Partial<Record<TelemetryInterface, TelemetrySetting>>;
  /** Commands (Reboot): `false` leaves the interface out; a handler decides and may refuse. Default on (the "command" event). */
  commands?: false | CommandHandler;
  /** OTA (OTARequest/OTAEvent): `false` leaves them out. Default on (see Device.onOta). */
  ota?: false;
  /** LedBehavior: called with each blink request. */
  leds?: LedHandler;
  /** BatteryStatus: the battery slots, read at each telemetry tick. */
  battery?: Provider<BatterySlot[]>;
  /** Geolocation: the current fixes, read at each telemetry tick. */
  geolocation?: Provider<GeolocationFix[]>;
  /** WiFiScanResults: the access points seen, read at each telemetry tick. */
  wifi?: Provider<WifiAccessPoint[]>;
  /** CellularConnectionProperties and CellularConnectionStatus: the modems, read at each telemetry tick. */
  cellular?: Provider<CellularModem[]>;
  /** ForwarderSessionRequest/ForwarderSessionState (remote terminal): opens the session the server asks for. */
  forwarder?: ForwarderHandler;
}

/** The `edgehog` option resolved: which interfaces are on, with the application's parts. */
export interface EdgehogConfig extends Omit<EdgehogOptions, "storageUsage" | "telemetry" | "commands"> {
  /** The interfaces the device declares for Edgehog. */
  interfaces: Set<string>;
  /** Labels and directories StorageUsage reads. */
  storagePaths: Record<string, string> | undefined;
  /** The device's telemetry settings. */
  telemetry: Partial<Record<TelemetryInterface, TelemetrySetting>>;
  /** The command handler, if any. */
  commands: CommandHandler | undefined;
}

const KEYS = new Set([
  "info", "systemStatus", "storageUsage", "hardwareInfo", "networkInterfaces", "telemetry", "commands", "ota",
  "leds", "battery", "geolocation", "wifi", "cellular", "forwarder",
]);

/**
 * Checks and resolves the `edgehog` option (`true` or an object); throws OptionsError naming the bad field.
 * @returns The config, or undefined when the option is unset or false.
 */
export function resolveEdgehog(value: unknown): EdgehogConfig | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== "object" || value === null || Array.isArray(value))) {
    throw new OptionsError(`edgehog must be true or an object, got ${describe(value)}`);
  }
  const o = (value === true ? {} : value) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KEYS.has(key)) throw new OptionsError(`edgehog.${key} is not an Edgehog option`);
  for (const key of ["systemStatus", "hardwareInfo", "networkInterfaces"]) flag(o, key);
  for (const key of ["leds", "battery", "geolocation", "wifi", "cellular", "forwarder"]) fn(o, key);
  if (o.ota !== undefined && o.ota !== false) throw new OptionsError(`edgehog.ota may only be false, got ${describe(o.ota)}`);
  if (o.commands !== undefined && o.commands !== false) fn(o, "commands");
  if (o.info !== undefined && (typeof o.info !== "object" || o.info === null)) throw new OptionsError(`edgehog.info must be an object, got ${describe(o.info)}`);
  const storagePaths = storage(o.storageUsage);
  const telemetry = telemetrySettings(o.telemetry);

  const on = new Set<string>([EDGEHOG.SystemInfo, EDGEHOG.OSInfo, EDGEHOG.BaseImage, EDGEHOG.RuntimeInfo]);
  const add = (when: unknown, ...names: string[]) => {
    if (when) for (const n of names) on.add(n);
  };
  add(o.ota !== false, EDGEHOG.OTARequest, EDGEHOG.OTAEvent);
  add(o.commands !== false, EDGEHOG.Commands);
  add(o.systemStatus !== false, EDGEHOG.SystemStatus);
  add(o.storageUsage !== false, EDGEHOG.StorageUsage);
  add(o.hardwareInfo !== false, EDGEHOG.HardwareInfo);
  add(o.networkInterfaces !== false, EDGEHOG.NetworkInterfaceProperties);
  add(o.telemetry !== false, EDGEHOG.TelemetryConfig);
  add(o.leds, EDGEHOG.LedBehavior);
  add(o.battery, EDGEHOG.BatteryStatus);
  add(o.geolocation, EDGEHOG.Geolocation);
  add(o.wifi, EDGEHOG.WiFiScanResults);
  add(o.cellular, EDGEHOG.CellularConnectionProperties, EDGEHOG.CellularConnectionStatus);
  add(o.forwarder, EDGEHOG.ForwarderSessionRequest, EDGEHOG.ForwarderSessionState);
  const { storageUsage: _s, telemetry: _t, commands, ...rest } = o as EdgehogOptions;
  return { ...rest, interfaces: on, storagePaths, telemetry, commands: commands === false ? undefined : commands };
}

function flag(o: Record<string, unknown>, key: string): void {
  if (o[key] !== undefined && typeof o[key] !== "boolean") throw new OptionsError(`edgehog.${key} must be a boolean, got ${describe(o[key])}`);
}

function fn(o: Record<string, unknown>, key: string): void {
  if (o[key] !== undefined && typeof o[key] !== "function") throw new OptionsError(`edgehog.${key} must be a function, got ${describe(o[key])}`);
}

/** The StorageUsage labels and directories: "/" as "root" by default. */
function storage(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === true || value === false) return undefined;
  const paths = (value as { paths?: unknown } | null)?.paths;
  if (typeof value !== "object" || typeof paths !== "object" || paths === null || Array.isArray(paths)) {
    throw new OptionsError(`edgehog.storageUsage must be a boolean or { paths: { label: directory } }, got ${describe(value)}`);
  }
  for (const [label, dir] of Object.entries(paths)) {
    if (!/^[^/#+\s]+$/.test(label)) throw new OptionsError(`edgehog.storageUsage label ${JSON.stringify(label)} must be one path segment (no "/", "#", "+" or spaces)`);
    if (typeof dir !== "string" || dir === "") throw new OptionsError(`edgehog.storageUsage.paths.${label} must be a directory path, got ${describe(dir)}`);
  }
  return paths as Record<string, string>;
}

function telemetrySettings(value: unknown): Partial<Record<TelemetryInterface, TelemetrySetting>> {
  if (value === undefined || value === false) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OptionsError(`edgehog.telemetry must be false or an object keyed by interface name, got ${describe(value)}`);
  }
  for (const [name, setting] of Object.entries(value)) {
    if (!(TELEMETRY_INTERFACES as readonly string[]).includes(name)) {
      throw new OptionsError(`edgehog.telemetry: ${name} is not a telemetry interface (${TELEMETRY_INTERFACES.join(", ")})`);
    }
    const s = setting as TelemetrySetting | null;
    if (typeof s !== "object" || s === null) throw new OptionsError(`edgehog.telemetry["${name}"] must be { enabled?, periodSeconds? }, got ${describe(s)}`);
    if (s.enabled !== undefined && typeof s.enabled !== "boolean") throw new OptionsError(`edgehog.telemetry["${name}"].enabled must be a boolean`);
    const p = s.periodSeconds;
    if (p !== undefined && (typeof p !== "number" || !Number.isSafeInteger(p) || p < 1)) {
      throw new OptionsError(`edgehog.telemetry["${name}"].periodSeconds must be a whole number of seconds >= 1, got ${describe(p)}`);
    }
  }
  return value as Partial<Record<TelemetryInterface, TelemetrySetting>>;
}

function describe(v: unknown): string {
  if (typeof v === "function") return "a function";
  if (typeof v === "bigint") return `${v}n`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
