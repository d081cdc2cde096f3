/**
 * Astarte mapping types and their BSON forms. The mapping type decides the BSON type, never the JS type:
 * 2 for a double mapping is a BSON double, for an integer mapping an int32, for a longinteger an int64.
 */

import { Binary, Double, Int32, Long } from "bson";
import { isWellFormed } from "../index.js";
import { PayloadError } from "./errors.js";

/** Scalar mapping types. */
export type ScalarType = "double" | "integer" | "boolean" | "longinteger" | "string" | "binaryblob" | "datetime";
/** Every mapping type: a scalar or an array of one. */
export type MappingType = ScalarType | `${ScalarType}array`;

/** Every mapping type name. */
export const MAPPING_TYPES: readonly MappingType[] = (
  ["double", "integer", "boolean", "longinteger", "string", "binaryblob", "datetime"] as const
).flatMap((t) => [t, `${t}array` as const]);

/** A JS value for a scalar mapping. */
export type ScalarValue = number | bigint | boolean | string | Uint8Array | Date;
/** A JS value for any mapping. */
export type CleaValue = ScalarValue | number[] | bigint[] | boolean[] | string[] | Uint8Array[] | Date[];

const INT32_MIN = -2147483647; // the server rejects -2^31
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Largest string (UTF-8 bytes) or blob. */
export const MAX_VALUE_BYTES = 65_536;
/** Most items in an array value. */
export const MAX_ARRAY_ITEMS = 1024;

const encoder = new TextEncoder();

/** Converts a JS value to the BSON value for `type`; throws PayloadError when it does not fit. */
export function toBson(value: unknown, type: MappingType, where = "value"): unknown {
  if (type.endsWith("array")) {
    const scalar = type.slice(0, -5) as ScalarType;
    if (!Array.isArray(value)) throw mismatch(where, type, value);
    if (value.length > MAX_ARRAY_ITEMS) {
      throw new PayloadError("value-size-exceeded", `${where}: ${value.length} items exceed the ${MAX_ARRAY_ITEMS}-item limit`);
    }
    // Array.from visits holes (as undefined), so a sparse array is refused instead of encoding BSON nulls.
    return Array.from(value, (v: unknown, i) => scalarToBson(v, scalar, `${where}[${i}]`));
  }
  return scalarToBson(value, type as ScalarType, where);
}

function scalarToBson(value: unknown, type: ScalarType, where: string): unknown {
  switch (type) {
    case "double":
      if (typeof value !== "number") throw mismatch(where, type, value);
      if (!Number.isFinite(value)) throw new PayloadError("non-finite-double", `${where}: ${value} is not a finite double`);
      return new Double(value);
    case "integer": {
      const n = typeof value === "bigint" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) throw mismatch(where, type, value);
      if (n < INT32_MIN || n > INT32_MAX) {
        throw new PayloadError("integer-out-of-range", `${where}: ${String(value)} is outside ${INT32_MIN}..${INT32_MAX}`);
      }
      return new Int32(n);
    }
    case "longinteger": {
      let big: bigint;
      if (typeof value === "bigint") big = value;
      else if (typeof value === "number" && Number.isInteger(value)) {
        if (!Number.isSafeInteger(value)) {
          throw new PayloadError("integer-out-of-range", `${where}: ${value} is not a safe integer; pass a bigint for exact 64-bit values`);
        }
        big = BigInt(value);
      } else throw mismatch(where, type, value);
      if (big < INT64_MIN || big > INT64_MAX) throw new PayloadError("integer-out-of-range", `${where}: ${big} does not fit in 64 bits`);
      return Long.fromBigInt(big);
    }
    case "boolean":
      if (typeof value !== "boolean") throw mismatch(where, type, value);
      return value;
    case "string": {
      if (typeof value !== "string") throw mismatch(where, type, value);
      if (!isWellFormed(value)) throw new PayloadError("unexpected-value-type", `${where}: the string contains a lone surrogate (not valid UTF-8)`);
      const size = encoder.encode(value).length;
      if (size > MAX_VALUE_BYTES) throw new PayloadError("value-size-exceeded", `${where}: ${size} bytes exceed ${MAX_VALUE_BYTES}`);
      return value;
    }
    case "binaryblob":
      if (!(value instanceof Uint8Array)) throw mismatch(where, type, value);
      if (value.length > MAX_VALUE_BYTES) throw new PayloadError("value-size-exceeded", `${where}: ${value.length} bytes exceed ${MAX_VALUE_BYTES}`);
      return new Binary(value);
    case "datetime":
      if (!(value instanceof Date)) throw mismatch(where, type, value);
      if (Number.isNaN(value.getTime())) throw new PayloadError("unexpected-value-type", `${where}: invalid Date`);
      return value;
    default:
      throw new PayloadError("unexpected-value-type", `${where}: ${String(type)} is not a mapping type`);
  }
}

