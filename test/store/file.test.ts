import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { FileStore, MemoryStore, StoreError, type OutgoingRecord, type Store, type StoreSnapshot } from "../../src/index.ts";
import { concat as concatParts } from "../mqtt/hex.ts";
import { mulberry32 } from "../support/fault-proxy.ts";
import { crc32 } from "../../src/store/crc32.ts";
import { encodeEntry, Op, scanLog, type LogEntry } from "../../src/store/log-format.ts";
import { rec, storeContract } from "./contract.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-filestore-"));
let dirs = 0;
/** A new, not yet existing directory under this file's temporary root. */
const fresh = () => path.join(root, `d${++dirs}`);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const dirOf = new WeakMap<Store, string>();
storeContract("FileStore", {
  create: () => {
    const dir = fresh();
    const s = new FileStore(dir);
    dirOf.set(s, dir);
    return s;
  },
  reopen: (previous) => {
    const s = new FileStore(dirOf.get(previous)!);
    dirOf.set(s, dirOf.get(previous)!);
    return s;
  },
});

/** Deterministic random numbers. */
const rng = mulberry32;

function randomBytes(next: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatParts(parts);

const encodeAll = (entries: LogEntry[]) => concat(...entries.map(encodeEntry));

/** The .log files directly in `dir`. */
const logsIn = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith(".log"));

/** The log file a FileStore on `dir` uses for `clientId` (created empty by an open and close). */
async function logPath(dir: string, clientId = "c1"): Promise<string> {
  const before = fs.existsSync(dir) ? new Set(logsIn(dir)) : new Set<string>();
  const s = new FileStore(dir);
  await s.open(clientId);
  await s.close();
  const created = logsIn(dir).filter((f) => !before.has(f));
  expect(created).toHaveLength(1);
  return path.join(dir, created[0]!);
}

/** Opens a new FileStore on `dir` and closes it again. */
async function load(dir: string, clientId = "c1"): Promise<StoreSnapshot> {
  const s = new FileStore(dir);
  const snap = await s.open(clientId);
  await s.close();
  return snap;
}

const size = (file: string) => fs.statSync(file).size;

describe("FileStore files", () => {
  it("a record is in the file as soon as putOutgoing returns (a killed process keeps it)", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    const s = new FileStore(dir);
    await s.open("c1");
    s.putOutgoing(rec(1));
    s.updateOutgoing(1, 5, "publish");
    const { entries, skipped } = scanLog(new Uint8Array(fs.readFileSync(file)));
    expect(skipped).toEqual([]);
    expect(entries).toEqual([
      { op: Op.PutOutgoing, record: rec(1) },
      { op: Op.UpdateOutgoing, seq: 1, packetId: 5, state: "publish" },
    ]);
    await s.close();
  });

  it("different client ids use different files", async () => {
    const dir = fresh();
    const a = new FileStore(dir);
    const b = new FileStore(dir);
    await a.open("gw-01");
    await b.open("gw-02");
    a.putOutgoing(rec(1, { topic: "from-a" }));
    b.putOutgoing(rec(1, { topic: "from-b" }));
    await a.close();
    await b.close();
    expect(logsIn(dir)).toHaveLength(2);
    expect((await load(dir, "gw-01")).outgoing).toEqual([rec(1, { topic: "from-a" })]);
    expect((await load(dir, "gw-02")).outgoing).toEqual([rec(1, { topic: "from-b" })]);
    expect((await load(dir, "gw-03")).outgoing).toEqual([]);
  });

  it('client ids like "../x", "a/b", "" and "." stay inside the directory, each in a file of its own', async () => {
    const base = fresh();
    const dir = path.join(base, "store");
    const ids = ["../x", "a/b", "", ".", "..", "/", "%", "%25", "x", "..\\x", "a\u0000b", "~", "*", " ", "ü"];
    for (const id of ids) {
      const s = new FileStore(dir);
      await s.open(id);
      s.putOutgoing(rec(1, { topic: `id=${JSON.stringify(id)}` }));
      await s.close();
    }
    const everything = fs.readdirSync(base, { recursive: true, withFileTypes: true });
    expect(everything.filter((e) => e.isDirectory()).map((e) => e.name)).toEqual(["store"]);
    const files = everything.filter((e) => !e.isDirectory());
    expect(files.every((e) => e.parentPath === dir)).toBe(true);
    expect(files.map((e) => e.name).filter((n) => n.endsWith(".log"))).toHaveLength(ids.length);
    expect(files).toHaveLength(ids.length); // no .tmp left behind
    for (const id of ids) expect((await load(dir, id)).outgoing).toEqual([rec(1, { topic: `id=${JSON.stringify(id)}` })]);
  });

  it("very long client ids get distinct files with names the file system accepts", async () => {
    const dir = fresh();
    const ids = ["a".repeat(1000), `${"a".repeat(999)}b`, "温".repeat(400), `${"温".repeat(399)}度`, "b".repeat(180)];
    for (const id of ids) {
      const s = new FileStore(dir);
      await s.open(id);
      s.putOutgoing(rec(1, { topic: `len=${id.length}/${id.slice(-1)}` }));
      await s.close();
    }
    expect(logsIn(dir)).toHaveLength(ids.length);
    for (const name of fs.readdirSync(dir)) expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(255);
    for (const id of ids) expect((await load(dir, id)).outgoing[0]!.topic).toBe(`len=${id.length}/${id.slice(-1)}`);
  });
});

