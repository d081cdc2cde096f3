/**
 * Error classes (and Client) keep their names in every build (DESIGN.md, "Contract details added with the hardening
 * work"): `err.name === "ConnectError"`, not esbuild's "_ConnectError" nor a minifier's "e". Checked on the built
 * package as a program loads it (dist/, ESM and CommonJS, both entries) and on a minified bundle of the sources, as
 * an application that bundles edgemq ships it.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./support/built-package.ts";
import { freePort } from "./support/mosquitto.ts";

const root = path.resolve(import.meta.dirname, "..");
type Module = Record<string, unknown>;
type Ctor = new (...args: unknown[]) => Error;

/** Every error class each entry exports, with arguments its constructor takes. */
const CORE_ERRORS: Record<string, unknown[]> = {
  EdgemqError: ["some-code", "message"],
  ProtocolError: ["invalid-qos", "message"],
  TopicError: ["invalid-topic", "a/+", "reason"],
  ConnectError: ["connect-timeout", "message"],
  SubscribeError: [["a"], [0x80]],
  PublishError: ["invalid-payload", "message"],
  ClientClosedError: [],
  ConnectionLostError: ["connection-lost", "message"],
  OptionsError: ["message"],
  ClientWarning: ["slow-consumer", "message"],
  ListenerError: ["message", new Error("thrown")],
  RequestTimeoutError: ["message"],
  AuthError: ["auth-malformed", "message"],
  StoreError: ["message"],
};
const CLEA_ERRORS: Record<string, unknown[]> = {
  PayloadError: ["unexpected-value-type", "message"],
  InterfaceError: ["invalid-interface", "message"],
  PairingError: ["http-error", "message"],
  OtaError: ["invalid-report", "message"],
  DeviceWarning: ["data-dropped", "message"],
};

function expectNames(mod: Module, errors: Record<string, unknown[]>, where: string): void {
  for (const [name, args] of Object.entries(errors)) {
    const Cls = mod[name] as Ctor | undefined;
    expect(Cls, `${where} exports ${name}`).toBeTypeOf("function");
    const err = new Cls!(...args);
    expect(err.name, `${where}: new ${name}().name`).toBe(name);
    expect(String(err).startsWith(`${name}: `), `${where}: String(new ${name}())`).toBe(true);
  }
}

describe("the built package (dist/)", () => {
  const loaded: Record<string, Module> = {};
  beforeAll(async () => {
    await ensureBuilt();
    const require = createRequire(import.meta.url);
    loaded["dist/index.js"] = (await import(pathToFileURL(path.join(root, "dist/index.js")).href)) as Module;
    loaded["dist/index.cjs"] = require(path.join(root, "dist/index.cjs")) as Module;
    loaded["dist/clea/index.js"] = (await import(pathToFileURL(path.join(root, "dist/clea/index.js")).href)) as Module;
    loaded["dist/clea/index.cjs"] = require(path.join(root, "dist/clea/index.cjs")) as Module;
  }, 180_000);

  it.each(["dist/index.js", "dist/index.cjs"])("%s: every error class and Client keep their names", (file) => {
    const mod = loaded[file]!;
    expectNames(mod, CORE_ERRORS, file);
    expect((mod.Client as { name: string }).name).toBe("Client");
  });

  it.each(["dist/clea/index.js", "dist/clea/index.cjs"])("%s: the Clea error classes keep their names", (file) => {
    expectNames(loaded[file]!, CLEA_ERRORS, file);
  });

  it("a real refusal from the built package is a ConnectError by name", async () => {
    const mod = loaded["dist/index.js"]!;
    const connect = mod.connect as (o: object) => Promise<unknown>;
    const port = await freePort();
    const err = await connect({ url: `mqtt://127.0.0.1:${port}`, reconnect: false, connectTimeout: 5000 }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err).toBeInstanceOf(mod.ConnectError as Ctor);
    expect(err).toMatchObject({ name: "ConnectError", code: "connection-failed" });
  });

  it.each([
    ["dist/index.js", "dist/clea/index.js"],
    ["dist/index.cjs", "dist/clea/index.cjs"],
  ])("%s and %s share one core: an error the core throws for edgemq/clea (its simulator included) is the core's class", (coreFile, cleaFile) => {
    const core = loaded[coreFile]!;
    const clea = loaded[cleaFile]!;
    const Simulator = clea.AstarteSimulator as new (o: object) => unknown;
    let thrown: unknown;
    try {
      new Simulator({ realm: "acme", url: "bogus://x" });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(core.OptionsError as Ctor);
    expect(clea.EdgemqError).toBe(core.EdgemqError);
  });
});

describe("a minified bundle of the sources (as an application ships edgemq)", () => {
  let core: Module;
  let clea: Module;
  beforeAll(async () => {
    const dir = path.join(root, ".tmp", "error-names");
    fs.mkdirSync(dir, { recursive: true });
    const result = await build({
      entryPoints: { core: path.join(root, "src/index.ts"), clea: path.join(root, "src/clea/index.ts") },
      bundle: true,
      minify: true,
      format: "esm",
      target: "es2022",
      platform: "node",
      external: ["node:*", "bson", "pako", "@peculiar/x509", "reflect-metadata"],
      outdir: dir,
      outExtension: { ".js": ".mjs" },
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    core = (await import(pathToFileURL(path.join(dir, "core.mjs")).href)) as Module;
    clea = (await import(pathToFileURL(path.join(dir, "clea.mjs")).href)) as Module;
  }, 60_000);

  it("every core error class and Client keep their names", () => {
    expectNames(core, CORE_ERRORS, "minified core");
    expect((core.Client as { name: string }).name).toBe("Client");
  });

  it("every Clea error class keeps its name", () => {
    expectNames(clea, CLEA_ERRORS, "minified clea");
  });
});
