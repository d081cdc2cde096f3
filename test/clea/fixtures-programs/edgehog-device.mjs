// A user's program on the built package: an Edgehog device that connects, waits for its handshake and first
// telemetry, ends, and must then exit by itself (its telemetry timers hold nothing once end() returned).
import { connectDevice, randomDeviceId } from "edgemq/clea";

const device = await connectDevice({ realm: "acme", deviceId: randomDeviceId(), url: process.argv[2], reconnect: false, edgehog: true });
await device.handshakeComplete();
console.log(`ready ${device.edgehog.capabilities().includes("system_status")}`);
await device.end();
console.log("ended");
