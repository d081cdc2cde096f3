/**
 * Interface definitions: parseInterface validates the JSON (every refusal is an InterfaceError "invalid-interface"
 * whose message names the interface, the field and the rule), resolveMapping / resolveObject map paths to mappings,
 * loadInterfaces reads objects, files and directories.
 */

import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterfaceError } from "../../src/clea/errors.js";
import { parseInterface, pathLevels, resolveMapping, resolveObject } from "../../src/clea/interface.js";
import { loadInterfaces } from "../../src/clea/interface-loader.js";
import { MAPPING_TYPES } from "../../src/clea/values.js";
import { interfaceError, rejectsInterfaceError } from "./helpers.js";

type Json = Record<string, unknown>;

const NAME = "com.example.Sensors";

/** A valid individual datastream; `top` overrides interface fields, `mapping` the first mapping's fields. */
function datastream(top: Json = {}, mapping: Json = {}): Json {
  return {
    interface_name: NAME,
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    ownership: "device",
    mappings: [{ endpoint: "/%{sensor}/temperature", type: "double", ...mapping }],
    ...top,
  };
}

/** A valid properties interface. */
function properties(top: Json = {}, mapping: Json = {}): Json {
  return {
    interface_name: "com.example.Config",
    version_major: 0,
    version_minor: 1,
    type: "properties",
    ownership: "server",
    mappings: [{ endpoint: "/display/name", type: "string", ...mapping }],
    ...top,
  };
}

/** A valid object datastream with the given mappings (default: temp + hum under /%{room}). */
function object(mappings: Json[] = [{ endpoint: "/%{room}/temp", type: "double" }, { endpoint: "/%{room}/hum", type: "double" }], top: Json = {}): Json {
  return {
    interface_name: "com.acme.Environment",
    version_major: 1,
    version_minor: 2,
    type: "datastream",
    ownership: "device",
    aggregation: "object",
    mappings,
    ...top,
  };
}

/** parseInterface must refuse `json` with invalid-interface and a message naming the interface, `field` and `rule`. */
function refuses(json: unknown, field: string, rule: RegExp, name = NAME): InterfaceError {
  const e = interfaceError(() => parseInterface(json));
  expect(e.code).toBe("invalid-interface");
  expect(e.message).toContain(name);
  expect(e.message).toContain(field);
  expect(e.message).toMatch(rule);
  return e;
}

