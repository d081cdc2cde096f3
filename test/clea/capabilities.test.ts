/** The Astarte capabilities message (issue #13 item 5), packet by packet against the scripted broker. */
import * as path from "node:path";
import { BSON } from "bson";
import { afterEach, describe, expect, it } from "vitest";
import { connectDevice, encodePayload, type Device } from "../../src/clea/index.ts";
import type { Packet } from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { settle } from "../support/fake-clock.ts";
import { acknowledgeAll, startFakeDevice, TEST_DEVICE_ID } from "./helpers.ts";

type Publish = Extract<Packet, { type: "publish" }>;
const PREFIX = `acme/${TEST_DEVICE_ID}`;
const FIXTURES = [path.resolve(import.meta.dirname, "fixtures")];
const devices: Device[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.end({ force: true }).catch(() => undefined)));
});

async function handshaken(extra: Record<string, unknown>) {
  const { device, conn } = await startFakeDevice({ interfaces: FIXTURES, ...extra });
  devices.push(device);
  acknowledgeAll(conn);
  await device.handshakeComplete();
  await settle();
  const publishes = conn.packets.filter((p): p is Publish => p.type === "publish");
  return { device, conn, publishes };
}

describe("capabilities", () => {
  it("are sent in the handshake, after the introspection and before emptyCache, as QoS 2 BSON", async () => {
    const { publishes } = await handshaken({ capabilities: { purgePropertiesCompressionFormat: "plaintext" } });
    expect(publishes.map((p) => p.topic.slice(PREFIX.length))).toEqual(["", "/capabilities", "/control/emptyCache", "/control/producer/properties"]);
    const caps = publishes[1]!;
    expect(caps.qos).toBe(2);
    expect(BSON.deserialize(caps.payload)).toEqual({ purge_properties_compression_format: "plaintext" });
  });

  it("default to zlib when the option is an empty object, and are not sent at all without the option", async () => {
    const withDefault = await handshaken({ capabilities: {} });
    expect(BSON.deserialize(withDefault.publishes[1]!.payload)).toEqual({ purge_properties_compression_format: "zlib" });
    const without = await handshaken({});
    expect(without.publishes.some((p) => p.topic.endsWith("/capabilities"))).toBe(false);
  });

  it("with plaintext, the device reads the consumer purge list uncompressed", async () => {
    const { device, conn } = await handshaken({ capabilities: { purgePropertiesCompressionFormat: "plaintext" } });
    const errors: Error[] = [];
    device.on("error", (e) => errors.push(e));
    const events = device.events()[Symbol.asyncIterator]();
    const publish = (topic: string, payload: Uint8Array) => conn.send({ type: "publish", topic: `${PREFIX}/${topic}`, payload, qos: 0, retain: false, dup: false });
    publish("com.acme.ServerConfig/a/value", encodePayload(1n, { type: "longinteger" }));
    publish("com.acme.ServerConfig/b/value", encodePayload(2n, { type: "longinteger" }));
    await events.next();
    await events.next();
    publish("control/consumer/properties", new TextEncoder().encode("com.acme.ServerConfig/b/value"));
    expect((await events.next()).value).toEqual({ interface: "com.acme.ServerConfig", path: "/a/value", value: undefined });
    expect(device.getProperty("com.acme.ServerConfig", "/b/value")).toBe(2n);
    expect(errors).toEqual([]);
  });

  it("a malformed capabilities option is refused before connecting (the broker would disconnect the device)", async () => {
    for (const bad of [5, "plaintext", { purgePropertiesCompressionFormat: "gzip" }, { compression: "zlib" }]) {
      const broker = new FakeBroker();
      const attempt = connectDevice({ realm: "acme", deviceId: TEST_DEVICE_ID, url: "mqtt://fake", transport: broker.transport, capabilities: bad as never });
      await expect(attempt).rejects.toMatchObject({ name: "OptionsError", code: "invalid-options" });
      expect(broker.attempts).toBe(0);
    }
  });
});
