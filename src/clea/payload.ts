/**
 * The Astarte MQTT v1 payload: a BSON document `{ v, t? }` (t a BSON UTC datetime), or empty for an unset.
 * Deflate frames (4-byte big-endian uncompressed size + zlib stream) carry purge lists and, for backends that
 * want it, deflated BSON; inflation is capped so a decompression bomb never allocates past the cap.
 */

import { BSON, Binary } from "bson";
import { Deflate, Inflate } from "pako";
import { PayloadError } from "./errors.js";
import { fromBson, fromBsonUntyped, toBson, type CleaValue, type MappingType } from "./values.js";

/** Mapping type of an individual value, or of each field of an object value. */
export type PayloadType = MappingType | Readonly<Record<string, MappingType>>;

/** Options of encodePayload. */
export interface EncodeOptions {
  /** Sent as `t`, a BSON UTC datetime. */
  timestamp?: Date;
  /** Wrap the BSON in a deflate frame (for backends that expect deflated BSON on generic topics). */
  deflate?: boolean;
  /** The mapping type (or per-field types for an object): decides the BSON type. Default: inferred from the JS type. */
  type?: PayloadType;
}

/** Options of decodePayload. */
export interface DecodeOptions {
  /** Validate and convert against this mapping type (or per-field types for an object). */
  type?: PayloadType;
  /** Cap on the inflated size of a deflate frame. Default 10 MiB. */
  maxInflatedSize?: number;
}

/** A decoded payload. */
export interface DecodedPayload {
  /** The decoded value (`v`). */
  value: CleaValue | Record<string, CleaValue> | unknown;
  /** The payload's timestamp (`t`), when present. */
  timestamp?: Date;
}

/** Default cap on inflation (the server's own cap). */
export const DEFAULT_MAX_INFLATED_SIZE = 10 * 1024 * 1024;

/**
 * Encodes `{ v: value, t?: timestamp }` as BSON (optionally as a deflate frame): the payload of an Astarte MQTT v1
 * message. Device.send() and its siblings do this for you; use it to build or test messages by hand.
 * @param value A scalar, an array, or (with per-field `type`s) a plain object of fields.
 * @param options `type` (the mapping type, else inferred from the JS type), `timestamp`, `deflate`.
 * @returns The BSON document, or its deflate frame.
 * @throws PayloadError "unexpected-value-type", "non-finite-double", "integer-out-of-range",
 * "value-size-exceeded", "unexpected-object-key" or "invalid-timestamp" when the value does not fit.
 * @example
 * ```ts
 * const bytes = encodePayload(21.5, { type: "double", timestamp: new Date() });
 * const obj = encodePayload({ temp: 21.5, hum: 40 }, { type: { temp: "double", hum: "integer" } });
 * ```
 */
export function encodePayload(value: unknown, options: EncodeOptions = {}): Uint8Array {
  const type = options.type ?? inferType(value);
  let v: unknown;
  if (typeof type === "string") v = toBson(value, type);
  else {
    if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array || value instanceof Date) {
      throw new PayloadError("unexpected-value-type", "an object value needs a plain object of fields");
    }
    const fields = value as Record<string, unknown>;
    const doc: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) {
      const fieldType = fieldTypeOf(type, key);
      if (!fieldType) throw new PayloadError("unexpected-object-key", `object key "${key}" has no mapping`);
      doc[key] = toBson(fields[key], fieldType, key);
    }
    v = doc;
  }
  const doc: Record<string, unknown> = { v };
  if (options.timestamp !== undefined) {
    if (!(options.timestamp instanceof Date) || Number.isNaN(options.timestamp.getTime())) {
      throw new PayloadError("invalid-timestamp", "timestamp must be a valid Date");
    }
    doc.t = options.timestamp;
  }
  const serialized = BSON.serialize(doc);
  // A plain Uint8Array view (on Node, bson returns a Buffer subclass).
  const bytes = new Uint8Array(serialized.buffer, serialized.byteOffset, serialized.byteLength);
  return options.deflate ? deflateFrame(bytes) : bytes;
}

/**
 * Decodes a payload: undefined for an unset (empty payload, or `{v: <empty binary>}`), else the value and the
 * timestamp. Both plain BSON and deflate frames are accepted.
 * @param bytes The message payload.
 * @param options `type` to validate and convert against a mapping type; `maxInflatedSize` to cap a deflate frame.
 * @returns `{ value, timestamp? }`, or undefined for an unset.
 * @throws PayloadError on anything malformed ("invalid-bson", "invalid-frame", "inflate-limit-exceeded",
 * "invalid-timestamp") or not of the given type ("unexpected-value-type", "unexpected-object-key", ...).
 * @example
 * ```ts
 * const decoded = decodePayload(msg.payload, { type: "double" });
 * if (decoded === undefined) console.log("unset");
 * else console.log(decoded.value, decoded.timestamp);
 * ```
 */
