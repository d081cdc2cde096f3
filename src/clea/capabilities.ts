/**
 * The Astarte device capabilities message (`<realm>/<device_id>/capabilities`, QoS 2, BSON; Astarte >= 1.3), sent in
 * the handshake before emptyCache so the server's consumer purge already follows it. The broker disconnects a device
 * whose capabilities message is malformed, so the option is checked before connecting.
 */

import { BSON } from "bson";
import { OptionsError } from "../index.js";

/** What a device may declare (080-mqtt-v1-protocol.md, "Device capabilities"). */
export interface DeviceCapabilities {
  /** How Astarte sends the consumer purge list: "zlib" (default: a deflate frame) or "plaintext" (uncompressed). */
  purgePropertiesCompressionFormat?: "zlib" | "plaintext";
}

const FORMATS = new Set(["zlib", "plaintext"]);

/** Checks the `capabilities` option; throws OptionsError naming what is wrong. */
export function checkCapabilities(value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OptionsError(`capabilities must be an object such as { purgePropertiesCompressionFormat: "plaintext" }, not ${String(value)}`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (key !== "purgePropertiesCompressionFormat") throw new OptionsError(`capabilities.${key} is not a capability Astarte knows (purgePropertiesCompressionFormat is)`);
    if (v !== undefined && !FORMATS.has(v as string)) throw new OptionsError(`capabilities.purgePropertiesCompressionFormat must be "zlib" or "plaintext", not ${JSON.stringify(v)}`);
  }
}

/** The BSON document the device publishes: `{ purge_properties_compression_format: "zlib" | "plaintext" }`. */
export function encodeCapabilities(capabilities: DeviceCapabilities): Uint8Array {
  return BSON.serialize({ purge_properties_compression_format: capabilities.purgePropertiesCompressionFormat ?? "zlib" });
}
