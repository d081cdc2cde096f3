/**
 * Bundle size as an application would ship it: esbuild bundle + minify (ESM, ES2022, tree-shaken), measured raw and
 * gzipped (level 9). Shared by bench/size.ts and test/size-budget.test.ts so both measure the same way.
 */
import { build, type Plugin } from "esbuild";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { root } from "./root.ts";

export { root };

/** Sizes of one bundle in bytes. */
export interface BundleSize {
  /** What the application loads at start: the entry chunk and the chunks it imports statically. */
  minified: number;
  gzipped: number;
  /** Chunks loaded only through a dynamic import() (MQTT 5's wire): shipped beside the bundle, loaded when used. */
  lazyMinified: number;
  lazyGzipped: number;
  /** Minified bytes each input file contributes (esbuild metafile `bytesInOutput`), by path from the root. */
  modules?: Record<string, number>;
  /** The minified code itself. */
  code?: Uint8Array;
}

/** What to bundle. */
export interface BundleInput {
  /** An entry file (absolute or relative to the repository root), or `contents` instead. */
  entry?: string;
  /** Source of a virtual entry module (e.g. `export * from "mqtt"`), resolved from the repository root. */
  contents?: string;
  /** Module names left out (node:* and Node built-ins are always external with platform "node"). */
  external?: string[];
  /** Default "node": built-ins external. */
  platform?: "node" | "neutral" | "browser";
  /** Leave out the core when bundling src/clea (its `../index.js` import), to size the Clea layer alone. */
  externalCore?: boolean;
}

/** src/clea imports the core as `../index.js`; this marks that import external (as tsup does for the package). */
const coreExternal: Plugin = {
  name: "core-external",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) => (/[\\/]src[\\/]clea[\\/]/.test(args.importer) ? { path: "edgemq", external: true } : undefined));
  },
};

/** The virtual entry module of a `contents` bundle. */
const ENTRY = "edgemq-size-entry";

/**
 * Bundles and minifies in memory with code splitting, as an application bundler ships dynamic imports: the sizes of
 * what loads at start (entry plus static imports) and, apart, of the chunks only a dynamic import() loads.
 */
export async function bundleSize(input: BundleInput): Promise<BundleSize> {
  const virtual: Plugin = {
    name: "virtual-entry",
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${ENTRY}$`) }, () => ({ path: ENTRY, namespace: "virtual" }));
      b.onLoad({ filter: /.*/, namespace: "virtual" }, () => ({ contents: input.contents, resolveDir: root, loader: "ts" }));
    },
  };
  const result = await build({
    entryPoints: [input.contents !== undefined ? ENTRY : path.resolve(root, input.entry!)],
    bundle: true,
    minify: true,
    write: false,
    splitting: true,
    outdir: path.join(root, ".size-out"),
    format: "esm",
    target: "es2022",
    platform: input.platform ?? "node",
    external: ["node:*", ...(input.external ?? [])],
    treeShaking: true,
    legalComments: "none",
    logLevel: "silent",
    absWorkingDir: root,
    metafile: true,
    plugins: [...(input.externalCore ? [coreExternal] : []), ...(input.contents !== undefined ? [virtual] : [])],
  });
  const outputs = result.metafile.outputs;
  const key = (file: string) => path.relative(root, file);
  // What loads at start: the entry chunk and, transitively, what it imports statically.
  const eager = new Set<string>();
  const visit = (out: string) => {
    if (eager.has(out)) return;
    eager.add(out);
    for (const imp of outputs[out]?.imports ?? []) if (imp.kind === "import-statement" && outputs[imp.path]) visit(imp.path);
  };
  // A dynamically imported module is an entry point of its own in the metafile: only the application's entry counts.
  const entryId = input.contents !== undefined ? `virtual:${ENTRY}` : key(path.resolve(root, input.entry!));
  for (const [out, meta] of Object.entries(outputs)) if (meta.entryPoint === entryId) visit(out);
  const modules: Record<string, number> = {};
  for (const out of eager) {
    for (const [file, { bytesInOutput }] of Object.entries(outputs[out]!.inputs)) modules[file] = (modules[file] ?? 0) + bytesInOutput;
  }
  const files = result.outputFiles.filter((f) => !f.path.endsWith(".map"));
  const join = (parts: Uint8Array[]) => {
    const all = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of parts) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  };
  const code = join(files.filter((f) => eager.has(key(f.path))).map((f) => f.contents));
  const lazy = join(files.filter((f) => !eager.has(key(f.path))).map((f) => f.contents));
  return {
    minified: code.length,
    gzipped: gzipSync(code, { level: 9 }).length,
    lazyMinified: lazy.length,
    lazyGzipped: lazy.length === 0 ? 0 : gzipSync(lazy, { level: 9 }).length,
    modules,
    code,
  };
}

/** The `edgemq` core as an application bundles it (src/index.ts, node:* external). */
export function coreSize(): Promise<BundleSize> {
  return bundleSize({ entry: "src/index.ts" });
}

/**
 * What an application that imports only `names` from "edgemq" ships, tree-shaken (as the size-limit tool measures
 * an `import { ... }`): the entry re-exports those names from src/index.ts.
 */
export function appSize(names: readonly string[]): Promise<BundleSize> {
  return bundleSize({ contents: `export { ${names.join(", ")} } from "./src/index.ts";` });
}