export function decodePayload(bytes: Uint8Array, options: DecodeOptions = {}): DecodedPayload | undefined {
  if (bytes.length === 0) return undefined;
  const doc = bsonOrInflated(bytes, options.maxInflatedSize);
  let parsed: Record<string, unknown>;
  try {
    parsed = BSON.deserialize(doc, { promoteValues: false, promoteBuffers: false, validation: { utf8: true } });
  } catch (err) {
    throw new PayloadError("invalid-bson", `undecodable BSON: ${(err as Error).message}`, err);
  }
  if (!("v" in parsed)) throw new PayloadError("invalid-bson", 'the BSON document has no "v" key');
  const raw = parsed.v;
  if (raw instanceof Binary && raw.length() === 0 && options.type !== "binaryblob") return undefined;
  const out: DecodedPayload = { value: undefined };
  const type = options.type;
  if (type === undefined) out.value = fromBsonUntyped(raw);
  else if (typeof type === "string") out.value = fromBson(raw, type);
  else {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw) || raw instanceof Date || (raw as { _bsontype?: string })._bsontype) {
      throw new PayloadError("unexpected-value-type", "expected an object (embedded document) value");
    }
    const fields: Record<string, CleaValue> = {};
    for (const [key, fieldValue] of Object.entries(raw as Record<string, unknown>)) {
      const fieldType = fieldTypeOf(type, key);
      if (!fieldType) throw new PayloadError("unexpected-object-key", `object key "${key}" has no mapping`);
      Object.defineProperty(fields, key, { value: fromBson(fieldValue, fieldType, key), enumerable: true, writable: true, configurable: true });
    }
    out.value = fields;
  }
  if (parsed.t instanceof Date) {
    if (Number.isNaN(parsed.t.getTime())) throw new PayloadError("invalid-timestamp", '"t" is a BSON datetime outside the range of a JS Date');
    out.timestamp = parsed.t;
  }
  return out;
}

/** Largest BSON document size prefix taken as a (truncated or malformed) BSON document rather than a frame: 16 MiB. */
const MAX_BSON_SIZE = 16 * 1024 * 1024;

/**
 * The BSON document in `bytes`: the bytes themselves when they are shaped like one document, else the content of a
 * zlib frame. Anything else is refused with a code that says what it looks like: `invalid-bson` when the
 * little-endian size prefix is a plausible BSON size (truncated or malformed BSON) or the input is too short to be a
 * frame, `invalid-frame` when it is neither BSON nor zlib. Only a real zlib frame can give `inflate-limit-exceeded`.
 */
function bsonOrInflated(bytes: Uint8Array, maxSize: number | undefined): Uint8Array {
  // A BSON document starts with its own size (int32 LE): if that holds it is BSON, whatever else it could be.
  if (looksLikeBson(bytes)) return bytes;
  // a bare 00 00 00 00 frame (the empty list) inflates to nothing, which is then not BSON
  if (hasZlibHeader(bytes) || (bytes.length === 4 && bytes.every((b) => b === 0))) return inflateFrame(bytes, { maxSize });
  if (bytes.length < 4) throw new PayloadError("invalid-bson", `${bytes.length} byte(s): shorter than the smallest BSON document (5 bytes)`);
  const declared = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  if (declared >= 5 && declared <= MAX_BSON_SIZE) {
    throw new PayloadError("invalid-bson", `undecodable BSON: the document declares ${declared} bytes, the payload has ${bytes.length}`);
  }
  throw new PayloadError("invalid-frame", "neither a BSON document nor a zlib frame (4-byte size, then a zlib stream)");
}

/**
 * Whether a zlib (RFC 1950) stream header follows the 4-byte size of a frame: CM = 8 (deflate), CINFO <= 7,
 * (CMF * 256 + FLG) a multiple of 31, and no preset dictionary.
 */
export function hasZlibHeader(frame: Uint8Array): boolean {
  if (frame.length < 6) return false;
  const cmf = frame[4]!;
  const flg = frame[5]!;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (cmf * 256 + flg) % 31 === 0 && (flg & 0x20) === 0;
}

/** The mapping type of an object field: own keys only, so "constructor" or "__proto__" never resolve to Object.prototype members. */
function fieldTypeOf(type: Readonly<Record<string, MappingType>>, key: string): MappingType | undefined {
  return Object.prototype.hasOwnProperty.call(type, key) ? type[key] : undefined;
}

