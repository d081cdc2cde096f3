/** MemoryStore: the default store. State survives reconnects, not a process restart. */

import type { OutgoingRecord, Store, StoreSnapshot } from "./store.js";

/** The default in-memory Store: state survives reconnects, not a process restart. */
export class MemoryStore implements Store {
  // Created on first use: an idle client's store holds nothing.
  private outgoing: Map<number, OutgoingRecord> | undefined;
  private incoming: Set<number> | undefined;

  /** Returns what this instance holds (a reused MemoryStore resumes like a durable one). */
  async open(_clientId: string): Promise<StoreSnapshot> {
    const outgoing = [...(this.outgoing?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((r) => ({ ...r }));
    return { outgoing, incoming: [...(this.incoming ?? [])], warnings: [] };
  }

  putOutgoing(record: OutgoingRecord): void {
    (this.outgoing ??= new Map()).set(record.seq, { ...record });
  }

  updateOutgoing(seq: number, packetId: number, state: OutgoingRecord["state"]): void {
    const r = this.outgoing?.get(seq);
    if (r) {
      r.packetId = packetId;
      r.state = state;
    }
  }

  deleteOutgoing(seq: number): void {
    this.outgoing?.delete(seq);
  }

  putIncoming(packetId: number): void {
    (this.incoming ??= new Set()).add(packetId);
  }

  deleteIncoming(packetId: number): void {
    this.incoming?.delete(packetId);
  }

  clearIncoming(): void {
    this.incoming = undefined;
  }

  async close(): Promise<void> {}
}
