/**
 * Deflate frames (purge property lists, deflated BSON): 4-byte big-endian uncompressed size, then a zlib (RFC 1950)
 * stream; inflation is capped (default 10 MiB, the server's own cap) so a decompression bomb cannot exhaust memory.
 *
 * Independent checks: node's native zlib (not pako, which the code under test uses) inflates what deflateFrame
 * writes and writes frames inflateFrame must read; adler32 is computed by hand below.
 */

import { createInflate, deflateRawSync, deflateSync, gzipSync, inflateSync } from "node:zlib";
import { Deflate, Z_FINISH, Z_FULL_FLUSH } from "pako";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PayloadError } from "../../src/clea/errors.js";
import { DEFAULT_MAX_INFLATED_SIZE, decodePayload, deflateFrame, hasZlibHeader, inflateFrame } from "../../src/clea/payload.js";
import { hex, norm, payloadError, toHex } from "./helpers.js";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** n bytes, all zero (a fast check: deep equality on megabytes is slow). */
const zeros = (b: Uint8Array, n: number) => b.length === n && b.every((x) => x === 0);

/** RFC 1950 adler32, written out. */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A frame around a zlib stream made by node's zlib; `declared` defaults to the real size. */
function nodeFrame(content: Uint8Array, declared = content.length, level = 6): Uint8Array {
  return withHeader(deflateSync(content, { level }), declared);
}

function withHeader(body: Uint8Array, declared: number): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, declared);
  out.set(body, 4);
  return out;
}

describe("purge frame vectors", () => {
  it("the empty list is 00 00 00 00 + zlib of the empty string", () => {
    // zlib: CMF 0x78 (deflate, 32 KiB window), FLG 0x9c (default level; 0x789c is a multiple of 31),
    // one final fixed-Huffman block holding only end-of-block (bits 1, 01, 0000000 -> 03 00), adler32("") = 1.
    expect((0x78 * 256 + 0x9c) % 31).toBe(0);
    expect(toHex(deflateFrame(new Uint8Array(0)))).toBe(norm("00000000 789c 0300 00000001"));
    expect(inflateFrame(hex("00000000 789c 0300 00000001"))).toEqual(new Uint8Array(0));
  });

  it("a bare 00 00 00 00 (which the server also accepts) inflates to nothing", () => {
    expect(inflateFrame(hex("00000000"))).toEqual(new Uint8Array(0));
  });

  it("a bare header that declares content is a truncated frame", () => {
    expect(payloadError(() => inflateFrame(hex("00000005"))).code).toBe("invalid-frame");
  });

  it("a frame for two properties: big-endian size, zlib body, inflates back", () => {
    const list = "com.example.MyInterface/some/path;org.example.Draft/otherPath";
    // 23 ("com.example.MyInterface") + 10 ("/some/path") + 1 (";") + 17 ("org.example.Draft") + 10 ("/otherPath") = 61 = 0x3d
    expect(list.length).toBe(61);
    const frame = deflateFrame(utf8(list));
    expect(toHex(frame.subarray(0, 4))).toBe("0000003d");
    expect(toHex(frame.subarray(4, 6))).toBe("789c");
    const adler = new DataView(frame.buffer, frame.byteOffset + frame.length - 4, 4).getUint32(0);
    expect(adler).toBe(adler32(utf8(list)));
    expect(text(inflateSync(frame.subarray(4)))).toBe(list); // node's zlib agrees
    expect(text(inflateFrame(frame))).toBe(list);
  });

  it("the header is big-endian even past 16 bits", () => {
    const frame = deflateFrame(new Uint8Array(0x012345));
    expect(toHex(frame.subarray(0, 4))).toBe("00012345");
    expect(zeros(inflateFrame(frame), 0x012345)).toBe(true);
  });

  it("reads zlib streams written by another implementation at other levels (78 01, 78 da)", () => {
    const list = utf8("a.B/x;a.B/y");
    for (const [level, head] of [[1, "7801"], [6, "789c"], [9, "78da"]] as const) {
      const frame = nodeFrame(list, list.length, level);
      expect(toHex(frame.subarray(4, 6))).toBe(head);
      expect(inflateFrame(frame)).toEqual(list);
    }
  });
});

