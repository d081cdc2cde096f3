/** Strict MQTT UTF-8 (MQTT 3.1.1 section 1.5.3, RFC 3629). */

import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkString, isStrictUtf8 } from "../../src/mqtt/index.js";
import { readUtf8, utf8Length, writeUtf8 } from "../../src/mqtt/utf8.js";
import { hex } from "./hex.js";
import { tableStrictUtf8 } from "./utf8-table.js";

const strict = (h: string) => {
  const b = hex(h);
  const verdict = isStrictUtf8(b, 0, b.length);
  expect(tableStrictUtf8(b, 0, b.length)).toBe(verdict); // the independent table agrees on every hand-written vector
  return verdict;
};

const VALID: Array<[string, string]> = [
  ["empty", ""],
  ["U+0001", "01"],
  ["ASCII", "61 2f 62"],
  ["U+007F", "7f"],
  ["U+0080 (smallest 2-byte)", "c2 80"],
  ["U+00E9 é", "c3 a9"],
  ["U+07FF (largest 2-byte)", "df bf"],
  ["U+0800 (smallest 3-byte)", "e0 a0 80"],
  ["U+20AC €", "e2 82 ac"],
  ["U+D7FF (just below the surrogates)", "ed 9f bf"],
  ["U+E000 (just above the surrogates)", "ee 80 80"],
  ["U+FEFF BOM (allowed, 1.5.3-3)", "ef bb bf"],
  ["U+FFFF (largest 3-byte, a noncharacter but valid)", "ef bf bf"],
  ["U+10000 (smallest 4-byte)", "f0 90 80 80"],
  ["U+1F600 😀", "f0 9f 98 80"],
  ["U+FFFFF", "f3 bf bf bf"],
  ["U+100000", "f4 80 80 80"],
  ["U+10FFFF (largest code point)", "f4 8f bf bf"],
  ["mixed 1-4 byte", "61 c3 a9 e2 82 ac f0 9f 98 80 7a"],
];

const INVALID: Array<[string, string]> = [
  ["U+0000", "00"],
  ["U+0000 after ASCII", "61 00"],
  ["U+0000 after non-ASCII", "c3 a9 00"],
  ["overlong U+0000 (c0 80)", "c0 80"],
  ["surrogate U+D800 (ed a0 80)", "ed a0 80"],
  ["surrogate U+DBFF (ed af bf)", "ed af bf"],
  ["surrogate U+DC00 (ed b0 80)", "ed b0 80"],
  ["surrogate U+DFFF (ed bf bf)", "ed bf bf"],
  ["surrogate pair encoded as CESU-8", "ed a0 bd ed b8 80"],
  ["overlong '/' (c0 af)", "c0 af"],
  ["overlong c1 bf", "c1 bf"],
  ["overlong '/' (e0 80 af)", "e0 80 af"],
  ["overlong U+07FF (e0 9f bf)", "e0 9f bf"],
  ["overlong '/' (f0 80 80 af)", "f0 80 80 af"],
  ["overlong U+FFFF (f0 8f bf bf)", "f0 8f bf bf"],
  ["truncated 3-byte at the end (e2 82)", "61 e2 82"],
  ["truncated 2-byte at the end (c3)", "c3"],
  ["truncated 4-byte at the end (f0 9f 98)", "f0 9f 98"],
  ["truncated 3-byte followed by ASCII", "e2 82 61"],
  ["lone continuation 80", "80"],
  ["lone continuation bf after ASCII", "61 bf"],
  ["extra continuation after a 2-byte sequence", "c3 a9 a9"],
  ["2-byte lead then non-continuation", "c3 28"],
  ["3-byte sequence with a bad third byte", "e2 82 28"],
  ["4-byte sequence with a bad fourth byte", "f0 9f 98 28"],
  ["4-byte sequence with a bad second byte", "f1 c0 80 80"],
  ["lead f5", "f5 80 80 80"],
  ["lead f7", "f7 bf bf bf"],
  ["lead f8 (5-byte form)", "f8 88 80 80 80"],
  ["lead fc (6-byte form)", "fc 84 80 80 80 80"],
  ["byte fe", "fe"],
  ["byte ff", "ff"],
  ["U+110000 (f4 90 80 80)", "f4 90 80 80"],
  ["f4 bf bf bf", "f4 bf bf bf"],
];

