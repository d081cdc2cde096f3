/**
 * Interfaces as Astarte accepts them (issue #13 item 3): every Edgehog interface loads, `required` object
 * mappings, unknown fields are warnings (not refusals), ambiguous endpoints as astarte_core refuses them, and
 * received values as astarte_core's value validation accepts them.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { Double, Int32, Long } from "bson";
import { afterEach, describe, expect, it } from "vitest";
import type { Device } from "../../src/clea/index.ts";
import { parseInterface } from "../../src/clea/interface.js";
import { decodePayload } from "../../src/clea/payload.js";
import { encodeObject } from "../../src/clea/validate.js";
import { fromBson } from "../../src/clea/values.js";
import { hex, interfaceError, payloadError, startFakeDevice } from "./helpers.js";

type Json = Record<string, unknown>;

const EDGEHOG_DIR = path.resolve(import.meta.dirname, "fixtures/edgehog-astarte-interfaces");
const EDGEHOG_FILES = fs.readdirSync(EDGEHOG_DIR).filter((f) => f.endsWith(".json")).sort();

describe("every interface of edgehog-device-manager/edgehog-astarte-interfaces loads", () => {
  it("has the repository's files and LICENSE", () => {
    expect(EDGEHOG_FILES.length).toBeGreaterThanOrEqual(52);
    expect(fs.existsSync(path.join(EDGEHOG_DIR, "LICENSE"))).toBe(true);
  });

  it.each(EDGEHOG_FILES)("%s", (file) => {
    const text = fs.readFileSync(path.join(EDGEHOG_DIR, file), "utf8");
    const iface = parseInterface(text);
    expect(`${iface.name}.json`).toBe(file);
    expect(iface.warnings ?? []).toEqual([]);
  });
});

function env(mappings: Json[], top: Json = {}): Json {
  return {
    interface_name: "com.acme.Env",
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    ownership: "device",
    aggregation: "object",
    mappings,
    ...top,
  };
}

describe("required mappings of object interfaces", () => {
  const iface = parseInterface(
    env([
      { endpoint: "/%{room}/temp", type: "double", required: true },
      { endpoint: "/%{room}/hum", type: "double" },
      { endpoint: "/%{room}/note", type: "string", required: false },
    ]),
  );
  const interfaces = new Map([[iface.name, iface]]);

  it("the loader accepts `required` and records it", () => {
    expect(iface.mappings.map((m) => m.required)).toEqual([true, false, false]);
  });

  it("any subset holding the required keys is sent", () => {
    expect(encodeObject(interfaces, "com.acme.Env", "/kitchen", { temp: 21.5 }, undefined).payload.length).toBeGreaterThan(0);
    expect(encodeObject(interfaces, "com.acme.Env", "/kitchen", { temp: 21.5, note: "x" }, undefined).payload.length).toBeGreaterThan(0);
  });

  it("an object missing a required key is refused with missing-object-key, naming the key", () => {
    const err = payloadError(() => encodeObject(interfaces, "com.acme.Env", "/kitchen", { hum: 40, note: "x" }, undefined));
    expect(err.code).toBe("missing-object-key");
    expect(err.message).toMatch(/temp/);
  });

  it("`required` must be a boolean", () => {
    const err = interfaceError(() => parseInterface(env([{ endpoint: "/%{room}/temp", type: "double", required: "yes" }])));
    expect(err.code).toBe("invalid-interface");
    expect(err.message).toMatch(/mappings\[0\]\.required/);
  });
});

const devices: Device[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.end({ force: true }).catch(() => undefined)));
});

describe("unknown fields are allowed (additionalProperties) and reported as warnings", () => {
  it("an unknown interface field is kept out of the way and named once", () => {
    const iface = parseInterface(env([{ endpoint: "/%{room}/temp", type: "double" }], { "x-vendor": { a: 1 } }));
    expect(iface.warnings).toHaveLength(1);
    expect(iface.warnings![0]).toMatch(/com\.acme\.Env/);
    expect(iface.warnings![0]).toMatch(/x-vendor/);
    expect(iface).not.toHaveProperty("x-vendor");
  });

  it("an unknown mapping field is named with its mapping", () => {
    const iface = parseInterface(env([{ endpoint: "/%{room}/temp", type: "double", unit: "C" }]));
    expect(iface.warnings).toEqual([expect.stringMatching(/mappings\[0\]\.unit/)]);
    expect(iface.mappings[0]).not.toHaveProperty("unit");
  });

  it("a likely typo says which known field it resembles", () => {
    const iface = parseInterface(env([{ endpoint: "/%{room}/temp", type: "double", reliabilty: "unique" }]));
    expect(iface.warnings).toHaveLength(1);
    expect(iface.warnings![0]).toMatch(/reliabilty/);
    expect(iface.warnings![0]).toMatch(/did you mean "reliability"/);
    expect(iface.mappings[0]!.reliability).toBe("unreliable");
    const top = parseInterface(env([{ endpoint: "/%{room}/temp", type: "double" }], { agregation: "object" }));
    expect(top.warnings![0]).toMatch(/did you mean "aggregation"/);
  });

  it("the same unknown field on many mappings is reported once", () => {
    const iface = parseInterface(env([
      { endpoint: "/%{room}/temp", type: "double", unit: "C" },
      { endpoint: "/%{room}/hum", type: "double", unit: "%" },
    ]));
    expect(iface.warnings).toHaveLength(1);
    expect(iface.warnings![0]).toMatch(/unit/);
  });

  it("the device reports them as its warning event when the interface is added", async () => {
    const { device } = await startFakeDevice();
    devices.push(device);
    const warnings: Array<{ name: string; code: string; message: string }> = [];
    device.on("warning", (w) => warnings.push(w));
    void device.addInterface(env([{ endpoint: "/%{room}/temp", type: "double", reliabilty: "unique" }])).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    expect(warnings).toEqual([
      expect.objectContaining({
        name: "DeviceWarning",
        code: "interface-warning",
        message: expect.stringMatching(/com\.acme\.Env: unknown field mappings\[0\]\.reliabilty ignored \(did you mean "reliability"\?\)/),
      }),
    ]);
  });

  it("a clean interface has no warnings", () => {
    expect(parseInterface(env([{ endpoint: "/%{room}/temp", type: "double" }])).warnings ?? []).toEqual([]);
  });
});

describe("ambiguous endpoints as astarte_core refuses them", () => {
  const individual = (a: string, b: string) => ({
    interface_name: "com.acme.Values",
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    ownership: "device",
    mappings: [{ endpoint: a, type: "integer" }, { endpoint: b, type: "integer" }],
  });

  it.each([
    ["endpoints that differ only by case", "/myPath/value", "/mypath/value"],
    ["case in the last level", "/a/Value", "/a/value"],
    ["case with parameters", "/%{x}/Temp", "/%{y}/temp"],
    ["a constant endpoint a parametric one also matches (030-interface.md)", "/%{itemIndex}/value", "/myPath/value"],
  ])("%s: %s vs %s", (_name, a, b) => {
    const err = interfaceError(() => parseInterface(individual(a, b)));
    expect(err.code).toBe("invalid-interface");
    expect(err.message).toMatch(/mappings\[1\]\.endpoint/);
    expect(err.message).toMatch(/ambiguous/);
  });

  it.each([
    ["a constant endpoint that is a prefix of a parametric one's paths (030-interface.md)", "/some/thing", "/some/%{param}/value"],
    ["a parametric endpoint whose paths prefix a constant one", "/%{p}", "/a/b"],
    ["astarte_core's inverted parametric overlap", "/some/%{param}", "/some/thing/here"],
    ["an endpoint that is a prefix of another", "/a", "/a/b"],
    ["a parametric endpoint that is a prefix of another", "/%{id}", "/%{id}/name"],
  ])("%s: %s vs %s", (_name, a, b) => {
    for (const [x, y] of [[a, b], [b, a]]) {
      const err = interfaceError(() => parseInterface(individual(x!, y!)));
      expect(err.message).toMatch(/mappings\[1\]\.endpoint/);
      expect(err.message).toMatch(/ambiguous/);
    }
  });

  it.each([
    ["different literals", "/a/value", "/b/value"],
    ["a prefix that differs by case (astarte_core's automaton is case-sensitive)", "/A", "/a/b"],
    ["a literal that differs by case from another against a parameter", "/A/%{x}", "/a/b"],
    ["different literals after a parameter", "/%{p}/a", "/%{p}/b/c"],
  ])("accepted: %s: %s and %s", (_name, a, b) => {
    expect(parseInterface(individual(a, b)).mappings).toHaveLength(2);
    expect(parseInterface(individual(b, a)).mappings).toHaveLength(2);
  });
});

describe("received values as astarte_core accepts them", () => {
  it("an integer BSON value (int32 or int64) on a double mapping", () => {
    expect(fromBson(new Int32(3), "double")).toBe(3);
    expect(fromBson(Long.fromBigInt(5n), "double")).toBe(5);
    expect(fromBson([Long.fromBigInt(-2n), new Double(1.5), new Int32(7)], "doublearray")).toEqual([-2, 1.5, 7]);
  });

  it("an int64 in int32 range on an integer mapping", () => {
    expect(fromBson(Long.fromBigInt(2147483647n), "integer")).toBe(2147483647);
    expect(fromBson(Long.fromBigInt(-2147483647n), "integer")).toBe(-2147483647);
    expect(payloadError(() => fromBson(Long.fromBigInt(2147483648n), "integer")).code).toBe("integer-out-of-range");
    expect(payloadError(() => fromBson(Long.fromBigInt(-2147483648n), "integer")).code).toBe("integer-out-of-range");
  });

  it("decodePayload takes {v: int64 2} on a double mapping", () => {
    expect(decodePayload(hex("10000000 12 7600 0200000000000000 00"), { type: "double" })).toEqual({ value: 2 });
  });

  it("still refuses a non-number on a double mapping", () => {
    expect(payloadError(() => fromBson("1", "double")).code).toBe("unexpected-value-type");
  });
});