/** Whether `bytes` is shaped like one BSON document (declared size = actual size, trailing NUL). */
export function looksLikeBson(bytes: Uint8Array): boolean {
  if (bytes.length < 5) return false;
  const declared = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return declared === bytes.length && bytes[bytes.length - 1] === 0;
}

/**
 * Compresses `bytes` into a deflate frame: 4-byte big-endian uncompressed size, then a zlib (RFC 1950) stream.
 * @param bytes The data to compress.
 * @returns The frame.
 * @throws PayloadError "invalid-frame" if compression fails.
 * @example
 * ```ts
 * const frame = deflateFrame(new TextEncoder().encode("com.acme.Config/display/name"));
 * const same = inflateFrame(frame); // the original bytes
 * ```
 */
export function deflateFrame(bytes: Uint8Array): Uint8Array {
  const z = new Deflate();
  z.push(bytes, true);
  if (z.err) throw new PayloadError("invalid-frame", `deflate failed: ${z.msg}`);
  const body = z.result as Uint8Array;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(body, 4);
  return out;
}

/**
 * Inflates a deflate frame (4-byte size + a whole zlib stream). A bare zero header is the empty frame. The output is
 * capped at `maxSize` whatever the size header says (the header is not trusted either way, so random bytes never
 * claim to be a bomb).
 * @param frame The frame to inflate.
 * @param options `maxSize`: cap on the inflated size. Default DEFAULT_MAX_INFLATED_SIZE (10 MiB).
 * @returns The inflated bytes.
 * @throws PayloadError "invalid-frame" for anything that is not a whole frame; "inflate-limit-exceeded" as the
 * output of a real zlib stream passes `maxSize`.
 */
export function inflateFrame(frame: Uint8Array, options: { maxSize?: number } = {}): Uint8Array {
  const max = options.maxSize ?? DEFAULT_MAX_INFLATED_SIZE;
  if (frame.length < 4) throw new PayloadError("invalid-frame", "a deflate frame needs a 4-byte size header");
  const declared = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
  if (frame.length === 4) {
    // The server accepts a bare zero header for an empty list; a bare header declaring content is a truncated frame.
    if (declared === 0) return new Uint8Array(0);
    throw new PayloadError("invalid-frame", `the frame declares ${declared} bytes but has no zlib stream`);
  }
  if (!hasZlibHeader(frame)) throw new PayloadError("invalid-frame", "not a zlib frame: no zlib (RFC 1950) header after the 4-byte size");
  const chunks: Uint8Array[] = [];
  let total = 0;
  // windowBits 15: zlib (RFC 1950) only, as the protocol says; no gzip or raw deflate auto-detection.
  const z = new Inflate({ chunkSize: 16 * 1024, windowBits: 15 });
  z.onData = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > max) throw new PayloadError("inflate-limit-exceeded", `inflating past the ${max}-byte cap`);
    chunks.push(chunk);
  };
  try {
    z.push(frame.subarray(4), true);
  } catch (err) {
    if (err instanceof PayloadError) throw err;
    throw new PayloadError("invalid-frame", `corrupt zlib stream: ${(err as Error).message}`, err);
  }
  if (z.err || !z.ended) throw new PayloadError("invalid-frame", `corrupt or truncated zlib stream${z.msg ? `: ${z.msg}` : ""}`);
  const leftover = (z as unknown as { strm?: { avail_in?: number } }).strm?.avail_in ?? 0;
  if (leftover > 0) throw new PayloadError("invalid-frame", `${leftover} unexpected byte(s) after the zlib stream`);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Mapping type for a JS value when none is given: number -> double, bigint -> longinteger, and so on. */
function inferType(value: unknown): PayloadType {
  const scalar = (v: unknown): MappingType | undefined =>
    typeof v === "number" ? "double"
    : typeof v === "bigint" ? "longinteger"
    : typeof v === "boolean" ? "boolean"
    : typeof v === "string" ? "string"
    : v instanceof Uint8Array ? "binaryblob"
    : v instanceof Date ? "datetime"
    : undefined;
  const s = scalar(value);
  if (s) return s;
  if (Array.isArray(value)) {
    const first = value.length > 0 ? scalar(value[0]) : "double";
    if (first) return `${first}array` as MappingType;
  } else if (value !== null && typeof value === "object") {
    const fields: Record<string, MappingType> = {};
    for (const [k, v] of Object.entries(value)) {
      const t = scalar(v) ?? (Array.isArray(v) ? (inferType(v) as MappingType) : undefined);
      if (!t) throw new PayloadError("unexpected-value-type", `field "${k}": cannot infer a mapping type`);
      fields[k] = t;
    }
    return fields;
  }
  throw new PayloadError("unexpected-value-type", "cannot infer a mapping type for this value; pass options.type");
}
