/** Test helpers for the Clea layer: hex <-> bytes, catching a typed error to look at its code, a device on a scripted broker. */

import { expect } from "vitest";
import { connectDevice, type Device, type DeviceOptions } from "../../src/clea/index.ts";
import { InterfaceError, PayloadError } from "../../src/clea/errors.js";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock } from "../support/fake-clock.ts";
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

/** The device id the scripted-broker device tests use. */
export const TEST_DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";

/**
 * A device of realm "acme" on a fresh scripted broker with a fake clock, its first CONNECT accepted (no session).
 * `extra` adds or overrides options (interfaces, maxMessageSize, ...).
 */
export async function startFakeDevice(
  extra: Partial<DeviceOptions> = {},
): Promise<{ device: Device; conn: FakeConnection; broker: FakeBroker; clock: FakeClock }> {
  const broker = new FakeBroker();
  const clock = new FakeClock();
  const pending = connectDevice({
    realm: "acme",
    deviceId: TEST_DEVICE_ID,
    url: "mqtt://fake",
    transport: broker.transport,
    clock,
    random: () => 0,
    keepalive: 0,
    ...extra,
  });
  const conn = await broker.nextConnection();
  await conn.accept(false);
  return { device: await pending, conn, broker, clock };
}

/**
 * Plays a broker that acknowledges everything: answers each SUBSCRIBE, QoS 1/2 PUBLISH and PUBREL the device sends
 * on `conn` from now on (packets stay readable with `conn.next()`). Returns the function that stops it.
 */
export function acknowledgeAll(conn: FakeConnection): () => void {
  return conn.watch((p) => {
    if (p.type === "subscribe") conn.send({ type: "suback", packetId: p.packetId, granted: p.subscriptions.map(() => 2 as const) });
    if (p.type === "publish" && p.qos === 1) conn.send({ type: "puback", packetId: p.packetId! });
    if (p.type === "publish" && p.qos === 2) conn.send({ type: "pubrec", packetId: p.packetId! });
    if (p.type === "pubrel") conn.send({ type: "pubcomp", packetId: p.packetId });
  });
}
