import * as path from "node:path";
import { defineConfig } from "tsup";
import type { Plugin } from "esbuild";

/**
 * `edgemq/clea` imports the core as the package itself, so both entries share one copy of the core (and its error
 * classes): any import from src/clea/** that resolves to src/index.ts (`../index.js`, `../../index.js`, ...).
 */
const coreAsPackage: Plugin = {
  name: "core-as-package",
  setup(build) {
    build.onResolve({ filter: /^(\.\.\/)+index\.js$/ }, (args) => {
      if (!/[\\/]src[\\/]clea[\\/]/.test(args.importer)) return undefined;
      const target = path.resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
      return target === path.resolve("src/index.ts") ? { path: "edgemq", external: true } : undefined;
    });
  },
};

/**
 * The browser build of the core (the package's "browser" export condition): tcp.ts becomes tcp.browser.ts (mqtt://
 * refused with a message naming ws:// and wss://) and store/file.ts file.browser.ts (FileStore refuses to open), so
 * the bundle imports no node: built-in and a bundler targeting browsers needs no polyfill. Any node: import left
 * would become a module that fails when loaded (the browser test checks none is).
 */
const browserVariants: Plugin = {
  name: "browser-variants",
  setup(build) {
    build.onResolve({ filter: /^\.\/tcp\.js$/ }, (args) => ({ path: args.resolveDir + "/tcp.browser.ts" }));
    build.onResolve({ filter: /^\.\/store\/file\.js$/ }, (args) => ({ path: args.resolveDir + "/store/file.browser.ts" }));
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: "no-node-builtins" }));
    build.onLoad({ filter: /.*/, namespace: "no-node-builtins" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not available in a browser: FileStore needs a file system (use MemoryStore)`)});`,
      loader: "js",
    }));
  },
};

const node = defineConfig({
  entry: { index: "src/index.ts", "clea/index": "src/clea/index.ts" },
  format: ["esm", "cjs"],
  dts: true,
  clean: false, // the build script empties dist first (two configs build into it at once)
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
  // @peculiar/x509 and reflect-metadata: optional peers, imported dynamically by clea/certificates.ts only.
  external: [/^node:/, "bson", "pako", "edgemq", "@peculiar/x509", "reflect-metadata"],
  // tsup's default: ESM is split, so the MQTT 5 wire (a dynamic import) stays a chunk of its own that a 3.1.1
  // application never loads or bundles; CJS keeps one file.
  // Keep "node:" on built-in imports: Deno resolves built-ins only with the prefix.
  removeNodeProtocol: false,
  treeshake: true,
  esbuildPlugins: [coreAsPackage],
});

/** The `edgemq` command: it imports the package's own entries ("edgemq", "edgemq/clea"), resolved at run time. */
const cli = defineConfig({
  entry: { cli: "src/cli/main.ts" },
  format: ["esm"],
  dts: false,
  clean: false,
  sourcemap: false,
  target: "es2022",
  platform: "node",
  external: [/^node:/, "edgemq", "edgemq/clea"],
  splitting: false,
  removeNodeProtocol: false,
  treeshake: true,
});

const browser = defineConfig({
  entry: { "browser/index": "src/index.ts" },
  format: ["esm"],
  dts: false,
  clean: false,
  sourcemap: true,
  target: "es2022",
  platform: "browser",
  // Split like the node build: the MQTT 5 wire is a chunk of its own.
  removeNodeProtocol: false, // the plugin recognises built-ins by their prefix
  treeshake: true,
  esbuildPlugins: [browserVariants],
});

export default [node, browser, cli];
