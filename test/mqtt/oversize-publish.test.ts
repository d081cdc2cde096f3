/**
 * DecoderLimits.onOversizePublish: an inbound PUBLISH larger than maxPacketSize is passed over as it streams in
 * (its variable header checked, its payload dropped unbuffered) and reported once its last byte is consumed, in
 * stream order with the packets around it; anything else over the limit, or any PUBLISH without the option,
 * still fails with packet-too-large.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ClientDecoder,
  Decoder,
  ProtocolError,
  encode,
  type OversizePublish,
  type Packet,
  type ProtocolErrorCode,
  type PublishPacket,
} from "../../src/index.ts";
import { concat, hex, utf8 } from "./hex.js";

type Entry = ["packet", Packet] | ["oversize", OversizePublish];

const MAX = 1024;

function publish(topic: string, payloadSize: number, extra: Partial<PublishPacket> = {}): PublishPacket {
  const payload = new Uint8Array(payloadSize);
  for (let i = 0; i < payloadSize; i++) payload[i] = (i * 7 + 3) & 0xff;
  return { type: "publish", topic, payload, qos: 0, retain: false, dup: false, ...extra };
}

/** A ClientDecoder with the option set, and the single interleaved log both callbacks write to. */
function recorder(maxPacketSize = MAX): { decoder: ClientDecoder; log: Entry[]; feed: (chunk: Uint8Array) => void } {
  const log: Entry[] = [];
  const decoder = new ClientDecoder({ maxPacketSize, onOversizePublish: (info) => log.push(["oversize", info]) });
  const feed = (chunk: Uint8Array): void => decoder.feed(chunk, (p) => log.push(["packet", p]));
  return { decoder, log, feed };
}

/** Log of `bytes` fed as chunks ending at each of `cuts` (sorted offsets). */
function logSplit(bytes: Uint8Array, cuts: readonly number[], maxPacketSize = MAX): Entry[] {
  const r = recorder(maxPacketSize);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    r.feed(bytes.slice(from, cut)); // a fresh chunk each time: the reader may keep chunks it has not finished
    from = cut;
  }
  return r.log;
}

function logBytewise(bytes: Uint8Array, maxPacketSize = MAX): Entry[] {
  const r = recorder(maxPacketSize);
  for (let i = 0; i < bytes.length; i++) r.feed(bytes.slice(i, i + 1));
  return r.log;
}

// QoS 0, 1 and 2 oversize PUBLISHes, each followed by packets that fit, closed by an oversize one at the very end.
const big0 = publish("plant/press-7/firmware", 5000, { retain: true, dup: false });
const big1 = publish("plant/press-7/image", 5000, { qos: 1, packetId: 7, dup: true });
const big2 = publish("p/ü/€", 5000, { qos: 2, packetId: 65535, retain: true });
const small = publish("plant/press-7/temp", 64, { qos: 1, packetId: 8 });
const puback: Packet = { type: "puback", packetId: 9 };
const tail = publish("t", 2000, { qos: 1, packetId: 1 });

const STREAM = concat([encode(big0), encode(small), encode(puback), encode(big1), encode(small), encode(puback),
  encode(big2), encode(small), encode(puback), encode(tail)]);

function info(p: PublishPacket): OversizePublish {
  return { topic: p.topic, qos: p.qos, packetId: p.packetId, retain: p.retain, dup: p.dup, size: encode(p).length };
}

const EXPECTED: Entry[] = [
  ["oversize", info(big0)], ["packet", small], ["packet", puback],
  ["oversize", info(big1)], ["packet", small], ["packet", puback],
  ["oversize", info(big2)], ["packet", small], ["packet", puback],
  ["oversize", info(tail)],
];

