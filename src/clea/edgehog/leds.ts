/**
 * Edgehog LedBehavior (`/<led_id>/behavior`): a blink request for the application's LED, with the pattern Edgehog's
 * reference runtime plays: each lasts 60 seconds.
 */

/** The behaviours Edgehog asks for. */
export type LedBehaviorName = "Blink60Seconds" | "DoubleBlink60Seconds" | "SlowBlink60Seconds";

/** A blink pattern: `repetitions` times on for `onMs` and off for `offMs`, then a pause of `pauseMs`, until `durationMs` is over. */
export interface BlinkPattern {
  /** On/off flashes per cycle. */
  repetitions: number;
  /** Milliseconds on per flash. */
  onMs: number;
  /** Milliseconds off per flash. */
  offMs: number;
  /** Milliseconds of pause after each cycle. */
  pauseMs: number;
}

/** A request to blink one LED. */
export interface LedRequest {
  /** The LED's id as Edgehog names it (the path's first level). */
  ledId: string;
  /** The behaviour asked for. */
  behavior: LedBehaviorName;
  /** How long to blink, in ms (60,000 for every behaviour Edgehog has). */
  durationMs: number;
  /** The on/off timing of the behaviour. */
  pattern: BlinkPattern;
}

/** Plays (or starts playing) a blink request on the device's LED. */
export type LedHandler = (request: LedRequest) => void | Promise<void>;

const PATTERNS: Record<LedBehaviorName, BlinkPattern> = {
  Blink60Seconds: { repetitions: 1, onMs: 1000, offMs: 1000, pauseMs: 0 },
  DoubleBlink60Seconds: { repetitions: 2, onMs: 300, offMs: 200, pauseMs: 800 },
  SlowBlink60Seconds: { repetitions: 1, onMs: 2000, offMs: 2000, pauseMs: 0 },
};

/** The request for a LedBehavior value on `path`, or an error message when the value is not a known behaviour. */
export function ledRequest(path: string, value: unknown): LedRequest | string {
  const ledId = path.split("/")[1] ?? "";
  if (typeof value !== "string" || !Object.hasOwn(PATTERNS, value)) return `LED ${ledId}: unknown behavior ${JSON.stringify(value)}`;
  const behavior = value as LedBehaviorName;
  return { ledId, behavior, durationMs: 60_000, pattern: { ...PATTERNS[behavior] } };
}
