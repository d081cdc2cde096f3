/**
 * FileStore across processes, where it lives (child processes on the built package): a second process on the same
 * directory and client id is refused while the first lives and takes over once it was killed; a log larger than
 * the memory it may use is read piece by piece.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileStore, StoreError } from "../../src/index.ts";
import { encodeEntry, Op } from "../../src/store/log-format.ts";
import { ensureBuilt } from "../support/built-package.ts";

const child = path.resolve(import.meta.dirname, "../integration/fixtures/store-child.mjs");
const root = path.resolve(import.meta.dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-store-process-"));
beforeAll(() => ensureBuilt(), 240_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(mode: "hold" | "load", dir: string, id: string): { proc: ChildProcess; lines: string[]; firstLine: Promise<string>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [child, mode, dir, id], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let buffered = "";
  const firstLine = new Promise<string>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
      if (lines.length > 0) resolve(lines[0]!);
    });
    proc.once("exit", () => (lines.length > 0 ? resolve(lines[0]!) : reject(new Error("the child exited without output"))));
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, lines, firstLine, exited };
}

describe("FileStore and other processes", () => {
  it("a second process on the same store is refused with store-locked; a SIGKILLed owner's lock is taken over", async () => {
    const dir = path.join(tmp, "locked");
    const holder = run("hold", dir, "gw-1");
    try {
      expect(await holder.firstLine).toBe("open");
      const second = new FileStore(dir);
      const err = await second.open("gw-1").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe("store-locked");
      const other = run("load", dir, "gw-1");
      expect(await other.firstLine).toBe("error store-locked");
      // a different client id in the same directory is another store
      const neighbour = new FileStore(dir);
      await neighbour.open("gw-2");
      await neighbour.close();
    } finally {
      holder.proc.kill("SIGKILL");
      await holder.exited;
    }
    const after = new FileStore(dir);
    await after.open("gw-1"); // the dead owner's lock is stale: taken over
    after.putOutgoing({ seq: 1, packetId: 0, state: "publish", topic: "t", payload: new Uint8Array(1), qos: 1, retain: false });
    await after.close();
    expect(fs.existsSync(path.join(dir, "gw-1.log.lock"))).toBe(false); // released on close
  }, 30_000);

  it("a 400 MB log is read piece by piece: the process never holds it whole", async () => {
    const dir = path.join(tmp, "big");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "gw-big.log");
    const payload = new Uint8Array(1 << 20).fill(3);
    const fd = fs.openSync(file, "w");
    try {
      for (let seq = 1; seq <= 400; seq++) {
        fs.writeSync(fd, encodeEntry({ op: Op.PutOutgoing, record: { seq, packetId: 0, state: "publish", topic: "t", payload, qos: 1, retain: false } }));
        if (seq % 100 !== 0) fs.writeSync(fd, encodeEntry({ op: Op.DeleteOutgoing, seq })); // 4 stay live
      }
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.statSync(file).size).toBeGreaterThan(400 << 20);
    const loader = run("load", dir, "gw-big");
    const line = await loader.firstLine;
    expect(await loader.exited).toBe(0);
    const result = JSON.parse(line) as { outgoing: number; warnings: number; maxRssMb: number };
    expect(result.outgoing).toBe(4);
    expect(result.warnings).toBe(0);
    console.log(`opening a 400 MB log: peak RSS ${result.maxRssMb} MB`);
    expect(result.maxRssMb).toBeLessThan(200); // reading it whole takes more than 400 MB
    expect(fs.statSync(file).size).toBeLessThan(5 << 20); // compacted to the live records
  }, 120_000);
});
