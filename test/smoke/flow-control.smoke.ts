/**
 * Inbound flow control on Deno and Bun (the Node suite is test/integration/flow-control.test.ts): a slow `for await`
 * consumer behind a counting proxy gets every QoS 1 message once and in order, nothing is dropped, the client sends
 * no PUBACK before the consumer has taken the message, and every buffered message is one still unacknowledged on
 * the wire (so the broker's in-flight window, where the broker keeps it, bounds the buffer).
 */
import { startMosquitto } from "../support/mosquitto.ts";
import { startWireCounter } from "../support/wire-counter.ts";
import { assert, assertEqual, test } from "./harness.ts";
import type * as Edgemq from "../../src/index.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
      let taken = 0;
      let maxBuffered = 0;
      const faults: string[] = [];
      const check = () => {
        const acks = wire.up.puback;
        const unacked = wire.down.publish12 - acks;
        maxBuffered = Math.max(maxBuffered, s.buffered);
        if (faults.length >= 5) return;
        if (acks > taken) faults.push(`${acks} PUBACKs on the wire with ${taken} messages taken`);
        if (s.buffered > unacked) faults.push(`${s.buffered} buffered with ${unacked} unacknowledged on the wire`);
      };
      const got: number[] = [];
      const consumed = (async () => {
        for await (const msg of s) {
          taken++;
          check();
          got.push(Number(text(msg.payload)));
          if (got.length === n) break;
          await sleep(2); // a slow consumer
        }
      })();
      const sampler = setInterval(check, 1);
      try {
        const sent: Array<Promise<void>> = [];
        for (let i = 0; i < n; i++) sent.push(pub.publish("fc/smoke", String(i), { qos: 1 }));
        await Promise.all(sent);
        await consumed;
      } finally {
        clearInterval(sampler);
      }
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
