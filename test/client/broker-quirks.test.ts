/** Brokers that bend the protocol, against the scripted broker: RabbitMQ answers a QoS 2 PUBLISH with PUBACK. */
import { describe, expect, it } from "vitest";
import type { ClientWarning } from "../../src/index.ts";
import { connected, reconnect, settle } from "./helpers.ts";

describe("a QoS 2 PUBLISH answered with PUBACK (the broker took it at QoS 1)", () => {
  it("completes the publish, frees the window and reports one qos-downgraded warning per connection", async () => {
    const rig = await connected({ maxInflight: 20 });
    const warnings: ClientWarning[] = [];
    rig.client.on("warning", (w) => warnings.push(w));
    const all = Array.from({ length: 45 }, (_, i) => rig.client.publish("q2/t", String(i), { qos: 2 }));
    for (let i = 0; i < 45; i++) {
      const p = await rig.conn.next("publish");
      expect(p.qos).toBe(2);
      rig.conn.send({ type: "puback", packetId: p.packetId! });
    }
    await Promise.all(all);
    expect(rig.client.stats()).toMatchObject({ inflight: 0, queued: 0 });
    expect(rig.conn.packets.filter((p) => p.type === "pubrel")).toEqual([]);
    expect(warnings.map((w) => [w.code, w.topic])).toEqual([["qos-downgraded", "q2/t"]]);

    const conn = await reconnect(rig, true);
    const again = rig.client.publish("q2/u", "x", { qos: 2 });
    const p = await conn.next("publish");
    conn.send({ type: "puback", packetId: p.packetId! });
    await again;
    expect(warnings.map((w) => w.code)).toEqual(["qos-downgraded", "qos-downgraded"]);
    await rig.client.end();
  });

  it("a PUBACK after PUBREC (the QoS 2 flow already in its second half) is ignored: PUBCOMP still finishes it", async () => {
    const rig = await connected();
    let done = false;
    const q = rig.client.publish("t", "x", { qos: 2 }).then(() => (done = true));
    const p = await rig.conn.next("publish");
    rig.conn.send({ type: "pubrec", packetId: p.packetId! });
    await rig.conn.next("pubrel");
    rig.conn.send({ type: "puback", packetId: p.packetId! });
    await settle();
    expect(done).toBe(false);
    rig.conn.send({ type: "pubcomp", packetId: p.packetId! });
    await q;
  });
});
