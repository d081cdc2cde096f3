/**
 * Fan-out of device events to `for await` consumers, with their messages' acks. An event's `taken` callback (the
 * MQTT ack of the message it came from) runs once every iterator took it, so a slow consumer holds the broker back
 * instead of losing events. Events that arrive before anyone iterates wait, acks held, until the device says nobody
 * came (settle()); from then on, with no iterator, events are kept (newest `max`) for a late one and acked at once.
 */

/** An event and what to call once every iterator took it. */
interface Entry<T> {
  item: T;
  /** Iterators that have yet to take it. */
  owed: number;
  taken: (() => void) | undefined;
}

function give<T>(entry: Entry<T>): void {
  if (--entry.owed > 0) return;
  const taken = entry.taken;
  entry.taken = undefined;
  taken?.();
}

/** One iterator's queue; `onOverflow` hears about dropped events (which count as taken). */
class Channel<T> implements AsyncIterator<T> {
  private items: Array<Entry<T>> = [];
  private waiters: Array<(r: IteratorResult<T>) => void> = [];
  closed = false;

  constructor(private readonly max: number, private readonly onOverflow: () => void, private readonly onReturn: (c: Channel<T>) => void) {}

  push(entry: Entry<T>): void {
    if (this.closed) return give(entry);
    const w = this.waiters.shift();
    if (w) {
      give(entry);
      return w({ value: entry.item, done: false });
    }
    this.items.push(entry);
    if (this.items.length > this.max) {
      give(this.items.shift()!);
      this.onOverflow();
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    for (const e of this.items.splice(0)) give(e);
  }

  next(): Promise<IteratorResult<T>> {
    const entry = this.items.shift();
    if (entry !== undefined) {
      give(entry);
      return Promise.resolve({ value: entry.item, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    this.onReturn(this);
    return Promise.resolve({ value: undefined, done: true });
  }
}

export class EventStream<T> {
  private readonly channels = new Set<Channel<T>>();
  private early: Array<Entry<T>> = [];
  private ended = false;
  /** Until settle(): events wait for a first iterator with their acks held. */
  private waitingForReader = true;

  constructor(private readonly max: number, private readonly onOverflow: () => void) {}

  /** Publishes an event to every iterator (or to the early buffer when there is none); `taken` runs once all took it. */
  push(item: T, taken?: () => void): void {
    const entry: Entry<T> = { item, owed: 1, taken };
    if (this.ended) return give(entry);
    if (this.channels.size === 0) {
      // Nobody came: kept for a late iterator, but nothing waits for it.
      if (!this.waitingForReader) give(entry);
      this.early.push(entry);
      if (this.early.length > this.max) {
        give(this.early.shift()!);
        this.onOverflow();
      }
      return;
    }
    entry.owed = this.channels.size;
    for (const c of this.channels) c.push(entry);
  }

  /** The first chance to iterate has passed: events buffered without an iterator no longer hold their acks. */
  settle(): void {
    if (!this.waitingForReader) return;
    this.waitingForReader = false;
    if (this.channels.size === 0) for (const e of this.early) give(e);
  }

  /** A new iterator; the first one also receives the events buffered so far. */
  iterate(): AsyncIterable<T> {
    const channel = new Channel<T>(this.max, this.onOverflow, (c) => this.channels.delete(c));
    if (this.ended) channel.close();
    else {
      for (const e of this.early) channel.push(e);
      this.early = [];
      this.channels.add(channel);
    }
    return { [Symbol.asyncIterator]: () => channel };
  }

  /** Ends every iterator (what they had not taken is acked). */
  end(): void {
    this.ended = true;
    for (const c of this.channels) c.close();
    for (const e of this.early.splice(0)) give(e);
  }
}
