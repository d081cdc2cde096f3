/** Stopping a command on SIGINT or SIGTERM: what sub, bench and the clea commands wait on. */
import process from "node:process";

/** What Stopper.signalled resolves with. */
export const STOPPED = Symbol("stopped");

/**
 * Stops a run on the first SIGINT or SIGTERM (or stop()): `signalled` settles, `stopped` turns true and every
 * pending sleep() resolves at once. Sleeps hold no reaction on a shared promise, so long runs do not accumulate any.
 */
export class Stopper {
  /** Whether the run was stopped. */
  stopped = false;
  /** Settles with STOPPED when the run is stopped. */
  readonly signalled: Promise<typeof STOPPED>;
  private resolve!: (v: typeof STOPPED) => void;
  private readonly sleeping = new Map<NodeJS.Timeout, () => void>();
  private readonly handler = () => this.stop();

  constructor() {
    this.signalled = new Promise<typeof STOPPED>((r) => (this.resolve = r));
    process.on("SIGINT", this.handler);
    process.on("SIGTERM", this.handler);
  }

  /** Stops the run (as a signal does). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.resolve(STOPPED);
    for (const [timer, wake] of this.sleeping) {
      clearTimeout(timer);
      wake();
    }
    this.sleeping.clear();
  }

  /** Resolves after `ms` milliseconds, or at once when the run is (or gets) stopped. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping.delete(timer);
        resolve();
      }, ms);
      this.sleeping.set(timer, resolve);
    });
  }

  /** Removes the signal handlers. */
  dispose(): void {
    process.off("SIGINT", this.handler);
    process.off("SIGTERM", this.handler);
  }
}
