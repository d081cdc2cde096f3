/**
 * A gateway that boots with no network: it takes readings at once, keeps them (on disk) while the broker is
 * unreachable, and delivers them when it appears. Run it before the broker is up:
 *
 *   npx tsx examples/offline-boot.ts mqtt://127.0.0.1:1883 [readings] [store directory]
 */
import { createClient, FileStore } from "edgemq";

const url = process.argv[2] ?? "mqtt://127.0.0.1:1883";
const readings = Number(process.argv[3] ?? 10);
const storeDir = process.argv[4] ?? "./var/edgemq-gw-boot";

const client = createClient({
  url,
  clientId: "gw-boot",
  clean: false,
  store: new FileStore(storeDir), // readings taken offline survive a restart before they are delivered
  waitOnFirstConnect: true, // connect() keeps trying with the reconnect backoff instead of rejecting
  reconnect: { initialDelay: 500, maxDelay: 5000 },
});
client.on("reconnecting", ({ attempt, delay }) => console.log(`broker unreachable; attempt ${attempt} in ${delay} ms`));
client.on("connect", () => console.log("connected"));

const connected = client.connect(); // starts trying now; the publishes below wait in the offline queue meanwhile
const delivered: Array<Promise<void>> = [];
for (let i = 1; i <= readings; i++) {
  delivered.push(client.publish("plant/gw-boot/readings", JSON.stringify({ i, at: new Date().toISOString() }), { qos: 1 }));
}
console.log(`${readings} readings queued while offline`);
await connected;
await Promise.all(delivered); // each resolves on its PUBACK
console.log(`${readings} readings delivered`);
await client.end();
