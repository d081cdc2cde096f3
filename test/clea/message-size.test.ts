/** Outgoing messages are capped at the Astarte broker's max_message_size (65,535 bytes) unless raised. */
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connectDevice, PayloadError, type Device } from "../../src/clea/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { settle } from "../support/fake-clock.ts";
import { acknowledgeAll, startFakeDevice, TEST_DEVICE_ID } from "./helpers.ts";

const FIXTURES = [path.resolve(import.meta.dirname, "fixtures")];
const devices: Device[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.end({ force: true }).catch(() => undefined)));
});

async function start(extra: { maxMessageSize?: number } = {}) {
  const { device, conn } = await startFakeDevice({ interfaces: FIXTURES, ...extra });
  devices.push(device);
  acknowledgeAll(conn);
  await device.handshakeComplete();
  return { device, conn };
}

const publishedOn = (conn: Awaited<ReturnType<typeof start>>["conn"], suffix: string) =>
  conn.packets.filter((p) => p.type === "publish" && p.topic.endsWith(suffix));

describe("maxMessageSize", () => {
  it("refuses a payload over 65,535 bytes locally with message-too-large and sends nothing", async () => {
    const { device, conn } = await start();
    const err = await device.send("com.acme.Telemetry", "/blob", new Uint8Array(65_530)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadError);
    expect((err as PayloadError).code).toBe("message-too-large");
    await settle();
    expect(publishedOn(conn, "/blob")).toEqual([]);
    // a payload under the cap takes the same path and goes out
    void device.send("com.acme.Telemetry", "/blob", new Uint8Array(60_000)).catch(() => undefined);
    await settle();
    expect(publishedOn(conn, "/blob")).toHaveLength(1);
  });

  it("a maxMessageSize that is not a positive whole number is refused", async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "64k" as unknown as number]) {
      const attempt = connectDevice({ realm: "acme", deviceId: TEST_DEVICE_ID, url: "mqtt://fake", transport: new FakeBroker().transport, maxMessageSize: bad });
      await expect(attempt).rejects.toMatchObject({ code: "invalid-options" });
    }
  });

  it("can be raised for brokers that take more", async () => {
    const { device, conn } = await start({ maxMessageSize: 1 << 20 });
    let refused: unknown;
    void device.send("com.acme.Telemetry", "/blob", new Uint8Array(65_530)).catch((e: unknown) => (refused = e));
    await settle();
    expect(refused).toBeUndefined();
    expect(publishedOn(conn, "/blob")).toHaveLength(1);
  });
});
