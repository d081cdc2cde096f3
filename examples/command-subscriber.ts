/**
 * A command subscriber that processes each command at least once: with manualAck, a command is acknowledged
 * only after it was handled, so a crash mid-command makes the broker deliver it again.
 *
 *   npx tsx examples/command-subscriber.ts mqtt://127.0.0.1:1883 [gateway-id]
 *   (then: mosquitto_pub -t gw/gw-01/cmd/restart-service -m '{"service":"modbus"}' -q 1)
 */
import { createClient } from "edgemq";

const url = process.argv[2] ?? "mqtt://127.0.0.1:1883";
const id = process.argv[3] ?? "gw-01";

const client = createClient({ url, clientId: `${id}-commands`, clean: false, manualAck: true });
client.on("connect", ({ sessionPresent }) => console.log(`connected (session present: ${sessionPresent})`));
await client.connect();
const commands = await client.subscribe(`gw/${id}/cmd/+`, { qos: 1 });
console.log(`waiting for commands on gw/${id}/cmd/+ (Ctrl-C to stop)`);
process.on("SIGINT", () => void client.end().then(() => process.exit(0)));

for await (const cmd of commands) {
  const name = cmd.topic.split("/").pop();
  try {
    const body: unknown = cmd.payload.length > 0 ? JSON.parse(new TextDecoder().decode(cmd.payload)) : {};
    console.log(`${cmd.dup ? "redelivered" : "new"} command ${name}:`, body);
    // ... do the work here ...
  } catch (err) {
    console.log(`command ${name} has a malformed body (${(err as Error).message}); dropping it`);
  }
  cmd.ack(); // only now does the broker consider the command delivered
}
