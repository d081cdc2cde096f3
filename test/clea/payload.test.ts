/**
 * Data payloads of the Astarte MQTT v1 protocol: BSON `{v, t?}`.
 *
 * Every vector below is derived by hand from the BSON 1.1 spec, not produced by the code under test:
 *   document = int32 LE total size (counting itself and the final 0x00) | elements | 0x00
 *   element  = type byte | key as cstring (bytes + 0x00) | value
 *   values: 0x01 double (8 bytes IEEE-754 LE), 0x02 string (int32 LE size incl. NUL | UTF-8 | 0x00),
 *   0x03 document, 0x04 array (a document keyed "0", "1", ...), 0x05 binary (int32 LE size | subtype | bytes),
 *   0x08 boolean (1 byte), 0x09 UTC datetime (int64 LE ms), 0x10 int32 LE, 0x12 int64 LE.
 * "v" is 0x76, "t" is 0x74, "0" is 0x30, "1" is 0x31.
 */

import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayloadError, type PayloadErrorCode } from "../../src/clea/errors.js";
import { decodePayload, encodePayload, inflateFrame, looksLikeBson, type PayloadType } from "../../src/clea/payload.js";
import { MAPPING_TYPES, type CleaValue, type MappingType } from "../../src/clea/values.js";
import { hex, norm, payloadError, toHex } from "./helpers.js";

interface Vector {
  name: string;
  type: MappingType;
  value: CleaValue;
  /** The whole payload, derivation in the comment next to it. */
  bytes: string;
  /** The JS form the decoder must give back (same as `value` unless stated). */
  kind: "number" | "bigint" | "boolean" | "string" | "bytes" | "date" | "array";
}

