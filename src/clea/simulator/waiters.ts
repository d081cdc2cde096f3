/** Pending waitFor*() calls of AstarteSimulator: each re-checks its condition after every change, until a timeout. */

interface Waiter {
  check(): boolean;
  fail(err: Error): void;
}

/** A set of conditions waited for; `changed()` re-checks them all. */
export class Waiters {
  private readonly pending = new Set<Waiter>();

  /**
   * Resolves with the first non-undefined result of `probe`, checked now and after each `changed()`; rejects with an
   * Error naming `what` after `timeoutMs`.
   */
  wait<T>(what: string, timeoutMs: number, probe: () => T | undefined, explain?: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        check: () => {
          const found = probe();
          if (found === undefined) return false;
          this.pending.delete(waiter);
          clearTimeout(timer);
          resolve(found);
          return true;
        },
        fail: (err) => {
          this.pending.delete(waiter);
          clearTimeout(timer);
          reject(err);
        },
      };
      try {
        if (waiter.check()) return;
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.pending.add(waiter);
      timer = setTimeout(() => {
        const more = explain ? ` (${explain()})` : "";
        waiter.fail(new Error(`AstarteSimulator: timed out after ${timeoutMs} ms waiting for ${what}${more}`));
      }, timeoutMs);
    });
  }

  /** Re-checks every pending condition; a probe that throws rejects its wait. */
  changed(): void {
    for (const w of [...this.pending]) {
      try {
        w.check();
      } catch (err) {
        w.fail(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** Rejects every pending wait with `err`. */
  failAll(err: Error): void {
    for (const w of [...this.pending]) w.fail(err);
  }
}
