/**
 * How AstarteSimulator reads what a device publishes: the introspection, the handshake's control messages and data
 * on interface topics, each checked as the Astarte broker and data updater would. Broken rules are reported through
 * `report` (and the message is then dropped); valid messages update the device's state.
 */

import { BSON } from "bson";
import type { QoS } from "../../index.js";
import { mappingQos, resolveMapping, resolveObject, type Interface, type Mapping } from "../interface.js";
import { decodePayload, inflateFrame, DEFAULT_MAX_INFLATED_SIZE } from "../payload.js";
import type { CleaValue } from "../values.js";
import type { SimulatedData, SimulatedDevice } from "./device-state.js";
import { ruleOfError, type ViolationRule } from "./violations.js";

/** What decoding needs besides the device's state. */
export interface DecodeContext {
  /** Interfaces the simulator knows, by name. */
  interfaces: ReadonlyMap<string, Interface>;
  /** Largest payload accepted (the broker's max_message_size). */
  maxMessageSize: number;
  /** Records a broken rule. */
  report(rule: ViolationRule, detail: string): void;
}

/** What a message was, for the simulator to react to. */
export type DeviceMessageKind = "introspection" | "capabilities" | "emptyCache" | "producerPurge" | "data" | "property" | "ignored" | "violation";

const INTROSPECTION_ENTRY = /^([a-zA-Z][a-zA-Z0-9.-]*):(\d+):(\d+)$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });


/**
 * Handles one message of `device` on `rest` (the topic after `<realm>/<deviceId>`: "" for the introspection).
 * @returns What kind of message it was ("violation" when a rule was broken).
 */
export function handleDeviceMessage(ctx: DecodeContext, device: SimulatedDevice, rest: string, payload: Uint8Array, qos: QoS): DeviceMessageKind {
  if (payload.length > ctx.maxMessageSize) {
    ctx.report("message-too-large", `${payload.length}-byte payload exceeds the broker's ${ctx.maxMessageSize} bytes`);
    return "violation";
  }
  if (rest === "") return introspection(ctx, device, payload);
  if (rest === "/capabilities") return capabilities(ctx, device, payload);
  if (rest === "/control/emptyCache") {
    device.handshake.emptyCache = true;
    return "emptyCache";
  }
  if (rest === "/control/producer/properties") return producerPurge(ctx, device, payload);
  if (rest.startsWith("/control/")) return "ignored";
  return data(ctx, device, rest.slice(1), payload, qos);
}

function introspection(ctx: DecodeContext, device: SimulatedDevice, payload: Uint8Array): DeviceMessageKind {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    ctx.report("invalid-introspection", "the introspection is not UTF-8 text");
    return "violation";
  }
  const entries = new Map<string, { major: number; minor: number }>();
  for (const entry of text.split(";").filter((e) => e.length > 0)) {
    const m = INTROSPECTION_ENTRY.exec(entry);
    if (!m) {
      ctx.report("invalid-introspection", `introspection entry ${JSON.stringify(entry)} is not name:major:minor`);
      return "violation";
    }
    entries.set(m[1]!, { major: Number(m[2]), minor: Number(m[3]) });
  }
  device.introspection.clear();
  for (const [name, version] of entries) {
    device.introspection.set(name, version);
    const known = ctx.interfaces.get(name);
    if (known && known.major !== version.major) {
      ctx.report("major-mismatch", `the introspection declares ${name} major ${version.major}, the simulator knows major ${known.major}`);
    }
  }
  device.handshake.introspection = true;
  return "introspection";
}

function capabilities(ctx: DecodeContext, device: SimulatedDevice, payload: Uint8Array): DeviceMessageKind {
  let doc: Record<string, unknown>;
  try {
    doc = BSON.deserialize(payload);
  } catch (err) {
    ctx.report("invalid-capabilities", `the capabilities message is not a BSON document: ${(err as Error).message}`);
    return "violation";
  }
  const format = doc.purge_properties_compression_format ?? "zlib";
  if (format !== "zlib" && format !== "plaintext") {
    ctx.report("invalid-capabilities", `purge_properties_compression_format must be "zlib" or "plaintext", not ${JSON.stringify(format)}`);
    return "violation";
  }
  device.capabilities = { purgePropertiesCompressionFormat: format };
  device.handshake.capabilities = true;
  return "capabilities";
}