describe("parseInterface accepts valid interfaces and fills defaults", () => {
  it("an individual datastream with a parameter", () => {
    const iface = parseInterface(datastream({ description: "d", doc: "doc" }, { description: "md" }));
    expect(iface).toMatchObject({
      name: NAME,
      major: 1,
      minor: 0,
      type: "datastream",
      ownership: "device",
      aggregation: "individual",
      description: "d",
      doc: "doc",
    });
    expect(iface.mappings).toHaveLength(1);
    expect(iface.mappings[0]).toEqual({
      endpoint: "/%{sensor}/temperature",
      type: "double",
      reliability: "unreliable",
      retention: "discard",
      expiry: 0,
      explicitTimestamp: false,
      allowUnset: false,
      databaseRetentionPolicy: "no_ttl",
      databaseRetentionTtl: undefined,
      required: false,
      description: "md",
      doc: undefined,
      levels: [{ param: "sensor" }, { literal: "temperature" }],
    });
  });

  it("explicit datastream settings are kept", () => {
    const m = parseInterface(
      datastream({}, {
        reliability: "unique",
        retention: "stored",
        expiry: 3600,
        explicit_timestamp: true,
        database_retention_policy: "use_ttl",
        database_retention_ttl: 86400,
      }),
    ).mappings[0]!;
    expect(m).toMatchObject({
      reliability: "unique",
      retention: "stored",
      expiry: 3600,
      explicitTimestamp: true,
      databaseRetentionPolicy: "use_ttl",
      databaseRetentionTtl: 86400,
    });
  });

  it("a properties interface with allow_unset", () => {
    const iface = parseInterface(
      properties({ mappings: [{ endpoint: "/display/name", type: "string", allow_unset: true }, { endpoint: "/display/brightness", type: "integer" }] }),
    );
    expect(iface.type).toBe("properties");
    expect(iface.ownership).toBe("server");
    expect(iface.aggregation).toBe("individual");
    expect(iface.mappings.map((m) => m.allowUnset)).toEqual([true, false]);
    expect(iface.mappings[1]!.levels).toEqual([{ literal: "display" }, { literal: "brightness" }]);
  });

  it("an object datastream", () => {
    const iface = parseInterface(
      object([
        { endpoint: "/%{room}/temp", type: "double", reliability: "guaranteed", explicit_timestamp: true },
        { endpoint: "/%{room}/hum", type: "double", reliability: "guaranteed", explicit_timestamp: true },
        { endpoint: "/%{room}/tags", type: "stringarray", reliability: "guaranteed", explicit_timestamp: true },
      ]),
    );
    expect(iface.aggregation).toBe("object");
    expect(iface.mappings.map((m) => m.endpoint)).toEqual(["/%{room}/temp", "/%{room}/hum", "/%{room}/tags"]);
    expect(iface.mappings.every((m) => m.reliability === "guaranteed" && m.explicitTimestamp)).toBe(true);
  });

  it("a JSON string", () => {
    expect(parseInterface(JSON.stringify(datastream())).name).toBe(NAME);
  });

  it("every mapping type", () => {
    const mappings = MAPPING_TYPES.map((type) => ({ endpoint: `/v_${type}`, type }));
    expect(parseInterface(datastream({ mappings })).mappings.map((m) => m.type)).toEqual([...MAPPING_TYPES]);
  });

  it("boundaries: a 128-character name, 1024 mappings, 64 levels, 256 characters, 0.1 and 1.0 versions", () => {
    const name128 = `a.${"b".repeat(126)}`;
    expect(parseInterface(datastream({ interface_name: name128 })).name).toBe(name128);
    const many = Array.from({ length: 1024 }, (_, i) => ({ endpoint: `/m${i}`, type: "integer" }));
    expect(parseInterface(datastream({ mappings: many })).mappings).toHaveLength(1024);
    const deep = "/a".repeat(64);
    expect(parseInterface(datastream({}, { endpoint: deep })).mappings[0]!.levels).toHaveLength(64);
    const long = `/${"x".repeat(255)}`;
    expect(long).toHaveLength(256);
    expect(parseInterface(datastream({}, { endpoint: long })).mappings[0]!.endpoint).toBe(long);
    expect(parseInterface(datastream({ version_major: 0, version_minor: 1 })).minor).toBe(1);
    expect(parseInterface(datastream({ version_major: 1, version_minor: 0 })).major).toBe(1);
  });

  it("names in the allowed shapes", () => {
    for (const name of ["Sensors", "com.example.Sensors", "org.my-company.sub2.Thing", "io.edgehog.devicemanager.OTARequest", "a.0b.C"]) {
      expect(parseInterface(datastream({ interface_name: name })).name).toBe(name);
    }
  });

  // Astarte refuses an endpoint whose paths prefix another's ("/a" with "/a/%{p}"): see interface-astarte.test.ts.
  it("endpoints that are not ambiguous: different literals, or different level counts without a common prefix path", () => {
    const iface = parseInterface(
      datastream({
        mappings: [
          { endpoint: "/a/%{p}", type: "double" },
          { endpoint: "/b/%{p}", type: "double" },
          { endpoint: "/c", type: "double" },
          { endpoint: "/d/%{p}/c", type: "double" },
          { endpoint: "/_x/y_1", type: "double" },
        ],
      }),
    );
    expect(iface.mappings).toHaveLength(5);
  });
});

