/**
 * Subscriptions: each is an AsyncIterable<Message> fed by dispatch through a topic trie. A message that
 * matches several filters of one subscription reaches it once; overlapping subscriptions each get it.
 */

import type { MessageProperties, QoS, SubackCode } from "../mqtt/packets.js";
import { TopicTrie } from "../mqtt/topic.js";
import type { Delivery } from "./inbound.js";
import { Queue } from "./queue.js";

/** A received application message. */
export interface Message {
  /** Topic the message was published to. */
  topic: string;
  /** Message payload bytes. */
  payload: Uint8Array;
  /** QoS the message was delivered with. */
  qos: QoS;
  /** Whether the broker sent it as a retained message. */
  retain: boolean;
  /** Set when the broker says this may be a redelivery. */
  dup: boolean;
  /** MQTT 5: the message's properties (absent under 3.1.1, and when the message carried none). */
  properties?: MessageProperties;
  /**
   * With manualAck, sends the PUBACK/PUBREC (in arrival order); otherwise a no-op. Idempotent. Call it as a method
   * (`msg.ack()`).
   */
  ack(): void;
}

/** MQTT 5 options of a subscription. */
export interface V5SubscriptionOptions {
  /** Do not receive this client's own publishes. */
  noLocal?: boolean;
  /** Keep the RETAIN flag as the publisher set it. */
  retainAsPublished?: boolean;
  /** Retained messages on subscribing: 0 always (default), 1 only for a new subscription, 2 never. */
  retainHandling?: 0 | 1 | 2;
  /** Sent with the SUBSCRIBE; each message it matches carries it in `properties.subscriptionIdentifiers` (1..268,435,455). */
  subscriptionIdentifier?: number;
}

/** Options of subscribe(). */
export interface SubscribeOptions extends V5SubscriptionOptions {
  /** Requested maximum QoS. Default 0. */
  qos?: QoS;
  /**
   * QoS 0 messages kept for an iterator that is behind; beyond it the oldest QoS 0 message is dropped (counted in
   * `dropped`, reported as one "slow-consumer" warning per episode). QoS 1/2 messages are never dropped: their acks
   * wait for the iterator instead. Default 1,000. A Subscription that nobody iterates keeps the newest maxBuffered
   * messages (of any QoS) for a reader that may still come, and delays no acks.
   */
  maxBuffered?: number;
}

/** What a subscription reports to its client. */
export interface SubscriptionOwner {
  /** unsubscribe() was called: drop the subscription and UNSUBSCRIBE the filters nobody else holds. */
  unsubscribed(sub: Subscription): Promise<void>;
  /** An iterator fell behind and the oldest QoS 0 message was dropped; `first` starts a new episode. */
  overflowed(sub: Subscription, first: boolean): void;
}

/** Default of SubscribeOptions.maxBuffered. */
export const DEFAULT_MAX_BUFFERED = 1000;

/**
 * Whether anyone reads the subscription. "pending": just created, its reader may still come (messages are held as
 * for a reader until the turn after subscribe() resolved); "reading": iterated; "unread": nobody came.
 */
type Reader = "pending" | "reading" | "unread";

/**
 * A live subscription to one or more topic filters, returned by Client.subscribe(). Iterate it with `for await`:
 * the loop ends when the subscription closes (unsubscribe(), or the client's end()); `break` unsubscribes. A message
 * matching several of its filters arrives once. Overlapping subscriptions each get it.
 *
 * @example
 * ```ts
 * const alarms = await client.subscribe(["plant/+/alarm", "plant/+/fault"], { qos: 1 });
 * for await (const msg of alarms) {
 *   if (msg.topic.endsWith("/fault")) break; // ends the loop and unsubscribes
 *   console.log(msg.topic, msg.payload.length);
 * }
 * ```
 */
export class Subscription implements AsyncIterable<Message> {
  /** The topic filters of this subscription. */
  readonly filters: readonly string[];
  /** Requested QoS. */
  readonly qos: QoS;
  /**
   * MQTT 5 subscription options (No Local, Retain As Published, Retain Handling), kept for the resubscribe after a
   * session is lost.
   * @internal
   */
  declare options5?: V5SubscriptionOptions;
  /** Granted QoS (or 0x80) per filter, from the SUBACK. */
  granted: SubackCode[] = [];
  /** Messages no reader has taken yet; created by the first one buffered. */
  #buffer: Queue<Delivery> | undefined;
  /** QoS 0 messages in the buffer (only they count against maxBuffered while someone reads). */
  #bufferedQos0 = 0;
  /** Readers waiting in next(); created by the first one. */
  #waiters: Array<(r: IteratorResult<Message>) => void> | undefined;
  #reader: Reader = "pending";
  #overflowing = false;
  #ended = false;
  /** Messages this subscription dropped: QoS 0 ones a slow iterator could not keep, or what nobody read. */
  dropped = 0;

