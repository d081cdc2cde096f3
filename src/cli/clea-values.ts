/**
 * Values for `edgemq clea device` and `edgemq clea fleet`: a command-line text parsed per mapping type, generated
 * data for every device-owned datastream, and received values printed as text or JSON.
 */
import { resolveMapping, resolveObject, InterfaceError, type CleaValue, type Interface, type Mapping, type MappingType } from "edgemq/clea";
import { toBase64 } from "./output.js";
import { UsageError } from "./options.js";

/** One thing to send: a property, an individual datastream value or an object. */
export interface Outgoing {
  kind: "property" | "individual" | "object";
  iface: Interface;
  path: string;
  value: CleaValue | Record<string, CleaValue>;
  /** Whether the mapping wants an explicit timestamp (the command sends the current time). */
  timestamp: boolean;
}

const INTEGER_RE = /^[+-]?\d+$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The bytes of base64 (or base64url) text. */
function fromBase64(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "").padEnd(Math.ceil(text.replace(/=+$/, "").length / 4) * 4, "="));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Converts one scalar (text from the command line or a JSON item) to the JS value of `type`. What does not look
 * like the type is returned unchanged, so that the library refuses it with its PayloadError code.
 */
function scalar(raw: unknown, type: string): unknown {
  const text = typeof raw === "string" ? raw.trim() : undefined;
  switch (type) {
    case "integer":
    case "double":
      return text !== undefined && NUMBER_RE.test(text) ? Number(text) : raw;
    case "longinteger":
      if (text !== undefined && INTEGER_RE.test(text)) return BigInt(text);
      return typeof raw === "number" && Number.isInteger(raw) ? BigInt(raw) : raw;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : raw;
    case "binaryblob":
      return text !== undefined && BASE64_RE.test(text) ? fromBase64(text) : raw;
    case "datetime": {
      if (typeof raw === "number") return new Date(raw);
      const d = text !== undefined && /^\d{4}-\d\d-\d\d/.test(text) ? new Date(text) : undefined;
      return d && !Number.isNaN(d.getTime()) ? d : raw;
    }
    default:
      return raw;
  }
}

/** The value of `type` that `text` writes: scalars as plain text, arrays as JSON arrays (blobs base64, datetimes ISO 8601). */
export function parseValue(text: string, type: MappingType): CleaValue {
  if (!type.endsWith("array")) return scalar(text, type) as CleaValue;
  const json = parseJson(text, `a JSON array for ${type}`);
  if (!Array.isArray(json)) return text as CleaValue;
  return convertItems(json, type);
}

function convertItems(items: unknown[], type: MappingType): CleaValue {
  const item = type.slice(0, -5);
  // Items stay JSON numbers for longinteger when they are safe; a string item "123" becomes a bigint.
  return items.map((v) => (item === "string" ? v : scalar(typeof v === "number" && item === "longinteger" ? String(v) : v, item))) as CleaValue;
}

/** A JSON field of an object: strings are parsed like command-line text, arrays item by item. */
function fieldValue(raw: unknown, type: MappingType): CleaValue {
  if (type.endsWith("array")) return (Array.isArray(raw) ? convertItems(raw, type) : raw) as CleaValue;
  return scalar(typeof raw === "number" && type === "longinteger" ? String(raw) : raw, type) as CleaValue;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`expected ${what}, not ${JSON.stringify(text)}`);
  }
}

/** Looks up `name` among the interfaces; an unknown one is an InterfaceError "interface-not-found". */
export function findInterface(interfaces: readonly Interface[], name: string): Interface {
  const iface = interfaces.find((i) => i.name === name);
  if (!iface) throw new InterfaceError("interface-not-found", `interface ${name} is not among the device's interfaces`, name);
  return iface;
}

