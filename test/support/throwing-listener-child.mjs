/**
 * A user program for test/integration/console-output.test.ts, run alone on the built package: its "message"
 * listener throws on every message and it has no "error" listener. It prints "ready", then "done <n>" once <n>
 * messages arrived, and ends. Any other output comes from the library.
 *
 *   node throwing-listener-child.mjs <url> <client id> <topic> <count>
 */
import process from "node:process";

const { connect } = await import(process.env.EDGEMQ_MODULE || "edgemq");
const [url, clientId, topic, countArg] = process.argv.slice(2);
const total = Number(countArg);

const client = await connect({ url, clientId, reconnect: false });
let count = 0;
let last;
const done = new Promise((resolve) => (last = resolve));
client.on("message", () => {
  if (++count === total) last();
  throw new TypeError("the handler is buggy");
});
await client.subscribe(topic, { qos: 1 });
console.log("ready");
await done;
console.log(`done ${count}`);
await client.end();