describe("parseInterface refuses each rule, naming the field", () => {
  it("not an object, or not JSON", () => {
    for (const bad of [null, 5, [], "[]"]) {
      const e = interfaceError(() => parseInterface(bad));
      expect(e.code).toBe("invalid-interface");
      expect(e.message).toMatch(/JSON object/);
    }
    const e = interfaceError(() => parseInterface("{ nope"));
    expect(e.code).toBe("invalid-interface");
    expect(e.message).toMatch(/not valid JSON/);
  });

  describe("interface_name", () => {
    it.each(["com.example.", ".Sensors", "com..Sensors", "1com.Sensors", "com.example.My-Sensors", "com.-x.Sensors", "com.example.My Sensors", "com/example", ""])(
      "%j does not match the name pattern",
      (name) => {
        const e = interfaceError(() => parseInterface(datastream({ interface_name: name })));
        expect(e.code).toBe("invalid-interface");
        expect(e.message).toContain("interface_name");
        expect(e.message).toMatch(/must match/);
      },
    );

    it("over 128 characters", () => {
      const name = `a.${"b".repeat(127)}`;
      refuses(datastream({ interface_name: name }), "interface_name", /at most 128/, name);
    });

    it("missing or not a string", () => {
      for (const name of [undefined, 5]) {
        const e = interfaceError(() => parseInterface(datastream({ interface_name: name })));
        expect(e.message).toContain("interface_name");
        expect(e.message).toMatch(/required/);
      }
    });
  });

  describe("versions", () => {
    it.each([
      ["version_major", -1],
      ["version_minor", -1],
      ["version_major", 1.5],
      ["version_minor", 0.5],
      ["version_major", "1"],
      ["version_minor", null],
      ["version_major", undefined],
    ])("%s = %j", (field, value) => {
      refuses(datastream({ [field]: value }), field, /integer >= 0/);
    });

    it("major and minor both 0", () => {
      refuses(datastream({ version_major: 0, version_minor: 0 }), "version_minor", /both be 0/);
    });
  });

  it.each([
    ["type", "stream", /"datastream" or "properties"/],
    ["type", undefined, /"datastream" or "properties"/],
    ["ownership", "cloud", /"device" or "server"/],
    ["ownership", undefined, /"device" or "server"/],
    ["aggregation", "individually", /"individual" or "object"/],
    ["description", 5, /must be a string/],
    ["doc", {}, /must be a string/],
  ])("%s = %j", (field, value, rule) => {
    refuses(datastream({ [field]: value }), field, rule);
  });

  it("a properties interface cannot be object aggregated", () => {
    refuses(properties({ aggregation: "object" }), "aggregation", /cannot be object/, "com.example.Config");
  });

  it.each([
    ["no mappings", []],
    ["1025 mappings", Array.from({ length: 1025 }, (_, i) => ({ endpoint: `/m${i}`, type: "integer" }))],
    ["mappings missing", undefined],
    ["mappings not an array", { endpoint: "/a", type: "double" }],
  ])("%s", (_name, mappings) => {
    refuses(datastream({ mappings }), "mappings", /1 to 1024/);
  });

  it("a mapping that is not an object", () => {
    refuses(datastream({ mappings: ["/a"] }), "mappings[0]", /must be an object/);
  });

  describe("endpoint", () => {
    it.each([
      ["no leading slash", "a/b"],
      ["an empty level", "/a//b"],
      ["a trailing slash", "/a/b/"],
      ["a level starting with a digit", "/1a"],
      ["a parameter starting with a digit", "/%{1x}"],
      ["an empty parameter", "/%{}"],
      ["a parameter inside a level", "/a%{x}"],
      ["a hyphen", "/a-b"],
      ["a wildcard", "/a/+"],
      ["65 levels", "/a".repeat(65)],
    ])("%s: %j", (_name, endpoint) => {
      refuses(datastream({}, { endpoint }), "mappings[0].endpoint", /must match/);
    });

    it("length outside 2..256", () => {
      refuses(datastream({}, { endpoint: "/" }), "mappings[0].endpoint", /2 to 256/);
      refuses(datastream({}, { endpoint: `/${"x".repeat(256)}` }), "mappings[0].endpoint", /2 to 256/);
    });

    it("missing", () => {
      refuses(datastream({}, { endpoint: undefined }), "mappings[0].endpoint", /required/);
    });

    it("a repeated parameter name", () => {
      refuses(datastream({}, { endpoint: "/%{a}/x/%{a}" }), "mappings[0].endpoint", /repeats a parameter/);
    });

    it("names the right mapping index", () => {
      refuses(datastream({ mappings: [{ endpoint: "/ok", type: "double" }, { endpoint: "bad", type: "double" }] }), "mappings[1].endpoint", /must match/);
    });
  });

  it.each(["float", "int", "doubles", "arraydouble", "", undefined])("mapping type %j", (type) => {
    refuses(datastream({}, { type }), "mappings[0].type", /must be one of/);
  });

  it.each([
    ["reliability", "guaranteed"],
    ["retention", "stored"],
    ["expiry", 10],
    ["explicit_timestamp", true],
    ["database_retention_policy", "no_ttl"],
    ["database_retention_ttl", 60],
  ])("datastream-only %s in a properties interface", (field, value) => {
    refuses(properties({}, { [field]: value }), `mappings[0].${field}`, /only allowed in datastream/, "com.example.Config");
  });

  it("allow_unset in a datastream", () => {
    refuses(datastream({}, { allow_unset: true }), "mappings[0].allow_unset", /only allowed in properties/);
    refuses(datastream({}, { allow_unset: false }), "mappings[0].allow_unset", /only allowed in properties/);
  });

  it.each([
    ["reliability", "reliable", /"unreliable", "guaranteed" or "unique"/],
    ["reliability", 1, /"unreliable", "guaranteed" or "unique"/],
    ["retention", "forever", /"discard", "volatile" or "stored"/],
    ["expiry", -1, /integer >= 0/],
    ["expiry", 1.5, /integer >= 0/],
    ["expiry", "60", /integer >= 0/],
    ["explicit_timestamp", "yes", /boolean/],
    ["database_retention_policy", "ttl", /"no_ttl" or "use_ttl"/],
    ["description", 1, /must be a string/],
    ["doc", false, /must be a string/],
  ])("mapping %s = %j", (field, value, rule) => {
    refuses(datastream({}, { [field]: value }), `mappings[0].${field}`, rule);
  });

  it("allow_unset must be a boolean", () => {
    refuses(properties({}, { allow_unset: "true" }), "mappings[0].allow_unset", /boolean/, "com.example.Config");
  });

  it("use_ttl without a ttl, or with a ttl that is not a positive integer", () => {
    for (const ttl of [undefined, 0, -5, 1.5, "60"]) {
      refuses(datastream({}, { database_retention_policy: "use_ttl", database_retention_ttl: ttl }), "mappings[0].database_retention_ttl", /required with use_ttl/);
    }
  });

  it("a ttl without use_ttl", () => {
    refuses(datastream({}, { database_retention_ttl: 60 }), "mappings[0].database_retention_ttl", /only allowed with use_ttl/);
    refuses(datastream({}, { database_retention_policy: "no_ttl", database_retention_ttl: 60 }), "mappings[0].database_retention_ttl", /only allowed with use_ttl/);
  });

  describe("ambiguous endpoints", () => {
    it.each([
      ["a parameter against a literal in each position", "/%{a}/x", "/y/%{b}"],
      ["the same endpoint twice", "/a/b", "/a/b"],
      ["two parameters at the same position", "/%{a}", "/%{b}"],
      ["a parameter against a literal", "/a/%{p}", "/a/b"],
    ])("%s: %s vs %s", (_name, first, second) => {
      refuses(datastream({ mappings: [{ endpoint: first, type: "double" }, { endpoint: second, type: "integer" }] }), "mappings[1].endpoint", /ambiguous/);
    });

    it("in a properties interface too", () => {
      refuses(
        properties({ mappings: [{ endpoint: "/%{a}/x", type: "string" }, { endpoint: "/y/%{b}", type: "string" }] }),
        "mappings[1].endpoint",
        /ambiguous/,
        "com.example.Config",
      );
    });
  });

  describe("object interfaces", () => {
    const pair = (a: Json, b: Json) => object([{ endpoint: "/%{room}/temp", type: "double", ...a }, { endpoint: "/%{room}/hum", type: "double", ...b }]);

    it.each([
      ["reliability", "unreliable", "unique"],
      ["retention", "discard", "volatile"],
      ["expiry", 0, 60],
      ["explicit_timestamp", true, false],
    ])("differing %s", (field, a, b) => {
      refuses(pair({ [field]: a }, { [field]: b }), `mappings[1].${field}`, /same for every mapping/, "com.acme.Environment");
    });

    it("a setting given on one mapping and defaulted on another still has to agree", () => {
      refuses(pair({ reliability: "guaranteed" }, {}), "mappings[1].reliability", /same for every mapping/, "com.acme.Environment");
      // explicit default equals implicit default: accepted
      expect(parseInterface(pair({ reliability: "unreliable", expiry: 0 }, {})).mappings).toHaveLength(2);
    });

    it("differing prefixes", () => {
      refuses(
        object([{ endpoint: "/a/temp", type: "double" }, { endpoint: "/b/hum", type: "double" }]),
        "mappings[1].endpoint",
        /share the prefix/,
        "com.acme.Environment",
      );
      refuses(
        object([{ endpoint: "/%{room}/temp", type: "double" }, { endpoint: "/%{zone}/hum", type: "double" }]),
        "mappings[1].endpoint",
        /share the prefix/,
        "com.acme.Environment",
      );
      refuses(
        object([{ endpoint: "/x/%{room}/temp", type: "double" }, { endpoint: "/y/hum", type: "double" }]),
        "mappings[1].endpoint",
        /share the prefix/,
        "com.acme.Environment",
      );
    });

    it("not a one-level endpoint: Astarte deprecates it but accepts it, so it loads with a warning and its objects go on path \"/\"", () => {
      const iface = parseInterface(object([{ endpoint: "/temp", type: "double" }, { endpoint: "/hum", type: "double" }]));
      expect(iface.warnings).toEqual([expect.stringMatching(/one-level object endpoints \("\/temp"\) are deprecated/)]);
      expect(Object.keys(resolveObject(iface, "/").mappings)).toEqual(["temp", "hum"]);
      expect(interfaceError(() => resolveObject(iface, "/room1")).code).toBe("mapping-not-found");
      // Mixed depths still share no prefix.
      refuses(object([{ endpoint: "/temp", type: "double" }, { endpoint: "/a/hum", type: "double" }]), "mappings[1].endpoint", /share the prefix/, "com.acme.Environment");
    });

    it("a parameter as the last level", () => {
      refuses(object([{ endpoint: "/room/%{key}", type: "double" }]), "mappings[0].endpoint", /literal key/, "com.acme.Environment");
    });

    it("the same key twice is ambiguous", () => {
      refuses(object([{ endpoint: "/%{room}/temp", type: "double" }, { endpoint: "/%{room}/temp", type: "integer" }]), "mappings[1].endpoint", /ambiguous/, "com.acme.Environment");
    });
  });

  // Astarte's schema allows additional properties: unknown fields are warnings (interface-astarte.test.ts), not refusals.
  it("unknown top-level fields are ignored with a warning", () => {
    expect(parseInterface(datastream({ version: 1 })).warnings).toEqual([`interface ${NAME}: unknown field version ignored`]);
    expect(parseInterface(datastream({ Interface_name: "x" })).warnings).toEqual([
      `interface ${NAME}: unknown field Interface_name ignored (did you mean "interface_name"?)`,
    ]);
  });

  it("unknown mapping fields are ignored with a warning", () => {
    expect(parseInterface(datastream({}, { path: "/x" })).warnings).toEqual([`interface ${NAME}: unknown field mappings[0].path ignored`]);
    expect(parseInterface(datastream({}, { allowUnset: true })).warnings).toEqual([
      `interface ${NAME}: unknown field mappings[0].allowUnset ignored (did you mean "allow_unset"?)`,
    ]);
  });

  it("the error carries the interface name", () => {
    const e = interfaceError(() => parseInterface(datastream({}, { type: "float" })));
    expect(e.interfaceName).toBe(NAME);
    expect(e.message).toBe(`interface ${NAME}: mappings[0].type must be one of ${MAPPING_TYPES.join(", ")}`);
  });
});

