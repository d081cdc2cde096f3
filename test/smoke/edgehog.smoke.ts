/** Edgehog smoke test for Deno and Bun (issue #16): host telemetry and a server-changed period, against the simulator on mosquitto. */
import { startMosquitto } from "../support/mosquitto.ts";
import { assert, assertEqual, test } from "./harness.ts";
import type * as Clea from "../../src/clea/index.ts";

/** Registers the Edgehog smoke test against one build of the package. */
export function edgehogSmoke(clea: typeof Clea): void {
  test("an Edgehog device sends SystemStatus, StorageUsage and HardwareInfo, and follows a period the server sets", async () => {
    const broker = await startMosquitto();
    const sim = new clea.AstarteSimulator({ url: broker.url, realm: "acme", edgehog: true, reconnect: false });
    try {
      await sim.start();
      const deviceId = clea.randomDeviceId();
      const device = await clea.connectDevice({ realm: "acme", deviceId, url: broker.url, reconnect: false, edgehog: true });
      const status = await sim.waitForData(deviceId, clea.EDGEHOG.SystemStatus, "/systemStatus");
      const v = status.value as Record<string, unknown>;
      assertEqual(typeof v.availMemoryBytes, "bigint", "availMemoryBytes is an int64");
      assertEqual(typeof v.uptimeMillis, "bigint", "uptimeMillis is an int64");
      assert(status.timestamp instanceof Date, "SystemStatus has an explicit timestamp");
      const storage = (await sim.waitForData(deviceId, clea.EDGEHOG.StorageUsage, "/root")).value as Record<string, bigint>;
      assert(storage.totalBytes! > 0n && storage.freeBytes! <= storage.totalBytes!, "StorageUsage of / is plausible");
      assertEqual(typeof (await sim.waitForProperty(deviceId, clea.EDGEHOG.HardwareInfo, "/mem/totalBytes")), "bigint");
      assert(device.edgehog.capabilities().includes("system_status"), "system_status is a capability");
      assertEqual(sim.device(deviceId).edgehogCapabilities(), device.edgehog.capabilities(), "Edgehog's view matches the device's");

      await sim.setProperty(deviceId, clea.EDGEHOG.TelemetryConfig, `/request/${clea.EDGEHOG.SystemStatus}/periodSeconds`, 1n);
      const count = () => sim.device(deviceId).data.filter((e) => e.interface === clea.EDGEHOG.SystemStatus).length;
      const deadline = Date.now() + 5000;
      while (count() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert(count() >= 3, `SystemStatus every second after the server's change (got ${count()})`);
      assertEqual(device.edgehog.telemetry()[clea.EDGEHOG.SystemStatus], { enabled: true, periodSeconds: 1, source: "server" });
      await device.end();
    } finally {
      await sim.stop().catch(() => undefined);
      await broker.dispose();
    }
  });
}