describe("inflation cap", () => {
  it("defaults to 10 MiB", () => {
    expect(DEFAULT_MAX_INFLATED_SIZE).toBe(10 * 1024 * 1024);
    const atCap = nodeFrame(new Uint8Array(DEFAULT_MAX_INFLATED_SIZE));
    expect(zeros(inflateFrame(atCap), DEFAULT_MAX_INFLATED_SIZE)).toBe(true);
    const overCap = nodeFrame(new Uint8Array(DEFAULT_MAX_INFLATED_SIZE + 1));
    expect(payloadError(() => inflateFrame(overCap)).code).toBe("inflate-limit-exceeded");
  });

  it("maxSize: exactly the cap is fine, one byte more is refused", () => {
    expect(inflateFrame(nodeFrame(new Uint8Array(100)), { maxSize: 100 })).toHaveLength(100);
    expect(payloadError(() => inflateFrame(nodeFrame(new Uint8Array(101)), { maxSize: 100 })).code).toBe("inflate-limit-exceeded");
  });

  it("a lying size header (small declared, big content) is still capped", () => {
    expect(payloadError(() => inflateFrame(nodeFrame(new Uint8Array(101), 10), { maxSize: 100 })).code).toBe("inflate-limit-exceeded");
    const liar = nodeFrame(new Uint8Array(11 * 1024 * 1024), 10);
    expect(payloadError(() => inflateFrame(liar)).code).toBe("inflate-limit-exceeded");
  });

  it("a declared size above the cap on a body that is not zlib is invalid-frame, not inflate-limit-exceeded", () => {
    const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
    expect(payloadError(() => inflateFrame(withHeader(garbage, 101), { maxSize: 100 })).code).toBe("invalid-frame");
    expect(payloadError(() => inflateFrame(withHeader(garbage, 0xffffffff))).code).toBe("invalid-frame");
    expect(payloadError(() => inflateFrame(hex("ffffffff"))).code).toBe("invalid-frame");
    expect(payloadError(() => inflateFrame(withHeader(garbage, 50), { maxSize: 100 })).code).toBe("invalid-frame");
    // a valid zlib header over a corrupt body, under a huge header: still only a corrupt frame
    expect(payloadError(() => inflateFrame(withHeader(Uint8Array.of(0x78, 0x9c, 0xff, 0xff, 0xff), 0xffffffff))).code).toBe("invalid-frame");
  });

  it("random bytes handed to inflateFrame are invalid-frame, never inflate-limit-exceeded", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        let err: unknown;
        try {
          inflateFrame(bytes, { maxSize: 1 << 20 });
        } catch (e) {
          err = e;
        }
        if (err === undefined) return; // e.g. a bare 00 00 00 00
        expect(err).toBeInstanceOf(PayloadError);
        expect((err as PayloadError).code).toBe("invalid-frame");
      }),
      { numRuns: 3000 },
    );
  });

  it("the zlib header is checked as RFC 1950 says", () => {
    for (const head of ["7801", "785e", "789c", "78da", "081d", "480d"]) {
      expect(hasZlibHeader(hex(`00000000 ${head}`)), head).toBe(true);
    }
    for (const head of [
      "789d", // not a multiple of 31
      "7918", // CM 9
      "88" + "1c", // CINFO 8
      "78bb", // FDICT set (0x78bb = 30907 = 31 * 997)
      "1f8b", // gzip
    ]) {
      expect(hasZlibHeader(hex(`00000000 ${head}`)), head).toBe(false);
    }
    expect((0x78 * 256 + 0xbb) % 31).toBe(0);
    expect(hasZlibHeader(hex("00000000 78"))).toBe(false);
  });
});

