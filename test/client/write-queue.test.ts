/** The write queue: packets encoded side by side into a shared slab, handed out as runs that never change afterwards. */
import { describe, expect, it } from "vitest";
import { ServerDecoder, encodeClientPacket, type Packet, type PublishPacket } from "../../src/index.ts";
import { writeClientPacket, writePublishHead } from "../../src/mqtt/encode-client.ts";
import { WriteQueue } from "../../src/client/write-queue.ts";

const publish = (topic: string, size: number, packetId?: number): PublishPacket => ({
  type: "publish",
  topic,
  payload: new Uint8Array(size).map((_, i) => (i * 13 + topic.length) & 0xff),
  qos: packetId ? 1 : 0,
  retain: false,
  dup: false,
  packetId,
});

const decodeAll = (parts: Uint8Array[] | undefined): Packet[] => {
  const d = new ServerDecoder({ maxPacketSize: 1 << 24 });
  return (parts ?? []).flatMap((p) => d.push(p.slice()));
};

/** 300 bytes whose own `length` says 2 for the first `lies` reads, then 300. */
function shiftyPayload(lies: number): { bytes: Uint8Array; reads: number } {
  const out = { bytes: new Uint8Array(300).fill(0xee), reads: 0 };
  Object.defineProperty(out.bytes, "length", { get: () => (out.reads++ < lies ? 2 : 300) });
  return out;
}

describe("WriteQueue", () => {
  it("a turn's packets come out as one run, byte for byte what the encoder makes", () => {
    const q = new WriteQueue();
    const packets: Packet[] = [publish("a/b", 10, 7), { type: "puback", packetId: 3 }, { type: "pingreq" }, publish("c", 0)];
    for (const p of packets) writeClientPacket(p, q);
    const parts = q.take()!;
    expect(parts).toHaveLength(1);
    expect(parts[0]).toEqual(Uint8Array.from(packets.flatMap((p) => [...encodeClientPacket(p)])));
    expect(q.take()).toBeUndefined();
  });

  it("two queues writing in turns each get exactly their own packets, in order", () => {
    const a = new WriteQueue();
    const b = new WriteQueue();
    const sentA: Packet[] = [];
    const sentB: Packet[] = [];
    for (let i = 1; i <= 300; i++) {
      const pa = publish(`a/${i}`, i % 50, i);
      const pb: Packet = i % 3 === 0 ? { type: "pubrec", packetId: i } : publish(`b/${i}`, 100 + (i % 7));
      writeClientPacket(pa, a);
      sentA.push(pa);
      writeClientPacket(pb, b);
      sentB.push(pb);
      if (i % 40 === 0) {
        // taken mid-way, as a flush would
        expect(decodeAll(a.take())).toEqual(sentA.splice(0));
      }
    }
    expect(decodeAll(a.take())).toEqual(sentA);
    expect(decodeAll(b.take())).toEqual(sentB);
  });

  it("bytes handed out never change, across slab rollovers and packets too big for the slab", () => {
    const q = new WriteQueue();
    const taken: Array<[Uint8Array, Uint8Array]> = [];
    const sent: Packet[] = [];
    for (let i = 1; i <= 400; i++) {
      const p = publish(`t/${i}`, i % 37 === 0 ? 20_000 : 900, (i % 1000) + 1);
      writeClientPacket(p, q);
      sent.push(p);
      if (i % 5 === 0) for (const part of q.take() ?? []) taken.push([part, part.slice()]);
    }
    for (const part of q.take() ?? []) taken.push([part, part.slice()]);
    for (const [view, copy] of taken) expect(view).toEqual(copy);
    expect(decodeAll(taken.map(([v]) => v))).toEqual(sent);
  });

  it("a payload appended after its header keeps its place between encoded packets", () => {
    const q = new WriteQueue();
    const big = publish("big", 50_000, 9);
    writeClientPacket({ type: "puback", packetId: 1 }, q);
    writePublishHead(big, q);
    q.append(big.payload);
    writeClientPacket({ type: "puback", packetId: 2 }, q);
    const parts = q.take()!;
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(big.payload);
    expect(decodeAll(parts)).toEqual([{ type: "puback", packetId: 1 }, big, { type: "puback", packetId: 2 }]);
  });

  it("an encoder refusal writes nothing", () => {
    const q = new WriteQueue();
    writeClientPacket({ type: "puback", packetId: 1 }, q);
    expect(() => writeClientPacket(publish("bad/+", 5), q)).toThrow(/wildcard|topic/);
    expect(() => writeClientPacket({ type: "puback", packetId: 0 }, q)).toThrow(/packet id/);
    expect(decodeAll(q.take())).toEqual([{ type: "puback", packetId: 1 }]);
  });

  it("a packet whose fields are not what they claim is refused before it touches the slab: other queues' bytes stay exact", () => {
    const a = new WriteQueue();
    const b = new WriteQueue();
    const sentA: Packet[] = [];
    const sentB: Packet[] = [];
    const good = (q: WriteQueue, sent: Packet[], p: Packet) => {
      writeClientPacket(p, q);
      sent.push(p);
    };
    // A payload that is not bytes (plain JavaScript handing a number down): its length is undefined.
    const notBytes = { ...publish("bad", 0), payload: 21.5 as unknown as Uint8Array };
    // A Uint8Array whose own `length` changes between the encoder's reads: room for 2 bytes reserved, 300 written.
    const shifty = shiftyPayload(1);
    for (let i = 1; i <= 50; i++) {
      good(a, sentA, publish(`a/${i}`, i, i));
      expect(() => writeClientPacket(notBytes, b)).toThrow(expect.objectContaining({ name: "ProtocolError" }));
      good(b, sentB, publish(`b/${i}`, 3, i));
      shifty.reads = 0;
      expect(() => writeClientPacket({ ...publish("shifty", 0, i), payload: shifty.bytes }, b)).toThrow(expect.objectContaining({ name: "ProtocolError", code: "invalid-length" }));
      good(a, sentA, { type: "puback", packetId: i });
      good(b, sentB, { type: "pubrec", packetId: i });
    }
    expect(decodeAll(a.take())).toEqual(sentA);
    expect(decodeAll(b.take())).toEqual(sentB);
  });

  it("add() of a packet the encoder refuses leaves the queue as it was", () => {
    const q = new WriteQueue();
    q.add({ type: "puback", packetId: 1 });
    q.add(publish("big", 20_000, 2));
    expect(() => q.add(publish("bad/#", 3, 3))).toThrow(/topic/);
    // Refused after its slab region was reserved (add() reads the length once more than the encoder).
    expect(() => q.add({ ...publish("shifty", 0, 4), payload: shiftyPayload(2).bytes })).toThrow(expect.objectContaining({ code: "invalid-length" }));
    q.add({ type: "puback", packetId: 5 });
    expect(decodeAll(q.take())).toEqual([{ type: "puback", packetId: 1 }, publish("big", 20_000, 2), { type: "puback", packetId: 5 }]);
  });

  it("clear() forgets what was queued", () => {
    const q = new WriteQueue();
    writeClientPacket({ type: "pingreq" }, q);
    q.clear();
    expect(q.take()).toBeUndefined();
    writeClientPacket({ type: "disconnect" }, q);
    expect(decodeAll(q.take())).toEqual([{ type: "disconnect" }]);
  });
});
