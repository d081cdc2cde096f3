/**
 * MQTT 5.0 properties (section 2.2.2): the table of every property (identifier, data type, where it may appear),
 * and their strict encoding and decoding. Refused both ways: an unknown identifier ("unknown-property"), a
 * property the packet may not carry ("property-not-allowed"), a second copy of a property that may appear once
 * ("duplicate-property"; User Property, and Subscription Identifier on PUBLISH, may repeat), a value outside its
 * range ("invalid-property-value"), Authentication Data without an Authentication Method ("missing-property").
 */

import { ProtocolError } from "../errors.js";
import { show } from "../show.js";
import { topicNameProblem } from "../topic.js";
import { Writer, strLength } from "../writer.js";
import type { Properties, PropertyContext, UserProperty } from "./packets.js";
import { Cursor, MAX_VBI, binLength, vbiLength, writeBin, writeU32, writeVbi } from "./wire.js";

/** Wire data type of a property (section 1.5); "flag" is a Byte holding 0 or 1, read as a boolean. */
export type PropertyKind = "byte" | "flag" | "u16" | "u32" | "vbi" | "str" | "bin" | "pair";

/** One row of the property table. */
export interface PropertyDef {
  /** Property identifier on the wire. */
  readonly id: number;
  /** Field name in Properties. */
  readonly field: keyof Properties;
  /** Wire data type. */
  readonly kind: PropertyKind;
  /** Packets (and the will) that may carry it. */
  readonly contexts: readonly PropertyContext[];
  /** Smallest and largest value of a numeric property. */
  readonly min?: number;
  readonly max?: number;
  /** Whether it may appear more than once (its field is then an array). */
  readonly repeat?: boolean;
}

const ACKS: PropertyContext[] = ["puback", "pubrec", "pubrel", "pubcomp", "suback", "unsuback"];
const MESSAGE: PropertyContext[] = ["publish", "will"];

/** Section 2.2.2.2, table 2-4, in identifier order (the order the encoders write them in). */
const DEFS: readonly PropertyDef[] = [
  { id: 0x01, field: "payloadFormatIndicator", kind: "byte", contexts: MESSAGE, max: 1 },
  { id: 0x02, field: "messageExpiryInterval", kind: "u32", contexts: MESSAGE },
  { id: 0x03, field: "contentType", kind: "str", contexts: MESSAGE },
  { id: 0x08, field: "responseTopic", kind: "str", contexts: MESSAGE },
  { id: 0x09, field: "correlationData", kind: "bin", contexts: MESSAGE },
  { id: 0x0b, field: "subscriptionIdentifiers", kind: "vbi", contexts: ["publish"], min: 1, max: MAX_VBI, repeat: true },
  { id: 0x0b, field: "subscriptionIdentifier", kind: "vbi", contexts: ["subscribe"], min: 1, max: MAX_VBI },
  { id: 0x11, field: "sessionExpiryInterval", kind: "u32", contexts: ["connect", "connack", "disconnect"] },
  { id: 0x12, field: "assignedClientIdentifier", kind: "str", contexts: ["connack"] },
  { id: 0x13, field: "serverKeepAlive", kind: "u16", contexts: ["connack"] },
  { id: 0x15, field: "authenticationMethod", kind: "str", contexts: ["connect", "connack", "auth"] },
  { id: 0x16, field: "authenticationData", kind: "bin", contexts: ["connect", "connack", "auth"] },
  { id: 0x17, field: "requestProblemInformation", kind: "byte", contexts: ["connect"], max: 1 },
  { id: 0x18, field: "willDelayInterval", kind: "u32", contexts: ["will"] },
  { id: 0x19, field: "requestResponseInformation", kind: "byte", contexts: ["connect"], max: 1 },
  { id: 0x1a, field: "responseInformation", kind: "str", contexts: ["connack"] },
  { id: 0x1c, field: "serverReference", kind: "str", contexts: ["connack", "disconnect"] },
  { id: 0x1f, field: "reasonString", kind: "str", contexts: ["connack", ...ACKS, "disconnect", "auth"] },
  { id: 0x21, field: "receiveMaximum", kind: "u16", contexts: ["connect", "connack"], min: 1 },
  { id: 0x22, field: "topicAliasMaximum", kind: "u16", contexts: ["connect", "connack"] },
  { id: 0x23, field: "topicAlias", kind: "u16", contexts: ["publish"], min: 1 },
  { id: 0x24, field: "maximumQoS", kind: "byte", contexts: ["connack"], max: 1 },
  { id: 0x25, field: "retainAvailable", kind: "flag", contexts: ["connack"] },
  { id: 0x26, field: "userProperties", kind: "pair", repeat: true, contexts: ["connect", "connack", "publish", "will",
    ...ACKS, "subscribe", "unsubscribe", "disconnect", "auth"] },
  { id: 0x27, field: "maximumPacketSize", kind: "u32", contexts: ["connect", "connack"], min: 1 },
  { id: 0x28, field: "wildcardSubscriptionAvailable", kind: "flag", contexts: ["connack"] },
  { id: 0x29, field: "subscriptionIdentifierAvailable", kind: "flag", contexts: ["connack"] },
  { id: 0x2a, field: "sharedSubscriptionAvailable", kind: "flag", contexts: ["connack"] },
];

