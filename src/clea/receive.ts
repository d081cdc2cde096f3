/** Decodes what the server sends a device: data on server-owned interfaces, and the consumer properties purge frame. */

import { InterfaceError, PayloadError } from "./errors.js";
import { resolveMapping, resolveObject, type Interface } from "./interface.js";
import { decodePayload, inflateFrame } from "./payload.js";
import type { CleaValue } from "./values.js";

/** A value received from the server (value undefined = a property was unset). */
export interface DeviceEvent {
  /** Name of the interface the value is on. */
  interface: string;
  /** Path within the interface. */
  path: string;
  /** The value (an object for object aggregation); undefined when a property was unset. */
  value: CleaValue | Record<string, CleaValue> | undefined;
  /** The timestamp the server sent with the value, if any. */
  timestamp?: Date;
}

/** What one incoming message means. */
export type Incoming =
  | { kind: "purge"; keep: Set<string> }
  | { kind: "data"; event: DeviceEvent; iface: Interface };

/** Splits a purge list ("iface/path;iface/path") into its entries. */
export function parsePurgeList(text: string): Set<string> {
  return new Set(text.split(";").filter((e) => e.length > 0));
}

/**
 * Decodes the message on `topic` (under `prefix`). Throws InterfaceError for unknown interfaces, paths or
 * ownership, and PayloadError for undecodable or mistyped payloads: a consumer purge list that is not a zlib frame
 * (or, with `plaintextPurge`, plain text) or not UTF-8 is `invalid-frame`; an unset (empty payload) on a datastream, or on a property whose mapping has no
 * `allow_unset: true`, is `unexpected-unset`.
 */
export function decodeIncoming(
  prefix: string,
  interfaces: ReadonlyMap<string, Interface>,
  topic: string,
  payload: Uint8Array,
  maxInflatedSize: number,
  /** The device's capabilities chose a plain-text consumer purge list. */
  plaintextPurge = false,
): Incoming {
  if (!topic.startsWith(`${prefix}/`)) throw new InterfaceError("invalid-path", `message on ${topic} is outside the device's prefix`);
  const rest = topic.slice(prefix.length + 1);
  if (rest === "control/consumer/properties") {
    const inflated = plaintextPurge ? payload : inflateFrame(payload, { maxSize: maxInflatedSize });
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(inflated);
    } catch (err) {
      throw new PayloadError("invalid-frame", "the consumer purge list is not UTF-8 text", err);
    }
    return { kind: "purge", keep: parsePurgeList(text) };
  }
  const slash = rest.indexOf("/");
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash);
  const iface = interfaces.get(name);
  if (!iface) throw new InterfaceError("interface-not-found", `message for unknown interface ${name}`, name);
  if (iface.ownership !== "server") throw new InterfaceError("write-on-server-owned", `the server wrote to device-owned interface ${name}`, name);
  if (iface.aggregation === "object") {
    const { mappings } = resolveObject(iface, path);
    const types = Object.fromEntries(Object.entries(mappings).map(([k, m]) => [k, m.type]));
    const decoded = decodePayload(payload, { type: types, maxInflatedSize });
    if (decoded === undefined) throw new PayloadError("unexpected-unset", `an unset (empty payload) on object datastream ${name}${path}`);
    const fields = decoded.value as Record<string, CleaValue>;
    const missing = Object.entries(mappings).filter(([k, m]) => m.required && !Object.hasOwn(fields, k)).map(([k]) => k);
    if (missing.length > 0) throw new PayloadError("missing-object-key", `${name}${path}: the object lacks the required key(s) ${missing.join(", ")}`);
    return { kind: "data", iface, event: withTimestamp({ interface: name, path, value: decoded?.value as Record<string, CleaValue> | undefined }, decoded?.timestamp) };
  }
  const { mapping } = resolveMapping(iface, path);
  const decoded = decodePayload(payload, { type: mapping.type, maxInflatedSize });
  if (decoded === undefined && iface.type === "datastream") {
    throw new PayloadError("unexpected-unset", `an unset (empty payload) on datastream ${name}${path}`);
  }
  if (decoded === undefined && !mapping.allowUnset) {
    throw new PayloadError("unexpected-unset", `an unset (empty payload) on property ${name}${path}, whose mapping has no allow_unset`);
  }
  return { kind: "data", iface, event: withTimestamp({ interface: name, path, value: decoded?.value as CleaValue | undefined }, decoded?.timestamp) };
}

function withTimestamp(event: DeviceEvent, timestamp: Date | undefined): DeviceEvent {
  if (timestamp) event.timestamp = timestamp;
  return event;
}
