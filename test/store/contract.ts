/**
 * The Store contract, shared by MemoryStore and FileStore tests: what a client relies on when it restores
 * in-flight state. `reopen` gives the store that reads what a closed store kept (for MemoryStore the same
 * instance; for FileStore a new instance on the same directory).
 */
import { describe, expect, it } from "vitest";
import type { OutgoingRecord, Store } from "../../src/index.ts";

export interface StoreHarness {
  /** A fresh, unopened store with nothing persisted. */
  create(): Store;
  /** A store that reads what `previous` (closed) kept. */
  reopen(previous: Store): Store;
}

/** An outgoing record with sensible defaults. */
export function rec(seq: number, over: Partial<OutgoingRecord> = {}): OutgoingRecord {
  return {
    seq,
    packetId: 0,
    state: "publish",
    topic: `t/${seq}`,
    payload: new TextEncoder().encode(`payload ${seq}`),
    qos: 1,
    retain: false,
    ...over,
  };
}

/** Opens, runs `fill`, closes, and returns what a reopened store sees. */
async function roundTrip(h: StoreHarness, fill: (s: Store) => void, clientId = "c1") {
  const s = h.create();
  await s.open(clientId);
  fill(s);
  await s.close();
  const again = h.reopen(s);
  const snap = await again.open(clientId);
  await again.close();
  return snap;
}

export function storeContract(name: string, h: StoreHarness): void {
  describe(`${name}: Store contract`, () => {
    it("a fresh store opens empty", async () => {
      const s = h.create();
      expect(await s.open("c1")).toEqual({ outgoing: [], incoming: [], warnings: [] });
      await s.close();
    });

    it("keeps outgoing puts, updates and deletes, and incoming ids, across close and reopen", async () => {
      const snap = await roundTrip(h, (s) => {
        s.putOutgoing(rec(3, { qos: 2 }));
        s.putOutgoing(rec(1, { retain: true }));
        s.putOutgoing(rec(2, { qos: 2, topic: "plant/ü/温度", payload: new Uint8Array([0, 255, 0xa5, 7]) }));
        s.putOutgoing(rec(4));
        s.updateOutgoing(1, 17, "publish");
        s.updateOutgoing(2, 18, "pubrel");
        s.deleteOutgoing(3);
        s.putIncoming(5);
        s.putIncoming(65535);
        s.putIncoming(6);
        s.deleteIncoming(6);
      });
      expect(snap.warnings).toEqual([]);
      expect(snap.outgoing).toEqual([
        rec(1, { retain: true, packetId: 17 }),
        rec(2, { qos: 2, topic: "plant/ü/温度", payload: new Uint8Array([0, 255, 0xa5, 7]), packetId: 18, state: "pubrel" }),
        rec(4),
      ]);
      expect([...snap.incoming].sort((a, b) => a - b)).toEqual([5, 65535]);
    });

    it("returns outgoing records in seq order, whatever the order of the puts", async () => {
      const seqs = [9, 2, 1_000_000_007, 5, 1, 77, 3];
      const snap = await roundTrip(h, (s) => {
        for (const seq of seqs) s.putOutgoing(rec(seq));
      });
      expect(snap.outgoing.map((r) => r.seq)).toEqual([...seqs].sort((a, b) => a - b));
    });

    it("a put with an existing seq replaces the record", async () => {
      const snap = await roundTrip(h, (s) => {
        s.putOutgoing(rec(1));
        s.putOutgoing(rec(1, { topic: "replaced", packetId: 4 }));
      });
      expect(snap.outgoing).toEqual([rec(1, { topic: "replaced", packetId: 4 })]);
    });

    it("clearIncoming forgets every incoming id; unknown updates and deletes change nothing", async () => {
      const snap = await roundTrip(h, (s) => {
        s.putIncoming(1);
        s.putIncoming(2);
        s.clearIncoming();
        s.putIncoming(3);
        s.putOutgoing(rec(1));
        s.updateOutgoing(99, 5, "pubrel");
        s.deleteOutgoing(98);
        s.deleteIncoming(97);
      });
      expect(snap.incoming).toEqual([3]);
      expect(snap.outgoing).toEqual([rec(1)]);
    });

    it("keeps empty and large payloads byte for byte", async () => {
      const big = new Uint8Array(70_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      const snap = await roundTrip(h, (s) => {
        s.putOutgoing(rec(1, { payload: new Uint8Array(0) }));
        s.putOutgoing(rec(2, { payload: big }));
      });
      expect(snap.outgoing[0]!.payload).toEqual(new Uint8Array(0));
      expect(snap.outgoing[1]!.payload).toEqual(big);
    });

    it("the store keeps its own copy: changing a put record or a snapshot record later changes nothing", async () => {
      const s = h.create();
      await s.open("c1");
      const r = rec(1);
      s.putOutgoing(r);
      r.packetId = 42; // mutated without updateOutgoing: not the store's business
      r.state = "pubrel";
      await s.close();
      const s2 = h.reopen(s);
      const snap = await s2.open("c1");
      expect(snap.outgoing).toEqual([rec(1)]);
      snap.outgoing[0]!.packetId = 0; // the session does this to records it requeues
      snap.outgoing[0]!.topic = "x";
      await s2.close();
      const s3 = h.reopen(s2);
      expect((await s3.open("c1")).outgoing).toEqual([rec(1)]);
      await s3.close();
    });

    it("payloads come back as plain Uint8Arrays", async () => {
      const snap = await roundTrip(h, (s) => s.putOutgoing(rec(1)));
      expect(Object.getPrototypeOf(snap.outgoing[0]!.payload)).toBe(Uint8Array.prototype);
    });
  });
}
