/**
 * Import cost (issue #7): the core loads its Node built-ins on first use, not when it is imported. node:net and
 * node:tls come with the first TCP / TLS connection (src/transport/tcp.ts), node:fs, node:path and node:process
 * with the first FileStore.open(), node:crypto only for a client id too long to be a file name (src/store/file.ts).
 * These tests guard that no static `node:` import creeps back into the core bundle, and that the deferred loading
 * changed nothing a caller sees: errors, and the one-open-at-a-time checks of FileStore.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { FileStore, StoreError, tcpTransport, type ConnectionHandlers } from "../src/index.ts";

const root = path.resolve(import.meta.dirname, "..");

/** The core bundled as tsup builds dist/index.js (bundle, ES2022, platform neutral, node:* external), in memory. */
async function coreImports(): Promise<Array<{ path: string; kind: string }>> {
  const result = await build({
    entryPoints: [path.join(root, "src", "index.ts")],
    bundle: true,
    write: false,
    outfile: "index.js",
    format: "esm",
    target: "es2022",
    platform: "neutral",
    external: ["node:*"],
    treeShaking: true,
    metafile: true,
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs).flatMap((o) => o.imports.map(({ path, kind }) => ({ path, kind })));
}

describe("the core's Node built-ins", () => {
  it("are not imported statically by the bundle (`import \"edgemq\"` loads none of them)", async () => {
    const imports = await coreImports();
    expect(imports.filter((i) => i.kind !== "dynamic-import")).toEqual([]);
    expect(new Set(imports.map((i) => i.path))).toEqual(
      new Set(["node:net", "node:tls", "node:fs", "node:path", "node:process", "node:crypto"]),
    );
  });
});

const handlers: ConnectionHandlers = { onData: () => {}, onClose: () => {}, onDrain: () => {} };

describe("tcpTransport with node:net / node:tls loaded on demand", () => {
  it("rejects with the error tls.connect throws for an unusable key, as when it was imported statically", async () => {
    let thrown: unknown;
    try {
      tls.connect({ host: "127.0.0.1", port: 1, key: "not a key", cert: "not a certificate" }).destroy();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Error);
    const attempt = tcpTransport(new URL("mqtts://127.0.0.1:1"), { tls: { key: "not a key", cert: "not a certificate" } }, handlers);
    await expect(attempt).rejects.toThrow((thrown as Error).message);
    await expect(attempt).rejects.toMatchObject({ code: (thrown as { code?: string }).code });
  });

  it("rejects a refused mqtt:// and mqtts:// connection with the socket's error", async () => {
    // A port that was just free: nothing listens on it.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    for (const scheme of ["mqtt", "mqtts"]) {
      await expect(tcpTransport(new URL(`${scheme}://127.0.0.1:${port}`), {}, handlers)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    }
  });
});

describe("FileStore with node:fs loaded by open()", () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-lazy-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it("two concurrent open()s of one store: one opens, the other is refused", async () => {
    const s = new FileStore(fresh());
    const results = await Promise.allSettled([s.open("c1"), s.open("c1")]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(StoreError);
    expect(String(refused.reason.message)).toMatch(/already open/);
    await s.close();
  });

  it("two FileStores opening one log concurrently, with a short or a hashed (very long) client id: one is refused", async () => {
    for (const id of ["c1", "x".repeat(500)]) {
      const dir = fresh();
      const a = new FileStore(dir);
      const b = new FileStore(dir);
      const results = await Promise.allSettled([a.open(id), b.open(id)]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
      expect(String((results[1] as PromiseRejectedResult).reason.message)).toMatch(/already open by another FileStore/);
      await a.close();
      await b.open(id);
      await b.close();
    }
  });
});
