/**
 * Astarte interface definitions: parse and validate the JSON (every refusal names the interface, the field and
 * the rule), and resolve an (interface, path) to its mapping with the %{param} values.
 */

import { InterfaceError } from "./errors.js";
import { MAPPING_TYPES, type MappingType } from "./values.js";

/** Datastream delivery guarantee; decides the MQTT QoS (0, 1, 2). */
export type Reliability = "unreliable" | "guaranteed" | "unique";
/** What the device does with a datastream message it cannot send now. */
export type Retention = "discard" | "volatile" | "stored";

/** One mapping of an interface, with defaults applied. */
export interface Mapping {
  /** Endpoint pattern, e.g. "/%{sensor}/value". */
  endpoint: string;
  /** Type of the values. */
  type: MappingType;
  /** Datastream delivery guarantee. */
  reliability: Reliability;
  /** What happens to a datastream message that cannot be sent now. */
  retention: Retention;
  /** Seconds a retained message stays valid; 0 = forever. */
  expiry: number;
  /** Whether messages carry an explicit timestamp. */
  explicitTimestamp: boolean;
  /** Properties: whether the value may be unset. */
  allowUnset: boolean;
  /** Astarte's database retention policy for this mapping. */
  databaseRetentionPolicy: "no_ttl" | "use_ttl";
  /** Astarte's database retention TTL in seconds, if set. */
  databaseRetentionTtl: number | undefined;
  /** Object aggregation: the key must be in every object sent (Astarte's `required`). */
  required: boolean;
  /** The mapping's description, if any. */
  description: string | undefined;
  /** The mapping's documentation, if any. */
  doc: string | undefined;
  /** Endpoint levels: a literal, or a parameter name. */
  levels: ReadonlyArray<
    | {
        /** A fixed level. */
        literal: string;
      }
    | {
        /** The name of a %{param} level. */
        param: string;
      }
  >;
}

/** A validated interface. */
export interface Interface {
  /** Interface name, e.g. "org.example.Sensors". */
  name: string;
  /** Major version. */
  major: number;
  /** Minor version. */
  minor: number;
  /** Datastream or properties interface. */
  type: "datastream" | "properties";
  /** Who sends data on it: the device or the server. */
  ownership: "device" | "server";
  /** Whether values are sent one by one or as objects. */
  aggregation: "individual" | "object";
  /** The interface's mappings. */
  mappings: Mapping[];
  /** The interface's description, if any. */
  description: string | undefined;
  /** The interface's documentation, if any. */
  doc: string | undefined;
  /** Unknown fields the loader ignored (Astarte allows additional properties), one message per field. */
  warnings?: readonly string[];
}

/** A path resolved against an individual interface. */
export interface ResolvedMapping {
  /** The mapping the path matched. */
  mapping: Mapping;
  /** Values of the endpoint's %{param} levels. */
  params: Record<string, string>;
}

const NAME_RE = /^([a-zA-Z][a-zA-Z0-9]*\.([a-zA-Z0-9][a-zA-Z0-9-]*\.)*)?[a-zA-Z][a-zA-Z0-9]*$/;
const ENDPOINT_RE = /^(\/(%\{([a-zA-Z_][a-zA-Z0-9_]*)\}|[a-zA-Z_][a-zA-Z0-9_]*)){1,64}$/;
const TOP_KEYS = new Set(["interface_name", "version_major", "version_minor", "type", "ownership", "aggregation", "description", "doc", "mappings"]);
const MAPPING_KEYS = new Set([
  "endpoint", "type", "reliability", "retention", "expiry", "database_retention_policy", "database_retention_ttl",
  "allow_unset", "explicit_timestamp", "required", "description", "doc",
]);
/** Unknown fields, keyed so that a field is reported once: where it was first seen and the fields it could misspell. */
interface UnknownField {
  field: string;
  at: string;
  known: ReadonlySet<string>;
}
type Unknown = Map<string, UnknownField>;
const DATASTREAM_ONLY = ["reliability", "retention", "expiry", "explicit_timestamp", "database_retention_policy", "database_retention_ttl"];

/**
 * Validates interface JSON (an object or a JSON string) against the Astarte interface schema and returns it with
 * defaults applied. Unknown fields are not errors: they are listed in the result's `warnings`.
 * @param input The interface as parsed JSON or as JSON text.
 * @returns The validated Interface.
 * @throws InterfaceError "invalid-interface", naming the interface, the field and the broken rule.
 * @example
 * ```ts
 * const iface = parseInterface({
 *   interface_name: "com.acme.Sensors",
 *   version_major: 1,
 *   version_minor: 0,
 *   type: "datastream",
 *   ownership: "device",
 *   mappings: [{ endpoint: "/%{sensor}/temperature", type: "double" }],
 * });
 * ```
 */