function producerPurge(ctx: DecodeContext, device: SimulatedDevice, payload: Uint8Array): DeviceMessageKind {
  let entries: string[];
  try {
    const text = utf8.decode(inflateFrame(payload, { maxSize: DEFAULT_MAX_INFLATED_SIZE }));
    entries = text.split(";").filter((e) => e.length > 0);
    const bad = entries.find((e) => !/^[^/]+\/[^/]/.test(e));
    if (bad !== undefined) throw new Error(`entry ${JSON.stringify(bad)} is not <interface>/<path>`);
  } catch (err) {
    ctx.report("invalid-purge-frame", `the producer purge does not inflate or parse: ${(err as Error).message}`);
    return "violation";
  }
  const keep = new Set(entries);
  for (const key of [...device.properties.keys()]) if (!keep.has(key)) device.properties.delete(key);
  device.producerPurge = entries;
  device.handshake.producerPurge = true;
  return "producerPurge";
}

function data(ctx: DecodeContext, device: SimulatedDevice, rest: string, payload: Uint8Array, qos: QoS): DeviceMessageKind {
  const slash = rest.indexOf("/");
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash);
  if (!device.handshake.introspection) {
    ctx.report("data-before-introspection", `data on ${name}${path} before the device's introspection`);
    return "violation";
  }
  const declared = device.introspection.get(name);
  if (!declared) {
    ctx.report("interface-not-in-introspection", `data on ${name}, which the introspection does not declare`);
    return "violation";
  }
  const iface = ctx.interfaces.get(name);
  if (!iface || iface.major !== declared.major) {
    const why = iface ? `major ${declared.major} (the simulator knows major ${iface.major})` : "an interface the simulator does not know";
    ctx.report("unknown-interface", `data on ${name}: ${why}`);
    return "violation";
  }
  if (iface.ownership === "server") {
    ctx.report("write-on-server-owned", `the device published on server-owned interface ${name}`);
    return "violation";
  }
  try {
    if (iface.aggregation === "object") return objectData(ctx, device, iface, path, payload, qos);
    return individualData(ctx, device, iface, path, payload, qos);
  } catch (err) {
    const rule = ruleOfError(err);
    if (!rule) throw err;
    ctx.report(rule, `${name}${path}: ${(err as Error).message}`);
    return "violation";
  }
}

/** Reports wrong-qos; the message is still taken (Astarte's data path does not see the QoS). */
function checkQos(ctx: DecodeContext, iface: Interface, mapping: Mapping, path: string, qos: QoS): void {
  const expected = mappingQos(iface, mapping);
  if (qos !== expected) ctx.report("wrong-qos", `${iface.name}${path} was published with QoS ${qos}, its mapping needs QoS ${expected}`);
}

function objectData(ctx: DecodeContext, device: SimulatedDevice, iface: Interface, path: string, payload: Uint8Array, qos: QoS): DeviceMessageKind {
  const { mappings } = resolveObject(iface, path);
  const first = iface.mappings[0]!;
  const types = Object.fromEntries(Object.entries(mappings).map(([k, m]) => [k, m.type]));
  const decoded = decodePayload(payload, { type: types });
  if (decoded === undefined) {
    ctx.report("unset-not-allowed", `${iface.name}${path}: an unset (empty payload) on an object datastream`);
    return "violation";
  }
  const fields = decoded.value as Record<string, CleaValue>;
  const missing = Object.entries(mappings).filter(([k, m]) => m.required && !Object.hasOwn(fields, k)).map(([k]) => k);
  if (missing.length > 0) {
    ctx.report("missing-object-key", `${iface.name}${path}: the object lacks the required key(s) ${missing.join(", ")}`);
    return "violation";
  }
  checkQos(ctx, iface, first, path, qos);
  device.record(entry(iface.name, path, fields, decoded.timestamp, qos));
  return "data";
}

function individualData(ctx: DecodeContext, device: SimulatedDevice, iface: Interface, path: string, payload: Uint8Array, qos: QoS): DeviceMessageKind {
  const { mapping } = resolveMapping(iface, path);
  const decoded = decodePayload(payload, { type: mapping.type });
  if (decoded === undefined) {
    if (iface.type === "datastream") {
      ctx.report("unset-not-allowed", `${iface.name}${path}: an unset (empty payload) on a datastream`);
      return "violation";
    }
    if (!mapping.allowUnset) {
      ctx.report("unset-not-allowed", `${iface.name}${path}: an unset of a property whose mapping has no allow_unset`);
      return "violation";
    }
    checkQos(ctx, iface, mapping, path, qos);
    device.properties.delete(`${iface.name}${path}`);
    return "property";
  }
  checkQos(ctx, iface, mapping, path, qos);
  const value = decoded.value as CleaValue;
  if (iface.type === "properties") {
    device.properties.set(`${iface.name}${path}`, value);
    return "property";
  }
  device.record(entry(iface.name, path, value, decoded.timestamp, qos));
  return "data";
}

function entry(name: string, path: string, value: CleaValue | Record<string, CleaValue>, timestamp: Date | undefined, qos: QoS): SimulatedData {
  const out: SimulatedData = { interface: name, path, value, qos };
  if (timestamp) out.timestamp = timestamp;
  return out;
}