describe("corrupt frames", () => {
  const list = utf8("com.example.MyInterface/some/path;org.example.Draft/otherPath");
  const good = nodeFrame(list);

  it("shorter than the 4-byte header", () => {
    for (const bytes of [hex(""), hex("00"), hex("0000 00")]) expect(payloadError(() => inflateFrame(bytes)).code).toBe("invalid-frame");
  });

  it("a truncated zlib stream", () => {
    for (const cut of [5, 6, 10, good.length - 4, good.length - 1]) {
      expect(payloadError(() => inflateFrame(good.subarray(0, cut))).code).toBe("invalid-frame");
    }
  });

  it("a wrong adler32 checksum", () => {
    const bad = Uint8Array.from(good);
    bad[bad.length - 1]! ^= 0x01;
    expect(payloadError(() => inflateFrame(bad)).code).toBe("invalid-frame");
  });

  it("a bad zlib header, and a raw deflate stream without one", () => {
    const bad = Uint8Array.from(good);
    bad[5] = 0x9d; // 0x789d is not a multiple of 31
    expect(payloadError(() => inflateFrame(bad)).code).toBe("invalid-frame");
    expect(payloadError(() => inflateFrame(withHeader(deflateRawSync(list), list.length))).code).toBe("invalid-frame");
  });

  it("a corrupt block inside the stream", () => {
    const bad = Uint8Array.from(good);
    bad[6] = 0xff; // first block header: BTYPE 11 is reserved
    expect(payloadError(() => inflateFrame(bad)).code).toBe("invalid-frame");
  });
});

describe("deflated BSON payloads", () => {
  // {v: 2.0}, hand-derived in payload.test.ts.
  const bson = hex("10000000 01 7600 0000000000000040 00");

  it("decodePayload inflates a frame holding BSON (written by node's zlib)", () => {
    expect(decodePayload(nodeFrame(bson), { type: "double" })).toEqual({ value: 2 });
    expect(decodePayload(nodeFrame(bson))).toEqual({ value: 2 });
  });

  it("a frame that inflates to something that is not BSON is invalid-bson", () => {
    expect(payloadError(() => decodePayload(nodeFrame(utf8("hello, not bson")))).code).toBe("invalid-bson");
    expect(payloadError(() => decodePayload(nodeFrame(new Uint8Array(0)))).code).toBe("invalid-bson");
    // BSON without v
    expect(payloadError(() => decodePayload(nodeFrame(hex("0c000000 10 7800 01000000 00")))).code).toBe("invalid-bson");
  });

  it("a corrupt frame is invalid-frame", () => {
    expect(payloadError(() => decodePayload(nodeFrame(bson).subarray(0, 12))).code).toBe("invalid-frame");
  });

  it("decodePayload honours maxInflatedSize", () => {
    const frame = nodeFrame(bson);
    expect(payloadError(() => decodePayload(frame, { maxInflatedSize: 15 })).code).toBe("inflate-limit-exceeded");
    expect(decodePayload(frame, { maxInflatedSize: 16 })).toEqual({ value: 2 });
  });
});

/**
 * A decompression bomb: one zlib stream that inflates to 1 GiB of zeros.
 *
 * A "10 KB frame that inflates to 1 GB" cannot exist: deflate's longest match is 258 bytes, coded in at least
 * 2 bits (~1032:1 at best), so 1 GiB needs about 1 MB of zlib. This is the smallest real frame. Compressing 1 GiB
 * through pako takes ~12 s, so the frame is assembled instead: with Z_FULL_FLUSH after each 1 MiB chunk, deflate
 * resets its state, so every chunk of zeros compresses to the same byte-aligned segment (checked below with pako
 * itself). Frame = 78 9c | segment x 1024 | 03 00 (empty final block) | adler32 of 2^30 zeros.
 * The assembled stream is then inflated in full by node's zlib to prove it really is 1 GiB.
 */
