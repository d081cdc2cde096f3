/**
 * Checks what the device's own calls name against its interfaces (declared, device-owned, right type and
 * aggregation, timestamp as the mapping wants) and encodes the payload. Throws InterfaceError or PayloadError
 * before anything is published.
 */

import { InterfaceError, PayloadError } from "./errors.js";
import { resolveMapping, resolveObject, type Interface, type Mapping } from "./interface.js";
import { encodePayload } from "./payload.js";
import type { CleaValue, MappingType } from "./values.js";

type Interfaces = ReadonlyMap<string, Interface>;

/** A validated outgoing message: the interface, the mapping that sets its QoS and retention, the payload. */
export interface Outgoing {
  iface: Interface;
  mapping: Mapping;
  payload: Uint8Array;
}

/** send(): one value on an individual device-owned datastream. */
export function encodeIndividual(interfaces: Interfaces, name: string, path: string, value: CleaValue, timestamp: Date | undefined): Outgoing {
  const iface = writable(interfaces, name, "datastream", "individual");
  const { mapping } = resolveMapping(iface, path);
  checkTimestamp(iface, mapping, timestamp);
  return { iface, mapping, payload: encodePayload(value, { type: mapping.type, timestamp }) };
}

/** sendObject(): an object on an object-aggregated device-owned datastream; the first mapping stands for all. */
export function encodeObject(interfaces: Interfaces, name: string, path: string, object: Record<string, CleaValue>, timestamp: Date | undefined): Outgoing {
  const iface = writable(interfaces, name, "datastream", "object");
  const { mappings } = resolveObject(iface, path);
  const first = Object.values(mappings)[0]!;
  checkTimestamp(iface, first, timestamp);
  const types: Record<string, MappingType> = {};
  for (const [k, m] of Object.entries(mappings)) types[k] = m.type;
  if (Object.keys(object).length === 0) throw new InterfaceError("mapping-not-found", `${iface.name}${path}: an object needs at least one field`, iface.name);
  const missing = Object.entries(mappings).filter(([k, m]) => m.required && !Object.hasOwn(object, k)).map(([k]) => k);
  if (missing.length > 0) throw new PayloadError("missing-object-key", `${iface.name}${path}: the object lacks the required key(s) ${missing.join(", ")}`);
  return { iface, mapping: first, payload: encodePayload(object, { type: types, timestamp }) };
}

/** setProperty(): a value of a device-owned property. */
export function encodeProperty(interfaces: Interfaces, name: string, path: string, value: CleaValue): Outgoing {
  const iface = writable(interfaces, name, "properties", "individual");
  const { mapping } = resolveMapping(iface, path);
  return { iface, mapping, payload: encodePayload(value, { type: mapping.type }) };
}

/** unsetProperty(): the device-owned property interface, if the mapping allows unset. */
export function unsettable(interfaces: Interfaces, name: string, path: string): Interface {
  const iface = writable(interfaces, name, "properties", "individual");
  const { mapping } = resolveMapping(iface, path);
  if (!mapping.allowUnset) throw new InterfaceError("unset-not-allowed", `${iface.name}${path}: the mapping does not allow unset`, iface.name);
  return iface;
}

/** getProperty(): a property of either owner. */
export function readableProperty(interfaces: Interfaces, name: string, path: string): { iface: Interface; mapping: Mapping } {
  const iface = declared(interfaces, name);
  if (iface.type !== "properties") throw new InterfaceError("invalid-interface", `${iface.name} is not a properties interface`, iface.name);
  const { mapping } = resolveMapping(iface, path);
  return { iface, mapping };
}

function declared(interfaces: Interfaces, name: string): Interface {
  const iface = interfaces.get(name);
  if (!iface) throw new InterfaceError("interface-not-found", `no interface ${name} (declared: ${[...interfaces.keys()].join(", ") || "none"})`, name);
  return iface;
}

function writable(interfaces: Interfaces, name: string, type: Interface["type"], aggregation: Interface["aggregation"]): Interface {
  const iface = declared(interfaces, name);
  if (iface.ownership !== "device") throw new InterfaceError("write-on-server-owned", `${name} is server-owned: the device cannot write it`, name);
  if (iface.type !== type) throw new InterfaceError("invalid-interface", `${name} is a ${iface.type} interface, not ${type}`, name);
  if (iface.aggregation !== aggregation) {
    throw new InterfaceError("invalid-interface", `${name} has ${iface.aggregation} aggregation: use ${iface.aggregation === "object" ? "sendObject" : "send"}()`, name);
  }
  return iface;
}

function checkTimestamp(iface: Interface, mapping: Mapping, timestamp: Date | undefined): void {
  if (mapping.explicitTimestamp && timestamp === undefined) {
    throw new InterfaceError("invalid-timestamp", `${iface.name}${mapping.endpoint} requires an explicit timestamp`, iface.name);
  }
  if (!mapping.explicitTimestamp && timestamp !== undefined) {
    throw new InterfaceError("invalid-timestamp", `${iface.name}${mapping.endpoint} has no explicit_timestamp: a timestamp cannot be sent`, iface.name);
  }
}
