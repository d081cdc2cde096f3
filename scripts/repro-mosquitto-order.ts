/**
 * Reproduces a mosquitto 2.0.11 behaviour that the chaos test avoids (see RELIABILITY.md): with its default
 * in-flight window (max_inflight_messages 20), mosquitto sends a live subscriber messages of one topic from one
 * publisher out of order when the subscriber's link is slow and QoS 1 and QoS 2 traffic share the window (MQTT-4.6.0-6: the server MUST send PUBLISH packets
 * to consumers, for the same topic and QoS, in the order they were received from any given client).
 *
 *   npx tsx scripts/repro-mosquitto-order.ts                                      # default window: exits 1
 *   NO_DELAY=1 npx tsx scripts/repro-mosquitto-order.ts                           # a fast link: fewer, still exits 1
 *   MOSQ_CONFIG="max_inflight_messages 65534" npx tsx scripts/repro-mosquitto-order.ts   # exits 0
 *
 * No connection is cut. The subscriber's link goes through the fault proxy with a 0..3 ms delay per chunk (a slow
 * link; NO_DELAY=1: a plain forwarder), and a plain tap between the proxy and the broker decodes what the broker
 * sends, so the order seen is the broker's own, before the proxy or the client touch it. Only first copies
 * (DUP=0) are counted. The broker's queue is unbounded (max_queued_messages 0) so that nothing is dropped.
 */
import * as net from "node:net";
import process from "node:process";
import { connect, createClient, Decoder } from "../src/index.ts";
import { startFaultProxy } from "../test/support/fault-proxy.ts";
import { startMosquitto } from "../test/support/mosquitto.ts";

const COUNT = 10_000;
const broker = await startMosquitto({ config: ["max_queued_messages 0", ...(process.env.MOSQ_CONFIG ?? "").split(";").filter(Boolean)] });
const sent: Record<string, number[]> = { "order/q1": [], "order/q2": [] }; // per topic, in the order the broker sent them (first copies)
const tap = net.createServer((down) => {
  const up = net.connect(broker.port, "127.0.0.1");
  const decoder = new Decoder({ role: "client" });
  up.on("data", (d: Uint8Array) => {
    for (const p of decoder.push(new Uint8Array(d))) if (p.type === "publish" && !p.dup) sent[p.topic]?.push(Number(new TextDecoder().decode(p.payload)));
    down.write(d);
  });
  down.on("data", (d: Uint8Array) => up.write(d));
  down.on("close", () => up.destroy());
  up.on("close", () => down.destroy());
  down.on("error", () => undefined);
  up.on("error", () => undefined);
});
await new Promise<void>((resolve) => tap.listen(0, "127.0.0.1", () => resolve()));
const proxy = await startFaultProxy({ target: (tap.address() as net.AddressInfo).port, seed: 5, plan: () => (process.env.NO_DELAY ? {} : { delayMs: [0, 3] }) });

let received = 0;
const sub = createClient({ url: proxy.url, clientId: "order-sub", reconnect: false });
sub.on("message", () => received++);
await sub.connect();
await sub.subscribe("order/+", { qos: 2, maxBuffered: 0 });
const pub = await connect({ url: broker.url, clientId: "order-pub", reconnect: false });
const acks: Promise<void>[] = [];
const seq = { 1: 0, 2: 0 };
for (let i = 1; i <= COUNT; i++) {
  const qos = i % 6 === 0 ? 2 : 1; // QoS 1 and QoS 2 interleaved, each on its own topic
  await pub.ready();
  acks.push(pub.publish(`order/q${qos}`, String(++seq[qos]), { qos }));
}
await Promise.all(acks);
const deadline = Date.now() + 60_000;
while (received < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

let late = 0;
const examples: string[] = [];
for (const [topic, order] of Object.entries(sent)) {
  let max = 0;
  for (const n of order) {
    if (n < max) {
      late++;
      if (examples.length < 5) examples.push(`${topic} ${n} after ${max}`);
    }
    max = Math.max(max, n);
  }
}
const firsts = sent["order/q1"]!.length + sent["order/q2"]!.length;
console.log(`${received} of ${COUNT} received; the broker sent ${firsts} first copies, ${late} of them after a newer message of the same topic${examples.length ? ` (e.g. ${examples.join(", ")})` : ""}`);
await sub.end({ force: true });
await pub.end({ force: true });
await proxy.close();
await new Promise<void>((resolve) => tap.close(() => resolve()));
await broker.dispose();
process.exit(late > 0 ? 1 : 0);