/** Parses one `--send "IFACE PATH VALUE"` against the interfaces (the value is the rest of the text after the path). */
export function parseSend(spec: string, interfaces: readonly Interface[]): Outgoing {
  const m = /^\s*(\S+)\s+(\S+)\s+([\s\S]*)$/.exec(spec);
  if (!m) throw new UsageError(`--send needs "INTERFACE PATH VALUE", not ${JSON.stringify(spec)}`);
  const [, name, path, text] = m as unknown as [string, string, string, string];
  const iface = findInterface(interfaces, name);
  if (iface.ownership !== "device") throw new InterfaceError("write-on-server-owned", `${name} is owned by the server`, name);
  if (iface.aggregation === "object") {
    const { mappings } = resolveObject(iface, path);
    const json = parseJson(text, `a JSON object for ${name}`);
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new UsageError(`${name} is object aggregated: the value must be a JSON object`);
    const object: Record<string, CleaValue> = {};
    // Unknown keys go through unchanged: sendObject() refuses them with unexpected-object-key.
    for (const [key, raw] of Object.entries(json)) object[key] = mappings[key] ? fieldValue(raw, mappings[key].type) : (raw as CleaValue);
    return { kind: "object", iface, path, value: object, timestamp: iface.mappings[0]!.explicitTimestamp };
  }
  const { mapping } = resolveMapping(iface, path);
  const kind = iface.type === "properties" ? "property" : "individual";
  return { kind, iface, path, value: parseValue(text, mapping.type), timestamp: kind === "individual" && mapping.explicitTimestamp };
}

/** The endpoint of `mapping` with every %{param} level filled with "1". */
function concretePath(levels: Mapping["levels"]): string {
  return levels.map((l) => `/${"literal" in l ? l.literal : "1"}`).join("");
}

/** A generated value of `type`, varying with `n`. */
export function generateValue(type: MappingType, n: number): CleaValue {
  if (type.endsWith("array")) {
    const item = type.slice(0, -5) as MappingType;
    return [generateValue(item, n), generateValue(item, n + 1)] as CleaValue;
  }
  switch (type) {
    case "double":
      return Math.round((20 + 5 * Math.sin(n / 10)) * 100) / 100;
    case "integer":
      return n % 1_000_000;
    case "longinteger":
      return BigInt(n);
    case "boolean":
      return n % 2 === 0;
    case "string":
      return `value ${n}`;
    case "binaryblob":
      return new Uint8Array([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0x2a]);
    default:
      return new Date();
  }
}

/** A generator of data: one sender per device-owned datastream mapping (one per object interface), taken round-robin. */
export type Generated = { iface: Interface; path: string; kind: "individual" | "object"; timestamp: boolean; make(n: number): CleaValue | Record<string, CleaValue> };

/** The generators for every device-owned datastream of `interfaces`. */
export function generators(interfaces: readonly Interface[]): Generated[] {
  const out: Generated[] = [];
  for (const iface of interfaces) {
    if (iface.type !== "datastream" || iface.ownership !== "device") continue;
    if (iface.aggregation === "object") {
      const first = iface.mappings[0]!;
      const path = first.levels.length === 1 ? "/" : concretePath(first.levels.slice(0, -1));
      const fields = iface.mappings.map((m) => {
        const last = m.levels[m.levels.length - 1]!;
        return { key: "literal" in last ? last.literal : "1", type: m.type };
      });
      const make = (n: number) => Object.fromEntries(fields.map((f) => [f.key, generateValue(f.type, n)])) as Record<string, CleaValue>;
      out.push({ iface, path, kind: "object", timestamp: first.explicitTimestamp, make });
    } else {
      for (const m of iface.mappings) out.push({ iface, path: concretePath(m.levels), kind: "individual", timestamp: m.explicitTimestamp, make: (n) => generateValue(m.type, n) });
    }
  }
  return out;
}

/** A received value as JSON-safe data: bigints as decimal strings, bytes as base64, dates as ISO 8601. */
export function jsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return toBase64(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value;
}

/** A received value as text: strings as they are, unset as "(unset)", the rest as jsonValue()'s JSON. */
export function textValue(value: unknown): string {
  if (value === undefined) return "(unset)";
  const json = jsonValue(value);
  return typeof json === "string" ? json : JSON.stringify(json);
}