describe("resolveMapping", () => {
  const iface = parseInterface(
    datastream({
      mappings: [
        { endpoint: "/%{sensor}/temperature", type: "double" },
        { endpoint: "/config/name", type: "string" },
        // Not "/%{a}/%{b}/value": "/x/temperature" would then prefix one of its paths, which Astarte refuses.
        { endpoint: "/%{a}/at/%{b}/value", type: "integer" },
      ],
    }),
  );

  it("a parameter path returns the mapping and the parameter values", () => {
    const r = resolveMapping(iface, "/press7/temperature");
    expect(r.mapping.endpoint).toBe("/%{sensor}/temperature");
    expect(r.params).toEqual({ sensor: "press7" });
    expect(resolveMapping(iface, "/x/at/y/value")).toMatchObject({ mapping: { endpoint: "/%{a}/at/%{b}/value" }, params: { a: "x", b: "y" } });
  });

  it("a parameter matches any non-empty level (not only identifier characters)", () => {
    expect(resolveMapping(iface, "/press-7.b:ü/temperature").params).toEqual({ sensor: "press-7.b:ü" });
  });

  it("a literal path returns the mapping and no parameters", () => {
    const r = resolveMapping(iface, "/config/name");
    expect(r.mapping.type).toBe("string");
    expect(r.params).toEqual({});
  });

  it.each(["/press7/humidity", "/config/other", "/Config/name", "/press7", "/press7/temperature/x", "/x/y/z/value"])("%s -> mapping-not-found", (p) => {
    const e = interfaceError(() => resolveMapping(iface, p));
    expect(e.code).toBe("mapping-not-found");
    expect(e.interfaceName).toBe(NAME);
    expect(e.message).toContain(p);
  });

  it.each(["press7/temperature", "", "/", "/press7//temperature", "//temperature", "/press7/temperature/", "/+/temperature", "/#", "/a/temp#", "/a+b/temperature"])(
    "%j -> invalid-path",
    (p) => {
      const e = interfaceError(() => resolveMapping(iface, p));
      expect(e.code).toBe("invalid-path");
      expect(e.interfaceName).toBe(NAME);
    },
  );

  it("pathLevels splits a concrete path", () => {
    expect(pathLevels(iface, "/a/b/c")).toEqual(["a", "b", "c"]);
    expect(interfaceError(() => pathLevels(iface, 5 as unknown as string)).code).toBe("invalid-path");
  });
});

