/** `edgemq clea server`: how values are written on its output and read from its stdin commands (JSON, typed by the mapping). */
import { resolveMapping, resolveObject, type Interface, type MappingType } from "edgemq/clea";
import { toBase64 } from "./output.js";

/**
 * `value` as JSON text: bigints as exact number literals, Dates as ISO strings, bytes as {"base64":"..."},
 * arrays and records element by element; undefined members are left out.
 */
export function jsonText(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return JSON.stringify(Number.isNaN(value.getTime()) ? null : value.toISOString());
  if (value instanceof Uint8Array) return `{"base64":${JSON.stringify(toBase64(value))}}`;
  if (Array.isArray(value)) return `[${value.map((v) => jsonText(v)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isFinite(value)) return JSON.stringify(String(value));
  return JSON.stringify(value) ?? "null";
}

/** A value read from a command line that does not fit its mapping's type, or is not JSON. */
export class ValueError extends Error {
  override readonly name = "ValueError";
}

/** Parses the JSON text of a command's VALUE; a bare integer literal keeps all its digits (as a bigint when beyond 2^53). */
export function parseJsonValue(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") throw new ValueError("missing VALUE (JSON: 21.5, \"text\", true, [1,2], {\"k\":1})");
  if (/^-?\d+$/.test(trimmed)) {
    const big = BigInt(trimmed);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  try {
    return JSON.parse(trimmed) as unknown;
  } catch (err) {
    throw new ValueError(`VALUE is not JSON: ${(err as Error).message}`);
  }
}

function scalar(value: unknown, type: string, where: string): unknown {
  switch (type) {
    case "longinteger":
      if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
      return value;
    case "datetime":
      if (typeof value === "string" || typeof value === "number") {
        const at = new Date(value);
        if (Number.isNaN(at.getTime())) throw new ValueError(`${where}: ${JSON.stringify(value)} is not a date (ISO 8601 text or milliseconds since the epoch)`);
        return at;
      }
      return value;
    case "binaryblob": {
      const b64 = (value as { base64?: unknown } | null)?.base64;
      if (typeof b64 === "string" && value !== null && typeof value === "object" && Object.keys(value).length === 1) {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new ValueError(`${where}: "base64" is not base64 text`);
        return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      }
      return value;
    }
    default:
      return value;
  }
}

/** Converts a JSON value to the JS value `type` needs (longinteger from digits, datetime from text, binaryblob from {"base64"}); other mismatches are left for the encoder to report. */
export function typedValue(value: unknown, type: MappingType, where: string): unknown {
  if (type.endsWith("array")) {
    if (!Array.isArray(value)) return value;
    const element = type.slice(0, -"array".length);
    return value.map((v, i) => scalar(v, element, `${where}[${i}]`));
  }
  return scalar(value, type, where);
}

/** The value for an individual mapping of `iface` at `path`, converted with its type (unconverted when the path does not resolve: the simulator then reports it). */
export function individualValue(iface: Interface | undefined, path: string, value: unknown): unknown {
  if (!iface) return value;
  let type: MappingType;
  try {
    type = resolveMapping(iface, path).mapping.type;
  } catch {
    return value;
  }
  return typedValue(value, type, `${iface.name}${path}`);
}

/** The fields of an object for `iface` at `path`, each converted with its mapping's type. */
export function objectFields(iface: Interface, path: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ValueError(`${iface.name} is an object interface: VALUE must be a JSON object such as {"key":1}`);
  let mappings: Record<string, { type: MappingType }>;
  try {
    mappings = resolveObject(iface, path).mappings;
  } catch {
    return value as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = mappings[k] ? typedValue(v, mappings[k].type, `${iface.name}${path}/${k}`) : v;
  return out;
}