export function parseInterface(input: unknown): Interface {
  const json = typeof input === "string" ? parseJson(input) : input;
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw invalid("(unknown)", "", "must be a JSON object");
  const o = json as Record<string, unknown>;
  const name = typeof o.interface_name === "string" ? o.interface_name : "(unnamed)";
  const fail = (field: string, rule: string) => invalid(name, field, rule);

  const unknown: Unknown = new Map();
  for (const key of Object.keys(o)) if (!TOP_KEYS.has(key)) unknown.set(key, { field: key, at: key, known: TOP_KEYS });
  if (typeof o.interface_name !== "string") throw fail("interface_name", "is required and must be a string");
  if (o.interface_name.length > 128) throw fail("interface_name", "must be at most 128 characters");
  if (!NAME_RE.test(o.interface_name)) throw fail("interface_name", `must match ${NAME_RE.source}`);
  for (const v of ["version_major", "version_minor"]) {
    if (!Number.isInteger(o[v]) || (o[v] as number) < 0) throw fail(v, "is required and must be an integer >= 0");
  }
  if (o.version_major === 0 && o.version_minor === 0) throw fail("version_minor", "major and minor cannot both be 0");
  const type = o.type;
  if (type !== "datastream" && type !== "properties") throw fail("type", 'must be "datastream" or "properties"');
  const ownership = o.ownership;
  if (ownership !== "device" && ownership !== "server") throw fail("ownership", 'must be "device" or "server"');
  const aggregation = o.aggregation ?? "individual";
  if (aggregation !== "individual" && aggregation !== "object") throw fail("aggregation", 'must be "individual" or "object"');
  if (type === "properties" && aggregation === "object") throw fail("aggregation", "properties interfaces cannot be object aggregated");
  for (const f of ["description", "doc"]) if (o[f] !== undefined && typeof o[f] !== "string") throw fail(f, "must be a string");
  if (!Array.isArray(o.mappings) || o.mappings.length < 1 || o.mappings.length > 1024) {
    throw fail("mappings", "is required and must hold 1 to 1024 mappings");
  }
  const mappings = o.mappings.map((m, i) => parseMapping(m, i, type, fail, unknown));
  checkAmbiguity(mappings, fail);
  const objectWarnings = aggregation === "object" ? checkObject(o.interface_name, mappings, fail) : [];
  return {
    name: o.interface_name,
    major: o.version_major as number,
    minor: o.version_minor as number,
    type,
    ownership,
    aggregation,
    mappings,
    description: o.description as string | undefined,
    doc: o.doc as string | undefined,
    ...(unknown.size > 0 || objectWarnings.length > 0
      ? { warnings: [...objectWarnings, ...[...unknown.values()].map((u) => unknownFieldWarning(o.interface_name as string, u))] }
      : {}),
  };
}

