/** Seams for time and randomness, so tests run on fake time with fixed jitter. */

/** A monotonic clock and timers. */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number;
  /**
   * Calls `fn` after `ms`. A timer keeps the process alive only when `keepAlive` is true: pending work (a reconnect,
   * a connection attempt) holds the process open, housekeeping (keepalive checks, stability timers) never does.
   */
  setTimeout(fn: () => void, ms: number, keepAlive?: boolean): unknown;
  /** Cancels the timer `handle` returned by setTimeout. */
  clearTimeout(handle: unknown): void;
}

/** The runtime's clock: performance.now() (monotonic) and the global timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms, keepAlive) => {
    const handle = setTimeout(fn, ms);
    if (!keepAlive) unref(handle);
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A source of uniform random numbers in [0, 1). */
export type Random = () => number;

/** Lets the process exit while `handle` is pending: Node and Bun timers have unref(), Deno has Deno.unrefTimer(id). */
function unref(handle: unknown): void {
  if (typeof handle === "number") (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(handle);
  else (handle as { unref?: () => void }).unref?.();
}