/**
 * Converts a decoded BSON value (promoteValues: false) to the JS value for `type`. Lossless numeric widening
 * is accepted (an int32 for a double or longinteger mapping); anything else that does not match is an error.
 */
export function fromBson(value: unknown, type: MappingType, where = "value"): CleaValue {
  if (type.endsWith("array")) {
    const scalar = type.slice(0, -5) as ScalarType;
    if (!Array.isArray(value)) throw mismatch(where, type, value);
    if (value.length > MAX_ARRAY_ITEMS) throw new PayloadError("value-size-exceeded", `${where}: ${value.length} items exceed ${MAX_ARRAY_ITEMS}`);
    return value.map((v, i) => scalarFromBson(v, scalar, `${where}[${i}]`)) as CleaValue;
  }
  return scalarFromBson(value, type as ScalarType, where);
}

function scalarFromBson(value: unknown, type: ScalarType, where: string): ScalarValue {
  switch (type) {
    case "double": {
      // astarte_core accepts any number for a double: an int32 or int64 is widened (int64 to the nearest double).
      const n =
        value instanceof Double || value instanceof Int32 ? value.valueOf()
        : value instanceof Long ? value.toNumber()
        : typeof value === "number" ? value
        : undefined;
      if (n === undefined) throw mismatch(where, type, value);
      if (!Number.isFinite(n)) throw new PayloadError("non-finite-double", `${where}: ${n} is not a finite double`);
      return n;
    }
    case "integer": {
      // Any BSON integer within the range (an int64 too, as astarte_core accepts), never a double.
      if (!(value instanceof Int32) && !(value instanceof Long) && typeof value !== "number") throw mismatch(where, type, value);
      const n = value instanceof Long ? (value.lessThan(INT32_MIN) || value.greaterThan(INT32_MAX) ? NaN : value.toNumber()) : value.valueOf();
      if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) throw new PayloadError("integer-out-of-range", `${where}: ${String(value)} is not a valid integer`);
      return n;
    }
    case "longinteger":
      if (value instanceof Long) return value.toBigInt();
      if (value instanceof Int32) return BigInt(value.valueOf());
      if (typeof value === "bigint") return value;
      throw mismatch(where, type, value);
    case "boolean":
      if (typeof value !== "boolean") throw mismatch(where, type, value);
      return value;
    case "string":
      if (typeof value !== "string") throw mismatch(where, type, value);
      if (encoder.encode(value).length > MAX_VALUE_BYTES) throw new PayloadError("value-size-exceeded", `${where}: string longer than ${MAX_VALUE_BYTES} bytes`);
      return value;
    case "binaryblob": {
      const bytes = value instanceof Binary ? value.value() : value instanceof Uint8Array ? value : undefined;
      if (!bytes) throw mismatch(where, type, value);
      if (bytes.length > MAX_VALUE_BYTES) throw new PayloadError("value-size-exceeded", `${where}: blob longer than ${MAX_VALUE_BYTES} bytes`);
      return new Uint8Array(bytes);
    }
    case "datetime": {
      // astarte_core also takes an integer for a datetime: milliseconds since the epoch.
      const at = value instanceof Int32 ? new Date(value.valueOf()) : value instanceof Long ? new Date(value.toNumber()) : value;
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw mismatch(where, type, value);
      return at;
    }
    default:
      throw new PayloadError("unexpected-value-type", `${where}: ${String(type)} is not a mapping type`);
  }
}

/** Natural JS form of a BSON value decoded without a mapping (int32/double -> number, int64 -> bigint, binary -> bytes). */
export function fromBsonUntyped(value: unknown): unknown {
  if (value instanceof Double || value instanceof Int32) return value.valueOf();
  if (value instanceof Long) return value.toBigInt();
  if (value instanceof Binary) return new Uint8Array(value.value());
  if (Array.isArray(value)) return value.map(fromBsonUntyped);
  if (value instanceof Date || value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key from the wire stays a key instead of replacing the prototype.
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: fromBsonUntyped(v), enumerable: true, writable: true, configurable: true });
  return out;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  if (value instanceof Date) return "a Date";
  if (typeof value === "object") return (value as { _bsontype?: string })._bsontype ?? "an object";
  return typeof value;
}

function mismatch(where: string, type: MappingType, value: unknown): PayloadError {
  return new PayloadError("unexpected-value-type", `${where}: expected ${type}, got ${describe(value)}`);
}
