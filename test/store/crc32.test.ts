import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/store/crc32.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

describe("crc32", () => {
  it('matches the CRC-32/ISO-HDLC check value: "123456789" -> 0xCBF43926', () => {
    expect(crc32(ascii("123456789"))).toBe(0xcbf43926);
  });

  it("matches other published vectors", () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii("a"))).toBe(0xe8b7be43);
    expect(crc32(ascii("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  it("a range gives the CRC of that slice only", () => {
    const bytes = ascii("xx123456789yyy");
    expect(crc32(bytes, 2, 11)).toBe(0xcbf43926);
    expect(crc32(bytes, 5, 5)).toBe(0);
  });

  it("detects every single-bit flip of a message", () => {
    const msg = ascii("in-flight record body");
    const good = crc32(msg);
    for (let i = 0; i < msg.length * 8; i++) {
      const m = msg.slice();
      m[i >> 3]! ^= 1 << (i & 7);
      expect(crc32(m)).not.toBe(good);
    }
  });
});