const NUMERIC_MAX: Partial<Record<PropertyKind, number>> = { byte: 0xff, u16: 0xffff, u32: 0xffff_ffff, vbi: MAX_VBI };

const byField = new Map<string, PropertyDef[]>();
const knownIds = new Set<number>();
for (const d of DEFS) {
  byField.set(d.field, [...(byField.get(d.field) ?? []), d]);
  knownIds.add(d.id);
}
/** Per context: identifier -> definition. */
const byContext = new Map<PropertyContext, Map<number, PropertyDef>>();
for (const d of DEFS) {
  for (const c of d.contexts) {
    if (!byContext.has(c)) byContext.set(c, new Map());
    byContext.get(c)!.set(d.id, d);
  }
}

/** The spec name of property `id` in hex, for messages. */
function idText(id: number): string {
  return `0x${id.toString(16).padStart(2, "0")}`;
}

/** Which packets (and the will) may carry the property named `field`; empty for an unknown name. */
export function propertyContexts(field: string): PropertyContext[] {
  return (byField.get(field) ?? []).flatMap((d) => d.contexts);
}

/** The wire identifier of the property named `field`, or undefined. */
export function propertyId(field: string): number | undefined {
  return byField.get(field)?.[0]?.id;
}

// --- decoding --------------------------------------------------------------------------------------

/** Reads a property section (its length, then the properties) for `ctx` at the cursor; the cursor ends after it. */
export function readProperties(cur: Cursor, ctx: PropertyContext): Properties {
  const len = cur.vbi("property length");
  if (len > cur.left) throw new ProtocolError("truncated", `${cur.what} property length ${len} exceeds the ${cur.left} bytes left`);
  const props: Properties = {};
  if (len === 0) return props;
  const sub = new Cursor(cur.bytes, cur.pos, cur.pos + len, cur.what);
  const allowed = byContext.get(ctx)!;
  const bag = props as Record<string, unknown>;
  while (sub.left > 0) {
    const id = sub.vbi("property identifier");
    const def = allowed.get(id);
    if (def === undefined) {
      if (knownIds.has(id)) throw new ProtocolError("property-not-allowed", `property ${idText(id)} is not allowed in ${ctxText(ctx)}`);
      throw new ProtocolError("unknown-property", `${cur.what}: unknown property identifier ${idText(id)}`);
    }
    const value = readValue(sub, def);
    if (def.repeat) {
      const list = (bag[def.field] ?? (bag[def.field] = [])) as unknown[];
      list.push(value);
    } else {
      if (bag[def.field] !== undefined) throw new ProtocolError("duplicate-property", `${def.field} (${idText(id)}) appears twice in ${ctxText(ctx)}`);
      bag[def.field] = value;
    }
  }
  cur.pos = sub.end;
  checkAuth(props, ctx);
  return props;
}

function readValue(cur: Cursor, def: PropertyDef): unknown {
  const what = def.field;
  switch (def.kind) {
    case "str": {
      const s = cur.str(what);
      if (def.id === 0x08) checkResponseTopic(s);
      return s;
    }
    case "bin":
      return cur.bin(what);
    case "pair":
      return [cur.str("user property name"), cur.str("user property value")];
    case "flag": {
      const b = cur.u8(what);
      if (b > 1) throw new ProtocolError("invalid-property-value", `${what} byte ${b} is not 0 or 1`);
      return b === 1;
    }
    default: {
      const n = def.kind === "byte" ? cur.u8(what) : def.kind === "u16" ? cur.u16(what) : def.kind === "u32" ? cur.u32(what) : cur.vbi(what);
      if (n < (def.min ?? 0) || n > (def.max ?? NUMERIC_MAX[def.kind]!)) {
        throw new ProtocolError("invalid-property-value", `${what} ${n} is out of range ${def.min ?? 0}..${def.max ?? NUMERIC_MAX[def.kind]}`);
      }
      return n;
    }
  }
}

// --- encoding --------------------------------------------------------------------------------------

/** A property section checked and measured, ready to write: `size` counts the length prefix too. */
export interface PreparedProperties {
  /** Bytes of the whole section, Variable Byte Integer length included. */
  readonly size: number;
  /** Bytes of the properties alone. */
  readonly length: number;
  /** [definition, value, UTF-8 lengths of its strings] in write order. */
  readonly items: ReadonlyArray<readonly [PropertyDef, unknown, number, number]>;
}

const EMPTY: PreparedProperties = { size: 1, length: 0, items: [] };

