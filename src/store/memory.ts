/** MemoryStore: the default store. State survives reconnects, not a process restart. */

import type { OutgoingRecord, Store, StoreSnapshot } from "./store.js";

/**
 * The default in-memory Store: state survives reconnects, not a process restart. A client given no `store` makes
 * its own. Pass one explicitly to carry unfinished QoS 1/2 messages from one Client to the next in the same process.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * const first = createClient({ url: "mqtt://localhost:1883", clientId: "gw-01", clean: false, store });
 * // ... later, after first.end(): a new client with the same store resumes what first left unfinished
 * const second = createClient({ url: "mqtt://localhost:1883", clientId: "gw-01", clean: false, store });
 * ```
 */
export class MemoryStore implements Store {
  // Created on first use: an idle client's store holds nothing.
  #outgoing: Map<number, OutgoingRecord> | undefined;
  #incoming: Set<number> | undefined;

  /** Returns what this instance holds (a reused MemoryStore resumes like a durable one). */
  async open(_clientId: string): Promise<StoreSnapshot> {
    const outgoing = [...(this.#outgoing?.values() ?? [])].sort((a, b) => a.seq - b.seq).map((r) => ({ ...r }));
    return { outgoing, incoming: [...(this.#incoming ?? [])], warnings: [] };
  }

  putOutgoing(record: OutgoingRecord): void {
    (this.#outgoing ??= new Map()).set(record.seq, { ...record });
  }

  updateOutgoing(seq: number, packetId: number, state: OutgoingRecord["state"]): void {
    const r = this.#outgoing?.get(seq);
    if (r) {
      r.packetId = packetId;
      r.state = state;
    }
  }

  deleteOutgoing(seq: number): void {
    this.#outgoing?.delete(seq);
  }

  putIncoming(packetId: number): void {
    (this.#incoming ??= new Set()).add(packetId);
  }

  deleteIncoming(packetId: number): void {
    this.#incoming?.delete(packetId);
  }

  clearIncoming(): void {
    this.#incoming = undefined;
  }

  async close(): Promise<void> {}
}
