/**
 * What AstarteSimulator's waitFor*() helpers wait for, as conditions on its state: each names itself, probes the
 * state (undefined until satisfied) and may explain, on a timeout, what was seen instead.
 */

import { EDGEHOG } from "../edgehog/interfaces.js";
import type { OtaEventFields } from "../ota.js";
import type { CleaValue } from "../values.js";
import type { SimulatedData, SimulatedDevice } from "./device-state.js";
import { sameValue } from "./values.js";
import type { Violation, ViolationRule } from "./violations.js";

/** One condition: Waiters.wait() checks `probe` after every change. */
export interface Condition<T> {
  /** What is waited for, for the timeout's message. */
  what: string;
  /** The result once the condition holds, else undefined. */
  probe: () => T | undefined;
  /** What was seen instead, for the timeout's message. */
  explain?: () => string;
}

/** The devices' states, by id (live). */
type Devices = ReadonlyMap<string, SimulatedDevice>;

/** The device sent its introspection, emptyCache and producer purge. */
export function handshakeSeen(devices: Devices, deviceId: string): Condition<SimulatedDevice> {
  return {
    what: `the handshake of device ${deviceId}`,
    probe: () => {
      const d = devices.get(deviceId);
      return d?.handshakeComplete ? d : undefined;
    },
    explain: () => {
      const h = devices.get(deviceId)?.handshake;
      const seen = h ? Object.entries(h).filter(([, v]) => v).map(([k]) => k) : [];
      return `seen: ${seen.length > 0 ? seen.join(", ") : "nothing"}`;
    },
  };
}

/** A datastream message from the device on `iface` (and `path`, if given) that satisfies `predicate`. */
export function dataSeen(devices: Devices, deviceId: string, iface: string, path?: string, predicate?: (entry: SimulatedData) => boolean): Condition<SimulatedData> {
  return {
    what: `data from device ${deviceId} on ${iface}${path ?? " (any path)"}`,
    probe: () => devices.get(deviceId)?.data.find((e) => e.interface === iface && (path === undefined || e.path === path) && (!predicate || predicate(e))),
  };
}

/** A device-owned property is set (to `value`, if given, compared by value). */
export function propertySeen(devices: Devices, deviceId: string, iface: string, path: string, value?: CleaValue): Condition<CleaValue> {
  const key = `${iface}${path}`;
  const current = () => devices.get(deviceId)?.properties.get(key);
  return {
    what: `property ${key} of device ${deviceId}${value === undefined ? "" : ` = ${String(value)}`}`,
    probe: () => {
      const v = current();
      return v !== undefined && (value === undefined || sameValue(v, value)) ? v : undefined;
    },
    explain: () => `current value: ${String(current())}`,
  };
}

/** A violation (of `rule`, if given; by `deviceId`, if given) was recorded. */
export function violationSeen(violations: readonly Violation[], rule?: ViolationRule, deviceId?: string): Condition<Violation> {
  return {
    what: `a violation${rule ? ` of ${rule}` : ""}${deviceId ? ` by device ${deviceId}` : ""}`,
    probe: () => violations.find((v) => (!rule || v.rule === rule) && (!deviceId || v.deviceId === deviceId)),
    explain: () => `recorded: ${violations.map((v) => v.rule).join(", ") || "none"}`,
  };
}

/** An io.edgehog.devicemanager.OTAEvent from the device that satisfies `predicate`. */
export function otaEventSeen(devices: Devices, deviceId: string, predicate?: (event: OtaEventFields, entry: SimulatedData) => boolean): Condition<SimulatedData> {
  const events = () => devices.get(deviceId)?.data.filter((e) => e.interface === EDGEHOG.OTAEvent) ?? [];
  return {
    what: `an OTAEvent from device ${deviceId}`,
    probe: () => events().find((e) => !predicate || predicate(e.value as unknown as OtaEventFields, e)),
    explain: () => `statuses seen: ${events().map((e) => String((e.value as Record<string, unknown>).status)).join(", ") || "none"}`,
  };
}
