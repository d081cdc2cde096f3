/** Failover between two real mosquitto brokers listed in `servers`. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createClient, type Client } from "../../src/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

let a: Mosquitto;
let b: Mosquitto;
const clients: Client[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startMosquitto({ persistence: true }), startMosquitto({ persistence: true })]);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ force: true }).catch(() => undefined)));
  await Promise.all([a?.dispose(), b?.dispose()]);
});

async function until(fn: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

it("stopping the broker in use moves the client to the next server, and QoS 1 publishing continues without loss", async () => {
  const received = new Set<string>();
  const fast = { initialDelay: 50, maxDelay: 300, jitter: 0.2 };
  // One persistent subscriber per broker: together they see everything either broker accepted.
  for (const broker of [a, b]) {
    const sub = createClient({ url: broker.url, clientId: `failover-sub-${broker.port}`, clean: false, reconnect: fast });
    sub.on("message", (m) => received.add(new TextDecoder().decode(m.payload)));
    clients.push(sub);
    await sub.connect();
    await sub.subscribe("fo/#", { qos: 1 });
  }
  const pub = createClient({ servers: [a.url, b.url], clientId: "failover-pub", clean: false, reconnect: fast });
  clients.push(pub);
  const servers: string[] = [];
  pub.on("connect", (e) => servers.push(new URL(e.server).port));
  await pub.connect();
  const total = 400;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    pending.push(pub.publish("fo/x", String(i), { qos: 1 }));
    if (i === 150) await a.stop();
    if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  expect(servers).toEqual([String(a.port), String(b.port)]);
  // Bring a back so its subscriber collects what a accepted before it stopped.
  await a.start();
  await until(() => received.size === total, 20_000);
  expect(received.size).toBe(total);
});
