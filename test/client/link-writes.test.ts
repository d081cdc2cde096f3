/** How the link hands packets to the transport: small ones coalesced, large payloads passed through uncopied. */
import { describe, expect, it } from "vitest";
import type { PublishPacket } from "../../src/index.ts";
import { bytes, connected, reconnect, settle } from "./helpers.ts";

describe("link writes", () => {
  it("packets published in one turn go out in one write", async () => {
    const { client, conn } = await connected();
    const before = conn.writes.length;
    await Promise.all([client.publish("a", "1"), client.publish("b", "2"), client.publish("c", "3")]);
    await settle();
    expect(conn.writes.length - before).toBe(1);
    expect((conn.unread() as PublishPacket[]).map((p) => p.topic)).toEqual(["a", "b", "c"]);
  });

  it("a large payload is written as it is, between the coalesced small packets, in publish order", async () => {
    const { client, conn } = await connected();
    const big = new Uint8Array(70_000).map((_, i) => i & 0xff);
    const before = conn.writes.length;
    await Promise.all([client.publish("s/1", "x"), client.publish("big", big), client.publish("s/2", "y")]);
    await settle();
    const writes = conn.writes.slice(before);
    // [first small PUBLISH + the big one's header], [the payload itself], [second small PUBLISH]
    expect(writes.map((w) => w.length)).toEqual([writes[0]!.length, 70_000, writes[2]!.length]);
    expect(writes[1]).toEqual(big);
    const packets = conn.unread() as PublishPacket[];
    expect(packets.map((p) => p.topic)).toEqual(["s/1", "big", "s/2"]);
    expect(packets[1]!.payload).toEqual(big);
    expect(packets[2]!.payload).toEqual(bytes("y"));
  });

  it("a large QoS 1 payload replayed after a reconnect carries DUP and the same bytes", async () => {
    const rig = await connected({ clientId: "big", clean: false });
    const big = new Uint8Array(40_000).fill(5);
    const done = rig.client.publish("big/q1", big, { qos: 1 });
    await settle();
    const first = rig.conn.unread().at(-1) as PublishPacket;
    expect(first.dup).toBe(false);
    const conn = await reconnect(rig, true);
    const again = conn.unread().find((p) => p.type === "publish") as PublishPacket;
    expect(again).toMatchObject({ topic: "big/q1", qos: 1, dup: true, packetId: first.packetId });
    expect(again.payload).toEqual(big);
    conn.send({ type: "puback", packetId: first.packetId! });
    await done;
  });
});
