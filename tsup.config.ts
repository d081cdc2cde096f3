import { defineConfig } from "tsup";
import type { Plugin } from "esbuild";

/** `edgemq/clea` imports the core as the package itself, so both entries share one copy of the core (and its error classes). */
const coreAsPackage: Plugin = {
  name: "core-as-package",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) =>
      /[\\/]src[\\/]clea[\\/]/.test(args.importer) ? { path: "edgemq", external: true } : undefined,
    );
  },
};

export default defineConfig({
  entry: { index: "src/index.ts", "clea/index": "src/clea/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
  // @peculiar/x509 and reflect-metadata: optional peers, imported dynamically by clea/certificates.ts only.
  external: [/^node:/, "bson", "pako", "edgemq", "@peculiar/x509", "reflect-metadata"],
  splitting: false,
  // Keep "node:" on built-in imports: Deno resolves built-ins only with the prefix.
  removeNodeProtocol: false,
  treeshake: true,
  esbuildPlugins: [coreAsPackage],
});
