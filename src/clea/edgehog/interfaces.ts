/** The Edgehog device-manager interfaces, bundled as JSON exactly as edgehog-astarte-interfaces defines them. */

import otaRequest from "../interfaces/io.edgehog.devicemanager.OTARequest.json" with { type: "json" };
import otaEvent from "../interfaces/io.edgehog.devicemanager.OTAEvent.json" with { type: "json" };
import systemInfo from "../interfaces/io.edgehog.devicemanager.SystemInfo.json" with { type: "json" };
import osInfo from "../interfaces/io.edgehog.devicemanager.OSInfo.json" with { type: "json" };
import baseImage from "../interfaces/io.edgehog.devicemanager.BaseImage.json" with { type: "json" };
import runtimeInfo from "../interfaces/io.edgehog.devicemanager.RuntimeInfo.json" with { type: "json" };
import commands from "../interfaces/io.edgehog.devicemanager.Commands.json" with { type: "json" };
import systemStatus from "../interfaces/io.edgehog.devicemanager.SystemStatus.json" with { type: "json" };
import storageUsage from "../interfaces/io.edgehog.devicemanager.StorageUsage.json" with { type: "json" };
import hardwareInfo from "../interfaces/io.edgehog.devicemanager.HardwareInfo.json" with { type: "json" };
import networkInterfaceProperties from "../interfaces/io.edgehog.devicemanager.NetworkInterfaceProperties.json" with { type: "json" };
import configTelemetry from "../interfaces/io.edgehog.devicemanager.config.Telemetry.json" with { type: "json" };
import ledBehavior from "../interfaces/io.edgehog.devicemanager.LedBehavior.json" with { type: "json" };
import batteryStatus from "../interfaces/io.edgehog.devicemanager.BatteryStatus.json" with { type: "json" };
import geolocation from "../interfaces/io.edgehog.devicemanager.Geolocation.json" with { type: "json" };
import wifiScanResults from "../interfaces/io.edgehog.devicemanager.WiFiScanResults.json" with { type: "json" };
import cellularConnectionProperties from "../interfaces/io.edgehog.devicemanager.CellularConnectionProperties.json" with { type: "json" };
import cellularConnectionStatus from "../interfaces/io.edgehog.devicemanager.CellularConnectionStatus.json" with { type: "json" };
import forwarderSessionRequest from "../interfaces/io.edgehog.devicemanager.ForwarderSessionRequest.json" with { type: "json" };
import forwarderSessionState from "../interfaces/io.edgehog.devicemanager.ForwarderSessionState.json" with { type: "json" };
import { parseInterface, type Interface } from "../interface.js";

/** The names of the Edgehog interfaces. */
export const EDGEHOG = {
  /** OTA requests from Edgehog (server-owned). */
  OTARequest: "io.edgehog.devicemanager.OTARequest",
  /** OTA progress events (device-owned). */
  OTAEvent: "io.edgehog.devicemanager.OTAEvent",
  /** Serial and part number (device properties). */
  SystemInfo: "io.edgehog.devicemanager.SystemInfo",
  /** OS name and version (device properties). */
  OSInfo: "io.edgehog.devicemanager.OSInfo",
  /** Base image name, version, build id and fingerprint (device properties). */
  BaseImage: "io.edgehog.devicemanager.BaseImage",
  /** The SDK and JavaScript runtime (device properties). */
  RuntimeInfo: "io.edgehog.devicemanager.RuntimeInfo",
  /** Commands from Edgehog, e.g. "Reboot" (server-owned). */
  Commands: "io.edgehog.devicemanager.Commands",
  /** Available memory, boot id, task count, uptime (periodic telemetry). */
  SystemStatus: "io.edgehog.devicemanager.SystemStatus",
  /** Total and free bytes per storage label (periodic telemetry). */
  StorageUsage: "io.edgehog.devicemanager.StorageUsage",
  /** CPU architecture, model, vendor and total memory (device properties). */
  HardwareInfo: "io.edgehog.devicemanager.HardwareInfo",
  /** MAC address and technology per network interface (device properties). */
  NetworkInterfaceProperties: "io.edgehog.devicemanager.NetworkInterfaceProperties",
  /** Telemetry enable and period per interface, set by the server (server properties). */
  TelemetryConfig: "io.edgehog.devicemanager.config.Telemetry",
  /** LED blink requests from Edgehog (server-owned). */
  LedBehavior: "io.edgehog.devicemanager.LedBehavior",
  /** Battery level and status per slot (periodic telemetry, from the application). */
  BatteryStatus: "io.edgehog.devicemanager.BatteryStatus",
  /** Position per source (periodic telemetry, from the application). */
  Geolocation: "io.edgehog.devicemanager.Geolocation",
  /** Access points seen (periodic telemetry, from the application). */
  WiFiScanResults: "io.edgehog.devicemanager.WiFiScanResults",
  /** APN, IMEI, IMSI per modem (device properties, from the application). */
  CellularConnectionProperties: "io.edgehog.devicemanager.CellularConnectionProperties",
  /** Carrier, cell and signal per modem (periodic telemetry, from the application). */
  CellularConnectionStatus: "io.edgehog.devicemanager.CellularConnectionStatus",
  /** Remote terminal session requests from Edgehog (server-owned). */
  ForwarderSessionRequest: "io.edgehog.devicemanager.ForwarderSessionRequest",
  /** Remote terminal session states (device properties). */
  ForwarderSessionState: "io.edgehog.devicemanager.ForwarderSessionState",
} as const;

/** The name of an Edgehog interface. */
export type EdgehogInterfaceName = (typeof EDGEHOG)[keyof typeof EDGEHOG];

const BUNDLED: readonly unknown[] = [otaRequest, otaEvent, systemInfo, osInfo, baseImage, runtimeInfo, commands, systemStatus, storageUsage, hardwareInfo, networkInterfaceProperties, configTelemetry, ledBehavior, batteryStatus, geolocation, wifiScanResults, cellularConnectionProperties, cellularConnectionStatus, forwarderSessionRequest, forwarderSessionState];

/** Every bundled Edgehog interface, validated. connectDevice() adds the ones its `edgehog` option turns on. */
export function edgehogInterfaces(): Interface[] {
  return BUNDLED.map((json) => parseInterface(json));
}
