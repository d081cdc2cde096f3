/**
 * Periodic telemetry with the server in charge of its schedule: each telemetry interface is sent at once when it is
 * turned on and then every period, counted from the end of one send to the start of the next. The device's own
 * settings apply until the server sets config.Telemetry (`/request/<interface>/enable` and `/periodSeconds`); an
 * unset returns to the device's setting. The server's values live in the properties cache, which the store
 * directory keeps, so they hold across a restart. Default: on, every 60 s, as Edgehog's reference runtime.
 */

import type { CleaValue } from "../values.js";
import { EDGEHOG } from "./interfaces.js";
import type { TelemetryInterface, TelemetrySetting } from "./options.js";
import { background, type EdgehogPort } from "./port.js";

/** The default period, in seconds. */
export const DEFAULT_TELEMETRY_PERIOD = 60;

/** Where a telemetry interface's schedule stands: whether it is sent, how often, and who decided. */
export interface TelemetryState {
  /** Whether it is sent. */
  enabled: boolean;
  /** Seconds between sends. */
  periodSeconds: number;
  /** "server" while config.Telemetry sets the enable flag or the period, else "device". */
  source: "server" | "device";
}

/** Takes one reading of a telemetry interface and sends it, timestamped with `stamp()` once read. */
export type TelemetrySource = (stamp: () => Date) => Promise<void>;

interface Running {
  state: TelemetryState;
  timer: unknown;
}

/** Runs the telemetry schedules. */
export class TelemetryScheduler {
  private readonly running = new Map<TelemetryInterface, Running>();
  private stopped = true;

  constructor(
    private readonly port: EdgehogPort,
    private readonly settings: Partial<Record<TelemetryInterface, TelemetrySetting>>,
    private readonly sources: Map<TelemetryInterface, TelemetrySource>,
  ) {}

  /** Starts every schedule that is on. */
  start(): void {
    this.stopped = false;
    for (const name of this.sources.keys()) this.apply(name);
  }

  /** Stops every schedule. */
  stop(): void {
    this.stopped = true;
    for (const r of this.running.values()) this.port.clock.clearTimeout(r.timer);
    this.running.clear();
  }

  /** The schedule of each telemetry interface the device sends. */
  states(): Partial<Record<TelemetryInterface, TelemetryState>> {
    return Object.fromEntries([...this.sources.keys()].map((name) => [name, this.state(name)]));
  }

  /** A config.Telemetry property changed on `path` (`/request/<interface>/...`): applies it without a restart. */
  configChanged(path: string): void {
    const name = path.split("/")[2] as TelemetryInterface;
    if (this.sources.has(name) && !this.stopped) this.apply(name);
  }

  /** What the settings and the server's config say for `name` now. */
  private state(name: TelemetryInterface): TelemetryState {
    const own = this.settings[name] ?? {};
    const enable = this.server(`/request/${name}/enable`);
    const period = this.server(`/request/${name}/periodSeconds`);
    const periodSeconds = typeof period === "bigint" || typeof period === "number" ? Number(period) : (own.periodSeconds ?? DEFAULT_TELEMETRY_PERIOD);
    const enabled = (typeof enable === "boolean" ? enable : (own.enabled ?? true)) && periodSeconds > 0;
    return { enabled, periodSeconds, source: enable !== undefined || period !== undefined ? "server" : "device" };
  }

  private server(path: string): CleaValue | undefined {
    return this.port.getProperty(EDGEHOG.TelemetryConfig, path);
  }

  /** (Re)starts `name`'s schedule if its state changed: sent at once when on, then every period. */
  private apply(name: TelemetryInterface): void {
    const state = this.state(name);
    const current = this.running.get(name);
    if (current && current.state.enabled === state.enabled && current.state.periodSeconds === state.periodSeconds) {
      current.state = state;
      return;
    }
    if (current) this.port.clock.clearTimeout(current.timer);
    this.running.delete(name);
    if (!state.enabled) return;
    const run: Running = { state, timer: undefined };
    this.running.set(name, run);
    const tick = (): void => {
      void background(this.port, "telemetry-failed", name, async () => {
        try {
          await this.sources.get(name)!(() => new Date(this.port.now()));
        } catch (err) {
          if (!this.stopped) throw err; // a send cut short by end() is no failure
        }
      }).then(() => {
        // Only the schedule that is still current goes on (a change started a new one).
        if (this.running.get(name) === run) run.timer = this.port.clock.setTimeout(tick, run.state.periodSeconds * 1000, false);
      });
    };
    tick();
  }
}
