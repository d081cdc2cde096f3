/**
 * The Edgehog interfaces edgemq bundles (src/clea/interfaces) are exactly edgehog-astarte-interfaces' (issue #16):
 * name, version, type, ownership, aggregation and every mapping attribute, in upstream's order. The upstream copy
 * is test/clea/fixtures/edgehog-astarte-interfaces (see its SOURCE.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { edgehogInterfaces, parseInterface } from "../../src/clea/index.ts";

const bundledDir = path.resolve(import.meta.dirname, "../../src/clea/interfaces");
const upstreamDir = path.resolve(import.meta.dirname, "fixtures/edgehog-astarte-interfaces");
const bundled = fs.readdirSync(bundledDir).filter((f) => f.endsWith(".json"));

describe("bundled Edgehog interfaces", () => {
  it.each(bundled)("%s is the upstream file", (file) => {
    const ours = JSON.parse(fs.readFileSync(path.join(bundledDir, file), "utf8"));
    const upstream = JSON.parse(fs.readFileSync(path.join(upstreamDir, file), "utf8"));
    expect(ours).toEqual(upstream);
    // Key order too (mapping order is what Edgehog and the introspection tools show).
    expect(JSON.stringify(ours)).toBe(JSON.stringify(upstream));
  });

  it("edgehogInterfaces() gives them parsed as upstream defines them (Commands with explicit_timestamp, OTA database retention)", () => {
    const byName = new Map(edgehogInterfaces().map((i) => [i.name, i]));
    expect(byName.size).toBe(bundled.length);
    for (const file of bundled) {
      const upstream = parseInterface(fs.readFileSync(path.join(upstreamDir, file), "utf8"));
      expect(byName.get(upstream.name)).toEqual(upstream);
    }
    expect(byName.get("io.edgehog.devicemanager.Commands")!.mappings[0]!.explicitTimestamp).toBe(true);
    expect(byName.get("io.edgehog.devicemanager.OTARequest")!.mappings.map((m) => m.databaseRetentionPolicy)).toEqual(["use_ttl", "use_ttl", "use_ttl"]);
  });
});
