/**
 * Inbound flow control on Deno and Bun (the Node suite is test/integration/flow-control.test.ts): a slow `for await`
 * consumer behind a counting proxy gets every QoS 1 message once and in order, nothing is dropped, the client sends
 * no PUBACK before the consumer has taken the message, and every buffered message is one still unacknowledged on
 * the wire (so the broker's in-flight window, where the broker keeps it, bounds the buffer).
 */
import { startMosquitto } from "../support/mosquitto.ts";
import { consumeSlowly, startWireCounter } from "../support/wire-counter.ts";
import { assert, assertEqual, test } from "./harness.ts";
import type * as Edgemq from "../../src/index.ts";

/** Registers the flow-control smoke tests against one build of the package. */
export function flowControlSmoke(m: typeof Edgemq): void {
  test("a slow for-await consumer gets 200 QoS 1 messages once and in order, and acks none before taking it", async () => {
    // No limit on mosquitto's per-client queue: a broker-side drop is not what this test is about.
    const broker = await startMosquitto({ config: ["max_queued_messages 0"] });
    const wire = await startWireCounter(broker.port);
    try {
      const sub = await m.connect({ url: wire.url, reconnect: false });
      const pub = await m.connect({ url: broker.url, reconnect: false });
      const s = await sub.subscribe("fc/smoke", { qos: 1 });
      const n = 200;
      const publishAll = () => Promise.all(Array.from({ length: n }, (_, i) => pub.publish("fc/smoke", String(i), { qos: 1 })));
      const { got, faults, maxBuffered } = await consumeSlowly(s, wire, { qos: 1, n, workMs: () => 2, publish: publishAll });
      assertEqual(got, Array.from({ length: n }, (_, i) => i), "every message once, in order");
      assertEqual(sub.stats().received, n, "no redelivery");
      assertEqual(sub.stats().dropped, 0, "client dropped nothing");
      assertEqual(s.dropped, 0, "subscription dropped nothing");
      assertEqual(faults, [], "no ack ahead of the consumer, nothing buffered that was acknowledged");
      assert(maxBuffered >= 1, "the consumer was behind (messages waited in the buffer)");
      await pub.end();
      await sub.end();
    } finally {
      await wire.close();
      await broker.dispose();
    }
  });
}
