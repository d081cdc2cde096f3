/** Packet identifiers for outgoing QoS 1/2 PUBLISH, SUBSCRIBE and UNSUBSCRIBE: 1..65535, never two in use. */

import { ClientClosedError } from "./errors.js";

export class PacketIds {
  #next = 1;
  /** Created on first use and dropped when empty: an idle client holds no set. */
  #used: Set<number> | undefined;

  /** Number of identifiers in use. */
  get size(): number {
    return this.#used?.size ?? 0;
  }

  /** Whether `id` is in use. */
  has(id: number): boolean {
    return this.#used?.has(id) ?? false;
  }

  /** Marks a restored identifier as in use. */
  reserve(id: number): void {
    (this.#used ??= new Set()).add(id);
  }

  /** A free identifier, now in use. Throws when all 65,535 are taken. */
  take(): number {
    const used = (this.#used ??= new Set());
    if (used.size >= 0xffff) throw new ClientClosedError("all 65,535 packet identifiers are in use");
    let id = this.#next;
    while (used.has(id)) id = id === 0xffff ? 1 : id + 1;
    this.#next = id === 0xffff ? 1 : id + 1;
    used.add(id);
    return id;
  }

  /** Frees `id` (on the final ack). */
  release(id: number): void {
    const used = this.#used;
    if (used?.delete(id) && used.size === 0) this.#used = undefined;
  }

  /** Frees every identifier. */
  clear(): void {
    this.#used = undefined;
  }
}
