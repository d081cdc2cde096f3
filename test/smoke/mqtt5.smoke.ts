/** MQTT 5 smoke test for Deno and Bun (issue #17): a v5 round trip through mosquitto, the wire loaded lazily. */
import { startMosquitto } from "../support/mosquitto.ts";
import { assertEqual, test } from "./harness.ts";
import type * as Edgemq from "../../src/index.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Registers the MQTT 5 smoke test against one build of the package. */
export function mqtt5Smoke(m: typeof Edgemq): void {
  test("MQTT 5: QoS 0/1/2 with properties and topic aliases, request/response", async () => {
    const broker = await startMosquitto({ config: ["max_inflight_messages 2"] });
    try {
      const sub = await m.connect({ url: broker.url, protocolVersion: 5, reconnect: false });
      const pub = await m.connect({ url: broker.url, protocolVersion: 5, topicAliasMaximum: 4, reconnect: false });
      const s = await sub.subscribe("smoke5/#", { qos: 2, noLocal: true });
      for (const qos of [0, 1, 2] as const) {
        await pub.publish("smoke5/a/long/topic", `q${qos}`, { qos, contentType: "text/plain", userProperties: { n: String(qos) } });
      }
      const got: string[] = [];
      for await (const msg of s) {
        got.push(`${msg.topic}=${text(msg.payload)}@${msg.qos} ${msg.properties?.contentType} ${String(msg.properties?.userProperties?.n)}`);
        if (got.length === 3) break;
      }
      assertEqual(got, ["smoke5/a/long/topic=q0@0 text/plain 0", "smoke5/a/long/topic=q1@1 text/plain 1", "smoke5/a/long/topic=q2@2 text/plain 2"]);
      const svc = await sub.subscribe("svc5/echo", { qos: 1 });
      void (async () => {
        for await (const req of svc) await sub.publish(req.properties!.responseTopic!, `re:${text(req.payload)}`, { qos: 1, correlationData: req.properties!.correlationData });
      })();
      const reply = await pub.request("svc5/echo", "hi", { timeout: 5000 });
      assertEqual(text(reply.payload), "re:hi");
      await pub.end();
      await sub.end();
    } finally {
      await broker.dispose();
    }
  });
}