describe("FileStore open and close", () => {
  it("opening an open store again throws StoreError, for the same or another client id", async () => {
    const s = new FileStore(fresh());
    await s.open("c1");
    await expect(s.open("c1")).rejects.toBeInstanceOf(StoreError);
    await expect(s.open("c2")).rejects.toMatchObject({ code: "store-error" });
    await s.close();
  });

  it("a second FileStore on the same directory and client id is refused while the first is open", async () => {
    const dir = fresh();
    const first = new FileStore(dir);
    await first.open("c1");
    first.putOutgoing(rec(1));
    await expect(new FileStore(dir).open("c1")).rejects.toBeInstanceOf(StoreError);
    await expect(new FileStore(`${dir}${path.sep}.${path.sep}`).open("c1")).rejects.toBeInstanceOf(StoreError);
    const other = new FileStore(dir);
    await other.open("c2"); // another client id is another log
    await other.close();
    await first.close();
    expect((await load(dir)).outgoing).toEqual([rec(1)]);
  });

  it("a closed store can be opened again and sees the same state", async () => {
    const dir = fresh();
    const s = new FileStore(dir);
    await s.open("c1");
    s.putOutgoing(rec(1));
    s.putIncoming(4);
    await s.close();
    await s.close(); // closing twice is harmless
    expect(await s.open("c1")).toEqual({ outgoing: [rec(1)], incoming: [4], warnings: [] });
    await s.close();
  });

  it("reopening an instance reads the file again instead of keeping stale memory", async () => {
    const dir = fresh();
    const s = new FileStore(dir);
    await s.open("c1");
    s.putOutgoing(rec(1));
    s.putOutgoing(rec(2));
    await s.close();
    const other = new FileStore(dir);
    await other.open("c1");
    other.deleteOutgoing(1);
    await other.close();
    await load(dir); // compacts: the log no longer mentions seq 1 at all
    expect((await s.open("c1")).outgoing).toEqual([rec(2)]);
    await s.close();
  });

  it("mutations before open or after close throw StoreError and are not remembered", async () => {
    const dir = fresh();
    const s = new FileStore(dir);
    expect(() => s.putOutgoing(rec(1))).toThrow(StoreError);
    expect(() => s.putIncoming(1)).toThrow(StoreError);
    await s.open("c1");
    await s.close();
    expect(() => s.putOutgoing(rec(2))).toThrow(StoreError);
    expect((await s.open("c1")).outgoing).toEqual([]);
    await s.close();
  });

  it("a directory it cannot use gives a StoreError", async () => {
    const dir = fresh();
    fs.mkdirSync(dir);
    fs.mkdirSync(path.join(dir, "c1.log")); // a directory where the log should be
    await expect(new FileStore(dir).open("c1")).rejects.toBeInstanceOf(StoreError);
    // ...and the failed open did not leave the log marked as open
    fs.rmdirSync(path.join(dir, "c1.log"));
    expect(await load(dir)).toEqual({ outgoing: [], incoming: [], warnings: [] });
  });
});