  readonly #maxBuffered: number;
  readonly #owner: SubscriptionOwner;

  /**
   * Creates a subscription (the client's call: use Client.subscribe()).
   * @internal
   */
  constructor(
    filters: readonly string[],
    qos: QoS,
    maxBuffered: number,
    owner: SubscriptionOwner,
  ) {
    this.#maxBuffered = maxBuffered;
    this.#owner = owner;
    this.filters = filters;
    this.qos = qos;
  }

  /** Whether the subscription has ended (unsubscribed or client closed). */
  get closed(): boolean {
    return this.#ended;
  }

  /** Messages buffered for the iterator. */
  get buffered(): number {
    return this.#buffer?.length ?? 0;
  }

  /**
   * Unsubscribes from the broker (filters still used by another subscription stay subscribed) and ends iteration.
   * @returns A promise that resolves on the UNSUBACK, at once if already ended or if no filter was left to
   * unsubscribe.
   * @throws (as a rejection) RequestTimeoutError when no UNSUBACK comes within requestTimeout (offline time
   * included); ClientClosedError if the client ends first.
   */
  async unsubscribe(): Promise<void> {
    if (this.#ended) return;
    this.close();
    await this.#owner.unsubscribed(this);
  }

  /** Delivers a message to this subscription (the library's call). */
  push(d: Delivery): void {
    if (this.#ended) return;
    const waiter = this.#waiters?.shift();
    if (waiter) {
      d.seen = true;
      waiter({ value: d, done: false });
      return;
    }
    if (this.#reader === "unread") {
      if (this.#maxBuffered === 0) return;
      const buffer = (this.#buffer ??= new Queue());
      if (buffer.length >= this.#maxBuffered) this.dropOldest();
      this.append(buffer, d);
      return;
    }
    // Someone reads (or may still come): QoS 1/2 messages are held, their acks wait; QoS 0 ones are bounded.
    if (d.qos > 0) d.hold();
    else if (this.#bufferedQos0 >= this.#maxBuffered) {
      if (this.#maxBuffered === 0) {
        if (this.#reader === "reading") this.overflow(); // only a waiting next() could have taken it
        return;
      }
      this.dropOldestQos0();
      this.overflow();
    }
    this.append((this.#buffer ??= new Queue()), d);
  }

  /**
   * The turn after subscribe() resolved has come: if nobody started iterating, nobody reads this subscription.
   * Held messages are let go (their acks go out) and only the newest few are kept for a late reader.
   */
  settleReader(): void {
    if (this.#reader !== "pending") return;
    this.releaseHolds();
    this.#reader = "unread";
    while (this.buffered > this.#maxBuffered) this.dropOldest();
  }

  /** Ends iteration; buffered messages are still yielded first, but no ack waits for them any more. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.releaseHolds();
    this.#reader = "unread";
    const waiters = this.#waiters ?? [];
    this.#waiters = undefined;
    for (const w of waiters) w({ value: undefined, done: true });
  }

  /** Returns an iterator over the received messages; it ends when the subscription closes, and `break` unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    this.startReading();
    return {
      next: () => {
        const d = this.#buffer?.shift();
        if (d) {
          if (d.qos === 0) this.#bufferedQos0--;
          else if (this.#reader === "reading") d.taken();
          d.seen = true;
          if (this.#buffer!.length === 0) this.#overflowing = false;
          return Promise.resolve({ value: d, done: false });
        }
        this.#overflowing = false;
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
      },
      // `break` out of for await: ends at once, even offline; the UNSUBSCRIBE goes out now or on the next connection.
      return: () => {
        if (!this.#ended) {
          this.close();
          this.#owner.unsubscribed(this).catch(() => undefined); // nobody is left to tell
        }
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** An iterator arrived: messages buffered while nobody read become held again (their acks, if still owed, wait). */
  private startReading(): void {
    if (this.#reader === "reading" || this.#ended) return;
    if (this.#reader === "unread") for (const d of this.#buffer ?? []) if (d.qos > 0) d.hold();
    this.#reader = "reading";
  }

  /** Adds `d` to `buffer`, counting it if it is QoS 0. */
  private append(buffer: Queue<Delivery>, d: Delivery): void {
    buffer.push(d);
    if (d.qos === 0) this.#bufferedQos0++;
  }

  /** Drops the oldest buffered message, whatever its QoS (nobody reads: nothing is held). */
  private dropOldest(): void {
    if (this.#buffer!.shift()!.qos === 0) this.#bufferedQos0--;
    this.dropped++;
  }

  /** Drops the oldest buffered QoS 0 message (held QoS 1/2 messages before it stay). */
  private dropOldestQos0(): void {
    this.#buffer!.removeFirst(isQos0);
    this.#bufferedQos0--;
  }

  /** Counts a dropped QoS 0 message and tells the owner (first of an episode or not). */
  private overflow(): void {
    this.dropped++;
    const first = !this.#overflowing;
    this.#overflowing = true;
    this.#owner.overflowed(this, first);
  }

  /** Lets go of the buffered QoS 1/2 messages this subscription held, so their acks can go out. */
  private releaseHolds(): void {
    if (this.#reader === "unread") return;
    for (const d of this.#buffer ?? []) if (d.qos > 0) d.release();
  }
}

const isQos0 = (d: Delivery): boolean => d.qos === 0;

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
  readonly #holders = new Map<string, Subscription[]>();
  #trie: TopicTrie<Subscription> | undefined;
  /** Topic -> matching subscriptions; devices see few distinct topics, so most messages skip the trie walk. */
  #matches: Map<string, Subscription[]> | undefined;

  /** Registers `sub` under its filters (before SUBSCRIBE is sent, so nothing that arrives with the SUBACK is lost). */
  add(sub: Subscription): void {
    this.#matches = undefined;
    for (const f of sub.filters) {
      const subs = this.#holders.get(f);
      if (subs?.includes(sub)) continue;
      if (subs) subs.push(sub);
      else this.#holders.set(f, [sub]);
      if (isWildcard(f)) (this.#trie ??= new TopicTrie()).add(f, sub);
    }
  }

  /** Removes `sub`; returns the filters no other subscription holds (to UNSUBSCRIBE at the broker). */
  delete(sub: Subscription): string[] {
    this.#matches = undefined;
    const orphaned: string[] = [];
    for (const f of sub.filters) {
      const subs = this.#holders.get(f);
      const at = subs ? subs.indexOf(sub) : -1;
      if (at < 0) continue;
      subs!.splice(at, 1);
      if (isWildcard(f)) this.#trie?.remove(f, sub);
      if (subs!.length === 0) {
        this.#holders.delete(f);
        orphaned.push(f);
      }
    }
    if (this.#trie?.size === 0) this.#trie = undefined;
    return orphaned;
  }

  /** Every subscription reached by a message on `topic`, each once. */
  match(topic: string): Subscription[] {
    let found = this.#matches?.get(topic);
    if (found === undefined) {
      found = this.lookup(topic);
      this.#matches ??= new Map();
      if (this.#matches.size >= MATCH_CACHE_SIZE) this.#matches.clear();
      this.#matches.set(topic, found);
    }
    return found;
  }

  /** Every held filter with the highest QoS requested for it (for resubscribing a new session). */
  active(): Array<{ topic: string; qos: QoS } & V5SubscriptionOptions> {
    const out: Array<{ topic: string; qos: QoS } & V5SubscriptionOptions> = [];
    for (const [topic, subs] of this.#holders) {
      let qos: QoS = 0;
      let options: V5SubscriptionOptions | undefined;
      for (const s of subs) {
        if (s.qos > qos) qos = s.qos;
        options = s.options5 ?? options;
      }
      out.push({ ...options, topic, qos });
    }
    return out;
  }

  /** Ends every subscription (client closed). */
  closeAll(): void {
    for (const subs of this.#holders.values()) for (const s of subs) s.close();
  }

  private lookup(topic: string): Subscription[] {
    const exact = this.#holders.get(topic);
    if (!this.#trie) return exact ? exact.slice() : [];
    const wild = this.#trie.match(topic);
    if (!exact) return wild;
    // A subscription holding both "a/b" and "a/+" gets the message once.
    const out = exact.slice();
    for (const s of wild) if (!out.includes(s)) out.push(s);
    return out;
  }
}
