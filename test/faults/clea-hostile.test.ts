/**
 * Hostile input on the Clea side: malformed BSON, deflate bombs, wrong types, unknown interfaces and paths from the
 * server are each an error event and the device keeps running; a device cannot be made to publish outside its prefix.
 */
import { deflateSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { encodePayload, type Device } from "../../src/clea/index.ts";
import type { Packet } from "../../src/index.ts";
import type { FakeConnection } from "../support/fake-broker.ts";
import { settle } from "../support/fake-clock.ts";
import { startFakeDevice } from "../clea/helpers.ts";

const PREFIX = "acme/V_zv6ThCCtXWveQ8mPjsKg";
const devices: Device[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.end({ force: true }).catch(() => undefined)));
});

const IFACES = [
  {
    interface_name: "com.acme.Cmd",
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    ownership: "server",
    mappings: [{ endpoint: "/%{target}/run", type: "string", reliability: "unique" }],
  },
  {
    interface_name: "com.acme.Data",
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    ownership: "device",
    mappings: [{ endpoint: "/%{sensor}/value", type: "double" }],
  },
];

async function start(): Promise<{ device: Device; conn: FakeConnection }> {
  const { device, conn } = await startFakeDevice({ interfaces: IFACES, maxInflatedSize: 1 << 20 });
  devices.push(device);
  // Answer the handshake.
  for (let i = 0; i < 8; i++) {
    const p = await conn.next();
    if (p.type === "subscribe") conn.send({ type: "suback", packetId: p.packetId, granted: [2] });
    if (p.type === "publish" && p.qos === 2) conn.send({ type: "pubrec", packetId: p.packetId! });
    if (p.type === "pubrel") conn.send({ type: "pubcomp", packetId: p.packetId });
  }
  return { device, conn };
}

/** A zlib stream of `size` zero bytes, built without holding them all (zlib tops out near 1032:1). */
function bomb(size: number): Uint8Array {
  const z = deflateSync(new Uint8Array(size), { level: 9 });
  const frame = new Uint8Array(4 + z.length);
  new DataView(frame.buffer).setUint32(0, 10); // lies about its size
  frame.set(z, 4);
  return frame;
}

describe("hostile server messages", () => {
  it("each bad message is an error event with a code; the device keeps receiving", async () => {
    const { device, conn } = await start();
    const codes: string[] = [];
    device.on("error", (e) => codes.push((e as unknown as { code: string }).code));
    const events = device.events()[Symbol.asyncIterator]();
    const send = (topic: string, payload: Uint8Array) =>
      conn.send({ type: "publish", topic: `${PREFIX}/${topic}`, payload, qos: 0, retain: false, dup: false } satisfies Packet);
    const cases: Array<[string, Uint8Array, string]> = [
      ["com.acme.Cmd/a/run", Uint8Array.of(0x0c, 0, 0, 0, 0x02, 0x76, 0, 0xff, 0xff, 0xff, 0x7f, 0), "invalid-bson"], // size right, string length absurd
      ["com.acme.Cmd/a/run", Uint8Array.of(5, 0, 0, 0, 0), "invalid-bson"], // empty document: no "v"
      ["com.acme.Cmd/a/run", bomb(64 << 20), "inflate-limit-exceeded"], // a deflated data payload that inflates to 64 MiB
      ["control/consumer/properties", bomb(64 << 20), "inflate-limit-exceeded"], // a purge-frame bomb
      ["control/consumer/properties", new TextEncoder().encode("com.acme.Cmd/a/run"), "invalid-frame"], // a plaintext purge list
      ["com.acme.Cmd/a/run", Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), "invalid-frame"], // neither BSON nor zlib
      ["com.acme.Cmd/a/run", encodePayload(1.5), "unexpected-value-type"],
      ["com.acme.Cmd/a/run", encodePayload([1, 2], { type: "doublearray" }), "unexpected-value-type"],
      ["com.acme.Nope/a/run", encodePayload("x"), "interface-not-found"],
      ["com.acme.Cmd/a/b/run", encodePayload("x"), "mapping-not-found"],
      ["com.acme.Cmd/a/stop", encodePayload("x"), "mapping-not-found"],
      ["com.acme.Cmd//run", encodePayload("x"), "invalid-path"],
      ["com.acme.Data/t/value", encodePayload(1.5), "write-on-server-owned"],
      ["com.acme.Cmd/a/run", new Uint8Array(0), "unexpected-unset"], // an unset on a datastream
    ];
    for (const [topic, payload] of cases) send(topic, payload);
    send("com.acme.Cmd/pump/run", encodePayload("start", { type: "string" }));
    expect((await events.next()).value).toEqual({ interface: "com.acme.Cmd", path: "/pump/run", value: "start" });
    expect(codes).toEqual(cases.map((c) => c[2]));
    expect(device.stats().errors).toBe(cases.length);
    expect(device.client.connected).toBe(true);
  });
});

describe("the device stays inside its prefix", () => {
  it("refuses paths and names that would leave it, before anything is sent", async () => {
    const { device, conn } = await start();
    for (const p of ["/../x/value", "/a/b/value", "/+/value", "/#/value", "/a/value/", "//value", "a/value"]) {
      await expect(device.send("com.acme.Data", p, 1)).rejects.toMatchObject({ code: expect.stringMatching(/invalid-path|mapping-not-found/) });
    }
    await expect(device.send("../../other/device/com.acme.Data", "/a/value", 1)).rejects.toMatchObject({ code: "interface-not-found" });
    await expect(
      device.addInterface({ interface_name: "x/y", version_major: 1, version_minor: 0, type: "datastream", ownership: "device", mappings: [{ endpoint: "/a", type: "double" }] }),
    ).rejects.toMatchObject({ code: "invalid-interface" });
    await settle();
    expect(conn.unread()).toEqual([]);
  });
});
