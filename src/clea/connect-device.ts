/** connectDevice(): checks the options, loads the interfaces, pairs if asked, connects and starts Edgehog. */

import { OptionsError } from "../index.js";
import { checkCapabilities } from "./capabilities.js";
import { Device, SETTLE_EVENTS } from "./device.js";
import type { DeviceOptions } from "./device-types.js";
import { isValidDeviceId } from "./device-id.js";
import { edgehogInterfaces } from "./edgehog/interfaces.js";
import { resolveEdgehog } from "./edgehog/options.js";
import { loadInterfaces } from "./interface-loader.js";
import { pairDevice } from "./pairing.js";

/**
 * Validates the identity, loads the interfaces, obtains credentials (with `pairing`), connects. The handshake
 * follows the CONNACK; await handshakeComplete() to know the broker has it.
 * @param options Realm, device id, interfaces, store, pairing, Edgehog, plus any core client option (url, tls, ...).
 * @returns A promise of the Device, resolved after the first CONNACK (and, with `edgehog`, once the device info
 * and host properties are published or cached; telemetry then runs on its schedule).
 * @throws (as a rejection) OptionsError for an invalid realm, device id or option; InterfaceError for invalid
 * interfaces; PairingError when pairing fails; ConnectError when the broker refuses or cannot be reached.
 * @example
 * ```ts
 * const device = await connectDevice({
 *   realm: "acme",
 *   deviceId: "V_zv6ThCCtXWveQ8mPjsKg",
 *   url: "mqtts://broker.acme.example:8883",
 *   tls: { cert, key, ca },        // the certificate's CN is "<realm>/<deviceId>"
 *   interfaces: ["./interfaces"],  // JSON files, directories, or parsed objects
 *   store: "./var/edgemq",         // in-flight QoS, properties cache, stored retention, handshake state
 * });
 * await device.handshakeComplete();
 * ```
 */
export async function connectDevice(options: DeviceOptions): Promise<Device> {
  if (typeof options.realm !== "string" || !/^[a-z][a-z0-9]{0,47}$/.test(options.realm)) {
    throw new OptionsError(`realm ${JSON.stringify(options.realm)} must be lowercase letters and digits, starting with a letter`);
  }
  if (!isValidDeviceId(options.deviceId)) {
    throw new OptionsError(`device id ${JSON.stringify(options.deviceId)} is not 22 characters of URL-safe base64 encoding 128 bits`);
  }
  const max = options.maxMessageSize;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) {
    throw new OptionsError(`maxMessageSize must be a whole number of bytes >= 1, got ${String(max)}`);
  }
  checkCapabilities(options.capabilities);
  const edgehog = resolveEdgehog(options.edgehog);
  const interfaces = await loadInterfaces(options.interfaces ?? []);
  if (edgehog) {
    // The Edgehog interfaces the option turns on, unless the application declares its own copy.
    const declared = new Set(interfaces.map((i) => i.name));
    for (const iface of edgehogInterfaces()) if (edgehog.interfaces.has(iface.name) && !declared.has(iface.name)) interfaces.push(iface);
  }
  // Pairing (pairing.ts): certificate in tls, broker URL, renewal in beforeConnect and after a TLS failure.
  const paired = options.pairing ? await pairDevice(options) : undefined;
  const device = new Device(paired?.options ?? options, interfaces, edgehog);
  await (paired ? paired.connect(device) : device.connect());
  if (edgehog) await device.publishDeviceInfo(edgehog.info);
  await device.resumeOta();
  await device.edgehog.start();
  // Events that came during connectDevice() hold their acks for an events() loop started right after it returns.
  setTimeout(() => device[SETTLE_EVENTS](), 0);
  return device;
}