/** What the Edgehog runtime needs from its Device: sends, the properties cache, warnings, time. */

import type { Clock } from "../../index.js";
import type { DeviceWarningCode } from "../errors.js";
import type { CleaValue } from "../values.js";

/** The Device as the Edgehog runtime sees it (Device builds one; tests can too). */
export interface EdgehogPort {
  /** Device.sendObject with a timestamp. */
  sendObject(iface: string, path: string, object: Record<string, CleaValue>, timestamp: Date): Promise<void>;
  /** Device.setProperty. */
  setProperty(iface: string, path: string, value: CleaValue): Promise<void>;
  /** Device.unsetProperty. */
  unsetProperty(iface: string, path: string): Promise<void>;
  /** Device.getProperty, or undefined when the interface is not declared. */
  getProperty(iface: string, path: string): CleaValue | undefined;
  /** The paths of the cached device-owned properties of `iface`. */
  propertyPaths(iface: string): string[];
  /** The device's interfaces, as name, major and minor. */
  interfaces(): Iterable<{ name: string; major: number; minor: number }>;
  /** Emits a DeviceWarning. */
  warn(code: DeviceWarningCode, message: string): void;
  /** Wall clock, ms since the epoch (timestamps). */
  now(): number;
  /** Timers (the client's clock: tests run it fake). */
  clock: Clock;
}

/** Runs `task`, turning a rejection into a warning: Edgehog work never breaks the device. */
export function background(port: EdgehogPort, code: DeviceWarningCode, what: string, task: () => Promise<unknown>): Promise<void> {
  return task().then(
    () => undefined,
    (err: unknown) => port.warn(code, `${what}: ${err instanceof Error ? err.message : String(err)}`),
  );
}