describe("isStrictUtf8", () => {
  it.each(VALID)("accepts %s", (_name, h) => {
    expect(strict(h)).toBe(true);
    expect(readUtf8(hex(h), 0, hex(h).length)).toBe(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(hex(h)));
  });

  it.each(INVALID)("refuses %s", (_name, h) => {
    expect(strict(h)).toBe(false);
    expect(readUtf8(hex(h), 0, hex(h).length)).toBeUndefined();
  });

  it("only looks at bytes[start, end)", () => {
    const b = hex("e2 82 ac 61");
    expect(isStrictUtf8(b, 0, 4)).toBe(true);
    expect(isStrictUtf8(b, 0, 3)).toBe(true);
    expect(isStrictUtf8(b, 0, 2)).toBe(false); // sequence cut by `end`
    expect(isStrictUtf8(b, 1, 4)).toBe(false); // starts on a continuation byte
    expect(isStrictUtf8(b, 3, 4)).toBe(true);
    expect(isStrictUtf8(b, 2, 2)).toBe(true);
    const withNul = hex("00 61 00");
    expect(isStrictUtf8(withNul, 1, 2)).toBe(true);
    expect(readUtf8(withNul, 1, 2)).toBe("a");
  });

  it("agrees with the byte-by-byte RFC 3629 table on random bytes", () => {
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0x00, 0x61, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 12 }), fc.nat(3), (arr, from) => {
        const b = Uint8Array.from(arr);
        const start = Math.min(from, b.length);
        expect(isStrictUtf8(b, start, b.length)).toBe(tableStrictUtf8(b, start, b.length));
        expect(readUtf8(b, start, b.length) !== undefined).toBe(tableStrictUtf8(b, start, b.length));
      }),
      { numRuns: 20_000 },
    );
  });

  it("agrees with a fatal TextDecoder plus the U+0000 rule on random bytes", () => {
    const fatal = new TextDecoder("utf-8", { fatal: true });
    const oracle = (b: Uint8Array): boolean => {
      if (b.includes(0)) return false;
      try {
        fatal.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    // bias towards interesting bytes so that valid multi-byte sequences do occur
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0x00, 0x61, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 12 }), (arr) => {
        const b = Uint8Array.from(arr);
        expect(isStrictUtf8(b, 0, b.length)).toBe(oracle(b));
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 20 }), (s) => {
        const b = new TextEncoder().encode(s);
        expect(isStrictUtf8(b, 0, b.length)).toBe(!s.includes("\u0000"));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("readUtf8", () => {
  it("decodes long ASCII runs (more than 64 bytes)", () => {
    const s = "abc/".repeat(50);
    const b = new TextEncoder().encode(s);
    expect(readUtf8(b, 0, b.length)).toBe(s);
    expect(readUtf8(b, 4, 200)).toBe(s.slice(4, 200));
  });

  it("refuses U+0000 inside a long ASCII run", () => {
    const b = new TextEncoder().encode("a".repeat(100));
    b[70] = 0;
    expect(readUtf8(b, 0, b.length)).toBeUndefined();
  });

  it("decodes 65,535 ASCII bytes", () => {
    const b = new Uint8Array(65_535).fill(0x78);
    expect(readUtf8(b, 0, b.length)).toBe("x".repeat(65_535));
  });
});

// A string made of arbitrary UTF-16 code units, surrogates included.
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }),
  fc.integer({ min: 0xd800, max: 0xdfff }),
  fc.constantFrom(0, 0x61, 0xd83d, 0xde00),
).map((c) => String.fromCharCode(c));
const anyUtf16 = fc.string({ unit: codeUnit, maxLength: 8 });

function checkStringCases(): void {
  it.each([
    ["\uD800", "lone high surrogate"],
    ["a\uDC00", "lone low surrogate after ASCII"],
    ["\uDC00", "lone low surrogate"],
    ["\uD83D", "high surrogate at the end"],
    ["\uD83Da", "high surrogate followed by ASCII"],
    ["\uDE00\uD83D", "pair in the wrong order"],
    ["\uD83D\uD83D\uDE00", "two high surrogates then a low one"],
    ["\uD83D\uDE00\uDE00", "pair then a lone low surrogate"],
    ["\u0000", "U+0000"],
    ["abc\u0000", "U+0000 at the end"],
  ])("refuses %j (%s)", (s) => {
    expect(checkString(s)).toEqual(expect.any(String));
  });

  it.each(["", "a", "😀", "\uD83D\uDE00", "a😀b😀", "\uFFFF", "\uFEFF", "\uD7FF\uE000", "\u{10FFFF}", "über/€"])("accepts %j", (s) => {
    expect(checkString(s)).toBeUndefined();
  });

  it("agrees with a TextEncoder/TextDecoder round trip on arbitrary code units", () => {
    fc.assert(
      fc.property(anyUtf16, (s) => {
        const wellFormed = new TextDecoder().decode(new TextEncoder().encode(s)) === s;
        expect(checkString(s) === undefined).toBe(wellFormed && !s.includes("\u0000"));
      }),
      { numRuns: 3000 },
    );
  });
}

describe("checkString", () => {
  checkStringCases();
});

describe("checkString without String.prototype.isWellFormed (regex fallback for older runtimes)", () => {
  const proto = String.prototype as { isWellFormed?: () => boolean };
  const original = Object.getOwnPropertyDescriptor(String.prototype, "isWellFormed");
  beforeEach(() => {
    delete proto.isWellFormed;
  });
  afterEach(() => {
    if (original) Object.defineProperty(String.prototype, "isWellFormed", original);
  });

  it("the method is really gone inside these tests", () => {
    expect(typeof proto.isWellFormed).toBe("undefined");
  });

  checkStringCases();
});

describe("utf8Length and writeUtf8", () => {
  it("match TextEncoder for well-formed strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 30 }), (s) => {
        const expected = new TextEncoder().encode(s);
        expect(utf8Length(s)).toBe(expected.length);
        const out = new Uint8Array(expected.length + 4).fill(0xee);
        writeUtf8(s, out, 2, expected.length);
        expect(Buffer.from(out.subarray(2, 2 + expected.length)).equals(Buffer.from(expected))).toBe(true);
        expect(out[0]).toBe(0xee);
        expect(out[out.length - 1]).toBe(0xee);
      }),
      { numRuns: 2000 },
    );
  });
});
