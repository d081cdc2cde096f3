/** Reconnect delays: exponential from initialDelay by multiplier, capped at maxDelay, with jitter. */

import type { Random } from "./clock.js";

/** Reconnect timing options (milliseconds). */
export interface ReconnectOptions {
  /** Delay before the first retry. Default 1000. */
  initialDelay?: number;
  /** Cap on the delay. Default 60,000. */
  maxDelay?: number;
  /** Growth factor per failed attempt. Default 2. */
  multiplier?: number;
  /** Fraction of the delay taken off at random (0 = none, 1 = full jitter). Default 0.5. */
  jitter?: number;
  /** A connection that stays up this long resets the delay to initialDelay. Default 10,000. */
  stableAfter?: number;
}

/** Tracks failed attempts and computes the next delay. */
export class Backoff {
  readonly #initialDelay: number;
  readonly #maxDelay: number;
  readonly #multiplier: number;
  readonly #jitter: number;
  /** How long a connection must stay up before the attempt count resets. */
  readonly stableAfter: number;
  #failures = 0;

  readonly #random: Random;

  constructor(options: ReconnectOptions, random: Random) {
    this.#random = random;
    this.#initialDelay = options.initialDelay ?? 1000;
    this.#maxDelay = options.maxDelay ?? 60_000;
    this.#multiplier = options.multiplier ?? 2;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.stableAfter = options.stableAfter ?? 10_000;
  }

  /** Attempts since the last stable connection. */
  get attempts(): number {
    return this.#failures;
  }

  /** The delay before the next attempt; `toMax` jumps straight to maxDelay (refused credentials). */
  next(toMax = false): number {
    const base = toMax ? this.#maxDelay : Math.min(this.#maxDelay, this.#initialDelay * this.#multiplier ** this.#failures);
    this.#failures++;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** Called once a connection has stayed up for stableAfter. */
  reset(): void {
    this.#failures = 0;
  }
}
