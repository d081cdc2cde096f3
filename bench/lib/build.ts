/**
 * Benchmarks run as plain JavaScript bundles, not through tsx: tsx compiles with esbuild's keepNames, which wraps
 * every function and closure in `__name(fn, "name")` (an Object.defineProperty per closure creation, and a property
 * backing store on every closure: about 3.7 KB per idle edgemq client, and CPU on every publish). Libraries from
 * node_modules (MQTT.js) are not transformed, so running edgemq from src/ under tsx would handicap it. A bundle made
 * here inlines src/ (as an application's bundler would) and leaves packages external.
 */
import { build } from "esbuild";
import * as path from "node:path";
import { root } from "./root.ts";

/** Bundles bench/<name>.ts (or any entry under the root) to .tmp/bench/build/<name>.mjs; returns its path. */
export async function buildScript(entry: string): Promise<string> {
  const name = path.basename(entry).replace(/\.ts$/, "");
  const outfile = path.join(root, ".tmp", "bench", "build", `${name}.mjs`);
  await build({
    entryPoints: [path.resolve(root, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    logLevel: "warning",
    absWorkingDir: root,
  });
  return outfile;
}
