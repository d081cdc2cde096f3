/**
 * Subscriptions: each is an AsyncIterable<Message> fed by dispatch through a topic trie. A message that
 * matches several filters of one subscription reaches it once; overlapping subscriptions each get it.
 */

import type { QoS, SubackCode } from "../mqtt/packets.js";
import { TopicTrie } from "../mqtt/topic.js";
import { Queue } from "./queue.js";

/** A received application message. */
export interface Message {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** Set when the broker says this may be a redelivery. */
  dup: boolean;
  /** With manualAck, sends the PUBACK/PUBREC (in arrival order); otherwise a no-op. Idempotent. */
  ack(): void;
}

/** Options of subscribe(). */
export interface SubscribeOptions {
  /** Requested maximum QoS. Default 0. */
  qos?: QoS;
  /**
   * Messages buffered for a slow iterator before the oldest is dropped (reported as an "error" event). Default 10,000.
   * 0: keep nothing for iteration (for callers that read client.on("message") instead).
   */
  maxBuffered?: number;
}

/** What a subscription reports to its client. */
export interface SubscriptionOwner {
  /** unsubscribe() was called: drop the subscription and UNSUBSCRIBE the filters nobody else holds. */
  unsubscribed(sub: Subscription): Promise<void>;
  /** The buffer was full and the oldest message was dropped. */
  overflowed(sub: Subscription): void;
}

/** A live subscription to one or more topic filters. Iterate it with `for await`. */
export class Subscription implements AsyncIterable<Message> {
  /** The topic filters of this subscription. */
  readonly filters: readonly string[];
  /** Requested QoS. */
  readonly qos: QoS;
  /** Granted QoS (or 0x80) per filter, from the SUBACK. */
  granted: SubackCode[] = [];
  /** Messages no reader has taken yet; created by the first one buffered. */
  private buffer: Queue<Message> | undefined;
  /** Readers waiting in next(); created by the first one. */
  private waiters: Array<(r: IteratorResult<Message>) => void> | undefined;
  private ended = false;
  /** Messages dropped because the buffer was full. */
  dropped = 0;

  constructor(
    filters: readonly string[],
    qos: QoS,
    private readonly maxBuffered: number,
    private readonly owner: SubscriptionOwner,
  ) {
    this.filters = filters;
    this.qos = qos;
  }

  /** Whether the subscription has ended (unsubscribed or client closed). */
  get closed(): boolean {
    return this.ended;
  }

  /** Unsubscribes from the broker (filters still used by another subscription stay subscribed) and ends iteration. */
  async unsubscribe(): Promise<void> {
    if (this.ended) return;
    this.close();
    await this.owner.unsubscribed(this);
  }

  /** Delivers a message to this subscription. */
  push(msg: Message): void {
    if (this.ended) return;
    const waiter = this.waiters?.shift();
    if (waiter) {
      waiter({ value: msg, done: false });
      return;
    }
    if (this.maxBuffered === 0) return;
    const buffer = (this.buffer ??= new Queue());
    if (buffer.length >= this.maxBuffered) {
      buffer.shift();
      this.dropped++;
      this.owner.overflowed(this);
    }
    buffer.push(msg);
  }

  /** Ends iteration; buffered messages are still yielded first. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    const waiters = this.waiters ?? [];
    this.waiters = undefined;
    for (const w of waiters) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => {
        const msg = this.buffer?.shift();
        if (msg) return Promise.resolve({ value: msg, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiters ??= []).push(resolve));
      },
      return: async () => {
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }
}

const MATCH_CACHE_SIZE = 1024;

/** Whether a (valid) filter has a wildcard level; other filters match exactly one topic. */
const isWildcard = (filter: string): boolean => filter.includes("+") || filter.includes("#");

/**
 * Which subscriptions hold which filters; finds the subscriptions a topic reaches. Exact filters are found by one
 * map lookup; only wildcard filters go into a trie. Everything but the holder map is created on first need, so an
 * idle client with a few exact subscriptions holds one map.
 */
export class SubscriptionRegistry {
  /** Filter -> the subscriptions holding it (usually one). */
  private readonly holders = new Map<string, Subscription[]>();
  private trie: TopicTrie<Subscription> | undefined;
  /** Topic -> matching subscriptions; devices see few distinct topics, so most messages skip the trie walk. */
  private matches: Map<string, Subscription[]> | undefined;

  /** Registers `sub` under its filters (before SUBSCRIBE is sent, so nothing that arrives with the SUBACK is lost). */
  add(sub: Subscription): void {
    this.matches = undefined;
    for (const f of sub.filters) {
      const subs = this.holders.get(f);
      if (subs?.includes(sub)) continue;
      if (subs) subs.push(sub);
      else this.holders.set(f, [sub]);
      if (isWildcard(f)) (this.trie ??= new TopicTrie()).add(f, sub);
    }
  }

  /** Removes `sub`; returns the filters no other subscription holds (to UNSUBSCRIBE at the broker). */
  delete(sub: Subscription): string[] {
    this.matches = undefined;
    const orphaned: string[] = [];
    for (const f of sub.filters) {
      const subs = this.holders.get(f);
      const at = subs ? subs.indexOf(sub) : -1;
      if (at < 0) continue;
      subs!.splice(at, 1);
      if (isWildcard(f)) this.trie?.remove(f, sub);
      if (subs!.length === 0) {
        this.holders.delete(f);
        orphaned.push(f);
      }
    }
    if (this.trie?.size === 0) this.trie = undefined;
    return orphaned;
  }

  /** Every subscription reached by a message on `topic`, each once. */
  match(topic: string): Subscription[] {
    let found = this.matches?.get(topic);
    if (found === undefined) {
      found = this.lookup(topic);
      this.matches ??= new Map();
      if (this.matches.size >= MATCH_CACHE_SIZE) this.matches.clear();
      this.matches.set(topic, found);
    }
    return found;
  }

  /** Every held filter with the highest QoS requested for it (for resubscribing a new session). */
  active(): Array<{ topic: string; qos: QoS }> {
    const out: Array<{ topic: string; qos: QoS }> = [];
    for (const [topic, subs] of this.holders) {
      let qos: QoS = 0;
      for (const s of subs) if (s.qos > qos) qos = s.qos;
      out.push({ topic, qos });
    }
    return out;
  }

  /** Ends every subscription (client closed). */
  closeAll(): void {
    for (const subs of this.holders.values()) for (const s of subs) s.close();
  }

  private lookup(topic: string): Subscription[] {
    const exact = this.holders.get(topic);
    if (!this.trie) return exact ? exact.slice() : [];
    const wild = this.trie.match(topic);
    if (!exact) return wild;
    // A subscription holding both "a/b" and "a/+" gets the message once.
    const out = exact.slice();
    for (const s of wild) if (!out.includes(s)) out.push(s);
    return out;
  }
}
