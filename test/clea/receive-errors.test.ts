/** Issue #13 item 4: errors on what the server sends say what happened (decodeIncoming). */
import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayloadError } from "../../src/clea/errors.js";
import { parseInterface, type Interface } from "../../src/clea/interface.js";
import { deflateFrame, encodePayload } from "../../src/clea/payload.js";
import { decodeIncoming } from "../../src/clea/receive.js";
import { hex, payloadError } from "./helpers.js";

const PREFIX = "realm/device";
const MAX = 1 << 20;

const IFACES: Interface[] = [
  parseInterface({
    interface_name: "com.acme.Cmd",
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    ownership: "server",
    mappings: [{ endpoint: "/run", type: "string" }],
  }),
  parseInterface({
    interface_name: "com.acme.Env",
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    aggregation: "object",
    ownership: "server",
    mappings: [
      { endpoint: "/%{room}/temp", type: "double", required: true },
      { endpoint: "/%{room}/hum", type: "double" },
    ],
  }),
  parseInterface({
    interface_name: "com.acme.Conf",
    version_major: 1,
    version_minor: 0,
    type: "properties",
    ownership: "server",
    mappings: [
      { endpoint: "/fixed", type: "integer" },
      { endpoint: "/free", type: "integer", allow_unset: true },
    ],
  }),
];
const interfaces = new Map(IFACES.map((i) => [i.name, i]));
const incoming = (topic: string, payload: Uint8Array) => decodeIncoming(PREFIX, interfaces, `${PREFIX}/${topic}`, payload, MAX);
const PURGE = "control/consumer/properties";
const emptyBinary = hex("0d000000 05 7600 00000000 00 00"); // {v: <0-byte binary>}, also an unset

describe("unsets where none is allowed", () => {
  it("an empty payload on an individual datastream is unexpected-unset (a PayloadError)", () => {
    expect(payloadError(() => incoming("com.acme.Cmd/run", new Uint8Array(0))).code).toBe("unexpected-unset");
    expect(payloadError(() => incoming("com.acme.Cmd/run", emptyBinary)).code).toBe("unexpected-unset");
  });

  it("an empty payload on an object datastream is unexpected-unset", () => {
    expect(payloadError(() => incoming("com.acme.Env/room1", new Uint8Array(0))).code).toBe("unexpected-unset");
    expect(payloadError(() => incoming("com.acme.Env/room1", emptyBinary)).code).toBe("unexpected-unset");
  });

  it("an empty payload on a server property without allow_unset is unexpected-unset", () => {
    expect(payloadError(() => incoming("com.acme.Conf/fixed", new Uint8Array(0))).code).toBe("unexpected-unset");
    expect(payloadError(() => incoming("com.acme.Conf/fixed", emptyBinary)).code).toBe("unexpected-unset");
  });

  it("an empty payload on a server property with allow_unset is an unset event", () => {
    const got = incoming("com.acme.Conf/free", new Uint8Array(0));
    expect(got).toMatchObject({ kind: "data", event: { interface: "com.acme.Conf", path: "/free", value: undefined } });
    expect(incoming("com.acme.Conf/free", encodePayload(3, { type: "integer" }))).toMatchObject({ event: { value: 3 } });
    expect(incoming("com.acme.Conf/fixed", encodePayload(3, { type: "integer" }))).toMatchObject({ event: { value: 3 } });
  });
});

describe("consumer purge frames", () => {
  it("a zlib frame is a purge list", () => {
    const frame = deflateFrame(new TextEncoder().encode("com.acme.Conf/free;com.acme.Conf/fixed"));
    expect(incoming(PURGE, frame)).toEqual({ kind: "purge", keep: new Set(["com.acme.Conf/free", "com.acme.Conf/fixed"]) });
    expect(incoming(PURGE, hex("00000000"))).toEqual({ kind: "purge", keep: new Set() });
  });

  it("a plaintext (not deflated) purge list is invalid-frame", () => {
    for (const list of ["com.acme.Conf/free;com.acme.Conf/fixed", "com.acme.Conf/free", "a.B/x", ";;"]) {
      expect(payloadError(() => incoming(PURGE, new TextEncoder().encode(list))).code, list).toBe("invalid-frame");
    }
  });

  it("a frame inflating to something that is not UTF-8 is invalid-frame", () => {
    const bad = Uint8Array.of(0xff, 0xfe, 0x41);
    const z = deflateSync(bad);
    const out = new Uint8Array(4 + z.length);
    new DataView(out.buffer).setUint32(0, bad.length);
    out.set(z, 4);
    expect(payloadError(() => incoming(PURGE, out)).code).toBe("invalid-frame");
  });

  it("random bytes on the purge topic are invalid-frame, never inflate-limit-exceeded", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (bytes) => {
        let err: unknown;
        try {
          incoming(PURGE, bytes);
        } catch (e) {
          err = e;
        }
        if (err === undefined) return; // a bare 00 00 00 00
        expect(err).toBeInstanceOf(PayloadError);
        expect((err as PayloadError).code).toBe("invalid-frame");
      }),
      { numRuns: 3000 },
    );
  });

  it("random bytes on a data topic are invalid-bson or invalid-frame", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.constantFrom("com.acme.Cmd/run", "com.acme.Env/room1", "com.acme.Conf/fixed"), (bytes, topic) => {
        let err: unknown;
        try {
          incoming(topic, bytes);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(PayloadError);
        expect(["invalid-bson", "invalid-frame"]).toContain((err as PayloadError).code);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("objects from the server", () => {
  it("a received object must hold its required keys (missing-object-key); the others may be absent", () => {
    expect(incoming("com.acme.Env/room1", encodePayload({ temp: 21.5 }, { type: { temp: "double", hum: "double" } }))).toMatchObject({
      kind: "data",
      event: { value: { temp: 21.5 } },
    });
    const err = payloadError(() => incoming("com.acme.Env/room1", encodePayload({ hum: 40 }, { type: { temp: "double", hum: "double" } })));
    expect(err.code).toBe("missing-object-key");
    expect(err.message).toMatch(/com\.acme\.Env\/room1.*temp/);
  });
});

describe("a plain-text consumer purge (capabilities purgePropertiesCompressionFormat: plaintext)", () => {
  it("is read as the list itself when the device asked for it, and refused as a frame otherwise", () => {
    const text = new TextEncoder().encode("com.acme.Conf/fixed;com.acme.Conf/free");
    const plain = decodeIncoming(PREFIX, interfaces, `${PREFIX}/${PURGE}`, text, MAX, true);
    expect(plain).toEqual({ kind: "purge", keep: new Set(["com.acme.Conf/fixed", "com.acme.Conf/free"]) });
    expect(payloadError(() => incoming(PURGE, text)).code).toBe("invalid-frame");
    expect(payloadError(() => decodeIncoming(PREFIX, interfaces, `${PREFIX}/${PURGE}`, Uint8Array.of(0xff, 0xfe), MAX, true)).code).toBe("invalid-frame");
  });
});
