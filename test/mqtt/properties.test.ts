/** Property-based tests of the codec with fast-check. */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Decoder,
  ProtocolError,
  checkString,
  encode,
  topicFilterProblem,
  topicNameProblem,
  type DecoderRole,
  type Packet,
  type QoS,
  type SubackCode,
} from "../../src/mqtt/index.js";
import { concat, decodeSplit, toHex } from "./hex.js";

// --- arbitraries ------------------------------------------------------------------------------------

const qosArb = fc.constantFrom<QoS>(0, 1, 2);
const idArb = fc.integer({ min: 1, max: 65_535 });
const payloadArb = fc.uint8Array({ maxLength: 64 });

/** One "character" of a string: mostly ASCII, some of any code point, rarely U+0000 or a lone surrogate. */
const charArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "Z", "0", " ", "$", "-", "_", ".", "/", "+", "#") },
  { weight: 3, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom("é", "€", "😀", "\uFEFF", "\uFFFF", "\u{10FFFF}") },
  { weight: 1, arbitrary: fc.constantFrom("\u0000", "\uD800", "\uDFFF") },
);
const stringArb = (maxLength: number) => fc.string({ unit: charArb, maxLength });
/** Any string that is valid MQTT UTF-8. */
const mqttStringArb = (maxLength: number) => stringArb(maxLength).filter((s) => checkString(s) === undefined);

const levelArb = stringArb(5).map((s) => s.replace(/[/+#]/g, ""));
const topicNameArb = fc.oneof(
  fc.array(levelArb, { minLength: 1, maxLength: 5 }).map((ls) => ls.join("/")),
  stringArb(12),
).filter((t) => topicNameProblem(t) === undefined);
const topicFilterArb = fc.oneof(
  fc
    .tuple(fc.array(fc.oneof(levelArb, fc.constant("+")), { minLength: 1, maxLength: 5 }), fc.boolean())
    .map(([ls, hash]) => (hash ? [...ls, "#"] : ls).join("/")),
  fc.constantFrom("#", "+", "+/#", "/#"),
  stringArb(12),
).filter((f) => topicFilterProblem(f) === undefined);

const connectArb: fc.Arbitrary<Packet> = fc
  .record({
    clientId: mqttStringArb(23),
    clean: fc.boolean(),
    keepalive: fc.integer({ min: 0, max: 65_535 }),
    auth: fc.option(fc.tuple(mqttStringArb(10), fc.option(payloadArb, { nil: undefined })), { nil: undefined }),
    will: fc.option(fc.record({ topic: topicNameArb, payload: payloadArb, qos: qosArb, retain: fc.boolean() }), { nil: undefined }),
  })
  .map(({ clientId, clean, keepalive, auth, will }) => {
    const p: Packet = { type: "connect", clientId, clean, keepalive };
    if (will) p.will = will;
    if (auth) {
      p.username = auth[0];
      if (auth[1]) p.password = auth[1];
    }
    return p;
  });

const connackArb: fc.Arbitrary<Packet> = fc
  .tuple(fc.integer({ min: 0, max: 5 }), fc.boolean())
  .map(([returnCode, present]) => ({ type: "connack", returnCode, sessionPresent: present && returnCode === 0 }));

const publishArb: fc.Arbitrary<Packet> = fc
  .record({ topic: topicNameArb, payload: payloadArb, qos: qosArb, retain: fc.boolean(), dup: fc.boolean(), id: idArb })
  .map(({ topic, payload, qos, retain, dup, id }): Packet =>
    qos === 0
      ? { type: "publish", topic, payload, qos, retain, dup: false }
      : { type: "publish", topic, payload, qos, retain, dup, packetId: id },
  );

const ackArb: fc.Arbitrary<Packet> = fc
  .tuple(fc.constantFrom("puback", "pubrec", "pubrel", "pubcomp") , idArb)
  .map(([type, packetId]) => ({ type, packetId }) as Packet);

const subscribeArb: fc.Arbitrary<Packet> = fc.record({
  type: fc.constant("subscribe" as const),
  packetId: idArb,
  subscriptions: fc.array(fc.record({ topic: topicFilterArb, qos: qosArb }), { minLength: 1, maxLength: 5 }),
});
const subackArb: fc.Arbitrary<Packet> = fc.record({
  type: fc.constant("suback" as const),
  packetId: idArb,
  granted: fc.array(fc.constantFrom<SubackCode>(0, 1, 2, 0x80), { minLength: 1, maxLength: 8 }),
});
const unsubscribeArb: fc.Arbitrary<Packet> = fc.record({
  type: fc.constant("unsubscribe" as const),
  packetId: idArb,
  topics: fc.array(topicFilterArb, { minLength: 1, maxLength: 5 }),
});
const unsubackArb: fc.Arbitrary<Packet> = fc.record({ type: fc.constant("unsuback" as const), packetId: idArb });
const emptyArb = (type: "pingreq" | "pingresp" | "disconnect"): fc.Arbitrary<Packet> => fc.constant({ type });

/** Packets a client receives from a server, and packets a server receives from a client. */
const PACKETS_FOR: Record<DecoderRole, fc.Arbitrary<Packet>> = {
  client: fc.oneof(connackArb, publishArb, ackArb, subackArb, unsubackArb, emptyArb("pingresp")),
  server: fc.oneof(connectArb, publishArb, ackArb, subscribeArb, unsubscribeArb, emptyArb("pingreq"), emptyArb("disconnect")),
};

const roleArb = fc.constantFrom<DecoderRole>("client", "server");
const roleAndPacketArb = roleArb.chain((role) => fc.tuple(fc.constant(role), PACKETS_FOR[role]));

/** Cut points (sorted offsets in 0..length) for a stream of `length` bytes. */
function cutsArb(length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: length }), { maxLength: 8 }).map((cs) => cs.sort((a, b) => a - b));
}