const VECTORS: Vector[] = [
  // 2 as a double: 2.0 = 0x4000000000000000 -> LE 00 00 00 00 00 00 00 40. element 1+2+8 = 11; size 4+11+1 = 16.
  { name: "double 2", type: "double", value: 2, kind: "number", bytes: "10000000 01 7600 0000000000000040 00" },
  // 1.5 = 0x3FF8000000000000.
  { name: "double 1.5", type: "double", value: 1.5, kind: "number", bytes: "10000000 01 7600 000000000000f83f 00" },
  // -0.5 = 0xBFE0000000000000.
  { name: "double -0.5", type: "double", value: -0.5, kind: "number", bytes: "10000000 01 7600 000000000000e0bf 00" },
  // 0.1 = 0x3FB999999999999A (nearest double).
  { name: "double 0.1", type: "double", value: 0.1, kind: "number", bytes: "10000000 01 7600 9a9999999999b93f 00" },
  // -0 keeps its sign bit: 0x8000000000000000.
  { name: "double -0", type: "double", value: -0, kind: "number", bytes: "10000000 01 7600 0000000000000080 00" },
  // int32: element 1+2+4 = 7; size 12.
  { name: "integer 2", type: "integer", value: 2, kind: "number", bytes: "0c000000 10 7600 02000000 00" },
  { name: "integer -1", type: "integer", value: -1, kind: "number", bytes: "0c000000 10 7600 ffffffff 00" },
  { name: "integer max 2147483647", type: "integer", value: 2147483647, kind: "number", bytes: "0c000000 10 7600 ffffff7f 00" },
  // -2147483647 = 0x80000001 in two's complement.
  { name: "integer min -2147483647", type: "integer", value: -2147483647, kind: "number", bytes: "0c000000 10 7600 01000080 00" },
  // boolean: element 1+2+1 = 4; size 9.
  { name: "boolean true", type: "boolean", value: true, kind: "boolean", bytes: "09000000 08 7600 01 00" },
  { name: "boolean false", type: "boolean", value: false, kind: "boolean", bytes: "09000000 08 7600 00 00" },
  // int64: element 1+2+8 = 11; size 16.
  { name: "longinteger 2", type: "longinteger", value: 2n, kind: "bigint", bytes: "10000000 12 7600 0200000000000000 00" },
  // 2^53+1 = 0x0020000000000001: not representable as a JS number, exact as a bigint.
  { name: "longinteger 2^53+1", type: "longinteger", value: 2n ** 53n + 1n, kind: "bigint", bytes: "10000000 12 7600 0100000000002000 00" },
  // -2^63 = 0x8000000000000000.
  { name: "longinteger -2^63", type: "longinteger", value: -(2n ** 63n), kind: "bigint", bytes: "10000000 12 7600 0000000000000080 00" },
  // 2^63-1 = 0x7FFFFFFFFFFFFFFF.
  { name: "longinteger 2^63-1", type: "longinteger", value: 2n ** 63n - 1n, kind: "bigint", bytes: "10000000 12 7600 ffffffffffffff7f 00" },
  // string "": size field 1 (just the NUL); element 1+2+4+1 = 8; size 13.
  { name: "string empty", type: "string", value: "", kind: "string", bytes: "0d000000 02 7600 01000000 00 00" },
  // "hé€😀" = 68 | c3 a9 | e2 82 ac | f0 9f 98 80 = 10 bytes, size field 11; element 1+2+4+11 = 18; size 23.
  { name: "string non-ASCII", type: "string", value: "hé€😀", kind: "string", bytes: "17000000 02 7600 0b000000 68c3a9e282acf09f9880 00 00" },
  // binary: size 4, subtype 0x00 (generic); element 1+2+4+1+4 = 12; size 17.
  { name: "binaryblob", type: "binaryblob", value: Uint8Array.of(0xde, 0xad, 0xbe, 0xef), kind: "bytes", bytes: "11000000 05 7600 04000000 00 deadbeef 00" },
  // datetime: int64 LE milliseconds. 1000 = 0x3e8.
  { name: "datetime 1970-01-01T00:00:01Z", type: "datetime", value: new Date(1000), kind: "date", bytes: "10000000 09 7600 e803000000000000 00" },
  // 2021-01-01T00:00:00Z = 1609459200000 ms = 0x0176BB3E7000.
  { name: "datetime 2021-01-01", type: "datetime", value: new Date("2021-01-01T00:00:00Z"), kind: "date", bytes: "10000000 09 7600 00703ebb76010000 00" },
  // before the epoch: -1 ms = all ones.
  { name: "datetime -1 ms", type: "datetime", value: new Date(-1), kind: "date", bytes: "10000000 09 7600 ffffffffffffffff 00" },
  // arrays: an embedded document keyed "0", "1". [1.5, 2]: items 11 + 11, array size 4+22+1 = 27 (0x1b); element 1+2+27 = 30; size 35.
  {
    name: "doublearray [1.5, 2]", type: "doublearray", value: [1.5, 2], kind: "array",
    bytes: "23000000 04 7600 1b000000 01 3000 000000000000f83f 01 3100 0000000000000040 00 00",
  },
  // the integers 1 and 2 in a doublearray are still BSON doubles.
  {
    name: "doublearray [1, 2] stays double", type: "doublearray", value: [1, 2], kind: "array",
    bytes: "23000000 04 7600 1b000000 01 3000 000000000000f03f 01 3100 0000000000000040 00 00",
  },
  // empty array: the empty document 05 00 00 00 00; element 1+2+5 = 8; size 13.
  { name: "doublearray []", type: "doublearray", value: [], kind: "array", bytes: "0d000000 04 7600 05000000 00 00" },
  // [1, -1]: items 7 + 7, array size 19 (0x13); element 22; size 27.
  {
    name: "integerarray [1, -1]", type: "integerarray", value: [1, -1], kind: "array",
    bytes: "1b000000 04 7600 13000000 10 3000 01000000 10 3100 ffffffff 00 00",
  },
  // [true, false]: items 4 + 4, array size 13; element 16; size 21.
  {
    name: "booleanarray [true, false]", type: "booleanarray", value: [true, false], kind: "array",
    bytes: "15000000 04 7600 0d000000 08 3000 01 08 3100 00 00 00",
  },
  // [1n, -2^63]: items 11 + 11, array size 27; element 30; size 35.
  {
    name: "longintegerarray [1n, -2^63]", type: "longintegerarray", value: [1n, -(2n ** 63n)], kind: "array",
    bytes: "23000000 04 7600 1b000000 12 3000 0100000000000000 12 3100 0000000000000080 00 00",
  },
  // ["a", "é"]: items 1+2+4+2 = 9 and 1+2+4+3 = 10, array size 24 (0x18); element 27; size 32.
  {
    name: "stringarray [a, é]", type: "stringarray", value: ["a", "é"], kind: "array",
    bytes: "20000000 04 7600 18000000 02 3000 02000000 61 00 02 3100 03000000 c3a9 00 00 00",
  },
  // [[01], []]: items 1+2+4+1+1 = 9 and 1+2+4+1 = 8, array size 22 (0x16); element 25; size 30.
  {
    name: "binaryblobarray [[1], []]", type: "binaryblobarray", value: [Uint8Array.of(1), new Uint8Array(0)], kind: "array",
    bytes: "1e000000 04 7600 16000000 05 3000 01000000 00 01 05 3100 00000000 00 00 00",
  },
  // [0 ms, 1000 ms]: items 11 + 11, array size 27; element 30; size 35.
  {
    name: "datetimearray [epoch, +1 s]", type: "datetimearray", value: [new Date(0), new Date(1000)], kind: "array",
    bytes: "23000000 04 7600 1b000000 09 3000 0000000000000000 09 3100 e803000000000000 00 00",
  },
];

function checkKind(value: unknown, kind: Vector["kind"], type: MappingType): void {
  switch (kind) {
    case "number":
      expect(typeof value).toBe("number");
      break;
    case "bigint":
      expect(typeof value).toBe("bigint");
      break;
    case "boolean":
      expect(typeof value).toBe("boolean");
      break;
    case "string":
      expect(typeof value).toBe("string");
      break;
    case "bytes":
      expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
      break;
    case "date":
      expect(value).toBeInstanceOf(Date);
      break;
    case "array": {
      expect(Array.isArray(value)).toBe(true);
      const scalar = type.slice(0, -5);
      const itemKind = ({ double: "number", integer: "number", boolean: "boolean", longinteger: "bigint", string: "string", binaryblob: "bytes", datetime: "date" } as const)[
        scalar as "double"
      ];
      for (const item of value as unknown[]) checkKind(item, itemKind, scalar as MappingType);
      break;
    }
  }
}

