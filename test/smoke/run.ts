/**
 * Entry of the Deno and Bun suites: `deno run -A test/smoke/run.ts` (imports src/ directly) and
 * `bun test/smoke/run.ts` (imports the built package by name). Prints "N passed, N failed".
 */
import { run } from "./harness.ts";
import { codecSmoke } from "./codec.smoke.ts";
import { clientSmoke } from "./client.smoke.ts";
import { cleaSmoke } from "./clea.smoke.ts";
import { lifetimeSmoke } from "./lifetime.smoke.ts";
import { flowControlSmoke } from "./flow-control.smoke.ts";
import { cliSmoke } from "./cli.smoke.ts";
import { edgehogSmoke } from "./edgehog.smoke.ts";
import { mqtt5Smoke } from "./mqtt5.smoke.ts";

type Global = { Deno?: { exit(code: number): never }; Bun?: unknown; process?: { exit(code: number): never } };
const g = globalThis as unknown as Global;
const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";

// Deno runs the TypeScript sources; Bun runs the package as published (dist/, resolved through `exports`).
// The package is imported by name through a variable, so typechecking does not depend on dist/ being built.
const packageName = "edgemq";
const cleaName = "edgemq/clea";
const core: unknown = runtime === "deno" ? await import("../../src/index.ts") : await import(packageName);
const cleaModule: unknown = runtime === "deno" ? await import("../../src/clea/index.ts") : await import(cleaName);
const root = new URL("../..", import.meta.url).pathname;

const api = core as typeof import("../../src/index.ts");
codecSmoke(api);
clientSmoke(api);
cleaSmoke(api, cleaModule as typeof import("../../src/clea/index.ts"), root);
lifetimeSmoke(api, runtime, root);
flowControlSmoke(api);
cliSmoke(runtime, root);
edgehogSmoke(cleaModule as typeof import("../../src/clea/index.ts"));
mqtt5Smoke(api);

const code = await run(runtime);
if (g.Deno) g.Deno.exit(code);
else g.process?.exit(code);
