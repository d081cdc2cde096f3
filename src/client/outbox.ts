/**
 * What waits to be sent: publishes made while offline or while the in-flight window is full. Bounded by a
 * message count and a byte total; when full, "reject" refuses the new publish and "drop-oldest" evicts the
 * oldest QoS 0 message first, then the oldest message of any QoS.
 */

import type { QoS } from "../mqtt/packets.js";
import { Queue } from "./queue.js";

/** Bounds of the offline queue. */
export interface OfflineQueueOptions {
  /** Most messages held. Default 10,000. */
  maxMessages?: number;
  /** Most payload + topic bytes held. Default 16 MiB. */
  maxBytes?: number;
  /** "reject" (default): publish() rejects with PublishError "queue-full"; "drop-oldest": evict the oldest, QoS 0 first. */
  overflow?: "reject" | "drop-oldest";
}

/** The minimum an outbox entry must expose. */
export interface Queued {
  qos: QoS;
  /** Bytes counted against maxBytes. */
  size: number;
}

/** The outcome of offering an entry. */
export type Admission<T> = { ok: true; evicted: T[] } | { ok: false; reason: "queue-full" | "too-large" };

export class Outbox<T extends Queued> {
  /** Created by the first entry: most of a client's life nothing waits. */
  #queue: Queue<T> | undefined;
  #bytesHeld = 0;
  #qos0Count = 0;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly overflow: "reject" | "drop-oldest";

  constructor(options: OfflineQueueOptions = {}) {
    this.maxMessages = options.maxMessages ?? 10_000;
    this.maxBytes = options.maxBytes ?? 16 << 20;
    this.overflow = options.overflow ?? "reject";
  }

  /** Messages held. */
  get length(): number {
    return this.#queue?.length ?? 0;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytesHeld;
  }

  /** Whether `entry` would fit without eviction. */
  fits(entry: T): boolean {
    return this.length + 1 <= this.maxMessages && this.#bytesHeld + entry.size <= this.maxBytes;
  }

  /** Why offer(entry) would refuse `entry`, or undefined when it would take it (evicting under "drop-oldest"). */
  refusal(entry: T): "queue-full" | "too-large" | undefined {
    if (entry.size > this.maxBytes) return "too-large";
    return this.overflow === "reject" && !this.fits(entry) ? "queue-full" : undefined;
  }

  /** Offers `entry`; under "drop-oldest" returns what was evicted to make room (the caller settles them). */
  offer(entry: T): Admission<T> {
    if (entry.size > this.maxBytes) return { ok: false, reason: "too-large" };
    const evicted: T[] = [];
    if (!this.fits(entry)) {
      if (this.overflow === "reject") return { ok: false, reason: "queue-full" };
      while (!this.fits(entry)) {
        const victim = (this.#qos0Count > 0 ? this.#queue?.removeFirst((e) => e.qos === 0) : undefined) ?? this.#queue?.shift();
        if (victim === undefined) break;
        this.forget(victim);
        evicted.push(victim);
      }
    }
    (this.#queue ??= new Queue()).push(entry);
    this.#bytesHeld += entry.size;
    if (entry.qos === 0) this.#qos0Count++;
    return { ok: true, evicted };
  }

  /** Puts entries back at the front, keeping their order (used to requeue in-flight messages). */
  requeueFront(entries: T[]): void {
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      (this.#queue ??= new Queue()).unshift(e);
      this.#bytesHeld += e.size;
      if (e.qos === 0) this.#qos0Count++;
    }
  }

  /** The oldest entry, not removed. */
  peek(): T | undefined {
    return this.#queue?.peek();
  }

  /** Removes the oldest entry. */
  shift(): T | undefined {
    const e = this.#queue?.shift();
    if (e) this.forget(e);
    return e;
  }

  /** Removes and returns the entries for which `pred` is true, keeping the others in order. */
  removeWhere(pred: (entry: T) => boolean): T[] {
    const removed: T[] = [];
    for (const e of this.drain()) {
      if (pred(e)) removed.push(e);
      else {
        (this.#queue ??= new Queue()).push(e);
        this.#bytesHeld += e.size;
        if (e.qos === 0) this.#qos0Count++;
      }
    }
    return removed;
  }

  /** Removes everything. */
  drain(): T[] {
    const all = this.#queue?.drain() ?? [];
    this.#bytesHeld = 0;
    this.#qos0Count = 0;
    return all;
  }

  private forget(e: T): void {
    this.#bytesHeld -= e.size;
    if (e.qos === 0) this.#qos0Count--;
  }
}