describe("BSON vectors, one per mapping type", () => {
  it.each(VECTORS)("encodes $name byte for byte", ({ type, value, bytes }) => {
    expect(toHex(encodePayload(value, { type }))).toBe(norm(bytes));
  });

  it.each(VECTORS)("decodes $name back to the same value and JS type", ({ type, value, bytes, kind }) => {
    const decoded = decodePayload(hex(bytes), { type });
    expect(decoded).toBeDefined();
    expect(decoded!.value).toEqual(value);
    expect(decoded!.timestamp).toBeUndefined();
    checkKind(decoded!.value, kind, type);
  });

  it("2 is a BSON double, an int32 or an int64 according to the mapping, never the JS type", () => {
    expect(toHex(encodePayload(2, { type: "double" }))).toBe(norm("10000000 01 7600 0000000000000040 00"));
    expect(toHex(encodePayload(2, { type: "integer" }))).toBe(norm("0c000000 10 7600 02000000 00"));
    expect(toHex(encodePayload(2, { type: "longinteger" }))).toBe(norm("10000000 12 7600 0200000000000000 00"));
    // a safe-integer number for a longinteger mapping is exact too
    expect(toHex(encodePayload(Number.MAX_SAFE_INTEGER, { type: "longinteger" }))).toBe(norm("10000000 12 7600 ffffffffffff1f00 00"));
  });

  it("without a type, the JS type decides: number -> double, bigint -> int64", () => {
    expect(toHex(encodePayload(2))).toBe(norm("10000000 01 7600 0000000000000040 00"));
    expect(toHex(encodePayload(2n))).toBe(norm("10000000 12 7600 0200000000000000 00"));
    expect(toHex(encodePayload(true))).toBe(norm("09000000 08 7600 01 00"));
  });

  it("untyped decoding gives the natural JS form of each BSON type", () => {
    expect(decodePayload(hex("10000000 01 7600 0000000000000040 00"))!.value).toBe(2);
    expect(decodePayload(hex("0c000000 10 7600 02000000 00"))!.value).toBe(2);
    expect(decodePayload(hex("10000000 12 7600 0100000000002000 00"))!.value).toBe(2n ** 53n + 1n);
    const blob = decodePayload(hex("11000000 05 7600 04000000 00 deadbeef 00"))!.value;
    expect(Object.getPrototypeOf(blob)).toBe(Uint8Array.prototype);
    expect(blob).toEqual(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    expect(decodePayload(hex("23000000 04 7600 1b000000 12 3000 0100000000000000 12 3100 0000000000000080 00 00"))!.value).toEqual([1n, -(2n ** 63n)]);
  });

  it("lossless widening on decode: an int32 on the wire is accepted for a double or a longinteger mapping", () => {
    const int32Two = hex("0c000000 10 7600 02000000 00");
    expect(decodePayload(int32Two, { type: "double" })!.value).toBe(2);
    expect(decodePayload(int32Two, { type: "longinteger" })!.value).toBe(2n);
  });
});

describe("timestamp t", () => {
  // {v: 2.0, t: 1000 ms}: elements 11 + (1+2+8 = 11); size 4+22+1 = 27 (0x1b). v comes first.
  const withT = "1b000000 01 7600 0000000000000040 09 7400 e803000000000000 00";

  it("is a BSON UTC datetime (0x09) after v", () => {
    expect(toHex(encodePayload(2, { type: "double", timestamp: new Date(1000) }))).toBe(norm(withT));
  });

  it("decodes to a Date", () => {
    const decoded = decodePayload(hex(withT), { type: "double" });
    expect(decoded).toEqual({ value: 2, timestamp: new Date(1000) });
    expect(decoded!.timestamp).toBeInstanceOf(Date);
  });

  it("an int64 t is not a timestamp (the server ignores it too)", () => {
    // {v: 2.0, t: int64 1000}: same sizes, t's type byte 0x12.
    const decoded = decodePayload(hex("1b000000 01 7600 0000000000000040 12 7400 e803000000000000 00"), { type: "double" });
    expect(decoded).toEqual({ value: 2 });
    expect(decoded!.timestamp).toBeUndefined();
  });

  it("a datetime t outside the JS Date range is refused as invalid-timestamp", () => {
    // t = int64 max ms (0x7FFFFFFFFFFFFFFF), far beyond the +-8.64e15 ms a Date can hold.
    const e = payloadError(() => decodePayload(hex("1b000000 01 7600 0000000000000040 09 7400 ffffffffffffff7f 00"), { type: "double" }));
    expect(e.code).toBe("invalid-timestamp");
  });

  it("an invalid timestamp is refused on encode", () => {
    expect(payloadError(() => encodePayload(2, { type: "double", timestamp: new Date(Number.NaN) })).code).toBe("invalid-timestamp");
    expect(payloadError(() => encodePayload(2, { type: "double", timestamp: 1000 as unknown as Date })).code).toBe("invalid-timestamp");
    expect(payloadError(() => encodePayload(2, { type: "double", timestamp: "2021-01-01" as unknown as Date })).code).toBe("invalid-timestamp");
  });
});

describe("object aggregation", () => {
  const envType = { temp: "double", hum: "double" } as const;
  // inner: (1 + "temp\0" 5 + 8 = 14) + (1 + "hum\0" 4 + 8 = 13); inner size 4+27+1 = 32 (0x20).
  // outer element 03 "v\0" + 32 = 35; size 4+35+1 = 40 (0x28). 25.5 = 0x4039800000000000, 40 = 0x4044000000000000.
  const env = "28000000 03 7600 20000000 01 74656d7000 0000000000803940 01 68756d00 0000000000004440 00 00";

  it("v is an embedded document keyed by the last endpoint level", () => {
    expect(toHex(encodePayload({ temp: 25.5, hum: 40 }, { type: envType }))).toBe(norm(env));
  });

  it("decodes back with the per-field types", () => {
    expect(decodePayload(hex(env), { type: envType })).toEqual({ value: { temp: 25.5, hum: 40 } });
  });

  it("each field takes its own mapping type (integer field -> int32)", () => {
    // {v: {n: int32 1}}: inner 1 + "n\0" 2 + 4 = 7, inner size 12 (0x0c); element 1+2+12 = 15; size 20 (0x14).
    const bytes = "14000000 03 7600 0c000000 10 6e00 01000000 00 00";
    expect(toHex(encodePayload({ n: 1 }, { type: { n: "integer" } }))).toBe(norm(bytes));
    expect(decodePayload(hex(bytes), { type: { n: "integer", other: "string" } })).toEqual({ value: { n: 1 } });
  });

  it("with a timestamp", () => {
    // env plus t (11 bytes): size 40 + 11 = 51 (0x33).
    const bytes = "33000000 03 7600 20000000 01 74656d7000 0000000000803940 01 68756d00 0000000000004440 00 09 7400 e803000000000000 00";
    expect(toHex(encodePayload({ temp: 25.5, hum: 40 }, { type: envType, timestamp: new Date(1000) }))).toBe(norm(bytes));
    expect(decodePayload(hex(bytes), { type: envType })).toEqual({ value: { temp: 25.5, hum: 40 }, timestamp: new Date(1000) });
  });

  it("a key without a mapping is unexpected-object-key, on encode and on decode", () => {
    expect(payloadError(() => encodePayload({ temp: 1, wind: 2 }, { type: envType })).code).toBe("unexpected-object-key");
    // {v: {wind: 1.0}}: inner 1 + "wind\0" 5 + 8 = 14, size 19 (0x13); element 22; size 27 (0x1b).
    const wind = hex("1b000000 03 7600 13000000 01 77696e6400 000000000000f03f 00 00");
    expect(payloadError(() => decodePayload(wind, { type: envType })).code).toBe("unexpected-object-key");
  });

  it("inherited Object.prototype names are not mappings (constructor, toString, __proto__)", () => {
    expect(payloadError(() => encodePayload({ constructor: 1 }, { type: envType })).code).toBe("unexpected-object-key");
    expect(payloadError(() => encodePayload({ toString: 1 }, { type: envType })).code).toBe("unexpected-object-key");
    // {v: {constructor: 1.0}}: inner 1 + "constructor\0" 12 + 8 = 21, size 26 (0x1a); element 29; size 34 (0x22).
    const ctor = hex("22000000 03 7600 1a000000 01 636f6e7374727563746f7200 000000000000f03f 00 00");
    expect(payloadError(() => decodePayload(ctor, { type: envType })).code).toBe("unexpected-object-key");
    // {v: {__proto__: 1.0}}: inner 1 + "__proto__\0" 10 + 8 = 19, size 24 (0x18); element 27; size 32 (0x20).
    const proto = hex("20000000 03 7600 18000000 01 5f5f70726f746f5f5f00 000000000000f03f 00 00");
    expect(payloadError(() => decodePayload(proto, { type: envType })).code).toBe("unexpected-object-key");
  });

  it("untyped, a __proto__ key from the wire stays a plain key and does not become the prototype", () => {
    // {v: {__proto__: {x: int32 1}}}: {x:1} is 12 bytes; inner 1 + 10 + 12 = 23, size 28 (0x1c); element 31; size 36 (0x24).
    const bytes = hex("24000000 03 7600 1c000000 03 5f5f70726f746f5f5f00 0c000000 10 7800 01000000 00 00 00");
    const value = decodePayload(bytes)!.value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect((value as { x?: unknown }).x).toBeUndefined();
  });

  it("an object type needs an embedded document", () => {
    expect(payloadError(() => encodePayload(5, { type: envType })).code).toBe("unexpected-value-type");
    expect(payloadError(() => encodePayload([1, 2], { type: envType })).code).toBe("unexpected-value-type");
    expect(payloadError(() => decodePayload(hex("10000000 01 7600 0000000000000040 00"), { type: envType })).code).toBe("unexpected-value-type");
    expect(payloadError(() => decodePayload(hex("23000000 04 7600 1b000000 01 3000 000000000000f83f 01 3100 0000000000000040 00 00"), { type: envType })).code).toBe(
      "unexpected-value-type",
    );
  });

  it("a field of the wrong type is refused with the field named", () => {
    const e = payloadError(() => encodePayload({ temp: "hot", hum: 40 }, { type: envType }));
    expect(e.code).toBe("unexpected-value-type");
    expect(e.message).toContain("temp");
  });
});

describe("unset", () => {
  it("an empty payload is an unset", () => {
    expect(decodePayload(new Uint8Array(0))).toBeUndefined();
    expect(decodePayload(new Uint8Array(0), { type: "string" })).toBeUndefined();
  });

  // {v: <0-byte generic binary>}: element 1+2+4+1 = 8; size 13.
  const emptyBinary = "0d000000 05 7600 00000000 00 00";

  it("{v: <empty binary>} is an unset too", () => {
    expect(decodePayload(hex(emptyBinary))).toBeUndefined();
    expect(decodePayload(hex(emptyBinary), { type: "double" })).toBeUndefined();
    expect(decodePayload(hex(emptyBinary), { type: "string" })).toBeUndefined();
  });

  it("for a binaryblob mapping, {v: <empty binary>} is the empty blob", () => {
    const decoded = decodePayload(hex(emptyBinary), { type: "binaryblob" });
    expect(decoded).toEqual({ value: new Uint8Array(0) });
    expect(toHex(encodePayload(new Uint8Array(0), { type: "binaryblob" }))).toBe(norm(emptyBinary));
  });
});

function code(fn: () => unknown): PayloadErrorCode {
  return payloadError(fn).code;
}

describe("encode refuses values that do not fit the mapping", () => {
  const WRONG: Array<[MappingType, unknown]> = [
    ["double", "1"], ["double", 1n], ["double", true], ["double", null], ["double", undefined], ["double", [1]],
    ["integer", "1"], ["integer", true], ["integer", null], ["integer", new Date(0)],
    ["boolean", 1], ["boolean", "true"], ["boolean", null],
    ["longinteger", "1"], ["longinteger", 1.5], ["longinteger", true], ["longinteger", null],
    ["string", 1], ["string", Uint8Array.of(0x61)], ["string", null], ["string", ["a"]],
    ["binaryblob", "ab"], ["binaryblob", [1, 2]], ["binaryblob", new ArrayBuffer(2)], ["binaryblob", null],
    ["datetime", 0], ["datetime", "2021-01-01T00:00:00Z"], ["datetime", null], ["datetime", { getTime: () => 0 }],
    ["doublearray", 1], ["doublearray", [1, "2"]], ["doublearray", new Float64Array(2)],
    ["integerarray", 1], ["integerarray", [1, 1.5]],
    ["booleanarray", true], ["booleanarray", [true, 0]],
    ["longintegerarray", 1n], ["longintegerarray", [1n, "2"]],
    ["stringarray", "a"], ["stringarray", ["a", 1]],
    ["binaryblobarray", Uint8Array.of(1)], ["binaryblobarray", [Uint8Array.of(1), "x"]],
    ["datetimearray", new Date(0)], ["datetimearray", [new Date(0), 0]],
  ];

  it("MAPPING_TYPES is the 7 scalars and their arrays, every one covered by this table", () => {
    expect(MAPPING_TYPES).toHaveLength(14);
    expect(new Set(WRONG.map(([t]) => t))).toEqual(new Set(MAPPING_TYPES));
  });

  it.each(WRONG)("%s refuses %o with unexpected-value-type", (type, value) => {
    expect(code(() => encodePayload(value, { type }))).toBe("unexpected-value-type");
  });

  it("a sparse array is refused, not encoded with BSON nulls", () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3] as number[];
    expect(code(() => encodePayload(sparse, { type: "doublearray" }))).toBe("unexpected-value-type");
  });

  it("doubles must be finite", () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(code(() => encodePayload(v, { type: "double" }))).toBe("non-finite-double");
      expect(code(() => encodePayload([1, v], { type: "doublearray" }))).toBe("non-finite-double");
    }
    expect(code(() => encodePayload(Number.NaN))).toBe("non-finite-double");
  });

  it("integers: -2147483647..2147483647, whole numbers only", () => {
    expect(code(() => encodePayload(-2147483648, { type: "integer" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload(2147483648, { type: "integer" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload([0, 2147483648], { type: "integerarray" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload(1.5, { type: "integer" }))).toBe("unexpected-value-type");
    expect(code(() => encodePayload(Number.NaN, { type: "integer" }))).toBe("unexpected-value-type");
    expect(code(() => encodePayload(Number.POSITIVE_INFINITY, { type: "integer" }))).toBe("unexpected-value-type");
  });

  it("longintegers: an unsafe JS number is refused (never rounded), a bigint must fit int64", () => {
    expect(code(() => encodePayload(2 ** 53, { type: "longinteger" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload(-(2 ** 53), { type: "longinteger" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload(2n ** 63n, { type: "longinteger" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload(-(2n ** 63n) - 1n, { type: "longinteger" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload([1n, 2n ** 64n], { type: "longintegerarray" }))).toBe("integer-out-of-range");
    expect(code(() => encodePayload(Number.NaN, { type: "longinteger" }))).toBe("unexpected-value-type");
  });

  it("strings: at most 65,536 UTF-8 bytes (bytes, not characters)", () => {
    expect(() => encodePayload("a".repeat(65_536), { type: "string" })).not.toThrow();
    expect(code(() => encodePayload("a".repeat(65_537), { type: "string" }))).toBe("value-size-exceeded");
    // 32,768 two-byte characters = 65,536 bytes; one more ASCII byte is over.
    expect(() => encodePayload("é".repeat(32_768), { type: "string" })).not.toThrow();
    expect(code(() => encodePayload(`${"é".repeat(32_768)}a`, { type: "string" }))).toBe("value-size-exceeded");
    expect(code(() => encodePayload(["a", "a".repeat(65_537)], { type: "stringarray" }))).toBe("value-size-exceeded");
  });

  it("strings with a lone surrogate are refused (not UTF-8)", () => {
    for (const s of ["\ud800", "a\udc00", "\udbff\u0041", "😀\ud83d"]) {
      expect(code(() => encodePayload(s, { type: "string" }))).toBe("unexpected-value-type");
      expect(code(() => encodePayload(["ok", s], { type: "stringarray" }))).toBe("unexpected-value-type");
    }
  });

  it("blobs: at most 65,536 bytes", () => {
    expect(() => encodePayload(new Uint8Array(65_536), { type: "binaryblob" })).not.toThrow();
    expect(code(() => encodePayload(new Uint8Array(65_537), { type: "binaryblob" }))).toBe("value-size-exceeded");
    expect(code(() => encodePayload([new Uint8Array(65_537)], { type: "binaryblobarray" }))).toBe("value-size-exceeded");
  });

  it("arrays: at most 1,024 items", () => {
    expect(() => encodePayload(new Array<number>(1024).fill(0), { type: "doublearray" })).not.toThrow();
    expect(code(() => encodePayload(new Array<number>(1025).fill(0), { type: "doublearray" }))).toBe("value-size-exceeded");
    expect(code(() => encodePayload(new Array<boolean>(1025).fill(true), { type: "booleanarray" }))).toBe("value-size-exceeded");
  });

  it("an invalid Date is refused", () => {
    expect(code(() => encodePayload(new Date(Number.NaN), { type: "datetime" }))).toBe("unexpected-value-type");
    expect(code(() => encodePayload([new Date(0), new Date("nope")], { type: "datetimearray" }))).toBe("unexpected-value-type");
  });

  it("without a type, a value whose type cannot be inferred is refused", () => {
    expect(code(() => encodePayload(null))).toBe("unexpected-value-type");
    expect(code(() => encodePayload(undefined))).toBe("unexpected-value-type");
    expect(code(() => encodePayload(Symbol("x")))).toBe("unexpected-value-type");
  });
});

describe("decode refuses wire data that does not fit the mapping", () => {
  const STRING_V = hex("0e000000 02 7600 02000000 61 00 00"); // {v: "a"}
  const DOUBLE_V = hex("10000000 01 7600 0000000000000040 00"); // {v: 2.0}
  const INT32_V = hex("0c000000 10 7600 02000000 00"); // {v: int32 2}
  const INT64_V = hex("10000000 12 7600 0200000000000000 00"); // {v: int64 2}
  const BOOL_V = hex("09000000 08 7600 01 00"); // {v: true}
  const DATE_V = hex("10000000 09 7600 e803000000000000 00"); // {v: datetime 1000}
  const BLOB_V = hex("11000000 05 7600 04000000 00 deadbeef 00"); // {v: binary}
  const ARRAY_V = hex("23000000 04 7600 1b000000 01 3000 000000000000f83f 01 3100 0000000000000040 00 00"); // {v: [1.5, 2.0]}
  const DOC_V = hex("14000000 03 7600 0c000000 10 6e00 01000000 00 00"); // {v: {n: int32 1}}

  const WRONG: Array<[string, Uint8Array, MappingType]> = [
    ["string for double", STRING_V, "double"],
    ["boolean for double", BOOL_V, "double"],
    ["double for integer", DOUBLE_V, "integer"],
    ["string for integer", STRING_V, "integer"],
    ["int32 for boolean", INT32_V, "boolean"],
    ["double for longinteger", DOUBLE_V, "longinteger"],
    ["string for longinteger", STRING_V, "longinteger"],
    ["double for string", DOUBLE_V, "string"],
    ["binary for string", BLOB_V, "string"],
    ["string for binaryblob", STRING_V, "binaryblob"],
    ["double for datetime", DOUBLE_V, "datetime"],
    ["string for datetime", STRING_V, "datetime"],
    ["datetime for double", DATE_V, "double"],
    ["array for double", ARRAY_V, "double"],
    ["document for string", DOC_V, "string"],
    ["double for doublearray", DOUBLE_V, "doublearray"],
    ["document for doublearray", DOC_V, "doublearray"],
    ["array of doubles for integerarray", ARRAY_V, "integerarray"],
    ["array of doubles for stringarray", ARRAY_V, "stringarray"],
  ];

  it.each(WRONG)("%s -> unexpected-value-type", (_name, bytes, type) => {
    expect(code(() => decodePayload(bytes, { type }))).toBe("unexpected-value-type");
  });

  it("a BSON document without v is invalid-bson", () => {
    // {x: int32 1}
    expect(code(() => decodePayload(hex("0c000000 10 7800 01000000 00")))).toBe("invalid-bson");
    // the empty document
    expect(code(() => decodePayload(hex("05000000 00")))).toBe("invalid-bson");
  });

  it("int32 -2^31 on the wire is outside the integer range", () => {
    expect(code(() => decodePayload(hex("0c000000 10 7600 00000080 00"), { type: "integer" }))).toBe("integer-out-of-range");
  });

  it("NaN and Infinity doubles on the wire are refused for a double mapping", () => {
    // NaN = 0x7FF8000000000000, +Infinity = 0x7FF0000000000000
    expect(code(() => decodePayload(hex("10000000 01 7600 000000000000f87f 00"), { type: "double" }))).toBe("non-finite-double");
    expect(code(() => decodePayload(hex("10000000 01 7600 000000000000f07f 00"), { type: "double" }))).toBe("non-finite-double");
  });

  it("an integer (int32 or int64) for a datetime is taken as milliseconds since the epoch, as astarte_core accepts it", () => {
    expect(decodePayload(INT64_V, { type: "datetime" })).toEqual({ value: new Date(2) });
    expect(decodePayload(INT32_V, { type: "datetime" })).toEqual({ value: new Date(2) });
    // {v: int64 2^62}: far outside the JS Date range
    expect(code(() => decodePayload(hex("10000000 12 7600 0000000000000040 00"), { type: "datetime" }))).toBe("unexpected-value-type");
  });

  it("a datetime outside the JS Date range on the wire is refused for a datetime mapping", () => {
    expect(code(() => decodePayload(hex("10000000 09 7600 ffffffffffffff7f 00"), { type: "datetime" }))).toBe("unexpected-value-type");
  });

  it("strings and blobs over 65,536 bytes and arrays over 1,024 items are refused", () => {
    expect(code(() => decodePayload(bsonString("a".repeat(65_537)), { type: "string" }))).toBe("value-size-exceeded");
    expect(decodePayload(bsonString("a".repeat(65_536)), { type: "string" })!.value).toHaveLength(65_536);
    expect(code(() => decodePayload(bsonBinary(65_537), { type: "binaryblob" }))).toBe("value-size-exceeded");
    expect(decodePayload(bsonBinary(65_536), { type: "binaryblob" })!.value).toHaveLength(65_536);
    expect(code(() => decodePayload(bsonBoolArray(1025), { type: "booleanarray" }))).toBe("value-size-exceeded");
    expect(decodePayload(bsonBoolArray(1024), { type: "booleanarray" })!.value).toHaveLength(1024);
  });

  it("a string that is not valid UTF-8 is invalid-bson", () => {
    // {v: <ff>}: size field 2; element 1+2+4+2 = 9; size 14.
    expect(code(() => decodePayload(hex("0e000000 02 7600 02000000 ff 00 00")))).toBe("invalid-bson");
    expect(code(() => decodePayload(hex("0e000000 02 7600 02000000 ff 00 00"), { type: "string" }))).toBe("invalid-bson");
  });

  it("the bytes of the issue (01 02 03 04 ..., a 16909060-byte frame header) are invalid-frame, not inflate-limit-exceeded", () => {
    expect(code(() => decodePayload(hex("01020304 05060708 090a0b0c")))).toBe("invalid-frame");
    expect(code(() => decodePayload(hex("01020304 05060708 090a0b0c"), { type: "double" }))).toBe("invalid-frame");
  });

  it("truncated BSON (a plausible little-endian size prefix, not the whole document) is invalid-bson", () => {
    const whole = encodePayload("hello, a string long enough to cut", { type: "string", timestamp: new Date(1000) });
    for (let cut = 1; cut < whole.length; cut++) {
      expect(code(() => decodePayload(whole.subarray(0, cut))), `cut at ${cut}`).toBe("invalid-bson");
      expect(code(() => decodePayload(whole.subarray(0, cut), { type: "string" })), `cut at ${cut}`).toBe("invalid-bson");
    }
    // a right-sized document missing its final NUL, and one with bytes after it
    expect(code(() => decodePayload(hex("0c000000 10 7600 01000000 01")))).toBe("invalid-bson");
    expect(code(() => decodePayload(hex("0c000000 10 7600 01000000 00 00")))).toBe("invalid-bson");
  });

  it("a truncated deflated payload is invalid-frame", () => {
    const whole = encodePayload(2.5, { type: "double", deflate: true });
    for (let cut = 5; cut < whole.length; cut++) {
      expect(code(() => decodePayload(whole.subarray(0, cut))), `cut at ${cut}`).toBe("invalid-frame");
    }
  });

  it("a document whose inner sizes lie is invalid-bson", () => {
    // outer size right, string size field says 100
    expect(code(() => decodePayload(hex("0e000000 02 7600 64000000 61 00 00")))).toBe("invalid-bson");
  });
});

/** {v: <string>} built by hand (not by the code under test). */
function bsonString(s: string): Uint8Array {
  const utf8 = new TextEncoder().encode(s);
  const out = new Uint8Array(4 + 1 + 2 + 4 + utf8.length + 1 + 1);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, out.length, true);
  out.set([0x02, 0x76, 0x00], 4);
  dv.setInt32(7, utf8.length + 1, true);
  out.set(utf8, 11);
  return out; // the string's NUL and the document's NUL are already 0
}

/** {v: <binary of n zero bytes>} built by hand. */
function bsonBinary(n: number): Uint8Array {
  const out = new Uint8Array(4 + 1 + 2 + 4 + 1 + n + 1);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, out.length, true);
  out.set([0x05, 0x76, 0x00], 4);
  dv.setInt32(7, n, true);
  return out; // subtype 0, zero bytes, final NUL
}

/** {v: [true, true, ...]} with n items, built by hand. */
function bsonBoolArray(n: number): Uint8Array {
  const enc = new TextEncoder();
  const items: number[] = [];
  for (let i = 0; i < n; i++) items.push(0x08, ...enc.encode(String(i)), 0x00, 0x01);
  const arraySize = 4 + items.length + 1;
  const out = new Uint8Array(4 + 3 + arraySize + 1);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, out.length, true);
  out.set([0x04, 0x76, 0x00], 4);
  dv.setInt32(7, arraySize, true);
  out.set(items, 11);
  return out;
}

describe("deflated payloads", () => {
  it("encodePayload({deflate: true}) is a frame: BE size of the BSON, then zlib of it", () => {
    const plain = encodePayload(2, { type: "double" });
    const frame = encodePayload(2, { type: "double", deflate: true });
    expect(toHex(frame.subarray(0, 4))).toBe("00000010"); // 16 bytes, big-endian
    expect(toHex(frame.subarray(4, 6))).toBe("789c");
    expect(toHex(inflateFrame(frame))).toBe(toHex(plain));
    expect(decodePayload(frame, { type: "double" })).toEqual({ value: 2 });
  });

  it("looksLikeBson: declared LE size = length and a trailing NUL", () => {
    expect(looksLikeBson(hex("05000000 00"))).toBe(true);
    expect(looksLikeBson(hex("06000000 00"))).toBe(false);
    expect(looksLikeBson(hex("05000000 01"))).toBe(false);
    expect(looksLikeBson(hex("00000000"))).toBe(false);
  });
});

describe("round trips (property based)", () => {
  const scalar: Record<string, fc.Arbitrary<unknown>> = {
    double: fc.double({ noNaN: true, noDefaultInfinity: true }),
    integer: fc.integer({ min: -2147483647, max: 2147483647 }),
    boolean: fc.boolean(),
    longinteger: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    string: fc.string({ unit: "binary", maxLength: 64 }),
    binaryblob: fc.uint8Array({ maxLength: 64 }).map((b) => new Uint8Array(b)),
    datetime: fc.date({ noInvalidDate: true }),
  };

  it.each(Object.keys(scalar))("%s and %sarray encode and decode to the same value", (name) => {
    const arb = scalar[name]!;
    const type = name as MappingType;
    const arrayType = `${name}array` as MappingType;
    fc.assert(
      fc.property(arb, fc.array(arb, { maxLength: 8 }), fc.option(fc.date({ noInvalidDate: true }), { nil: undefined }), (value, values, timestamp) => {
        const one = decodePayload(encodePayload(value, { type, timestamp }), { type });
        expect(one!.value).toEqual(value);
        expect(one!.timestamp).toEqual(timestamp);
        const many = decodePayload(encodePayload(values, { type: arrayType, timestamp }), { type: arrayType });
        expect(many!.value).toEqual(values);
        const deflated = decodePayload(encodePayload(values, { type: arrayType, timestamp, deflate: true }), { type: arrayType });
        expect(deflated!.value).toEqual(values);
      }),
      { numRuns: 200 },
    );
  });
});

describe("nothing but a PayloadError for any wire input", () => {
  const TYPES: Array<PayloadType | undefined> = [undefined, ...MAPPING_TYPES, { temp: "double", hum: "integerarray", name: "string" }];

  function tryDecode(bytes: Uint8Array, type: PayloadType | undefined): unknown {
    try {
      decodePayload(bytes, { type, maxInflatedSize: 1 << 20 });
      return undefined;
    } catch (err) {
      return err;
    }
  }

  it("random bytes are invalid-bson or invalid-frame, never inflate-limit-exceeded", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.constantFrom(...TYPES), (bytes, type) => {
        const err = tryDecode(bytes, type);
        expect(err).toBeInstanceOf(PayloadError);
        expect(["invalid-bson", "invalid-frame"]).toContain((err as PayloadError).code);
      }),
      { numRuns: 10_000 },
    );
    // and with the default 10 MiB cap
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        let err: unknown;
        try {
          decodePayload(bytes);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PayloadError);
        expect(["invalid-bson", "invalid-frame"]).toContain((err as PayloadError).code);
      }),
      { numRuns: 5000 },
    );
  });

  it("random bytes behind a plausible BSON size, or a zlib header, still only give PayloadErrors", () => {
    const framed = fc.uint8Array({ maxLength: 128 }).map((body) => {
      const out = new Uint8Array(body.length + 5);
      new DataView(out.buffer).setInt32(0, out.length, true);
      out.set(body, 4);
      return out; // right LE size, trailing NUL: looks like BSON
    });
    const zlibbed = fc.uint8Array({ maxLength: 128 }).map((body) => Uint8Array.from([0, 0, 0, 64, 0x78, 0x9c, ...body]));
    fc.assert(
      fc.property(fc.oneof(framed, zlibbed), fc.constantFrom(...TYPES), (bytes, type) => {
        const err = tryDecode(bytes, type);
        if (err !== undefined) expect(err).toBeInstanceOf(PayloadError);
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated valid payloads (plain and deflated) only give PayloadErrors, for every mapping type", () => {
    const seeds = VECTORS.map((v) => hex(v.bytes));
    seeds.push(hex("33000000 03 7600 20000000 01 74656d7000 0000000000803940 01 68756d00 0000000000004440 00 09 7400 e803000000000000 00"));
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.constantFrom(...TYPES),
        (seed, mutations, deflate, type) => {
          const bytes = Uint8Array.from(seed);
          for (const [at, byte] of mutations) bytes[at % bytes.length] = byte;
          const wire = deflate ? encodeFrameUnchecked(bytes) : bytes;
          const err = tryDecode(wire, type);
          if (err !== undefined) expect(err).toBeInstanceOf(PayloadError);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

/** A deflate frame around any bytes, using node's zlib (independent of the code under test). */
function encodeFrameUnchecked(bytes: Uint8Array): Uint8Array {
  const body = deflateSync(bytes);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(body, 4);
  return out;
}
