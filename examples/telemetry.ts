/**
 * A gateway that publishes sensor telemetry and obeys commands, against any broker:
 *
 *   npx tsx examples/telemetry.ts mqtt://127.0.0.1:1883 [gateway-id]
 *
 * Telemetry goes to plant/<id>/<sensor>/temperature at QoS 1; commands arrive on plant/<id>/cmd/#
 * (try: mosquitto_pub -t plant/gw-01/cmd/interval -m 500 -q 1). Ctrl-C ends it gracefully.
 */
import { createClient, FileStore } from "edgemq";

const url = process.argv[2] ?? "mqtt://127.0.0.1:1883";
const id = process.argv[3] ?? "gw-01";

const client = createClient({
  url,
  clientId: id,
  clean: false, // the broker keeps our subscription and queues commands while we are away
  store: new FileStore(`./var/edgemq-${id}`), // unacked telemetry survives a restart
  will: { topic: `plant/${id}/status`, payload: "offline", qos: 1, retain: true },
  offlineQueue: { maxMessages: 50_000, overflow: "drop-oldest" },
});
client.on("connect", ({ sessionPresent }) => console.log(`connected (session present: ${sessionPresent})`));
client.on("disconnect", ({ reason }) => console.log(`disconnected: ${reason?.message ?? "by request"}`));
client.on("reconnecting", ({ attempt, delay }) => console.log(`reconnecting in ${delay} ms (attempt ${attempt})`));
client.on("drop", ({ topic }) => console.log(`offline queue full: dropped a message for ${topic}`));

// The first connect() rejects when the broker is unreachable; a gateway keeps trying (publishes queue meanwhile).
for (;;) {
  try {
    await client.connect();
    break;
  } catch (err) {
    console.log(`${(err as Error).message}; retrying in 5 s`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}
await client.publish(`plant/${id}/status`, "online", { qos: 1, retain: true });

let intervalMs = 1000;
const commands = await client.subscribe(`plant/${id}/cmd/#`, { qos: 1 });
void (async () => {
  for await (const cmd of commands) {
    const value = Number(new TextDecoder().decode(cmd.payload));
    if (cmd.topic.endsWith("/interval") && value >= 10) intervalMs = value;
    console.log(`command ${cmd.topic}: interval now ${intervalMs} ms`);
  }
})();

let running = true;
process.on("SIGINT", () => {
  running = false;
});
const sensors = ["press-7", "oven-2", "line-4"];
while (running) {
  for (const sensor of sensors) {
    const reading = { value: 20 + Math.random() * 5, at: new Date().toISOString() };
    // Not awaited: a slow broker must not stall sampling; the offline queue bounds what waits.
    client.publish(`plant/${id}/${sensor}/temperature`, JSON.stringify(reading), { qos: 1 }).catch((err: Error) => {
      console.log(`telemetry not delivered: ${err.message}`);
    });
  }
  await new Promise((r) => setTimeout(r, intervalMs));
}
await client.publish(`plant/${id}/status`, "offline", { qos: 1, retain: true });
await client.end();
console.log("stopped", client.stats());
