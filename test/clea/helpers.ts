/** Test helpers for the Clea layer: hex <-> bytes, and catching a typed error to look at its code. */

import { expect } from "vitest";
import { InterfaceError, PayloadError } from "../../src/clea/errors.js";
import { hex } from "../mqtt/hex.ts";

export { hex };

/** Lower-case hex of bytes, no separators (compare with `hex(...)` run through `toHex`). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Normalises a hex literal written with spaces to the form toHex produces. */
export function norm(text: string): string {
  return toHex(hex(text));
}

/** Runs `fn`, which must throw a PayloadError; returns it. */
export function payloadError(fn: () => unknown): PayloadError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error("expected a PayloadError, nothing was thrown");
  expect(thrown).toBeInstanceOf(PayloadError);
  return thrown as PayloadError;
}

/** Runs `fn`, which must throw an InterfaceError; returns it. */
export function interfaceError(fn: () => unknown): InterfaceError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error("expected an InterfaceError, nothing was thrown");
  expect(thrown).toBeInstanceOf(InterfaceError);
  return thrown as InterfaceError;
}

/** Awaits `p`, which must reject with an InterfaceError; returns it. */
export async function rejectsInterfaceError(p: Promise<unknown>): Promise<InterfaceError> {
  let thrown: unknown;
  try {
    await p;
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error("expected an InterfaceError, the promise resolved");
  expect(thrown).toBeInstanceOf(InterfaceError);
  return thrown as InterfaceError;
}
