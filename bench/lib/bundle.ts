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
  minified: number;
  gzipped: number;
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

/** Bundles and minifies in memory; returns the sizes. */
export async function bundleSize(input: BundleInput): Promise<BundleSize> {
  const result = await build({
    ...(input.contents !== undefined
      ? { stdin: { contents: input.contents, resolveDir: root, loader: "ts", sourcefile: "entry.ts" } }
      : { entryPoints: [path.resolve(root, input.entry!)] }),
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    target: "es2022",
    platform: input.platform ?? "node",
    external: ["node:*", ...(input.external ?? [])],
    treeShaking: true,
    legalComments: "none",
    logLevel: "silent",
    absWorkingDir: root,
    metafile: true,
    plugins: input.externalCore ? [coreExternal] : [],
  });
  const modules: Record<string, number> = {};
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) modules[file] = (modules[file] ?? 0) + bytesInOutput;
  }
  const code = result.outputFiles.map((f) => f.contents);
  const bytes = code.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(bytes);
  let at = 0;
  for (const c of code) {
    all.set(c, at);
    at += c.length;
  }
  return { minified: bytes, gzipped: gzipSync(all, { level: 9 }).length, modules, code: all };
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
