/** Clea smoke tests for Deno and Bun: the payload codec and a device round trip against mosquitto. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startMosquitto } from "../support/mosquitto.ts";
import { assert, assertEqual, test } from "./harness.ts";
import type * as Core from "../../src/index.ts";
import type * as Clea from "../../src/clea/index.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Registers the Clea smoke tests against one build of the package. */
export function cleaSmoke(core: typeof Core, clea: typeof Clea, root: string): void {
  test("payload codec: the mapping type decides the BSON type; frames inflate with a cap", () => {
    assertEqual(hex(clea.encodePayload(2, { type: "double" })), "10000000017600000000000000004000");
    assertEqual(hex(clea.encodePayload(2, { type: "integer" })), "0c0000001076000200000000");
    assertEqual(clea.decodePayload(clea.encodePayload(2n ** 60n, { type: "longinteger" }))?.value, 2n ** 60n);
    const at = new Date("2026-11-25T10:00:00Z");
    const decoded = clea.decodePayload(clea.encodePayload({ temp: 21.5 }, { type: { temp: "double" }, timestamp: at, deflate: true }));
    assertEqual(decoded, { value: { temp: 21.5 }, timestamp: at });
    const bomb = clea.deflateFrame(new Uint8Array(4 << 20));
    let refused: unknown;
    try {
      clea.inflateFrame(bomb, { maxSize: 1 << 20 });
    } catch (err) {
      refused = err;
    }
    assert(refused instanceof clea.PayloadError, "a frame inflating past the cap is refused");
    assertEqual((refused as Clea.PayloadError).code, "inflate-limit-exceeded");
  });

  test("a device handshakes, sends telemetry and receives a server command through mosquitto", async () => {
    const broker = await startMosquitto();
    try {
      const prefix = "acme/V_zv6ThCCtXWveQ8mPjsKg";
      const server = await core.connect({ url: broker.url, reconnect: false });
      const seen: string[] = [];
      server.on("message", (m) => seen.push(m.topic.slice(prefix.length)));
      await server.subscribe([`${prefix}/#`, prefix], { qos: 2 });
      const device = await clea.connectDevice({
        realm: "acme",
        deviceId: "V_zv6ThCCtXWveQ8mPjsKg",
        url: broker.url,
        reconnect: false,
        interfaces: [path.join(root, "examples/interfaces"), path.join(root, "test/clea/fixtures")],
      });
      await device.handshakeComplete();
      await device.send("com.acme.Sensors", "/p7/temperature", 21.5, { timestamp: new Date() });
      const events = device.events()[Symbol.asyncIterator]();
      await server.publish(`${prefix}/com.acme.Commands/request`, clea.encodePayload("Reboot", { type: "string" }), { qos: 2 });
      assertEqual((await events.next()).value, { interface: "com.acme.Commands", path: "/request", value: "Reboot" });
      assertEqual(seen.slice(0, 4), ["", "/control/emptyCache", "/control/producer/properties", "/com.acme.Sensors/p7/temperature"]);
      await device.end();
      await server.end();
    } finally {
      await broker.dispose();
    }
  });

  test("after a broker restart that lost the session, the handshake is acknowledged before any data, each property once", async () => {
    const broker = await startMosquitto({ config: ["log_type debug"] });
    const store = tempDir();
    try {
      const prefix = "acme/V_zv6ThCCtXWveQ8mPjsKg";
      const device = await clea.connectDevice({
        realm: "acme",
        deviceId: "V_zv6ThCCtXWveQ8mPjsKg",
        url: broker.url,
        store,
        reconnect: { initialDelay: 100, maxDelay: 300 },
        interfaces: [path.join(root, "examples/interfaces"), path.join(root, "test/clea/fixtures")],
      });
      await device.handshakeComplete();
      await broker.stop();
      while (device.client.connected) await new Promise((r) => setTimeout(r, 20));
      await device.send("com.acme.Telemetry", "/stored", 1);
      await device.setProperty("com.acme.Config", "/sampling/intervalMs", 200);
      await device.setProperty("com.acme.Config", "/sampling/intervalMs", 300);
      const from = broker.log().length;
      await broker.start();
      const received = () =>
        [...broker.log().slice(from).matchAll(/Received PUBLISH from (\S+) \(d\d, q\d, r\d, m\d+, '([^']*)'/g)]
          .filter((m) => m[1] === prefix)
          .map((m) => m[2]!.slice(prefix.length));
      const deadline = Date.now() + 10_000;
      while (!received().includes("/com.acme.Telemetry/stored") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assertEqual(received(), ["", "/control/emptyCache", "/control/producer/properties", "/com.acme.Config/sampling/intervalMs", "/com.acme.Telemetry/stored"]);
      await device.end();
    } finally {
      await broker.dispose();
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
}

/** A fresh temporary directory (node:fs and node:os work on all three runtimes). */
function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-smoke-"));
}