/** "interface X: unknown field F ignored", with the known field it most likely misspells. */
function unknownFieldWarning(name: string, { field: key, at, known }: UnknownField): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  const typo = best !== undefined && bestDistance <= Math.max(1, Math.min(2, Math.floor(best.length / 4))) ? ` (did you mean "${best}"?)` : "";
  return `interface ${name}: unknown field ${at} ignored${typo}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

function parseMapping(
  raw: unknown,
  index: number,
  ifaceType: "datastream" | "properties",
  fail: (f: string, r: string) => InterfaceError,
  unknown: Unknown,
): Mapping {
  const at = `mappings[${index}]`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw fail(at, "must be an object");
  const m = raw as Record<string, unknown>;
  // Reported once per field name (at its first mapping), whatever the number of mappings carrying it.
  for (const key of Object.keys(m)) if (!MAPPING_KEYS.has(key) && !unknown.has(`mappings.${key}`)) unknown.set(`mappings.${key}`, { field: key, at: `${at}.${key}`, known: MAPPING_KEYS });
  if (typeof m.endpoint !== "string") throw fail(`${at}.endpoint`, "is required and must be a string");
  const endpoint = m.endpoint;
  if (endpoint.length < 2 || endpoint.length > 256) throw fail(`${at}.endpoint`, "must be 2 to 256 characters");
  if (!ENDPOINT_RE.test(endpoint)) throw fail(`${at}.endpoint`, `"${endpoint}" must match ${ENDPOINT_RE.source}`);
  const levels = endpoint.slice(1).split("/").map((l) => (l.startsWith("%{") ? { param: l.slice(2, -1) } : { literal: l }));
  const params = levels.flatMap((l) => ("param" in l ? [l.param] : []));
  if (new Set(params).size !== params.length) throw fail(`${at}.endpoint`, `"${endpoint}" repeats a parameter name`);
  if (!MAPPING_TYPES.includes(m.type as MappingType)) throw fail(`${at}.type`, `must be one of ${MAPPING_TYPES.join(", ")}`);
  if (ifaceType === "properties") {
    for (const f of DATASTREAM_ONLY) if (m[f] !== undefined) throw fail(`${at}.${f}`, "is only allowed in datastream interfaces");
  } else if (m.allow_unset !== undefined) throw fail(`${at}.allow_unset`, "is only allowed in properties interfaces");
  const reliability = m.reliability ?? "unreliable";
  if (reliability !== "unreliable" && reliability !== "guaranteed" && reliability !== "unique") {
    throw fail(`${at}.reliability`, 'must be "unreliable", "guaranteed" or "unique"');
  }
  const retention = m.retention ?? "discard";
  if (retention !== "discard" && retention !== "volatile" && retention !== "stored") {
    throw fail(`${at}.retention`, 'must be "discard", "volatile" or "stored"');
  }
  const expiry = m.expiry ?? 0;
  if (!Number.isInteger(expiry) || (expiry as number) < 0) throw fail(`${at}.expiry`, "must be an integer >= 0 (seconds)");
  for (const f of ["explicit_timestamp", "allow_unset", "required"]) if (m[f] !== undefined && typeof m[f] !== "boolean") throw fail(`${at}.${f}`, "must be a boolean");
  const policy = m.database_retention_policy ?? "no_ttl";
  if (policy !== "no_ttl" && policy !== "use_ttl") throw fail(`${at}.database_retention_policy`, 'must be "no_ttl" or "use_ttl"');
  const ttl = m.database_retention_ttl;
  if (policy === "use_ttl" && (!Number.isInteger(ttl) || (ttl as number) < 1)) {
    throw fail(`${at}.database_retention_ttl`, "is required with use_ttl and must be a positive integer");
  }
  if (policy === "no_ttl" && ttl !== undefined) throw fail(`${at}.database_retention_ttl`, "is only allowed with use_ttl");
  for (const f of ["description", "doc"]) if (m[f] !== undefined && typeof m[f] !== "string") throw fail(`${at}.${f}`, "must be a string");
  return {
    endpoint,
    type: m.type as MappingType,
    reliability,
    retention,
    expiry: expiry as number,
    explicitTimestamp: (m.explicit_timestamp as boolean | undefined) ?? false,
    allowUnset: (m.allow_unset as boolean | undefined) ?? false,
    databaseRetentionPolicy: policy,
    databaseRetentionTtl: ttl as number | undefined,
    required: (m.required as boolean | undefined) ?? false,
    description: m.description as string | undefined,
    doc: m.doc as string | undefined,
    levels,
  };
}

/**
 * Endpoints conflict as astarte_core decides: some path matches both, or a path of one is a prefix of a path of the
 * other (030-interface.md: "/some/thing" with "/some/%{param}/value"), or they differ only by the case of their
 * literal levels and the names of their parameters (astarte_core compares normalized endpoints case-insensitively).
 */
function checkAmbiguity(mappings: Mapping[], fail: (f: string, r: string) => InterfaceError): void {
  for (let i = 0; i < mappings.length; i++) {
    for (let j = i + 1; j < mappings.length; j++) {
      const a = mappings[i]!.levels;
      const b = mappings[j]!.levels;
      const depth = Math.min(a.length, b.length);
      const pairs = a.slice(0, depth).map((la, k) => [la, b[k]!] as const);
      const overlap = pairs.every(([la, lb]) => "param" in la || "param" in lb || la.literal === lb.literal);
      const caseOnly =
        a.length === b.length &&
        pairs.every(([la, lb]) => ("param" in la && "param" in lb) || ("literal" in la && "literal" in lb && la.literal.toLowerCase() === lb.literal.toLowerCase()));
      if (overlap || caseOnly) {
        const how = caseOnly && !overlap ? "differs from it only by case" : a.length === b.length ? "a path can match both" : "a path of one is a prefix of a path of the other";
        throw fail(`mappings[${j}].endpoint`, `"${mappings[j]!.endpoint}" is ambiguous with "${mappings[i]!.endpoint}" (${how})`);
      }
    }
  }
}

/**
 * Object aggregation: shared prefix and shared delivery settings; the last level is a literal key. One-level
 * endpoints (no prefix: the object is sent on path "/") are deprecated by Astarte but still accepted: a warning.
 */
function checkObject(name: unknown, mappings: Mapping[], fail: (f: string, r: string) => InterfaceError): string[] {
  const first = mappings[0]!;
  const prefix = (m: Mapping) => m.endpoint.slice(0, m.endpoint.lastIndexOf("/"));
  for (const [i, m] of mappings.entries()) {
    if ("param" in m.levels[m.levels.length - 1]!) throw fail(`mappings[${i}].endpoint`, "the last level of an object endpoint must be a literal key");
    if (prefix(m) !== prefix(first)) throw fail(`mappings[${i}].endpoint`, `all object endpoints must share the prefix "${prefix(first)}"`);
    for (const [field, key] of [
      ["reliability", "reliability"],
      ["retention", "retention"],
      ["expiry", "expiry"],
      ["explicit_timestamp", "explicitTimestamp"],
      ["database_retention_policy", "databaseRetentionPolicy"],
      ["database_retention_ttl", "databaseRetentionTtl"],
    ] as const) {
      if (m[key] !== first[key]) throw fail(`mappings[${i}].${field}`, "must be the same for every mapping of an object interface");
    }
  }
  if (first.levels.length > 1) return [];
  return [`interface ${String(name)}: one-level object endpoints ("${first.endpoint}") are deprecated by Astarte; the object is sent on path "/"`];
}

/** Splits and checks a concrete path ("/a/b"): levels non-empty, no wildcards. */
export function pathLevels(iface: Interface, path: string): string[] {
  if (typeof path !== "string" || !path.startsWith("/") || path.length < 2) {
    throw new InterfaceError("invalid-path", `${iface.name}: path ${JSON.stringify(path)} must start with "/" and name at least one level`, iface.name);
  }
  const levels = path.slice(1).split("/");
  for (const l of levels) {
    if (l.length === 0 || l.includes("+") || l.includes("#")) {
      throw new InterfaceError("invalid-path", `${iface.name}: path ${JSON.stringify(path)} has an empty or wildcard level`, iface.name);
    }
  }
  return levels;
}

function matchLevels(pattern: Mapping["levels"], levels: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== levels.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if ("param" in p) params[p.param] = levels[i]!;
    else if (p.literal !== levels[i]) return undefined;
  }
  return params;
}

/** Resolves a path of an individual interface to its mapping; InterfaceError "mapping-not-found" / "invalid-path". */
export function resolveMapping(iface: Interface, path: string): ResolvedMapping {
  const levels = pathLevels(iface, path);
  for (const mapping of iface.mappings) {
    const params = matchLevels(mapping.levels, levels);
    if (params) return { mapping, params };
  }
  throw new InterfaceError("mapping-not-found", `${iface.name}: no mapping for path ${path}`, iface.name);
}

/** Resolves the path of an object interface (the common prefix); returns the mappings by key. */
export function resolveObject(
  iface: Interface,
  path: string,
): {
  /** The mappings of the object, by key (the last endpoint level). */
  mappings: Record<string, Mapping>;
  /** Values of the path's %{param} levels. */
  params: Record<string, string>;
} {
  if (iface.aggregation !== "object") throw new InterfaceError("invalid-interface", `${iface.name} is not object aggregated`, iface.name);
  const first = iface.mappings[0]!;
  // One-level endpoints (deprecated): the object's path is "/".
  const levels = first.levels.length === 1 && path === "/" ? [] : pathLevels(iface, path);
  const params = matchLevels(first.levels.slice(0, -1), levels);
  if (!params) throw new InterfaceError("mapping-not-found", `${iface.name}: path ${path} does not match the object prefix ${first.endpoint.slice(0, first.endpoint.lastIndexOf("/"))}`, iface.name);
  const mappings: Record<string, Mapping> = {};
  for (const m of iface.mappings) mappings[(m.levels[m.levels.length - 1] as { literal: string }).literal] = m;
  return { mappings, params };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid("(unparsed)", "", `is not valid JSON: ${(err as Error).message}`);
  }
}

function invalid(name: string, field: string, rule: string): InterfaceError {
  return new InterfaceError("invalid-interface", `interface ${name}${field ? `: ${field}` : ""} ${rule}`, name);
}

/** The QoS a message on `mapping` of `iface` travels at: 2 for properties, else its reliability (unreliable 0, guaranteed 1, unique 2). */
export function mappingQos(iface: Pick<Interface, "type">, mapping: Pick<Mapping, "reliability">): 0 | 1 | 2 {
  if (iface.type === "properties") return 2;
  return mapping.reliability === "unique" ? 2 : mapping.reliability === "guaranteed" ? 1 : 0;
}