describe("decompression bomb", () => {
  const MiB = 1 << 20;

  function pakoOutput(z: Deflate, parts: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts.splice(0)) {
      out.set(p, at);
      at += p.length;
    }
    expect(z.err).toBe(0);
    return out;
  }

  function buildBomb(chunks: number): Uint8Array {
    const zero = new Uint8Array(MiB);
    const z = new Deflate();
    const parts: Uint8Array[] = [];
    z.onData = (c: Uint8Array) => {
      parts.push(c.slice());
    };
    z.push(zero, Z_FULL_FLUSH);
    const first = pakoOutput(z, parts);
    z.push(zero, Z_FULL_FLUSH);
    const segment = pakoOutput(z, parts);
    z.push(zero, Z_FULL_FLUSH);
    const third = pakoOutput(z, parts);
    z.push(new Uint8Array(0), Z_FINISH);
    const end = pakoOutput(z, parts);
    // the premise: after the 2-byte header, every 1 MiB chunk gives identical bytes
    expect(toHex(first.subarray(0, 2))).toBe("789c");
    expect(toHex(first.subarray(2))).toBe(toHex(segment));
    expect(toHex(third)).toBe(toHex(segment));
    // what pako ended 3 MiB with: empty final block + adler32 (a = 1, b = 3 * 2^20 mod 65521 = 720 = 0x2d0)
    expect(toHex(end)).toBe("0300" + "02d00001");

    const total = chunks * MiB;
    const frame = new Uint8Array(4 + 2 + segment.length * chunks + 2 + 4);
    const dv = new DataView(frame.buffer);
    dv.setUint32(0, total >>> 0);
    frame.set([0x78, 0x9c], 4);
    for (let i = 0; i < chunks; i++) frame.set(segment, 6 + i * segment.length);
    const tail = 6 + segment.length * chunks;
    frame.set([0x03, 0x00], tail);
    dv.setUint32(tail + 2, (((total % 65521) << 16) | 1) >>> 0); // adler32 of zeros: a stays 1, b = n mod 65521
    return frame;
  }

  function inflatedSizeByNode(frame: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      let n = 0;
      const inf = createInflate();
      inf.on("data", (c: Buffer) => {
        n += c.length;
      });
      inf.on("end", () => resolve(n));
      inf.on("error", reject);
      inf.end(frame.subarray(4));
    });
  }

  it("the assembly is a valid zlib stream (small version: 5 MiB, inflated fully by node)", () => {
    const small = buildBomb(5);
    expect(zeros(inflateSync(small.subarray(4)), 5 * MiB)).toBe(true);
    expect(zeros(inflateFrame(small), 5 * MiB)).toBe(true);
  });

  it("a ~1 MB frame that inflates to 1 GiB is refused with inflate-limit-exceeded, memory bounded", async () => {
    const bomb = buildBomb(1024);
    expect(bomb.length).toBeLessThan(1.1 * MiB); // ~1,062,000 bytes
    // the header can be honest (1 GiB, refused before inflating) or lie; make it lie so the inflater's own cap is tested
    const lying = Uint8Array.from(bomb);
    new DataView(lying.buffer).setUint32(0, 1000);

    const before = process.memoryUsage().arrayBuffers;
    expect(payloadError(() => inflateFrame(lying)).code).toBe("inflate-limit-exceeded");
    expect(payloadError(() => decodePayload(lying)).code).toBe("inflate-limit-exceeded");
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(64 * MiB);

    expect(payloadError(() => inflateFrame(bomb)).code).toBe("inflate-limit-exceeded"); // honest 1 GiB header
    // and it really is a 1 GiB bomb (node streams it through without keeping it)
    expect(await inflatedSizeByNode(bomb)).toBe(1024 * MiB);
  });
});
