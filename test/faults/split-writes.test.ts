/**
 * Tiny segments: every byte stream between the clients and mosquitto is cut into writes of 1..3 bytes (a
 * setImmediate between them, Nagle off), in both directions. The client's incremental decoder and the broker's
 * must reassemble packets split anywhere: inside the fixed header, the remaining length, the topic length,
 * the payload. QoS 0, 1 and 2 round trips and a 100 KB payload still work, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Client } from "../../src/index.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { takeMessages, text } from "../support/messages.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

let broker: Mosquitto;
let proxy: FaultProxy;
const clients: Client[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  proxy = await startFaultProxy({
    target: broker.port,
    seed: 7,
    plan: () => ({ segmentBytes: [1, 3] }),
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ force: true }).catch(() => undefined)));
  await proxy?.close();
  await broker?.dispose();
});

async function client(clientId: string): Promise<Client> {
  const c = await connect({ url: proxy.url, clientId, reconnect: false, keepalive: 30 });
  clients.push(c);
  return c;
}

describe("split writes (1..3 bytes per write, both directions)", () => {
  it("QoS 0, 1 and 2 round trips arrive intact and in order", async () => {
    const sub = await client("split-sub");
    const pub = await client("split-pub");
    const s = await sub.subscribe("split/#", { qos: 2 });
    expect(s.granted).toEqual([2]);
    const sent: Array<[string, string, 0 | 1 | 2]> = [];
    for (let i = 0; i < 30; i++) {
      const qos = (i % 3) as 0 | 1 | 2;
      const topic = `split/q${qos}/${"x".repeat(i * 7)}`; // topics of many lengths: every split point moves
      const payload = `message ${i} ${"é".repeat(i)}`;
      sent.push([topic, payload, qos]);
    }
    // Sequentially, so that arrival order across QoS levels is defined.
    for (const [topic, payload, qos] of sent) await pub.publish(topic, payload, { qos });
    const got = await takeMessages(s, sent.length, 20_000);
    expect(got.map((m) => [m.topic, text(m.payload), m.qos])).toEqual(sent);
    expect(pub.stats()).toMatchObject({ inflight: 0, queued: 0, sent: 30 });
    // Both directions really were split: at least one write per 3 bytes.
    const st = proxy.stats();
    expect(st.bytesUp).toBeGreaterThan(1000);
    expect(st.bytesDown).toBeGreaterThan(1000);
    expect(st.writesUp).toBeGreaterThanOrEqual(st.bytesUp / 3);
    expect(st.writesDown).toBeGreaterThanOrEqual(st.bytesDown / 3);
    expect(st.cuts).toBe(0);
  });

  it("a 100 KB payload at QoS 1 and at QoS 2 arrives byte for byte", async () => {
    const sub = await client("split-big-sub");
    const pub = await client("split-big-pub");
    const s = await sub.subscribe("big/#", { qos: 2 });
    const payload = new Uint8Array(100 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 8)) & 0xff;
    await pub.publish("big/one", payload, { qos: 1 });
    await pub.publish("big/two", payload, { qos: 2 });
    const got = await takeMessages(s, 2, 60_000);
    expect(got.map((m) => [m.topic, m.qos, m.payload.length])).toEqual([
      ["big/one", 1, payload.length],
      ["big/two", 2, payload.length],
    ]);
    expect(Buffer.from(got[0]!.payload).equals(Buffer.from(payload))).toBe(true);
    expect(Buffer.from(got[1]!.payload).equals(Buffer.from(payload))).toBe(true);
    expect(pub.stats()).toMatchObject({ inflight: 0, queued: 0 });
  }, 90_000);
});
