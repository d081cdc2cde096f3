/**
 * Checks of the values plain JavaScript may pass to the client's methods and options: each refusal is an
 * OptionsError that names the value. A leaf module (errors and show() only), so the lazily loaded MQTT 5 half
 * shares it without pulling the options, stores or transports into what both load.
 */

import { show } from "../mqtt/show.js";
import { OptionsError } from "./errors.js";

const encoder = new TextEncoder();

/**
 * The bytes of a payload: a string as UTF-8, a Uint8Array (Buffer included) as it is, an ArrayBuffer or any other
 * ArrayBufferView as a view of its bytes (no copy); undefined for anything else, whatever it is.
 */
export function toBytes(value: unknown): Uint8Array | undefined {
  try {
    if (typeof value === "string") return encoder.encode(value);
    // isView() looks at the object itself, never through a Proxy's traps.
    if (ArrayBuffer.isView(value)) return value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (value instanceof ArrayBuffer) {
      const view = new Uint8Array(value);
      if (view.buffer === value) return view; // not a Proxy of an ArrayBuffer (read as an empty array-like)
    }
  } catch {
    // a view whose buffer getters were tampered with
  }
  return undefined;
}

/** Whether `value` is neither undefined nor null: an option given. */
export const given = (value: unknown): boolean => value !== undefined && value !== null;

/** Throws OptionsError unless `value` is not given or its typeof is `type`. */
export function ofType(name: string, value: unknown, type: string): void {
  if (given(value) && typeof value !== type) throw new OptionsError(`${name} must be of type ${type}, not ${show(value)}`);
}

/**
 * The fields `keys` of an options argument (all undefined when it is undefined or null); OptionsError when it is
 * not an object or reading it throws (what it threw is the cause).
 */
export function fields(what: string, options: unknown, ...keys: string[]): unknown[] {
  ofType(what, options, "object");
  try {
    return keys.map((k) => (options as Record<string, unknown> | undefined)?.[k]);
  } catch (err) {
    throw new OptionsError(`${what} could not be read`, err);
  }
}

/** Throws OptionsError unless `value` is an integer in min..max (`name` names it). */
export function integer(name: string, value: unknown, min: number, max: number): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new OptionsError(`${name} must be an integer in ${min}..${max}, got ${show(value)}`);
  }
}