/** Packets with byte arrays replaced by hex, so that deep equality is fast and readable. */
function norm(packets: Packet[]): unknown[] {
  return packets.map((p) => {
    switch (p.type) {
      case "publish":
        return { ...p, payload: toHex(p.payload) };
      case "connect":
        return {
          ...p,
          ...(p.password ? { password: toHex(p.password) } : {}),
          ...(p.will ? { will: { ...p.will, payload: toHex(p.will.payload) } } : {}),
        };
      default:
        return p;
    }
  });
}

/** Feeds `bytes` cut at `cuts`; returns the packets, or the error thrown (the decoder must only throw ProtocolError). */
function feedAll(bytes: Uint8Array, cuts: readonly number[], role: DecoderRole, maxPacketSize?: number): { packets: Packet[]; error?: unknown } {
  const d = new Decoder({ role, ...(maxPacketSize === undefined ? {} : { maxPacketSize }) });
  const packets: Packet[] = [];
  let from = 0;
  try {
    for (const cut of [...cuts, bytes.length]) {
      d.feed(bytes.subarray(from, cut), (p) => packets.push(p));
      from = cut;
    }
  } catch (error) {
    return { packets, error };
  }
  return { packets };
}

// --- properties ---------------------------------------------------------------------------------------

describe("round trip of valid packets", () => {
  it("the generators produce every packet type", () => {
    const seen = new Set<string>();
    fc.sample(roleAndPacketArb, 3000).forEach(([, p]) => seen.add(p.type));
    expect(seen.size).toBe(14);
  });

  it("decode(encode(p)) deep-equals p, for the role that receives p", () => {
    fc.assert(
      fc.property(roleAndPacketArb, ([role, packet]) => {
        const bytes = encode(packet);
        const d = new Decoder({ role });
        expect(norm(d.push(bytes))).toEqual(norm([packet]));
        expect(d.buffered).toBe(0);
      }),
      { numRuns: 4000 },
    );
  });

  it("a stream of several packets split at random points decodes to the same packets", () => {
    const streamArb = roleArb.chain((role) =>
      fc.array(PACKETS_FOR[role], { minLength: 1, maxLength: 8 }).chain((packets) => {
        const bytes = concat(packets.map((p) => encode(p)));
        return fc.tuple(fc.constant(role), fc.constant(packets), fc.constant(bytes), cutsArb(bytes.length));
      }),
    );
    fc.assert(
      fc.property(streamArb, ([role, packets, bytes, cuts]) => {
        expect(norm(decodeSplit(bytes, cuts, { role }))).toEqual(norm(packets));
      }),
      { numRuns: 2000 },
    );
  });

  it("encode is deterministic and never shares bytes between results", () => {
    fc.assert(
      fc.property(fc.array(roleAndPacketArb, { minLength: 2, maxLength: 10 }), (pairs) => {
        const encoded = pairs.map(([, p]) => encode(p));
        const snapshot = encoded.map(toHex);
        encoded.forEach((b) => b.fill(0xa5)); // scribbling over one result must not touch another
        pairs.forEach(([, p], i) => expect(toHex(encode(p))).toBe(snapshot[i]));
      }),
      { numRuns: 500 },
    );
  });
});