describe("resolveObject", () => {
  const env = parseInterface(object());

  it("resolves the common prefix, returning the mappings by key and the parameters", () => {
    const r = resolveObject(env, "/room1");
    expect(r.params).toEqual({ room: "room1" });
    expect(Object.keys(r.mappings).sort()).toEqual(["hum", "temp"]);
    expect(r.mappings.temp!.endpoint).toBe("/%{room}/temp");
    expect(r.mappings.hum!.type).toBe("double");
  });

  it("a literal prefix", () => {
    const iface = parseInterface(object([{ endpoint: "/env/a/x", type: "integer" }, { endpoint: "/env/a/y", type: "string" }]));
    const r = resolveObject(iface, "/env/a");
    expect(r.params).toEqual({});
    expect(Object.keys(r.mappings).sort()).toEqual(["x", "y"]);
    expect(interfaceError(() => resolveObject(iface, "/env/b")).code).toBe("mapping-not-found");
  });

  it.each(["/room1/temp", "/a/b/c"])("a path of the wrong depth (%s) is mapping-not-found", (p) => {
    expect(interfaceError(() => resolveObject(env, p)).code).toBe("mapping-not-found");
  });

  it.each(["room1", "/", "/room1/", "/+", "/#"])("%j is invalid-path", (p) => {
    expect(interfaceError(() => resolveObject(env, p)).code).toBe("invalid-path");
  });
});

