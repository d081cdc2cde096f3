/**
 * Keepalive: send PINGREQ when the link has been quiet for `keepalive` seconds (nothing sent or nothing
 * received), then expect an answer within half the interval. A half-open connection is therefore declared
 * dead within 1.5x keepalive of the last sign of life.
 */

import type { Clock } from "./clock.js";
import { ConnectionLostError } from "./errors.js";

/** The connection a Keepalive watches: the Link (an interface so the watch holds no closures). */
export interface Watched {
  send(packet: { type: "pingreq" }): void;
  fail(error: Error): void;
}

export class Keepalive {
  /** The interval: the keepalive option, or an MQTT 5 server's Server Keep Alive (set by the v5 half, then start() again). */
  intervalMs: number;
  #lastSent = 0;
  #lastReceived = 0;
  #pingSentAt = -1;
  #timer: unknown;
  #running = false;

  readonly #clock: Clock;
  readonly #link: Watched;

  constructor(
    keepaliveSeconds: number,
    clock: Clock,
    link: Watched,
  ) {
    this.#clock = clock;
    this.#link = link;
    this.intervalMs = keepaliveSeconds * 1000;
  }

  /** Starts watching a fresh connection. */
  start(): void {
    if (this.intervalMs <= 0) return;
    this.#running = true;
    const now = this.now();
    this.#lastSent = now;
    this.#lastReceived = now;
    this.#pingSentAt = -1;
    this.schedule();
  }

  /** Stops all timers. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Records that bytes were written. */
  sent(): void {
    this.#lastSent = this.now();
  }

  /** Records that a packet arrived: any packet proves the link is alive. */
  received(): void {
    this.#lastReceived = this.now();
    this.#pingSentAt = -1;
  }

  /** Whole milliseconds: small integers are stored in place, a fractional time would be a separate heap object per field. */
  private now(): number {
    return Math.floor(this.#clock.now());
  }

  private schedule(): void {
    if (!this.#running) return;
    const now = this.now();
    const due =
      this.#pingSentAt >= 0
        ? this.#pingSentAt + this.intervalMs / 2
        : Math.min(this.#lastSent, this.#lastReceived) + this.intervalMs;
    this.#timer = this.#clock.setTimeout(() => this.check(), Math.max(0, due - now));
  }

  private check(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.now();
    if (this.#pingSentAt >= 0) {
      if (now - this.#pingSentAt >= this.intervalMs / 2) {
        this.#running = false;
        const silent = Math.round(now - this.#lastReceived);
        this.#link.fail(new ConnectionLostError("keepalive-timeout", `no answer from the broker for ${silent} ms (keepalive ${this.intervalMs / 1000} s)`));
        return;
      }
    } else if (now - this.#lastSent >= this.intervalMs || now - this.#lastReceived >= this.intervalMs) {
      this.#pingSentAt = now;
      this.#link.send({ type: "pingreq" });
    }
    this.schedule();
  }
}
