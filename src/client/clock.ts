/** Seams for time and randomness, so tests run on fake time with fixed jitter. */

/** A monotonic clock and timers. */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The runtime's clock: performance.now() (monotonic) and the global timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // Timers must not keep a process alive on their own (Node/Bun; Deno has Deno.unrefTimer instead).
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A source of uniform random numbers in [0, 1). */
export type Random = () => number;