// Every first byte a well-formed packet can start with.
const VALID_FIRST_BYTES = [0x10, 0x20, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xa2, 0xb0, 0xc0, 0xd0, 0xe0];

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let d = n & 0x7f;
    n >>>= 7;
    if (n > 0) d |= 0x80;
    out.push(d);
  } while (n > 0);
  return out;
}

/** Decodes and checks: only ProtocolError may escape, and whatever is accepted must re-encode. */
function checkRobust(bytes: Uint8Array, cuts: readonly number[], role: DecoderRole, maxPacketSize?: number): { packets: Packet[]; error?: unknown } {
  const result = feedAll(bytes, cuts, role, maxPacketSize);
  if (result.error !== undefined && !(result.error instanceof ProtocolError)) {
    throw new Error(`decoder threw a non-ProtocolError: ${String(result.error)}`, { cause: result.error });
  }
  for (const p of result.packets) {
    // anything the decoder accepts is a packet the encoder can express, and it survives a round trip
    expect(norm(new Decoder({ role }).push(encode(p)))).toEqual(norm([p]));
  }
  return result;
}

describe("robustness on hostile input", () => {
  it("random bytes in random chunks: only ProtocolError is ever thrown", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }).chain((b) => fc.tuple(fc.constant(b), cutsArb(b.length))),
        roleArb,
        fc.option(fc.integer({ min: 2, max: 300 }), { nil: undefined }),
        ([bytes, cuts], role, max) => {
          checkRobust(bytes, cuts, role, max);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("a valid first byte and remaining length followed by random body bytes", () => {
    const arb = fc
      .tuple(fc.constantFrom(...VALID_FIRST_BYTES), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 64 }))
      .map(([first, body, tail]) => concat([Uint8Array.of(first, ...varint(body.length)), body, tail]))
      .chain((b) => fc.tuple(fc.constant(b), cutsArb(b.length)));
    fc.assert(
      fc.property(arb, roleArb, ([bytes, cuts], role) => {
        checkRobust(bytes, cuts, role);
      }),
      { numRuns: 4000 },
    );
  });

  it("random bytes after a valid first byte (remaining length random too)", () => {
    const arb = fc
      .tuple(fc.constantFrom(...VALID_FIRST_BYTES), fc.uint8Array({ maxLength: 2048 }))
      .map(([first, rest]) => concat([Uint8Array.of(first), rest]))
      .chain((b) => fc.tuple(fc.constant(b), cutsArb(b.length)));
    fc.assert(
      fc.property(arb, roleArb, ([bytes, cuts], role) => {
        checkRobust(bytes, cuts, role, 4096);
      }),
      { numRuns: 2000 },
    );
  });

  it("valid packets with a few bytes mutated: ProtocolError or a packet that re-encodes to the same bytes", () => {
    const arb = roleAndPacketArb.chain(([role, packet]) => {
      const bytes = encode(packet);
      return fc.tuple(
        fc.constant(role),
        fc.constant(bytes),
        fc.array(fc.tuple(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        cutsArb(bytes.length),
      );
    });
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(arb, ([role, original, mutations, cuts]) => {
        const bytes = original.slice();
        for (const [at, value] of mutations) bytes[at] = value;
        const { packets, error } = checkRobust(bytes, cuts, role);
        if (error !== undefined) refused++;
        else accepted++;
        if (error === undefined && packets.length === 1) {
          // the wire form is canonical: same length means same bytes, except that DUP on a QoS 0 PUBLISH is
          // accepted and read as 0 (so it re-encodes without it)
          const again = encode(packets[0]!);
          const canonical = bytes.slice();
          if (canonical[0]! >> 4 === 3 && (canonical[0]! & 0x06) === 0) canonical[0] = canonical[0]! & ~0x08;
          if (again.length === bytes.length) expect(toHex(again)).toBe(toHex(canonical));
        }
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
