/**
 * Fan-out of device events to `for await` consumers. Events that arrive before anyone iterates are buffered
 * (bounded), so nothing received during connectDevice() is lost; each iterator gets every later event.
 */

/** An async queue with a bound; `onOverflow` hears about dropped items. */
class Channel<T> implements AsyncIterator<T> {
  private items: T[] = [];
  private waiters: Array<(r: IteratorResult<T>) => void> = [];
  closed = false;

  constructor(private readonly max: number, private readonly onOverflow: () => void, private readonly onReturn: (c: Channel<T>) => void) {}

  push(item: T): void {
    if (this.closed) return;
    const w = this.waiters.shift();
    if (w) return w({ value: item, done: false });
    this.items.push(item);
    if (this.items.length > this.max) {
      this.items.shift();
      this.onOverflow();
    }
  }

  take(from: T[]): void {
    for (const item of from) this.push(item);
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
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
  private early: T[] = [];
  private ended = false;

  constructor(private readonly max: number, private readonly onOverflow: () => void) {}

  /** Publishes an event to every iterator (or to the early buffer when there is none yet). */
  push(item: T): void {
    if (this.ended) return;
    if (this.channels.size === 0) {
      this.early.push(item);
      if (this.early.length > this.max) {
        this.early.shift();
        this.onOverflow();
      }
      return;
    }
    for (const c of this.channels) c.push(item);
  }

  /** A new iterator; the first one also receives the events buffered so far. */
  iterate(): AsyncIterable<T> {
    const channel = new Channel<T>(this.max, this.onOverflow, (c) => this.channels.delete(c));
    if (this.ended) channel.close();
    else {
      channel.take(this.early);
      this.early = [];
      this.channels.add(channel);
    }
    return { [Symbol.asyncIterator]: () => channel };
  }

  /** Ends every iterator. */
  end(): void {
    this.ended = true;
    for (const c of this.channels) c.close();
  }
}
