/**
 * Bundle sizes: what an application ships when it bundles edgemq, edgemq/clea or MQTT.js (esbuild, bundle + minify,
 * ESM, ES2022, platform node with node:* external; gzip -9). @peculiar/x509 and reflect-metadata (optional peers that
 * clea's pairing imports dynamically) stay external, as in the package build.
 *
 * Run: npm run bench:size
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { bundleSize, coreSize, root, type BundleSize } from "./lib/bundle.ts";
import { printTable } from "./lib/measure.ts";

const BUDGET = 8 * 1024;
const optionalPeers = ["@peculiar/x509", "reflect-metadata"];

const rows: Array<[string, BundleSize]> = [
  ["edgemq (core: src/index.ts)", await coreSize()],
  ["edgemq/clea, with bson + pako (and the core)", await bundleSize({ entry: "src/clea/index.ts", external: optionalPeers })],
  ["edgemq/clea, bson + pako external (core included)", await bundleSize({ entry: "src/clea/index.ts", external: ["bson", "pako", ...optionalPeers] })],
  ["edgemq/clea layer alone (core, bson, pako external)", await bundleSize({ entry: "src/clea/index.ts", external: ["bson", "pako", ...optionalPeers], externalCore: true })],
  ["bson (as clea imports it)", await bundleSize({ contents: `export { BSON, Binary, Double, Int32, Long } from "bson";` })],
  ["pako (as clea imports it)", await bundleSize({ contents: `export { Deflate, Inflate } from "pako";` })],
  ["MQTT.js 5.16 (mqtt, platform node)", await bundleSize({ contents: `export * from "mqtt"; export { default } from "mqtt";` })],
];
const shipped = fs.readFileSync(path.join(root, "node_modules/mqtt/dist/mqtt.min.js"));
rows.push(["MQTT.js 5.16 shipped browser bundle (dist/mqtt.min.js)", { minified: shipped.length, gzipped: gzipSync(shipped, { level: 9 }).length }]);

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const core = rows[0]![1];
console.log("bundle size (esbuild --bundle --minify, ESM, ES2022; gzip -9)\n");
printTable(
  ["bundle", "min", "min+gz", "vs edgemq core"],
  rows.map(([name, s]) => [name, kb(s.minified), kb(s.gzipped), `${(s.gzipped / core.gzipped).toFixed(2)}x`]),
);
console.log(`\ncore budget ${kb(BUDGET)} min+gz: ${core.gzipped <= BUDGET ? "met" : "NOT met"} (${core.gzipped} bytes)`);
