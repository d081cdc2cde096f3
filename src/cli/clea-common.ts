/** What `edgemq clea device` and `edgemq clea fleet` share: the connection flags, their help, and stopping on signals. */
import process from "node:process";
import type { ClientOptions } from "edgemq";
import { clientOptions, COMMON_FLAGS, type ParsedValues } from "./options.js";

// A device's client id, session and will are its own (realm/deviceId, the Astarte handshake), and -t/-q do not apply.
const {
  topic: _t,
  qos: _q,
  id: _i,
  "disable-clean-session": _c,
  "will-topic": _wt,
  "will-payload": _wp,
  "will-qos": _wq,
  "will-retain": _wr,
  ...CONNECTION
} = COMMON_FLAGS;

/** The connection flags of the clea commands: the common ones without -t, -q, -i, -c and the will. */
export const CLEA_CONNECTION_FLAGS = CONNECTION;

/** Help text of the connection flags. */
export const CLEA_CONNECTION_HELP = `connection:
  -h HOST                 broker host (default 127.0.0.1); help is --help only
  -p PORT                 broker port (default 1883)
  -u, --url URL           broker URL, overrides -h/-p: mqtt:// mqtts:// ws:// wss://
  -k SECONDS              keepalive (default 30; 0 disables)
  --username NAME, --password SECRET
  --cafile FILE, --cert FILE, --key FILE
                          TLS: CA certificates, client certificate and key (PEM files)
  --insecure              do not verify the broker's certificate
  -d, --debug             report progress on stderr
  --help                  this text`;

/** The client options of the connection flags, without what a device sets itself (client id, clean session). */
export function connectionOptions(values: ParsedValues): Omit<ClientOptions, "clientId" | "clean" | "store"> {
  const { clean: _clean, clientId: _id, ...rest } = clientOptions(values);
  return rest;
}

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
