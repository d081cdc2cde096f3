/** The messages AstarteSimulator publishes as the server: data and properties on server-owned interfaces, and the consumer purge. */

import type { QoS } from "../../index.js";
import { InterfaceError } from "../errors.js";
import { mappingQos, resolveMapping, resolveObject, type Interface } from "../interface.js";
import { deflateFrame, encodePayload } from "../payload.js";

/** One message to publish under the device's prefix. */
export interface ServerMessage {
  /** The topic after `<realm>/<deviceId>`, starting with "/". */
  suffix: string;
  /** The payload. */
  payload: Uint8Array;
  /** The QoS. */
  qos: QoS;
}

/** The interface named `name` among `interfaces`, which must be server-owned and of `type`. */
export function serverInterface(interfaces: ReadonlyMap<string, Interface>, name: string, type: Interface["type"], aggregation: Interface["aggregation"] = "individual"): Interface {
  const iface = interfaces.get(name);
  if (!iface) throw new InterfaceError("interface-not-found", `the simulator does not know interface ${name}`, name);
  if (iface.ownership !== "server") throw new InterfaceError("invalid-interface", `${name} is device-owned: the server does not publish on it`, name);
  if (iface.type !== type) throw new InterfaceError("invalid-interface", `${name} is a ${iface.type} interface, not ${type}`, name);
  if (iface.aggregation !== aggregation) throw new InterfaceError("invalid-interface", `${name} has ${iface.aggregation} aggregation, not ${aggregation}`, name);
  return iface;
}

/** A value on an individual server-owned datastream or property mapping. */
export function individualMessage(iface: Interface, path: string, value: unknown, timestamp?: Date): ServerMessage {
  const { mapping } = resolveMapping(iface, path);
  return { suffix: `/${iface.name}${path}`, payload: encodePayload(value, { type: mapping.type, ...(timestamp ? { timestamp } : {}) }), qos: mappingQos(iface, mapping) };
}

/** An object on a server-owned object datastream. */
export function objectMessage(iface: Interface, path: string, fields: Record<string, unknown>, timestamp?: Date): ServerMessage {
  const { mappings } = resolveObject(iface, path);
  const types = Object.fromEntries(Object.entries(mappings).map(([k, m]) => [k, m.type]));
  return { suffix: `/${iface.name}${path}`, payload: encodePayload(fields, { type: types, ...(timestamp ? { timestamp } : {}) }), qos: mappingQos(iface, iface.mappings[0]!) };
}

/** The unset (empty payload) of a server-owned property whose mapping allows it. */
export function unsetMessage(iface: Interface, path: string): ServerMessage {
  const { mapping } = resolveMapping(iface, path);
  if (!mapping.allowUnset) throw new InterfaceError("unset-not-allowed", `${iface.name}${path}: the mapping has no allow_unset`, iface.name);
  return { suffix: `/${iface.name}${path}`, payload: new Uint8Array(0), qos: 2 };
}

/** The consumer purge: `entries` joined by ";", as a zlib frame or, for `plaintext`, as plain text. */
export function consumerPurgeMessage(entries: readonly string[], plaintext: boolean): ServerMessage {
  const text = new TextEncoder().encode(entries.join(";"));
  return { suffix: "/control/consumer/properties", payload: plaintext ? text : deflateFrame(text), qos: 2 };
}
