/**
 * The client against an in-process aedes broker over mqtt:// (node:net): publish/subscribe at every QoS,
 * a SUBACK 0x80 from authorizeSubscribe surfacing as SubscribeError, and retained messages.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, SubscribeError, type Client, type QoS } from "../../src/index.ts";
import { startAedes, type TestBroker } from "../support/aedes.ts";
import { rejectionOf, takeMessage, takeMessages, text } from "../support/messages.ts";

let broker: TestBroker;
/** Filters aedes was asked to authorize, in order. */
const asked: string[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  broker = await startAedes({
    authorizeSubscribe: (_client, sub, callback) => {
      asked.push(sub.topic);
      // null negates the subscription: aedes answers 0x80 for it in the SUBACK.
      callback(null, sub.topic === "forbidden/#" ? null : sub);
    },
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end({ timeout: 2000 })));
});

afterAll(async () => {
  await broker?.close();
});

async function open(clientId?: string): Promise<Client> {
  const client = await connect({ url: broker.url, clientId, reconnect: false, connectTimeout: 10_000 });
  clients.push(client);
  return client;
}

describe("publish and subscribe through aedes", () => {
  for (const qos of [0, 1, 2] as QoS[]) {
    it(`delivers a QoS ${qos} message between two clients at QoS ${qos}`, async () => {
      const publisher = await open();
      const subscriber = await open();
      const topic = `plant/press-7/qos${qos}`;
      const sub = await subscriber.subscribe(topic, { qos });
      expect(sub.granted).toEqual([qos]);
      const payload = new Uint8Array([0, 1, 2, 0xfe, 0xff, qos]);
      await publisher.publish(topic, payload, { qos });
      const msg = await takeMessage(sub);
      expect(msg.topic).toBe(topic);
      expect(msg.qos).toBe(qos);
      expect(msg.retain).toBe(false);
      expect(Array.from(msg.payload)).toEqual(Array.from(payload));
    });
  }

  it("downgrades to the subscription's QoS: QoS 2 published, QoS 1 subscribed, QoS 1 delivered", async () => {
    const publisher = await open();
    const subscriber = await open();
    const sub = await subscriber.subscribe("plant/downgrade", { qos: 1 });
    await publisher.publish("plant/downgrade", "x", { qos: 2 });
    const msg = await takeMessage(sub);
    expect(msg.qos).toBe(1);
  });

  it("delivers a burst of QoS 1 and QoS 2 messages in order, each once", async () => {
    const publisher = await open();
    const subscriber = await open();
    const sub = await subscriber.subscribe("burst/+", { qos: 2 });
    const sent = Array.from({ length: 50 }, (_, i) => ({ topic: `burst/${i % 2 === 0 ? "a" : "b"}`, payload: `m${i}`, qos: (1 + (i % 2)) as QoS }));
    await Promise.all(sent.map((m) => publisher.publish(m.topic, m.payload, { qos: m.qos })));
    const got = await takeMessages(sub, sent.length);
    // Per-topic order is what MQTT promises for one publisher.
    for (const topic of ["burst/a", "burst/b"]) {
      expect(got.filter((m) => m.topic === topic).map((m) => text(m.payload))).toEqual(sent.filter((m) => m.topic === topic).map((m) => m.payload));
    }
    expect(publisher.stats().inflight).toBe(0);
  });

  it("a client receives its own publish through a wildcard subscription", async () => {
    const client = await open();
    const sub = await client.subscribe("echo/#", { qos: 1 });
    await client.publish("echo/deep/topic", "self", { qos: 1 });
    const msg = await takeMessage(sub);
    expect(msg.topic).toBe("echo/deep/topic");
    expect(text(msg.payload)).toBe("self");
  });
});

describe("SUBACK failure (0x80) from authorizeSubscribe", () => {
  it("rejects subscribe with SubscribeError naming the refused filter", async () => {
    const client = await open();
    const err = await rejectionOf(client.subscribe("forbidden/#", { qos: 1 }));
    expect(err).toBeInstanceOf(SubscribeError);
    const e = err as SubscribeError;
    expect(e.code).toBe("subscribe-refused");
    expect(e.refused).toEqual(["forbidden/#"]);
    expect(e.granted).toEqual([0x80]);
    expect(asked).toContain("forbidden/#");
    expect(client.connected).toBe(true);
  });

  it("a separate subscribe to an allowed filter still works on the same connection", async () => {
    const client = await open();
    await expect(client.subscribe("forbidden/#")).rejects.toBeInstanceOf(SubscribeError);
    const sub = await client.subscribe("allowed/#", { qos: 1 });
    expect(sub.granted).toEqual([1]);
    await client.publish("allowed/x", "still fine", { qos: 1 });
    const msg = await takeMessage(sub);
    expect(msg.topic).toBe("allowed/x");
    expect(text(msg.payload)).toBe("still fine");
  });

  it("in a mixed SUBSCRIBE only the refused filter is reported", async () => {
    const client = await open();
    const err = (await rejectionOf(client.subscribe(["mixed/ok", "forbidden/#"], { qos: 2 }))) as SubscribeError;
    expect(err).toBeInstanceOf(SubscribeError);
    expect(err.refused).toEqual(["forbidden/#"]);
    expect(err.granted).toEqual([2, 0x80]);
  });

  it("the broker did not subscribe the refused filter: its messages never reach the client", async () => {
    const client = await open();
    const publisher = await open();
    const topics: string[] = [];
    client.on("message", (m) => topics.push(m.topic));
    await expect(client.subscribe("forbidden/#", { qos: 1 })).rejects.toBeInstanceOf(SubscribeError);
    const marker = await client.subscribe("marker/end", { qos: 1 });
    // Same publisher, same QoS, one subscriber connection: had forbidden/secret been routed, it would arrive first.
    await publisher.publish("forbidden/secret", "hidden", { qos: 1 });
    await publisher.publish("marker/end", "end", { qos: 1 });
    await takeMessage(marker);
    expect(topics).toEqual(["marker/end"]);
  });
});

describe("retained messages", () => {
  it("a new subscriber receives the retained message with retain set; a live one gets later messages without it", async () => {
    const publisher = await open();
    await publisher.publish("status/gw-01", "online", { qos: 1, retain: true });
    const late = await open();
    const sub = await late.subscribe("status/+", { qos: 1 });
    const retained = await takeMessage(sub);
    expect(retained.topic).toBe("status/gw-01");
    expect(text(retained.payload)).toBe("online");
    expect(retained.retain).toBe(true);

    await publisher.publish("status/gw-01", "busy", { qos: 1, retain: true });
    const live = await takeMessage(sub);
    expect(text(live.payload)).toBe("busy");
    expect(live.retain).toBe(false);
  });
});
