/**
 * One contender of bench/memory.ts, in a fresh process started with --expose-gc, as a bundle (bench/lib/build.ts):
 *   node --expose-gc .tmp/bench/build/memory-child.mjs <edgemq|MQTT.js|net> <clients> <port>
 * Loads the library, warms it up with one client, measures after GC, connects <clients> idle clients that each hold
 * one QoS 1 subscription, measures after GC again, and prints the difference as one JSON line.
 */
import * as net from "node:net";
import { connectFrame, subscribeFrame } from "./lib/raw.ts";

const [kind = "edgemq", countArg = "1000", portArg = "1883"] = process.argv.slice(2);
const count = Number(countArg);
const port = Number(portArg);
const url = `mqtt://127.0.0.1:${port}`;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

type Opener = (i: number) => Promise<unknown>;

async function opener(): Promise<Opener> {
  if (kind === "edgemq") {
    const { connect } = await import("../src/index.ts");
    return async (i) => {
      const c = await connect({ url, clientId: `mem-em-${process.pid}-${i}`, keepalive: 60, reconnect: false });
      await c.subscribe(`bench/mem/${i}/cmd`, { qos: 1 });
      return c;
    };
  }
  if (kind === "MQTT.js") {
    const mqtt = (await import("mqtt")).default;
    return async (i) => {
      const c = await mqtt.connectAsync(url, { clientId: `mem-mj-${process.pid}-${i}`, keepalive: 60, reconnectPeriod: 0 });
      await c.subscribeAsync(`bench/mem/${i}/cmd`, { qos: 1 });
      return c;
    };
  }
  // Bare node:net sockets: CONNECT and SUBSCRIBE written by hand, every received byte ignored. The floor.
  return (i) =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.setNoDelay(true);
      let seen = 0;
      s.on("data", (d: Uint8Array) => {
        seen += d.length;
        if (seen >= 9) resolve(s); // CONNACK (4) + SUBACK (5)
      });
      s.once("error", reject);
      s.once("connect", () => {
        s.write(connectFrame(`mem-net-${process.pid}-${i}`, 60));
        s.write(subscribeFrame(1, `bench/mem/${i}/cmd`, 1));
      });
    });
}

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage();
}

const open = await opener();
const warm = await open(-1); // code loaded and compiled before the baseline
const before = await settle();
const held: unknown[] = [warm];
for (let i = 0; i < count; i += 50) {
  const batch: Array<Promise<unknown>> = [];
  for (let j = i; j < Math.min(count, i + 50); j++) batch.push(open(j));
  held.push(...(await Promise.all(batch)));
}
await new Promise((r) => setTimeout(r, 500));
const after = await settle();
const per = (k: keyof NodeJS.MemoryUsage) => (after[k] - before[k]) / count;
console.log(
  JSON.stringify({
    kind,
    count: held.length - 1,
    heapUsed: per("heapUsed"),
    external: per("external"),
    arrayBuffers: per("arrayBuffers"),
    rss: per("rss"),
  }),
);
process.exit(0);
