/**
 * One measured publish/receive run, shared by every contender so they are paced by the same rules:
 *  - a publisher keeps at most `window` publishes unfinished (its own acks / write callbacks), and
 *  - at most `cap` messages published but not yet received by the subscriber (end to end), so that a QoS 0
 *    publisher cannot outrun the broker and the subscriber without bound.
 * The subscriber calls received() for every message; the run is done when `count` messages arrived.
 */

export class Run {
  published = 0;
  received = 0;
  /** performance.now() when the last message arrived. */
  lastAt = 0;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private waiter: (() => void) | undefined;

  constructor(
    readonly count: number,
    readonly cap: number,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Whether the end-to-end window has room for another publish. */
  get hasRoom(): boolean {
    return this.published - this.received < this.cap;
  }

  /** Calls `cb` once the end-to-end window has drained to half (one waiter at a time). */
  onRoom(cb: () => void): void {
    if (this.hasRoom) cb();
    else this.waiter = cb;
  }

  /** The subscriber got a message. */
  received1(): void {
    const n = ++this.received;
    if (this.waiter !== undefined && this.published - n <= this.cap >> 1) {
      const w = this.waiter;
      this.waiter = undefined;
      w();
    }
    if (n === this.count) {
      this.lastAt = performance.now();
      this.resolveDone();
    }
  }
}

/**
 * The publish loop of the promise/callback clients (edgemq, MQTT.js): publish without awaiting each, at most
 * `window` unfinished, within the run's end-to-end cap. `publishOne(done, fail)` starts one publish and calls
 * done() when the client reports it finished (QoS 0 written, QoS 1 PUBACK, QoS 2 PUBCOMP).
 * Resolves when every publish has finished.
 */
export async function publishLoop(
  run: Run,
  window: number,
  publishOne: (done: () => void, fail: (err: unknown) => void) => void,
): Promise<void> {
  let pending = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  const done = () => {
    pending--;
    if (wake !== undefined) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const fail = (err: unknown) => {
    failure ??= err;
    done();
  };
  for (let i = 0; i < run.count; i++) {
    if (pending >= window) await new Promise<void>((r) => (wake = r));
    if (!run.hasRoom) await new Promise<void>((r) => run.onRoom(r));
    if (failure !== undefined) throw failure;
    pending++;
    run.published++;
    publishOne(done, fail);
  }
  while (pending > 0) await new Promise<void>((r) => (wake = r));
  if (failure !== undefined) throw failure;
}
