/**
 * Which Edgehog capabilities a device has, computed as Edgehog computes them from the introspection
 * (edgehog backend/lib/edgehog/capabilities.ex): a capability is on when every interface it needs is present with
 * the same major version and at least the listed minor. (Edgehog's backend also shows geolocation for every device,
 * since it can locate one by IP; here geolocation means the device sends Geolocation itself.)
 */

import { EDGEHOG } from "./interfaces.js";

/** An Edgehog capability, named as Edgehog names it. */
export type EdgehogCapability =
  | "base_image"
  | "battery_status"
  | "cellular_connection"
  | "commands"
  | "geolocation"
  | "hardware_info"
  | "led_behaviors"
  | "network_interface_info"
  | "operating_system"
  | "remote_terminal"
  | "runtime_info"
  | "software_updates"
  | "storage"
  | "system_info"
  | "system_status"
  | "telemetry_config"
  | "wifi";

/** For each capability, a set of interfaces that turns it on, as [name, major, minor]; a capability may have several sets. */
const REQUIREMENTS: ReadonlyArray<readonly [EdgehogCapability, ReadonlyArray<readonly [string, number, number]>]> = [
  ["base_image", [[EDGEHOG.BaseImage, 0, 1]]],
  ["battery_status", [[EDGEHOG.BatteryStatus, 0, 1]]],
  ["cellular_connection", [[EDGEHOG.CellularConnectionProperties, 0, 1], [EDGEHOG.CellularConnectionStatus, 0, 1]]],
  ["commands", [[EDGEHOG.Commands, 0, 1]]],
  ["geolocation", [[EDGEHOG.Geolocation, 0, 1]]],
  ["hardware_info", [[EDGEHOG.HardwareInfo, 0, 1]]],
  ["led_behaviors", [[EDGEHOG.LedBehavior, 0, 1]]],
  ["network_interface_info", [[EDGEHOG.NetworkInterfaceProperties, 0, 1]]],
  ["operating_system", [[EDGEHOG.OSInfo, 0, 1]]],
  ["remote_terminal", [[EDGEHOG.ForwarderSessionRequest, 0, 1], [EDGEHOG.ForwarderSessionState, 0, 1]]],
  ["runtime_info", [[EDGEHOG.RuntimeInfo, 0, 1]]],
  ["software_updates", [[EDGEHOG.OTARequest, 1, 0], [EDGEHOG.OTAEvent, 0, 1]]],
  // The legacy OTA pair older runtimes announce.
  ["software_updates", [[EDGEHOG.OTARequest, 0, 1], ["io.edgehog.devicemanager.OTAResponse", 0, 1]]],
  ["storage", [[EDGEHOG.StorageUsage, 0, 1]]],
  ["system_info", [[EDGEHOG.SystemInfo, 0, 1]]],
  ["system_status", [[EDGEHOG.SystemStatus, 0, 1]]],
  ["telemetry_config", [[EDGEHOG.TelemetryConfig, 0, 1]]],
  ["wifi", [[EDGEHOG.WiFiScanResults, 0, 1]]],
];

/**
 * The Edgehog capabilities an introspection gives, in Edgehog's rule (same major, minor >= the required one).
 * @param interfaces The device's interfaces as name, major and minor (e.g. parsed Interface objects).
 * @returns The capability names, sorted.
 */
export function edgehogCapabilities(interfaces: Iterable<{ name: string; major: number; minor: number }>): EdgehogCapability[] {
  const versions = new Map<string, { major: number; minor: number }>();
  for (const i of interfaces) versions.set(i.name, i);
  const has = ([name, major, minor]: readonly [string, number, number]): boolean => {
    const v = versions.get(name);
    return v !== undefined && v.major === major && v.minor >= minor;
  };
  const on = new Set(REQUIREMENTS.filter(([, needs]) => needs.every(has)).map(([capability]) => capability));
  return [...on].sort();
}