describe("FileStore compaction", () => {
  it("open rewrites the log with only the live state", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    const s = new FileStore(dir);
    await s.open("c1");
    for (let seq = 1; seq <= 50; seq++) s.putOutgoing(rec(seq, { payload: new Uint8Array(100).fill(seq) }));
    for (let seq = 1; seq <= 50; seq++) s.updateOutgoing(seq, seq, "publish");
    for (let seq = 1; seq <= 45; seq++) s.deleteOutgoing(seq);
    s.putIncoming(1);
    s.putIncoming(2);
    s.deleteIncoming(1);
    await s.close();
    const before = size(file);

    const snap = await load(dir);
    const live = [46, 47, 48, 49, 50].map((seq) => rec(seq, { payload: new Uint8Array(100).fill(seq), packetId: seq }));
    expect(snap).toEqual({ outgoing: live, incoming: [2], warnings: [] });
    const compacted = encodeAll([...live.map((record) => ({ op: Op.PutOutgoing, record }) as const), { op: Op.PutIncoming, packetId: 2 }]);
    expect(size(file)).toBe(compacted.length);
    expect(size(file)).toBeLessThan(before / 5);
    expect(new Uint8Array(fs.readFileSync(file))).toEqual(compacted);
    expect(await load(dir)).toEqual({ outgoing: live, incoming: [2], warnings: [] });
  });

  it("compacts while running once the log passes compactAfterBytes and is mostly dead", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    const s = new FileStore(dir, { compactAfterBytes: 8192 });
    await s.open("c1");
    const keep = [rec(1, { packetId: 1 }), rec(2, { qos: 2, packetId: 2, state: "pubrel" }), rec(3)];
    for (const r of keep) s.putOutgoing(r);
    s.putIncoming(7);
    let largest = 0;
    let shrinks = 0;
    let previous = size(file);
    const measure = () => {
      const now = size(file);
      largest = Math.max(largest, now);
      if (now < previous) shrinks++;
      previous = now;
    };
    for (let i = 0; i < 1000; i++) {
      const seq = 10 + i;
      s.putOutgoing(rec(seq, { payload: new Uint8Array(200).fill(i & 0xff) }));
      measure();
      s.updateOutgoing(seq, (i % 65535) + 1, "publish");
      measure();
      s.deleteOutgoing(seq);
      measure();
    }
    // 1000 dead messages of ~250 bytes would be ~270 KB uncompacted
    expect(largest).toBeGreaterThanOrEqual(8192);
    expect(largest).toBeLessThan(8192 + 300);
    expect(shrinks).toBeGreaterThan(10);
    expect(size(file)).toBeLessThan(8192);
    await s.close();
    expect(await load(dir)).toEqual({ outgoing: keep, incoming: [7], warnings: [] });
  });

  it("does not rewrite a large log that is mostly live", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    const s = new FileStore(dir, { compactAfterBytes: 1024 });
    await s.open("c1");
    for (let seq = 1; seq <= 20; seq++) s.putOutgoing(rec(seq, { payload: new Uint8Array(200) }));
    const before = size(file);
    expect(before).toBeGreaterThan(1024);
    s.deleteOutgoing(1);
    expect(size(file)).toBe(before + encodeEntry({ op: Op.DeleteOutgoing, seq: 1 }).length);
    await s.close();
    expect((await load(dir)).outgoing.map((r) => r.seq)).toEqual(Array.from({ length: 19 }, (_, i) => i + 2));
  });

  it("a compaction that fails keeps the old log in use: nothing lost, nothing thrown, reported through open()'s warn", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    fs.mkdirSync(`${file}.tmp`); // the temporary file cannot be created
    const emitted = vi.spyOn(process, "emitWarning");
    const warnings: string[] = [];
    try {
      const s = new FileStore(dir, { compactAfterBytes: 2048 });
      // open's own compaction fails too, and that is an error: the store cannot promise anything
      await expect(s.open("c1")).rejects.toBeInstanceOf(StoreError);
      fs.rmdirSync(`${file}.tmp`);
      await s.open("c1", (w) => warnings.push(w));
      fs.mkdirSync(`${file}.tmp`);
      s.putOutgoing(rec(1));
      for (let seq = 2; seq < 200; seq++) {
        s.putOutgoing(rec(seq, { payload: new Uint8Array(100) }));
        s.deleteOutgoing(seq);
      }
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings[0]).toMatch(/compacting .* failed/);
      expect(warnings.length).toBeLessThan(10); // retried only as the log doubles
      expect(emitted).not.toHaveBeenCalled(); // nothing printed by the library itself
      expect(size(file)).toBeGreaterThan(2048 * 4);
      s.putOutgoing(rec(500));
      await s.close();
      fs.rmdirSync(`${file}.tmp`);
      expect(await load(dir)).toEqual({ outgoing: [rec(1), rec(500)], incoming: [], warnings: [] });
    } finally {
      emitted.mockRestore();
    }
  });

  it("a leftover .tmp from an interrupted compaction is ignored and overwritten", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    const good = [rec(1, { packetId: 1 }), rec(2)];
    fs.writeFileSync(file, encodeAll(good.map((record) => ({ op: Op.PutOutgoing, record }))));
    // A half-written compaction: valid-looking records of another state, then a torn one.
    const other = encodeAll([{ op: Op.PutOutgoing, record: rec(99, { topic: "stale" }) }, { op: Op.PutIncoming, packetId: 3 }]);
    fs.writeFileSync(`${file}.tmp`, concat(other, randomBytes(rng(1), 5000), other.subarray(0, 10)));
    expect(await load(dir)).toEqual({ outgoing: good, incoming: [], warnings: [] });
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    expect(await load(dir)).toEqual({ outgoing: good, incoming: [], warnings: [] });
  });

  it("a leftover .tmp without a log (the first compaction was interrupted) gives an empty store", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    fs.rmSync(file);
    fs.writeFileSync(`${file}.tmp`, encodeEntry({ op: Op.PutOutgoing, record: rec(5) }));
    expect(await load(dir)).toEqual({ outgoing: [], incoming: [], warnings: [] });
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });

  it("random operations with reopens and compactions leave the same state as a MemoryStore", async () => {
    for (let seed = 1; seed <= 5; seed++) {
      const next = rng(seed);
      const dir = fresh();
      const model = new MemoryStore();
      await model.open("c1");
      let s = new FileStore(dir, { compactAfterBytes: 2048 });
      await s.open("c1");
      let seq = 0;
      const live: number[] = [];
      for (let step = 0; step < 600; step++) {
        const x = next();
        const pick = () => live[Math.floor(next() * live.length)];
        const both = (f: (st: Store) => void) => {
          f(s);
          f(model);
        };
        if (x < 0.35 || live.length === 0) {
          const r = rec(++seq, { qos: next() < 0.5 ? 1 : 2, retain: next() < 0.2, payload: randomBytes(next, Math.floor(next() * 120)) });
          live.push(r.seq);
          both((st) => st.putOutgoing(r));
        } else if (x < 0.5) {
          const q = pick()!;
          const id = 1 + Math.floor(next() * 65535);
          const state: OutgoingRecord["state"] = next() < 0.5 ? "publish" : "pubrel";
          both((st) => st.updateOutgoing(q, id, state));
        } else if (x < 0.75) {
          const q = pick()!;
          live.splice(live.indexOf(q), 1);
          both((st) => st.deleteOutgoing(q));
        } else if (x < 0.85) {
          const id = 1 + Math.floor(next() * 20);
          const add = next() < 0.6;
          both((st) => (add ? st.putIncoming(id) : st.deleteIncoming(id)));
        } else if (x < 0.87) {
          both((st) => st.clearIncoming());
        } else if (x < 0.9) {
          await s.close();
          s = new FileStore(dir, { compactAfterBytes: 2048 });
          const snap = await s.open("c1");
          const expected = await model.open("c1");
          expect(snap.outgoing).toEqual(expected.outgoing);
          expect([...snap.incoming].sort((a, b) => a - b)).toEqual([...expected.incoming].sort((a, b) => a - b));
          expect(snap.warnings).toEqual([]);
        }
      }
      await s.close();
      const snap = await load(dir);
      const expected = await model.open("c1");
      expect(snap.outgoing).toEqual(expected.outgoing);
      expect([...snap.incoming].sort((a, b) => a - b)).toEqual([...expected.incoming].sort((a, b) => a - b));
    }
  });
});