/** Checks `props` for `ctx` and measures them; throws ProtocolError as readProperties would on the wire. */
export function prepareProperties(props: Properties | undefined, ctx: PropertyContext): PreparedProperties {
  if (props === undefined) return EMPTY;
  if (typeof props !== "object" || props === null) throw new ProtocolError("invalid-field", `${ctxText(ctx)} properties is not an object`);
  const bag = props as Record<string, unknown>;
  const allowed = byContext.get(ctx)!;
  const items: Array<readonly [PropertyDef, unknown, number, number]> = [];
  let length = 0;
  for (const field of Object.keys(bag)) {
    if (bag[field] === undefined) continue;
    const defs = byField.get(field);
    if (defs === undefined) throw new ProtocolError("unknown-property", `unknown property ${show(field)}`);
    const def = defs.find((d) => allowed.get(d.id) === d);
    if (def === undefined) throw new ProtocolError("property-not-allowed", `${field} is not allowed in ${ctxText(ctx)}`);
  }
  for (const def of DEFS) {
    const value = bag[def.field];
    if (value === undefined || allowed.get(def.id) !== def) continue;
    const values = def.repeat ? value : [value];
    if (!Array.isArray(values)) throw new ProtocolError("invalid-property-value", `${def.field} is not an array`);
    for (const v of values as unknown[]) {
      const [size, a, b] = measure(def, v);
      length += vbiLength(def.id) + size;
      items.push([def, v, a, b]);
    }
  }
  checkAuth(props, ctx);
  if (length > MAX_VBI) throw new ProtocolError("packet-too-large", `${ctxText(ctx)} properties of ${length} bytes`);
  return { size: vbiLength(length) + length, length, items };
}

/** Bytes of one value and the UTF-8 lengths of its strings; throws on a value outside its range. */
function measure(def: PropertyDef, v: unknown): [number, number, number] {
  const what = def.field;
  switch (def.kind) {
    case "str": {
      const n = strLength(v as string, what);
      if (def.id === 0x08) checkResponseTopic(v as string);
      return [2 + n, n, 0];
    }
    case "bin":
      return [2 + binLength(v, what), 0, 0];
    case "pair": {
      if (!Array.isArray(v) || v.length !== 2) throw new ProtocolError("invalid-property-value", "a user property is not a [name, value] pair");
      const a = strLength(v[0] as string, "user property name");
      const b = strLength(v[1] as string, "user property value");
      return [4 + a + b, a, b];
    }
    case "flag":
      if (typeof v !== "boolean") throw new ProtocolError("invalid-property-value", `${what} ${show(v)} is not a boolean`);
      return [1, 0, 0];
    default: {
      const max = def.max ?? NUMERIC_MAX[def.kind]!;
      if (typeof v !== "number" || !Number.isInteger(v) || v < (def.min ?? 0) || v > max) {
        throw new ProtocolError("invalid-property-value", `${what} ${show(v)} is not an integer in ${def.min ?? 0}..${max}`);
      }
      const size = def.kind === "byte" ? 1 : def.kind === "u16" ? 2 : def.kind === "u32" ? 4 : vbiLength(v);
      return [size, 0, 0];
    }
  }
}

/** Writes a prepared property section: length, then each property. */
export function writeProperties(w: Writer, p: PreparedProperties): void {
  writeVbi(w, p.length);
  for (const [def, v, a, b] of p.items) {
    writeVbi(w, def.id);
    switch (def.kind) {
      case "byte": w.u8(v as number); break;
      case "flag": w.u8(v ? 1 : 0); break;
      case "u16": w.u16(v as number); break;
      case "u32": writeU32(w, v as number); break;
      case "vbi": writeVbi(w, v as number); break;
      case "str": w.str(v as string, a); break;
      case "bin": writeBin(w, v as Uint8Array); break;
      case "pair": {
        const [name, value] = v as UserProperty;
        w.str(name, a);
        w.str(value, b);
        break;
      }
    }
  }
}

/** A property section alone (Variable Byte Integer length, then the properties), as `ctx` would carry it. */
export function encodePropertySection(props: Properties | undefined, ctx: PropertyContext): Uint8Array {
  const prepared = prepareProperties(props, ctx);
  // The Writer writes a fixed header first: give it one, then hand out only the section.
  const w = new Writer(0, prepared.size);
  writeProperties(w, prepared);
  const bytes = w.finish();
  return bytes.subarray(bytes.length - prepared.size);
}

/** Decodes a property section that fills `bytes` exactly, as `ctx` would carry it. */
export function decodePropertySection(bytes: Uint8Array, ctx: PropertyContext): Properties {
  const cur = new Cursor(bytes, 0, bytes.length, ctxText(ctx));
  const props = readProperties(cur, ctx);
  cur.done();
  return props;
}

// --- shared checks ---------------------------------------------------------------------------------

function ctxText(ctx: PropertyContext): string {
  return ctx === "will" ? "will properties" : ctx.toUpperCase();
}

/** A Response Topic is a topic name: no wildcards, not empty [MQTT-3.3.2-14]. */
function checkResponseTopic(topic: string): void {
  const problem = topicNameProblem(topic);
  if (problem) throw new ProtocolError("invalid-property-value", `responseTopic ${show(topic)}: ${problem}`);
}

/** Authentication Data without an Authentication Method is a Protocol Error (section 3.1.2.11.10). */
function checkAuth(props: Properties, ctx: PropertyContext): void {
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    throw new ProtocolError("missing-property", `${ctxText(ctx)} has authenticationData without authenticationMethod`);
  }
}
