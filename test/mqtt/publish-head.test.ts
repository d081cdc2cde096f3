/** encodePublishHead: the bytes before a payload that is written from the caller's memory, and nothing else. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError, encodePublish, encodePublishHead, type PublishPacket, type QoS } from "../../src/index.ts";
import { ClientDecoder } from "../../src/mqtt/decode-client.ts";
import { concat } from "./hex.js";

const packet = (payload: Uint8Array, qos: QoS, topic = "plant/press-7/temp", dup = false): PublishPacket => ({
  type: "publish",
  topic,
  payload,
  qos,
  retain: qos === 1,
  dup,
  packetId: qos > 0 ? 4242 : undefined,
});

/** Byte equality without a deep-equality walk over megabytes. */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

describe("encodePublishHead", () => {
  it("head + payload is exactly the encoded PUBLISH, at every remaining-length width", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 100, 127, 128, 16_383, 16_384, 70_000, 2_097_151, 2_097_152),
        fc.constantFrom<QoS>(0, 1, 2),
        fc.stringMatching(/^[a-z0-9/ _-]{1,40}$/),
        (size, qos, topic) => {
          const p = packet(new Uint8Array(size).fill(size & 0xff), qos, topic);
          const head = encodePublishHead(p);
          expect(sameBytes(concat([head, p.payload]), encodePublish(p))).toBe(true);
          expect(head.length).toBe(encodePublish(p).length - size);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses what encodePublish refuses", () => {
    const bad: PublishPacket[] = [
      packet(new Uint8Array(1), 0, "a/+/b"),
      packet(new Uint8Array(1), 0, "t", true), // DUP on QoS 0
      { ...packet(new Uint8Array(1), 1), packetId: 0 },
    ];
    for (const p of bad) {
      expect(() => encodePublish(p)).toThrow(ProtocolError);
      expect(() => encodePublishHead(p)).toThrow(ProtocolError);
    }
  });
});

describe("a PUBLISH gathered across chunks", () => {
  it("decodes to its payload, unaffected by later changes to the chunks it came in", () => {
    const payload = new Uint8Array(100_000).map((_, i) => i * 7);
    const wire = encodePublish(packet(payload, 1));
    const chunks = [wire.slice(0, 3), wire.slice(3, 40_000), wire.slice(40_000, 99_000), wire.slice(99_000)];
    const d = new ClientDecoder();
    const out = chunks.flatMap((c) => d.push(c)) as PublishPacket[];
    for (const c of chunks) c.fill(0);
    expect(out).toHaveLength(1);
    expect(sameBytes(out[0]!.payload, payload)).toBe(true);
    expect(out[0]!.topic).toBe("plant/press-7/temp");
  });

  it("two gathered packets never share payload memory", () => {
    const a = encodePublish(packet(new Uint8Array(70_000).fill(1), 1));
    const b = encodePublish(packet(new Uint8Array(70_000).fill(2), 2));
    const wire = concat([a, b]);
    const d = new ClientDecoder();
    const out: PublishPacket[] = [];
    for (let i = 0; i < wire.length; i += 65_536) out.push(...(d.push(wire.slice(i, i + 65_536)) as PublishPacket[]));
    expect(out).toHaveLength(2);
    out[0]!.payload.fill(9);
    expect(out[1]!.payload.every((x) => x === 2)).toBe(true);
  });
});
