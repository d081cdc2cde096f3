/** A minimal typed event emitter (the core avoids node:events so it runs unchanged on every runtime). */

/** Listener for event `K` of map `E`. */
export type Listener<E, K extends keyof E> = (payload: E[K]) => void;

/** Typed publish/subscribe of events; `on` returns the function that removes the listener. */
export class Emitter<E> {
  #listeners: Map<keyof E, Set<(payload: never) => void>> | undefined; // created on the first on()

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    this.#listeners ??= new Map();
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  /** Whether anyone listens to `event`. */
  has<K extends keyof E>(event: K): boolean {
    return (this.#listeners?.get(event)?.size ?? 0) > 0;
  }

  /**
   * Calls each listener of `event`. A listener that throws does not stop the others; what they threw is returned
   * for the caller to route (the client sends it to its "error" event). Returns undefined when no listener threw.
   */
  emit<K extends keyof E>(event: K, payload: E[K]): unknown[] | undefined {
    const set = this.#listeners?.get(event);
    if (!set || set.size === 0) return undefined;
    let errors: unknown[] | undefined;
    if (set.size === 1) {
      // The common lone listener: called without copying the set.
      try {
        (set.values().next().value as (p: E[K]) => void)(payload);
      } catch (err) {
        errors = [err];
      }
      return errors;
    }
    // Listeners may add or remove listeners while being called: iterate a snapshot.
    for (const listener of [...set]) {
      try {
        (listener as (p: E[K]) => void)(payload);
      } catch (err) {
        (errors ??= []).push(err);
      }
    }
    return errors;
  }
}
