/** Edge cases found in review: frame strictness, plain byte arrays, unknown mapping types, object resolution. */
import { gzipSync, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { encodePayload, inflateFrame, parseInterface, resolveObject, decodePayload } from "../../src/clea/index.ts";
import type { MappingType } from "../../src/clea/index.ts";

const frameOf = (body: Uint8Array, size: number) => {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, size);
  out.set(body, 4);
  return out;
};

describe("deflate frames are zlib only", () => {
  const data = new TextEncoder().encode("com.example.A/x;com.example.B/y");
  it("accepts a zlib stream", () => {
    expect(inflateFrame(frameOf(deflateSync(data), data.length))).toEqual(data);
  });
  it("refuses a gzip stream and bytes after the end of the zlib stream", () => {
    expect(() => inflateFrame(frameOf(gzipSync(data), data.length))).toThrow(expect.objectContaining({ code: "invalid-frame" }));
    const z = deflateSync(data);
    const trailing = new Uint8Array(z.length + 3);
    trailing.set(z);
    expect(() => inflateFrame(frameOf(trailing, data.length))).toThrow(expect.objectContaining({ code: "invalid-frame" }));
  });
});

describe("payload details", () => {
  it("encodePayload returns a plain Uint8Array on every runtime", () => {
    expect(encodePayload(1.5).constructor).toBe(Uint8Array);
    expect(decodePayload(encodePayload(1.5))?.value).toBe(1.5);
  });
  it("an unknown mapping type from untyped JavaScript is refused, not encoded as null", () => {
    expect(() => encodePayload(1, { type: "float" as MappingType })).toThrow(expect.objectContaining({ code: "unexpected-value-type" }));
  });
});

describe("resolveObject", () => {
  it("refuses an individual interface", () => {
    const iface = parseInterface({
      interface_name: "com.example.I",
      version_major: 1,
      version_minor: 0,
      type: "datastream",
      ownership: "device",
      mappings: [{ endpoint: "/a/b", type: "double" }],
    });
    expect(() => resolveObject(iface, "/a")).toThrow(expect.objectContaining({ code: "invalid-interface" }));
  });
});

describe("VERSION", () => {
  it("matches package.json", async () => {
    const { VERSION } = await import("../../src/clea/index.ts");
    const fs = await import("node:fs");
    const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
