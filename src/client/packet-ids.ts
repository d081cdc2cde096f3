/** Packet identifiers for outgoing QoS 1/2 PUBLISH, SUBSCRIBE and UNSUBSCRIBE: 1..65535, never two in use. */

import { ClientClosedError } from "./errors.js";

export class PacketIds {
  private next = 1;
  private readonly used = new Set<number>();

  /** Number of identifiers in use. */
  get size(): number {
    return this.used.size;
  }

  /** Whether `id` is in use. */
  has(id: number): boolean {
    return this.used.has(id);
  }

  /** Marks a restored identifier as in use. */
  reserve(id: number): void {
    this.used.add(id);
  }

  /** A free identifier, now in use. Throws when all 65,535 are taken. */
  take(): number {
    if (this.used.size >= 0xffff) throw new ClientClosedError("all 65,535 packet identifiers are in use");
    let id = this.next;
    while (this.used.has(id)) id = id === 0xffff ? 1 : id + 1;
    this.next = id === 0xffff ? 1 : id + 1;
    this.used.add(id);
    return id;
  }

  /** Frees `id` (on the final ack). */
  release(id: number): void {
    this.used.delete(id);
  }

  /** Frees every identifier. */
  clear(): void {
    this.used.clear();
  }
}