describe("FileStore damage", () => {
  const A = rec(1, { packetId: 1 });
  const B = rec(2, { qos: 2, packetId: 2, payload: new Uint8Array([0xa5, 0, 0, 0, 1, 0xa5, 0xa5, 9, 9, 9]) });
  const C = rec(3, { retain: true, payload: new Uint8Array(64).fill(0xa5) });
  const put = (record: OutgoingRecord): LogEntry => ({ op: Op.PutOutgoing, record });

  it("a torn last record (the file cut at every byte of it) is skipped with a warning; every earlier record is kept", async () => {
    const head = encodeAll([put(A), put(B), { op: Op.UpdateOutgoing, seq: 2, packetId: 9, state: "pubrel" }, { op: Op.PutIncoming, packetId: 4 }]);
    const last = encodeEntry(put(C));
    const whole = concat(head, last);
    const earlier = [A, { ...B, packetId: 9, state: "pubrel" as const }];
    const dir = fresh();
    const file = await logPath(dir);
    for (let cut = head.length; cut <= whole.length; cut++) {
      fs.writeFileSync(file, whole.subarray(0, cut));
      const snap = await load(dir);
      expect(snap.incoming).toEqual([4]);
      if (cut === whole.length) {
        expect(snap.outgoing).toEqual([...earlier, C]);
        expect(snap.warnings).toEqual([]);
        continue;
      }
      expect(snap.outgoing).toEqual(earlier);
      expect(snap.warnings).toHaveLength(cut === head.length ? 0 : 1);
      // What is appended after a torn tail is readable: the damage is gone, not glued to the new record.
      const s = new FileStore(dir);
      await s.open("c1");
      s.putOutgoing(rec(4));
      await s.close();
      expect(await load(dir)).toEqual({ outgoing: [...earlier, rec(4)], incoming: [4], warnings: [] });
    }
  });

  it("a bit flip anywhere in a middle record skips that record with a warning and keeps the records before and after it", async () => {
    const a = encodeEntry(put(A));
    const b = encodeEntry(put(B));
    const rest = encodeAll([put(C), { op: Op.PutIncoming, packetId: 8 }]);
    const whole = concat(a, b, rest);
    const dir = fresh();
    const file = await logPath(dir);
    for (let i = 0; i < b.length; i++) {
      const damaged = whole.slice();
      damaged[a.length + i]! ^= 1 << (i % 8);
      fs.writeFileSync(file, damaged);
      const snap = await load(dir);
      expect(snap.outgoing).toEqual([A, C]);
      expect(snap.incoming).toEqual([8]);
      expect(snap.warnings).toHaveLength(1);
      expect(snap.warnings[0]).toContain(`offset ${a.length}`);
    }
  });

  it("every single-bit flip of a middle record is caught by the log reader", () => {
    const a = encodeEntry(put(A));
    const b = encodeEntry({ op: Op.UpdateOutgoing, seq: 1, packetId: 7, state: "publish" });
    const c = encodeEntry(put(C));
    const whole = concat(a, b, c);
    for (let bit = 0; bit < b.length * 8; bit++) {
      const damaged = whole.slice();
      damaged[a.length + (bit >> 3)]! ^= 1 << (bit & 7);
      const { entries, skipped } = scanLog(damaged);
      expect(entries).toEqual([put(A), put(C)]);
      expect(skipped).toEqual([[a.length, b.length]]);
    }
  });

  it("random garbage prepended, inserted between records, or inserted inside a record: intact records kept, warnings given", async () => {
    const records = [A, B, C];
    const parts = records.map((r) => encodeEntry(put(r)));
    const dir = fresh();
    const file = await logPath(dir);
    for (let seed = 1; seed <= 40; seed++) {
      const next = rng(seed);
      const junk = randomBytes(next, 1 + Math.floor(next() * 3000));

      fs.writeFileSync(file, concat(junk, ...parts));
      let snap = await load(dir);
      expect(snap.outgoing).toEqual(records);
      expect(snap.warnings).toHaveLength(1);

      fs.writeFileSync(file, concat(parts[0]!, parts[1]!, junk, parts[2]!));
      snap = await load(dir);
      expect(snap.outgoing).toEqual(records);
      expect(snap.warnings).toHaveLength(1);

      const at = 1 + Math.floor(next() * (parts[1]!.length - 1));
      fs.writeFileSync(file, concat(parts[0]!, parts[1]!.subarray(0, at), junk, parts[1]!.subarray(at), parts[2]!));
      snap = await load(dir);
      expect(snap.outgoing).toEqual([A, C]);
      expect(snap.warnings.length).toBeGreaterThanOrEqual(1);
    }
  });

  it("a file of nothing but garbage opens empty with a warning, and works afterwards", async () => {
    const dir = fresh();
    const file = await logPath(dir);
    const fakeHeader = concat(Uint8Array.of(0xa5, 0, 0, 0, 4), Uint8Array.of(0xde, 0xad, 0xbe, 0xef), Uint8Array.of(1, 2, 3, 4));
    const garbages = [
      randomBytes(rng(7), 65_536),
      new Uint8Array(10_000).fill(0xa5),
      concat(...Array.from({ length: 500 }, () => fakeHeader)),
      new Uint8Array(3),
    ];
    for (const garbage of garbages) {
      fs.writeFileSync(file, garbage);
      const snap = await load(dir);
      expect(snap.outgoing).toEqual([]);
      expect(snap.incoming).toEqual([]);
      expect(snap.warnings).toHaveLength(1);
      const s = new FileStore(dir);
      await s.open("c1");
      s.putOutgoing(rec(1));
      await s.close();
      expect(await load(dir)).toEqual({ outgoing: [rec(1)], incoming: [], warnings: [] });
    }
  });

  it("a record whose checksum holds but whose content makes no sense is skipped, not trusted", async () => {
    const framed = (body: Uint8Array) => {
      const out = new Uint8Array(9 + body.length);
      const v = new DataView(out.buffer);
      out[0] = 0xa5;
      v.setUint32(1, body.length);
      v.setUint32(5, crc32(body));
      out.set(body, 9);
      return out;
    };
    const badQos = encodeEntry(put(rec(5))).slice(9);
    badQos[12] = 3;
    const dir = fresh();
    const file = await logPath(dir);
    fs.writeFileSync(
      file,
      concat(encodeEntry(put(A)), framed(Uint8Array.of(99, 1, 2, 3)), framed(badQos), framed(Uint8Array.of(Op.DeleteOutgoing, 1)), encodeEntry(put(C))),
    );
    const snap = await load(dir);
    expect(snap.outgoing).toEqual([A, C]);
    expect(snap.warnings.length).toBeGreaterThanOrEqual(1);
  });
});
