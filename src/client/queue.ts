/** Never written to: `grow()` replaces it before the first item goes in. */
const EMPTY: never[] = [];

/** A FIFO queue with O(1) push, shift and unshift (a growable ring buffer). */
export class Queue<T> {
  // Starts on the shared empty array (the first push grows it): most queues of an idle client never hold anything.
  #items: Array<T | undefined> = EMPTY;
  #head = 0;
  #count = 0;

  /** Number of items. */
  get length(): number {
    return this.#count;
  }

  /** Appends at the back. */
  push(item: T): void {
    if (this.#count === this.#items.length) this.grow();
    this.#items[(this.#head + this.#count) % this.#items.length] = item;
    this.#count++;
  }

  /** Inserts at the front. */
  unshift(item: T): void {
    if (this.#count === this.#items.length) this.grow();
    this.#head = (this.#head - 1 + this.#items.length) % this.#items.length;
    this.#items[this.#head] = item;
    this.#count++;
  }

  /** Removes and returns the front item. */
  shift(): T | undefined {
    if (this.#count === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#count--;
    return item;
  }

  /** The front item without removing it. */
  peek(): T | undefined {
    return this.#count === 0 ? undefined : this.#items[this.#head];
  }

  /** Removes the first item matching `pred` (scanning from the front); returns it. */
  removeFirst(pred: (item: T) => boolean): T | undefined {
    for (let i = 0; i < this.#count; i++) {
      const idx = (this.#head + i) % this.#items.length;
      const item = this.#items[idx] as T;
      if (pred(item)) {
        // Close the gap by moving the items before it one step back.
        for (let j = i; j > 0; j--) {
          this.#items[(this.#head + j) % this.#items.length] = this.#items[(this.#head + j - 1) % this.#items.length];
        }
        this.#items[this.#head] = undefined;
        this.#head = (this.#head + 1) % this.#items.length;
        this.#count--;
        return item;
      }
    }
    return undefined;
  }

  /** Removes and returns every item, front first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#count > 0) out.push(this.shift() as T);
    return out;
  }

  /** Iterates front to back without removing. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.#count; i++) yield this.#items[(this.#head + i) % this.#items.length] as T;
  }

  private grow(): void {
    const next = new Array<T | undefined>(Math.max(8, this.#items.length * 2));
    for (let i = 0; i < this.#count; i++) next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}
