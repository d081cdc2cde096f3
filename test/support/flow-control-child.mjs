/**
 * A user program for test/integration/flow-control.test.ts: the `client.on("message")` pattern with a Subscription
 * that nobody iterates, run alone in a child process on the built package, so that what it prints and how much
 * heap it keeps are the library's alone.
 *
 *   node --expose-gc flow-control-child.mjs <url> <client id> <topic> <count> <qos>
 *
 * It connects, measures its heap (after gc), subscribes (never iterating the Subscription), prints "ready", counts
 * messages in a "message" listener until <count> have arrived, measures again (after gc) and prints one JSON line:
 *   {"count", "buffered", "dropped", "heapGrowth", "arrayBuffersGrowth", "externalGrowth"}
 * Nothing else is printed by the program: any other line on stdout or stderr comes from the library.
 *
 * EDGEMQ_MODULE names what to import (default "edgemq": the built package, dist/, through package.json "exports").
 */
import process from "node:process";

const { connect } = await import(process.env.EDGEMQ_MODULE || "edgemq");
const [url, clientId, topic, countArg, qosArg] = process.argv.slice(2);
const total = Number(countArg);
const qos = Number(qosArg);

const gc = globalThis.gc;
if (typeof gc !== "function") throw new Error("run with --expose-gc");
const measure = () => {
  gc();
  gc();
  return process.memoryUsage();
};

const client = await connect({ url, clientId, reconnect: false });
let count = 0;
let last;
const done = new Promise((resolve) => (last = resolve));
client.on("message", () => {
  if (++count === total) last();
});
const before = measure();
const sub = await client.subscribe(topic, { qos });
console.log("ready");
await done;
const after = measure();
console.log(
  JSON.stringify({
    count,
    buffered: sub.buffered,
    dropped: sub.dropped,
    heapGrowth: after.heapUsed - before.heapUsed,
    arrayBuffersGrowth: after.arrayBuffers - before.arrayBuffers,
    externalGrowth: after.external - before.external,
  }),
);
await client.end();
