/**
 * The simulator's own publications come back through its subscription: each is expected (by topic, length and a
 * hash of the payload) before it is published, and skipped once when it arrives.
 */

/** Echoes expected, counted by key. */
export class Echoes {
  private readonly pending = new Map<string, number>();

  /** Expects one echo of `payload` on `topic`; returns the function that takes the expectation back (the publish failed). */
  expect(topic: string, payload: Uint8Array): () => void {
    const key = echoKey(topic, payload);
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    return () => this.forget(key);
  }

  /** Whether a message is an expected echo; if so, that expectation is used up. */
  take(topic: string, payload: Uint8Array): boolean {
    const key = echoKey(topic, payload);
    if (this.pending.get(key) === undefined) return false;
    this.forget(key);
    return true;
  }

  /** Takes one expectation of `key` back. */
  private forget(key: string): void {
    const n = this.pending.get(key) ?? 0;
    if (n <= 1) this.pending.delete(key);
    else this.pending.set(key, n - 1);
  }
}

/** Topic, length and an FNV-1a hash of the payload: identifies the simulator's own messages when they come back. */
function echoKey(topic: string, payload: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < payload.length; i++) h = Math.imul(h ^ payload[i]!, 0x01000193);
  return `${topic}\u0000${payload.length}\u0000${(h >>> 0).toString(16)}`;
}
