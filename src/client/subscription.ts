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

/** A live subscription to one or more topic filters. Iterate it with `for await`. */
export class Subscription implements AsyncIterable<Message> {
  /** The topic filters of this subscription. */
  readonly filters: readonly string[];
  /** Requested QoS. */
  readonly qos: QoS;
  /** Granted QoS (or 0x80) per filter, from the SUBACK. */
  granted: SubackCode[] = [];
  private readonly buffer = new Queue<Message>();
  private waiters: Array<(r: IteratorResult<Message>) => void> = [];
  private ended = false;
  /** Messages dropped because the buffer was full. */
  dropped = 0;

  constructor(
    filters: readonly string[],
    qos: QoS,
    private readonly maxBuffered: number,
    private readonly remove: (sub: Subscription) => Promise<void>,
    private readonly onOverflow: (sub: Subscription) => void,
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
    await this.remove(this);
  }

  /** Delivers a message to this subscription. */
  push(msg: Message): void {
    if (this.ended) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter({ value: msg, done: false });
      return;
    }
    if (this.maxBuffered === 0) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.buffer.shift();
      this.dropped++;
      this.onOverflow(this);
    }
    this.buffer.push(msg);
  }

  /** Ends iteration; buffered messages are still yielded first. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => {
        const msg = this.buffer.shift();
        if (msg) return Promise.resolve({ value: msg, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: async () => {
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }
}

const MATCH_CACHE_SIZE = 1024;

/** Which subscriptions hold which filters; finds the subscriptions a topic reaches. */
export class SubscriptionRegistry {
  private readonly trie = new TopicTrie<Subscription>();
  private readonly holders = new Map<string, Set<Subscription>>();
  /** Topic -> matching subscriptions; devices see few distinct topics, so most messages skip the trie walk. */
  private readonly matches = new Map<string, Subscription[]>();

  /** Registers `sub` under its filters (before SUBSCRIBE is sent, so nothing that arrives with the SUBACK is lost). */
  add(sub: Subscription): void {
    this.matches.clear();
    for (const f of sub.filters) {
      this.trie.add(f, sub);
      let set = this.holders.get(f);
      if (!set) {
        set = new Set();
        this.holders.set(f, set);
      }
      set.add(sub);
    }
  }

  /** Removes `sub`; returns the filters no other subscription holds (to UNSUBSCRIBE at the broker). */
  delete(sub: Subscription): string[] {
    this.matches.clear();
    const orphaned: string[] = [];
    for (const f of sub.filters) {
      this.trie.remove(f, sub);
      const set = this.holders.get(f);
      if (!set) continue;
      set.delete(sub);
      if (set.size === 0) {
        this.holders.delete(f);
        orphaned.push(f);
      }
    }
    return orphaned;
  }

  /** Every subscription reached by a message on `topic`, each once. */
  match(topic: string): Subscription[] {
    let found = this.matches.get(topic);
    if (found === undefined) {
      found = this.trie.match(topic);
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
}