describe("onOversizePublish: oversize PUBLISHes are skipped, reported in order", () => {
  it("reports topic, qos, packet id, retain, dup and declared size for QoS 0, 1 and 2, and decodes what follows", () => {
    const log = logSplit(STREAM, []);
    expect(log).toEqual(EXPECTED);
    expect((log[0]![1] as OversizePublish).size).toBe(5000 + 2 + big0.topic.length + 3);
    expect((log[0]![1] as OversizePublish).packetId).toBeUndefined();
    expect((log[3]![1] as OversizePublish).dup).toBe(true);
  });

  it("reads DUP as false at QoS 0, like decodePublish", () => {
    const bytes = encode(big0);
    bytes[0] = bytes[0]! | 0x08; // a QoS 0 PUBLISH with DUP=1, as some brokers send
    expect(logSplit(bytes, [])).toEqual([["oversize", { ...info(big0), dup: false }]]);
  });

  it("the same log whether fed whole or byte by byte", () => {
    expect(logBytewise(STREAM)).toEqual(EXPECTED);
  });

  it("the same log split at every position (one cut)", () => {
    const a = publish("a/b", 300, { qos: 1, packetId: 2 });
    const b = publish("c", 40, { qos: 2, packetId: 3 });
    const bytes = concat([encode(a), encode(b), encode(puback), encode(a)]);
    const expected: Entry[] = [["oversize", info(a)], ["packet", b], ["packet", puback], ["oversize", info(a)]];
    for (let cut = 0; cut <= bytes.length; cut++) expect(logSplit(bytes, [cut], 64)).toEqual(expected);
  });

  it("the same log under random splits", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 40 }), (cuts) => {
        expect(logSplit(STREAM, [...cuts].sort((x, y) => x - y))).toEqual(EXPECTED);
      }),
      { numRuns: 300 },
    );
  });

  it("mutated streams: fed whole or split anywhere, the same log and the same error (if any)", () => {
    const base = concat([encode(publish("a/b", 120, { qos: 1, packetId: 2 })), encode(puback),
      encode(publish("c", 10, { qos: 2, packetId: 3 })), encode(publish("d", 200))]);
    const outcome = (bytes: Uint8Array, cuts: number[]): [Entry[], ProtocolErrorCode | undefined] => {
      const r = recorder(64);
      let from = 0;
      const code = codeOf(() => {
        for (const cut of [...cuts, bytes.length]) {
          r.feed(bytes.slice(from, cut));
          from = cut;
        }
      });
      return [r.log, code];
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.nat(base.length), { maxLength: 12 }),
        (edits, cuts) => {
          const bytes = base.slice();
          for (const [at, value] of edits) bytes[at] = value;
          expect(outcome(bytes, [...cuts].sort((x, y) => x - y))).toEqual(outcome(bytes, []));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("the boundary: a PUBLISH of exactly maxPacketSize decodes, one byte more is skipped", () => {
    const fits = publish("t", MAX - 8, { qos: 1, packetId: 4 }); // 1 + 2 (remaining length) + 2 + 1 + 2 + payload
    expect(encode(fits).length).toBe(MAX);
    const over = publish("t", MAX - 7, { qos: 1, packetId: 4 });
    expect(logSplit(concat([encode(fits), encode(over)]), [])).toEqual([["packet", fits], ["oversize", info(over)]]);
  });

  it("Decoder({ role: 'client' }) honours the option like ClientDecoder", () => {
    const log: Entry[] = [];
    const d = new Decoder({ maxPacketSize: MAX, onOversizePublish: (i) => log.push(["oversize", i]) });
    d.feed(STREAM, (p) => log.push(["packet", p]));
    expect(log).toEqual(EXPECTED);
  });

  it("push() returns the packets around a skipped PUBLISH", () => {
    const seen: OversizePublish[] = [];
    const d = new ClientDecoder({ maxPacketSize: MAX, onOversizePublish: (i) => seen.push(i) });
    expect(d.push(STREAM)).toEqual([small, puback, small, puback, small, puback]);
    expect(seen).toEqual([info(big0), info(big1), info(big2), info(tail)]);
  });
});

describe("onOversizePublish: memory", () => {
  it("a 50 MB PUBLISH fed in 64 KB chunks never holds more than its variable header", () => {
    const topic = "plant/press-7/firmware/image";
    const varHeader = 2 + topic.length + 2;
    const payloadSize = 50 * 1024 * 1024;
    const head = encodePublishHeadOnly(topic, 1, 77, payloadSize);
    const { decoder, log, feed } = recorder();
    feed(head);
    expect(decoder.buffered).toBeLessThanOrEqual(varHeader);
    const chunk = new Uint8Array(64 * 1024).fill(0xa5);
    let left = payloadSize;
    let maxBuffered = 0;
    while (left > chunk.length) {
      feed(chunk);
      left -= chunk.length;
      maxBuffered = Math.max(maxBuffered, decoder.buffered);
    }
    expect(log).toEqual([]);
    feed(concat([chunk.subarray(0, left), encode(puback)]));
    expect(maxBuffered).toBeLessThanOrEqual(varHeader);
    expect(decoder.buffered).toBe(0);
    expect(log).toEqual([
      ["oversize", { topic, qos: 1, packetId: 77, retain: false, dup: false, size: head.length + payloadSize }],
      ["packet", puback],
    ]);
  });

  it("byte by byte, what is held never exceeds the variable header (or the 4 fixed-header bytes before it)", () => {
    const p = publish("x".repeat(300), 3000, { qos: 2, packetId: 5 });
    const bytes = encode(p);
    const { decoder, log, feed } = recorder();
    let maxBuffered = 0;
    for (let i = 0; i < bytes.length; i++) {
      feed(bytes.slice(i, i + 1));
      maxBuffered = Math.max(maxBuffered, decoder.buffered);
    }
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(2 + 300 + 2);
    expect(log).toEqual([["oversize", info(p)]]);
  });
});

/** Fixed header and variable header of a PUBLISH declaring `payloadSize` payload bytes (not included). */
function encodePublishHeadOnly(topic: string, qos: 0 | 1 | 2, packetId: number, payloadSize: number): Uint8Array {
  const t = utf8(topic);
  const varHeader = concat([new Uint8Array([t.length >> 8, t.length & 0xff]), t,
    qos > 0 ? new Uint8Array([packetId >> 8, packetId & 0xff]) : new Uint8Array(0)]);
  return concat([fixedHeader(0x30 | (qos << 1), varHeader.length + payloadSize), varHeader]);
}

function fixedHeader(first: number, remaining: number): Uint8Array {
  const out = [first];
  do {
    let digit = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) digit |= 0x80;
    out.push(digit);
  } while (remaining > 0);
  return new Uint8Array(out);
}

