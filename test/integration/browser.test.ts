/**
 * The browser build, as a web app ships it (issue #14): test/browser/page.ts imports "edgemq" from an app directory
 * whose node_modules/edgemq is this package (built), esbuild bundles it for the browser with no other setting (no
 * alias, no external, no polyfill), and headless Chromium runs it against aedes over WebSocket. The page reports each
 * step back to the server that serves it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startAedesWebSocket, type WebSocketBroker } from "../support/aedes.ts";
import { ensureBuilt } from "../support/built-package.ts";

const root = path.resolve(import.meta.dirname, "../..");
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => fs.existsSync(p));

let app: string;
let broker: WebSocketBroker;

beforeAll(async () => {
  await ensureBuilt();
  app = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-browser-"));
  fs.mkdirSync(path.join(app, "node_modules"));
  fs.symlinkSync(root, path.join(app, "node_modules", "edgemq"), "dir");
  fs.copyFileSync(path.join(root, "test/browser/page.ts"), path.join(app, "page.ts"));
  broker = await startAedesWebSocket();
}, 180_000);

afterAll(async () => {
  await broker?.close();
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

/** `esbuild --bundle --platform=browser --format=esm --minify page.ts`, from the app directory. */
async function bundle(): Promise<string> {
  const result = await build({ entryPoints: [path.join(app, "page.ts")], absWorkingDir: app, bundle: true, platform: "browser", format: "esm", minify: true, write: false, logLevel: "silent" });
  return result.outputFiles[0]!.text;
}

it("a page importing { connect } from \"edgemq\" bundles for the browser with no flags and carries no node: built-in", async () => {
  const code = await bundle();
  expect(code).not.toMatch(/node:/);
  // Without --splitting esbuild inlines the dynamic import of the MQTT 5 part (~7.5 KB gz); Vite, webpack and Rollup
  // split it by default, and so does esbuild with --splitting: then the page's entry stays under 24 KB (below).
  expect(gzipSync(code).length).toBeLessThan(32 * 1024);
  const split = await build({ entryPoints: [path.join(app, "page.ts")], absWorkingDir: app, bundle: true, splitting: true, outdir: path.join(app, "out"), platform: "browser", format: "esm", minify: true, write: false, logLevel: "silent", metafile: true });
  const entry = split.outputFiles.find((f) => f.path.endsWith("page.js"))!;
  expect(split.outputFiles.some((f) => /client5-/.test(f.path))).toBe(true); // the MQTT 5 part, a chunk of its own
  expect(gzipSync(entry.contents).length).toBeLessThan(24 * 1024);
});

it("runs in headless Chromium against aedes over WebSocket: mqtt:// refused naming ws://, QoS 0/1/2 round trips, a reconnect after the server drops the socket, end", async () => {
  expect(CHROMIUM, "Chromium is needed (Debian package chromium; .ci/run installs it)").toBeDefined();
  const code = await bundle();
  let settle!: (r: { ok: boolean; steps: unknown[][]; error?: string }) => void;
  const result = new Promise<{ ok: boolean; steps: unknown[][]; error?: string }>((resolve) => (settle = resolve));
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url === "/app.js") res.writeHead(200, { "content-type": "text/javascript" }).end(code);
      else if (req.url === "/result") {
        res.writeHead(204).end();
        settle(JSON.parse(body));
      } else if (req.url === "/drop") {
        for (const client of connected) client.close();
        res.writeHead(204).end();
      } else if (req.url?.startsWith("/?")) res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script type="module" src="/app.js"></script>');
      else res.writeHead(404).end();
    });
  });
  const connected = new Set<{ close(): void }>();
  broker.aedes.on("client", (c) => connected.add(c));
  broker.aedes.on("clientDisconnect", (c) => connected.delete(c));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-chromium-"));
  let chromium: ChildProcess | undefined;
  try {
    const page = `http://127.0.0.1:${port}/?broker=${encodeURIComponent(`ws://127.0.0.1:${broker.port}`)}`;
    chromium = spawn(CHROMIUM!, ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", `--user-data-dir=${profile}`, page], {
      stdio: "ignore",
      detached: true,
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the page reported nothing within 60 s")), 60_000).unref());
    const outcome = await Promise.race([result, timeout]);
    expect(outcome.error).toBeUndefined();
    expect(outcome.steps[0]).toEqual(["mqtt-refused", "OptionsError", expect.stringMatching(/ws:\/\/ or wss:\/\//)]);
    expect(outcome.steps.slice(1)).toEqual([
      ["round-trip", "browser/q0", "hello 0", 0],
      ["round-trip", "browser/q1", "hello 1", 1],
      ["round-trip", "browser/q2", "hello 2", 2],
      ["reconnected"],
      ["after-reconnect", "browser/after", "again"],
      ["ended", false],
    ]);
    expect(outcome.ok).toBe(true);
  } finally {
    if (chromium?.pid) {
      try {
        process.kill(-chromium.pid, "SIGKILL"); // the browser and every process it started, nothing else
      } catch {
        // already gone
      }
    }
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}, 120_000);
