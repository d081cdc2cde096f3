/**
 * Keepalive: send PINGREQ when the link has been quiet for `keepalive` seconds (nothing sent or nothing
 * received), then expect an answer within half the interval. A half-open connection is therefore declared
 * dead within 1.5x keepalive of the last sign of life.
 */

import type { Clock } from "./clock.js";

export class Keepalive {
  private readonly intervalMs: number;
  private lastSent = 0;
  private lastReceived = 0;
  private pingSentAt = -1;
  private timer: unknown;
  private running = false;

  constructor(
    keepaliveSeconds: number,
    private readonly clock: Clock,
    private readonly sendPing: () => void,
    private readonly onDead: (silentForMs: number) => void,
  ) {
    this.intervalMs = keepaliveSeconds * 1000;
  }

  /** Starts watching a fresh connection. */
  start(): void {
    if (this.intervalMs <= 0) return;
    this.running = true;
    const now = this.clock.now();
    this.lastSent = now;
    this.lastReceived = now;
    this.pingSentAt = -1;
    this.schedule();
  }

  /** Stops all timers. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Records that bytes were written. */
  sent(): void {
    this.lastSent = this.clock.now();
  }

  /** Records that a packet arrived: any packet proves the link is alive. */
  received(): void {
    this.lastReceived = this.clock.now();
    this.pingSentAt = -1;
  }

  private schedule(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const due =
      this.pingSentAt >= 0
        ? this.pingSentAt + this.intervalMs / 2
        : Math.min(this.lastSent, this.lastReceived) + this.intervalMs;
    this.timer = this.clock.setTimeout(() => this.check(), Math.max(0, due - now));
  }

  private check(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    if (this.pingSentAt >= 0) {
      if (now - this.pingSentAt >= this.intervalMs / 2) {
        this.running = false;
        this.onDead(now - this.lastReceived);
        return;
      }
    } else if (now - this.lastSent >= this.intervalMs || now - this.lastReceived >= this.intervalMs) {
      this.pingSentAt = now;
      this.sendPing();
    }
    this.schedule();
  }
}
