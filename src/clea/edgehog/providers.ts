/**
 * The telemetry the application provides (a gateway knows its battery, GPS, Wi-Fi and modem; the SDK does not
 * guess), and how each reading becomes Edgehog messages.
 */

import type { CleaValue } from "../values.js";
import { EDGEHOG } from "./interfaces.js";
import type { EdgehogPort } from "./port.js";

/** BatteryStatus `status` values. */
export type BatteryState = "Charging" | "Discharging" | "Idle" | "EitherIdleOrCharging" | "Failure" | "Removed" | "Unknown";

/** One battery (BatteryStatus `/<slot>`). */
export interface BatterySlot {
  /** The slot's name, one path segment, e.g. "main". */
  slot: string;
  /** Estimated charge, 0.0 to 100.0. */
  levelPercentage: number;
  /** Absolute error of levelPercentage, 0.0 to 100.0. */
  levelAbsoluteError?: number;
  /** Charging state. */
  status: BatteryState;
}

/** One position (Geolocation `/<id>`): degrees, metres, metres per second. */
export interface GeolocationFix {
  /** The source's name, one path segment, e.g. "gps". */
  id: string;
  /** Latitude in degrees. */
  latitude: number;
  /** Longitude in degrees. */
  longitude: number;
  /** Altitude in metres. */
  altitude?: number;
  /** Accuracy of latitude and longitude, in metres. */
  accuracy?: number;
  /** Accuracy of altitude, in metres. */
  altitudeAccuracy?: number;
  /** Heading in degrees from true north. */
  heading?: number;
  /** Speed in metres per second. */
  speed?: number;
}

/** One access point seen in a Wi-Fi scan (WiFiScanResults `/ap`). */
export interface WifiAccessPoint {
  /** Channel number. */
  channel?: number;
  /** Whether the device is connected to it. */
  connected?: boolean;
  /** Network name. */
  essid?: string;
  /** BSSID, lower case "00:aa:bb:cc:dd:ee". */
  macAddress?: string;
  /** Signal strength in dBm. */
  rssi?: number;
}

/** One modem: its identity (CellularConnectionProperties) and its connection (CellularConnectionStatus). */
export interface CellularModem {
  /** The modem's name, one path segment, e.g. "modem0". */
  id: string;
  /** Access point name. */
  apn?: string;
  /** IMEI. */
  imei?: string;
  /** IMSI. */
  imsi?: string;
  /** Carrier name. */
  carrier?: string;
  /** Cell id. */
  cellId?: number | bigint;
  /** Mobile country code, 0..999. */
  mobileCountryCode?: number;
  /** Mobile network code. */
  mobileNetworkCode?: number;
  /** Location area code. */
  localAreaCode?: number;
  /** NotRegistered, Registered, SearchingOperator, RegistrationDenied, Unknown or RegisteredRoaming. */
  registrationStatus?: string;
  /** Signal strength in dBm. */
  rssi?: number;
  /** Access technology, e.g. "EUTRAN". */
  technology?: string;
}

const SEGMENT = /^[^/#+\s]+$/;

/** The fields of `value` named in `keys` that are defined. */
export function pick(value: object, keys: readonly string[]): Record<string, CleaValue> {
  const out: Record<string, CleaValue> = {};
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v as CleaValue;
  }
  return out;
}

/** Checks a provider's list and the id segment of each entry; throws a TypeError naming what is wrong. */
export function entries<T>(what: string, list: unknown, idKey?: string): T[] {
  if (!Array.isArray(list)) throw new TypeError(`the ${what} provider must return an array, got ${typeof list}`);
  for (const item of list) {
    if (typeof item !== "object" || item === null) throw new TypeError(`the ${what} provider returned ${JSON.stringify(item)}, not an object`);
    const id = idKey ? (item as Record<string, unknown>)[idKey] : undefined;
    if (idKey && (typeof id !== "string" || !SEGMENT.test(id))) throw new TypeError(`${what}: ${idKey} ${JSON.stringify(id)} is not one path segment`);
  }
  return list as T[];
}

/** Sends the batteries on BatteryStatus. */
export async function sendBattery(port: EdgehogPort, list: unknown, at: Date): Promise<void> {
  const slots = entries<BatterySlot>("battery", list, "slot");
  await Promise.all(slots.map((b) => port.sendObject(EDGEHOG.BatteryStatus, `/${b.slot}`, pick(b, ["levelPercentage", "levelAbsoluteError", "status"]), at)));
}

/** Sends the positions on Geolocation. */
export async function sendGeolocation(port: EdgehogPort, list: unknown, at: Date): Promise<void> {
  const fixes = entries<GeolocationFix>("geolocation", list, "id");
  const keys = ["latitude", "longitude", "altitude", "accuracy", "altitudeAccuracy", "heading", "speed"];
  await Promise.all(fixes.map((f) => port.sendObject(EDGEHOG.Geolocation, `/${f.id}`, pick(f, keys), at)));
}

/** Sends each access point on WiFiScanResults `/ap`. */
export async function sendWifi(port: EdgehogPort, list: unknown, at: Date): Promise<void> {
  const aps = entries<WifiAccessPoint>("wifi", list);
  await Promise.all(aps.map((ap) => port.sendObject(EDGEHOG.WiFiScanResults, "/ap", pick(ap, ["channel", "connected", "essid", "macAddress", "rssi"]), at)));
}

const CELLULAR_STATUS = ["carrier", "cellId", "mobileCountryCode", "mobileNetworkCode", "localAreaCode", "registrationStatus", "rssi", "technology"];

/** Sets each modem's identity properties (published only when changed) and sends its connection status. */
export async function sendCellular(port: EdgehogPort, list: unknown, at: Date): Promise<void> {
  const modems = entries<CellularModem>("cellular", list, "id");
  const work: Array<Promise<void>> = [];
  for (const m of modems) {
    for (const key of ["apn", "imei", "imsi"] as const) {
      const value = m[key];
      const path = `/${m.id}/${key}`;
      if (value !== undefined) work.push(port.setProperty(EDGEHOG.CellularConnectionProperties, path, value));
      else if (port.getProperty(EDGEHOG.CellularConnectionProperties, path) !== undefined) work.push(port.unsetProperty(EDGEHOG.CellularConnectionProperties, path));
    }
    const status = pick(m, CELLULAR_STATUS);
    if (Object.keys(status).length > 0) work.push(port.sendObject(EDGEHOG.CellularConnectionStatus, `/${m.id}`, status, at));
  }
  await Promise.all(work);
}
