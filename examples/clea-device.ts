/**
 * A Clea (Astarte MQTT v1) gateway device: telemetry with explicit timestamps, a device property, and server
 * commands, using the two interfaces in examples/interfaces/.
 *
 *   npx tsx examples/clea-device.ts mqtts://broker.example:8883 <realm> <deviceId> <cert.pem> <key.pem> [ca.pem]
 *
 * With no arguments it targets mqtt://127.0.0.1:1883 without TLS (a local broker playing Clea's).
 */
import * as fs from "node:fs";
import { connectDevice, randomDeviceId } from "edgemq/clea";

const [url = "mqtt://127.0.0.1:1883", realm = "acme", deviceId = randomDeviceId(), cert, key, ca] = process.argv.slice(2);

const device = await connectDevice({
  realm,
  deviceId,
  url,
  tls: cert && key ? { cert: fs.readFileSync(cert, "utf8"), key: fs.readFileSync(key, "utf8"), ca: ca ? fs.readFileSync(ca, "utf8") : undefined } : undefined,
  interfaces: [new URL("./interfaces", import.meta.url).pathname],
  store: `./var/clea-${deviceId}`, // in-flight messages, properties, stored retention survive restarts
});
device.on("error", (err) => console.log("refused a server message:", err.message));
device.on("connect", ({ sessionPresent, handshake }) => console.log(`reconnected (session present ${sessionPresent}, handshake ${handshake})`));
await device.handshakeComplete();
console.log(`connected as ${device.prefix}; introspection: ${device.introspection}`);
await device.setProperty("com.acme.Config", "/display/name", "Press 7");
await device.setProperty("com.acme.Config", "/sampling/intervalMs", 1000);

// Server-owned interfaces (none in examples/interfaces, add your own) arrive here.
void (async () => {
  for await (const ev of device.events()) console.log("from the server:", ev.interface, ev.path, ev.value);
})();

for (let i = 0; i < 10; i++) {
  // com.acme.Sensors: guaranteed (QoS 1), stored retention while offline, explicit timestamps.
  await device.send("com.acme.Sensors", "/press7/temperature", 20 + Math.random() * 5, { timestamp: new Date() });
  await new Promise((r) => setTimeout(r, 1000));
}
console.log(device.stats());
await device.end();