function codeOf(run: () => void): ProtocolErrorCode | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  return undefined;
}

describe("onOversizePublish: variable-header faults keep their codes", () => {
  // [name, first byte, variable header + payload bytes (hex), filler bytes after them, code]
  type Fault = [name: string, first: number, body: string, filler: number, code: ProtocolErrorCode];
  const FAULTS: Fault[] = [
    ["empty topic", 0x30, "00 00", 2000, "invalid-topic"],
    ["empty topic at QoS 1", 0x32, "00 00 00 01", 2000, "invalid-topic"],
    ["'+' in the topic", 0x30, "00 03 61 2f 2b", 2000, "invalid-topic"],
    ["'#' in the topic", 0x32, "00 03 61 2f 23 00 01", 2000, "invalid-topic"],
    ["overlong UTF-8 in the topic", 0x30, "00 02 c0 80", 2000, "invalid-utf8"],
    ["a surrogate in the topic", 0x30, "00 03 ed a0 80", 2000, "invalid-utf8"],
    ["U+0000 in the topic", 0x30, "00 01 00", 2000, "invalid-utf8"],
    ["packet id 0 at QoS 1", 0x32, "00 01 61 00 00", 2000, "invalid-packet-id"],
    ["packet id 0 at QoS 2", 0x34, "00 01 61 00 00", 2000, "invalid-packet-id"],
    // remaining length too short for what it must hold (the whole packet is still over maxPacketSize)
    ["topic longer than the remaining length", 0x30, "ff ff 61", 2000, "truncated"],
    ["packet id past the end", 0x32, `07 d2 ${"61 ".repeat(2002)}`, 0, "truncated"],
    ["half a packet id", 0x32, `07 d2 ${"61 ".repeat(2002)} 00`, 0, "truncated"],
  ];

  function faultBytes(first: number, body: string, filler: number): Uint8Array {
    const b = concat([hex(body), new Uint8Array(filler).fill(0x61)]);
    return concat([fixedHeader(first, b.length), b]);
  }

  for (const [name, first, body, filler, code] of FAULTS) {
    it(`${name}: ${code}`, () => {
      const bytes = faultBytes(first, body, filler);
      expect(bytes.length).toBeGreaterThan(MAX);
      // decodePublish (a PUBLISH within the limit) refuses the same bytes with the same code
      expect(codeOf(() => new ClientDecoder({ maxPacketSize: 1 << 20 }).push(bytes))).toBe(code);
      expect(codeOf(() => recorder().feed(bytes))).toBe(code);
      expect(codeOf(() => { const r = recorder(); for (let i = 0; i < bytes.length; i++) r.feed(bytes.slice(i, i + 1)); })).toBe(code);
    });
  }

  it("a fault in the variable header is thrown before the payload arrives, after the packets that preceded it", () => {
    const { log, feed } = recorder();
    const bytes = concat([encode(puback), encodePublishHeadOnly("a/#", 0, 0, 10_000_000)]);
    expect(codeOf(() => feed(bytes))).toBe("invalid-topic");
    expect(log).toEqual([["packet", puback]]);
    expect(codeOf(() => feed(encode(puback)))).toBe("invalid-topic"); // the reader stays failed
  });

  it("no callback for a faulty oversize PUBLISH", () => {
    const { log, feed } = recorder();
    expect(codeOf(() => feed(faultBytes(0x32, "00 01 61 00 00", 2000)))).toBe("invalid-packet-id");
    expect(log).toEqual([]);
  });
});