describe("loadInterfaces", () => {
  let dir: string;
  const sensors = datastream();
  const config = properties();
  const env = object();

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "edgemq-clea-ifaces-"));
    await fs.mkdir(path.join(dir, "set"));
    await fs.writeFile(path.join(dir, "set", "com.example.Config.json"), JSON.stringify(config));
    await fs.writeFile(path.join(dir, "set", "com.acme.Environment.json"), JSON.stringify(env, null, 2));
    await fs.writeFile(path.join(dir, "set", "README.md"), "not json { at all");
    await fs.writeFile(path.join(dir, "set", "notes.json.bak"), "{");
    await fs.writeFile(path.join(dir, "sensors.json"), JSON.stringify(sensors));
    await fs.mkdir(path.join(dir, "bad"));
    await fs.writeFile(path.join(dir, "bad", "a.json"), JSON.stringify(properties({ interface_name: "com.example.A" })));
    await fs.writeFile(path.join(dir, "bad", "broken.json"), JSON.stringify(datastream({}, { type: "float" })));
    await fs.writeFile(path.join(dir, "notjson.json"), "{ this is not json");
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("from parsed objects (and already-parsed interfaces pass through)", async () => {
    const parsed = parseInterface(config);
    const out = await loadInterfaces([sensors, parsed]);
    expect(out.map((i) => i.name)).toEqual([NAME, "com.example.Config"]);
    expect(out[1]).toBe(parsed);
    expect(out[0]!.mappings[0]!.levels).toEqual([{ param: "sensor" }, { literal: "temperature" }]);
  });

  it("from a file", async () => {
    const out = await loadInterfaces([path.join(dir, "sensors.json")]);
    expect(out).toHaveLength(1);
    expect(out[0]!.name).toBe(NAME);
  });

  it("from a directory: the .json files, other files ignored", async () => {
    const out = await loadInterfaces([path.join(dir, "set")]);
    expect(out.map((i) => i.name).sort()).toEqual(["com.acme.Environment", "com.example.Config"]);
    expect(out.find((i) => i.name === "com.acme.Environment")!.aggregation).toBe("object");
  });

  it("mixing sources", async () => {
    const out = await loadInterfaces([path.join(dir, "set"), path.join(dir, "sensors.json"), datastream({ interface_name: "com.example.Other" })]);
    expect(out.map((i) => i.name).sort()).toEqual(["com.acme.Environment", "com.example.Config", "com.example.Other", NAME]);
  });

  it("a name defined twice is refused", async () => {
    const e = await rejectsInterfaceError(loadInterfaces([path.join(dir, "set"), config]));
    expect(e.code).toBe("invalid-interface");
    expect(e.interfaceName).toBe("com.example.Config");
    expect(e.message).toMatch(/more than once/);
    const e2 = await rejectsInterfaceError(loadInterfaces([sensors, sensors]));
    expect(e2.message).toContain(NAME);
  });

  it("a bad file's error names the file, the interface and the field", async () => {
    const file = path.join(dir, "bad", "broken.json");
    const e = await rejectsInterfaceError(loadInterfaces([path.join(dir, "bad")]));
    expect(e.code).toBe("invalid-interface");
    expect(e.message).toContain(file);
    expect(e.message).toContain(NAME);
    expect(e.message).toContain("mappings[0].type");
    expect(e.interfaceName).toBe(NAME);
  });

  it("a file that is not JSON is refused, naming the file", async () => {
    const file = path.join(dir, "notjson.json");
    const e = await rejectsInterfaceError(loadInterfaces([file]));
    expect(e.code).toBe("invalid-interface");
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/not valid JSON/);
  });

  it("an invalid object source is refused", async () => {
    const e = await rejectsInterfaceError(loadInterfaces([datastream({ version_major: -1 })]));
    expect(e.message).toContain("version_major");
  });

  it("a missing path rejects", async () => {
    await expect(loadInterfaces([path.join(dir, "nope.json")])).rejects.toThrow();
  });
});