describe("oversize packets that are still refused", () => {
  it("a SUBACK over the limit: packet-too-large even with the option set", () => {
    const { log, feed } = recorder();
    expect(codeOf(() => feed(concat([fixedHeader(0x90, 200_000_000), hex("00 01 00")])))).toBe("packet-too-large");
    const suback = concat([fixedHeader(0x90, 2000), hex("00 01"), new Uint8Array(1998)]);
    expect(codeOf(() => recorder().feed(suback))).toBe("packet-too-large");
    expect(log).toEqual([]);
  });

  it("a SUBACK over the limit split mid-header: packet-too-large", () => {
    const r = recorder();
    const bytes = concat([fixedHeader(0x90, 200_000_000), hex("00 01 00")]);
    expect(codeOf(() => { for (let i = 0; i < bytes.length; i++) r.feed(bytes.slice(i, i + 1)); })).toBe("packet-too-large");
  });

  it("without the option an oversize PUBLISH is still packet-too-large", () => {
    const out: Packet[] = [];
    const d = new ClientDecoder({ maxPacketSize: MAX });
    expect(codeOf(() => d.feed(STREAM, (p) => out.push(p)))).toBe("packet-too-large");
    expect(out).toEqual([]);
    expect(codeOf(() => new Decoder({ maxPacketSize: MAX }).push(encode(big1)))).toBe("packet-too-large");
    const bytewise = new ClientDecoder({ maxPacketSize: MAX });
    expect(codeOf(() => { for (let i = 0; i < 10; i++) bytewise.push(STREAM.slice(i, i + 1)); })).toBe("packet-too-large");
  });
});
