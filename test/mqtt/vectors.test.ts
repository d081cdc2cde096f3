/**
 * Byte-exact vectors for every MQTT 3.1.1 control packet. Every hex string below was worked out by hand
 * from the byte layouts of the MQTT 3.1.1 specification (OASIS Standard, sections 2 and 3), not produced
 * by the encoder under test.
 */

import { describe, expect, it } from "vitest";
import {
  Decoder,
  encode,
  encodeClientPacket,
  encodePublish,
  encodeServerPacket,
  type DecoderRole,
  type Packet,
  type PublishPacket,
} from "../../src/mqtt/index.js";
import { concat, decodeBytewise, decodeSplit, hex, roleDecoder, toHex, utf8 } from "./hex.js";

interface Vector {
  name: string;
  hex: string;
  packet: Packet;
  /** Roles that may receive this packet. */
  roles: DecoderRole[];
}

const CLIENT: DecoderRole[] = ["client"];
const SERVER: DecoderRole[] = ["server"];
const BOTH: DecoderRole[] = ["client", "server"];

const VECTORS: Vector[] = [
  // --- CONNECT (3.1): 10 rl | 00 04 'M' 'Q' 'T' 'T' | level 04 | flags | keepalive MSB LSB | payload
  {
    name: "CONNECT minimal: empty client id, clean session, keepalive 0",
    hex: "10 0c 00 04 4d 51 54 54 04 02 00 00 00 00",
    packet: { type: "connect", clientId: "", clean: true, keepalive: 0 },
    roles: SERVER,
  },
  {
    // flags: user 80 | password 40 | will retain 20 | will qos1 08 | will 04 | clean 02 = ee
    // rl = 10 + (2+5) + (2+7) + (2+3) + (2+4) + (2+2) = 41 = 0x29
    name: "CONNECT with will (QoS 1, retain), username and password",
    hex:
      "10 29 00 04 4d 51 54 54 04 ee 00 3c" +
      " 00 05 65 64 67 65 31" + // client id "edge1"
      " 00 07 64 65 76 2f 6c 77 74" + // will topic "dev/lwt"
      " 00 03 62 79 65" + // will payload "bye"
      " 00 04 75 73 65 72" + // username "user"
      " 00 02 70 77", // password "pw"
    packet: {
      type: "connect",
      clientId: "edge1",
      clean: true,
      keepalive: 60,
      will: { topic: "dev/lwt", payload: utf8("bye"), qos: 1, retain: true },
      username: "user",
      password: utf8("pw"),
    },
    roles: SERVER,
  },
  {
    // flags: user 80 only; clean 0; keepalive 65535; rl = 10 + 3 + 5 = 18
    name: "CONNECT with username only, persistent session, keepalive 65535",
    hex: "10 12 00 04 4d 51 54 54 04 80 ff ff 00 01 63 00 03 62 6f 62",
    packet: { type: "connect", clientId: "c", clean: false, keepalive: 65535, username: "bob" },
    roles: SERVER,
  },
  {
    // flags: will qos2 10 | will 04 | clean 02 = 16; rl = 10 + 3 + 3 + 2 = 18
    name: "CONNECT with will QoS 2, no retain, empty will payload",
    hex: "10 12 00 04 4d 51 54 54 04 16 00 0a 00 01 78 00 01 77 00 00",
    packet: {
      type: "connect",
      clientId: "x",
      clean: true,
      keepalive: 10,
      will: { topic: "w", payload: new Uint8Array(0), qos: 2, retain: false },
    },
    roles: SERVER,
  },
  {
    // flags: user 80 | password 40 | clean 02 = c2; rl = 10 + 2 + 2 + 2 = 16
    name: "CONNECT with empty username and empty password",
    hex: "10 10 00 04 4d 51 54 54 04 c2 00 00 00 00 00 00 00 00",
    packet: { type: "connect", clientId: "", clean: true, keepalive: 0, username: "", password: new Uint8Array(0) },
    roles: SERVER,
  },

  // --- CONNACK (3.2): 20 02 | ack flags | return code
  { name: "CONNACK accepted", hex: "20 02 00 00", packet: { type: "connack", sessionPresent: false, returnCode: 0 }, roles: CLIENT },
  { name: "CONNACK accepted, session present", hex: "20 02 01 00", packet: { type: "connack", sessionPresent: true, returnCode: 0 }, roles: CLIENT },
  { name: "CONNACK refused: unacceptable protocol version", hex: "20 02 00 01", packet: { type: "connack", sessionPresent: false, returnCode: 1 }, roles: CLIENT },
  { name: "CONNACK refused: not authorized", hex: "20 02 00 05", packet: { type: "connack", sessionPresent: false, returnCode: 5 }, roles: CLIENT },

  // --- PUBLISH (3.3): 3 | dup qos qos retain, rl | topic | [packet id] | payload
  {
    name: "PUBLISH QoS 0",
    hex: "30 07 00 03 61 2f 62 68 69",
    packet: { type: "publish", topic: "a/b", payload: utf8("hi"), qos: 0, retain: false, dup: false },
    roles: BOTH,
  },
  {
    name: "PUBLISH QoS 0 retained, empty payload",
    hex: "31 05 00 03 61 2f 62",
    packet: { type: "publish", topic: "a/b", payload: new Uint8Array(0), qos: 0, retain: true, dup: false },
    roles: BOTH,
  },
  {
    name: "PUBLISH QoS 1 retained, packet id 10",
    hex: "33 09 00 03 61 2f 62 00 0a 68 69",
    packet: { type: "publish", topic: "a/b", payload: utf8("hi"), qos: 1, retain: true, dup: false, packetId: 10 },
    roles: BOTH,
  },
  {
    name: "PUBLISH QoS 1 dup, packet id 1",
    hex: "3a 09 00 03 61 2f 62 00 01 68 69",
    packet: { type: "publish", topic: "a/b", payload: utf8("hi"), qos: 1, retain: false, dup: true, packetId: 1 },
    roles: BOTH,
  },
  {
    name: "PUBLISH QoS 2 dup, packet id 65535",
    hex: "3c 09 00 03 61 2f 62 ff ff 68 69",
    packet: { type: "publish", topic: "a/b", payload: utf8("hi"), qos: 2, retain: false, dup: true, packetId: 65535 },
    roles: BOTH,
  },
  {
    name: "PUBLISH QoS 2 dup retained, packet id 0x1234",
    hex: "3d 09 00 03 61 2f 62 12 34 68 69",
    packet: { type: "publish", topic: "a/b", payload: utf8("hi"), qos: 2, retain: true, dup: true, packetId: 0x1234 },
    roles: BOTH,
  },
  {
    // "über/€/😀": c3 bc | 62 65 72 | 2f | e2 82 ac | 2f | f0 9f 98 80 = 14 bytes; rl = 2 + 14 = 16
    name: "PUBLISH with a non-ASCII UTF-8 topic (2, 3 and 4-byte sequences)",
    hex: "30 10 00 0e c3 bc 62 65 72 2f e2 82 ac 2f f0 9f 98 80",
    packet: { type: "publish", topic: "über/€/😀", payload: new Uint8Array(0), qos: 0, retain: false, dup: false },
    roles: BOTH,
  },
  {
    // U+FEFF at the start of a string is a character, not a byte order mark to strip [MQTT-1.5.3-3]
    name: "PUBLISH with a topic starting with U+FEFF (ef bb bf)",
    hex: "30 06 00 04 ef bb bf 61",
    packet: { type: "publish", topic: "\uFEFFa", payload: new Uint8Array(0), qos: 0, retain: false, dup: false },
    roles: BOTH,
  },
  {
    name: "PUBLISH to a $SYS topic with a space and a leading '/' level",
    hex: "30 0c 00 09 24 53 59 53 2f 20 2f 2f 78 01",
    packet: { type: "publish", topic: "$SYS/ //x", payload: Uint8Array.of(1), qos: 0, retain: false, dup: false },
    roles: BOTH,
  },
  {
    name: "PUBLISH payload with every kind of byte (00, 7f, 80, ff)",
    hex: "32 0a 00 01 74 00 07 00 7f 80 ff 00",
    packet: { type: "publish", topic: "t", payload: Uint8Array.of(0x00, 0x7f, 0x80, 0xff, 0x00), qos: 1, retain: false, dup: false, packetId: 7 },
    roles: BOTH,
  },

  // --- PUBACK, PUBREC, PUBREL, PUBCOMP (3.4 - 3.7)
  { name: "PUBACK", hex: "40 02 00 01", packet: { type: "puback", packetId: 1 }, roles: BOTH },
  { name: "PUBREC", hex: "50 02 12 34", packet: { type: "pubrec", packetId: 0x1234 }, roles: BOTH },
  { name: "PUBREL (flags 0010)", hex: "62 02 00 01", packet: { type: "pubrel", packetId: 1 }, roles: BOTH },
  { name: "PUBCOMP", hex: "70 02 ff ff", packet: { type: "pubcomp", packetId: 65535 }, roles: BOTH },

  // --- SUBSCRIBE (3.8): 82 rl | packet id | (filter, requested qos)+
  {
    // rl = 2 + (2+3+1) + (2+3+1) + (2+1+1) = 18
    name: "SUBSCRIBE with several filters and QoS",
    hex: "82 12 00 01 00 03 61 2f 2b 00 00 03 62 2f 23 01 00 01 23 02",
    packet: {
      type: "subscribe",
      packetId: 1,
      subscriptions: [
        { topic: "a/+", qos: 0 },
        { topic: "b/#", qos: 1 },
        { topic: "#", qos: 2 },
      ],
    },
    roles: SERVER,
  },
  {
    // "€/+" = e2 82 ac 2f 2b; rl = 2 + 2 + 5 + 1 = 10
    name: "SUBSCRIBE with a non-ASCII filter, packet id 0x0102",
    hex: "82 0a 01 02 00 05 e2 82 ac 2f 2b 01",
    packet: { type: "subscribe", packetId: 0x0102, subscriptions: [{ topic: "€/+", qos: 1 }] },
    roles: SERVER,
  },

  // --- SUBACK (3.9): 90 rl | packet id | return codes
  {
    name: "SUBACK with granted QoS 0, 1, 2 and failure 0x80",
    hex: "90 06 00 01 00 01 02 80",
    packet: { type: "suback", packetId: 1, granted: [0, 1, 2, 0x80] },
    roles: CLIENT,
  },
  { name: "SUBACK single failure", hex: "90 03 ab cd 80", packet: { type: "suback", packetId: 0xabcd, granted: [0x80] }, roles: CLIENT },

  // --- UNSUBSCRIBE (3.10): a2 rl | packet id | filters
  {
    // rl = 2 + (2+3) + (2+1) = 10
    name: "UNSUBSCRIBE with two filters",
    hex: "a2 0a 00 02 00 03 61 2f 2b 00 01 23",
    packet: { type: "unsubscribe", packetId: 2, topics: ["a/+", "#"] },
    roles: SERVER,
  },

  // --- UNSUBACK, PINGREQ, PINGRESP, DISCONNECT (3.11 - 3.14)
  { name: "UNSUBACK", hex: "b0 02 00 02", packet: { type: "unsuback", packetId: 2 }, roles: CLIENT },
  { name: "PINGREQ", hex: "c0 00", packet: { type: "pingreq" }, roles: SERVER },
  { name: "PINGRESP", hex: "d0 00", packet: { type: "pingresp" }, roles: CLIENT },
  { name: "DISCONNECT", hex: "e0 00", packet: { type: "disconnect" }, roles: SERVER },
];

function decodeAll(bytes: Uint8Array, role: DecoderRole, maxPacketSize?: number): Packet[] {
  const d = new Decoder({ role, ...(maxPacketSize === undefined ? {} : { maxPacketSize }) });
  const out = d.push(bytes);
  expect(d.buffered).toBe(0);
  // ClientDecoder / ServerDecoder agree (payloads compared as hex: toEqual walks megabyte arrays slowly)
  const hexPayloads = (ps: Packet[]) => ps.map((p) => (p.type === "publish" ? { ...p, payload: Buffer.from(p.payload).toString("hex") } : p));
  expect(hexPayloads(roleDecoder(role, maxPacketSize).push(bytes))).toEqual(hexPayloads(out));
  return out;
}

describe("byte-exact vectors", () => {
  it("cover all 14 packet types", () => {
    const types = new Set(VECTORS.map((v) => v.packet.type));
    expect(types.size).toBe(14);
  });

  describe.each(VECTORS)("$name", (v) => {
    it("encodes to the spec bytes", () => {
      expect(toHex(encode(v.packet))).toBe(toHex(hex(v.hex)));
    });

    it("encodes to the same bytes with the sender's role encoder, and the other role's refuses it", () => {
      // v.roles are the receivers: a packet the server receives is one the client sends, and vice versa.
      const encoders = { client: encodeClientPacket, server: encodeServerPacket };
      for (const sender of ["client", "server"] as const) {
        const receiver = sender === "client" ? "server" : "client";
        if (v.roles.includes(receiver)) expect(toHex(encoders[sender](v.packet))).toBe(toHex(hex(v.hex)));
        else expect(() => encoders[sender](v.packet)).toThrow(expect.objectContaining({ code: "unexpected-packet-type" }));
      }
    });

    it.each(v.roles)("decodes back with role %s", (role) => {
      expect(decodeAll(hex(v.hex), role)).toEqual([v.packet]);
    });

    it("decodes identically at every 2-way split and byte by byte", () => {
      const bytes = hex(v.hex);
      for (const role of v.roles) {
        for (let cut = 0; cut <= bytes.length; cut++) {
          expect(decodeSplit(bytes, [cut], { role })).toEqual([v.packet]);
        }
        expect(decodeBytewise(bytes, { role })).toEqual([v.packet]);
      }
    });
  });

  it("encodePublish gives the same bytes as encode for PUBLISH vectors", () => {
    for (const v of VECTORS) {
      if (v.packet.type === "publish") expect(toHex(encodePublish(v.packet))).toBe(toHex(hex(v.hex)));
    }
  });
});

describe("remaining length varint boundaries (spec 2.2.3)", () => {
  // PUBLISH QoS 0 to topic "t" with a payload of p bytes: remaining length = 2 + 1 + p.
  const cases: Array<{ rl: number; header: string }> = [
    { rl: 127, header: "30 7f" },
    { rl: 128, header: "30 80 01" },
    { rl: 321, header: "30 c1 02" }, // the spec's own example: 321 = 0xC1 0x02
    { rl: 16_383, header: "30 ff 7f" },
    { rl: 16_384, header: "30 80 80 01" },
    { rl: 2_097_151, header: "30 ff ff 7f" },
    { rl: 2_097_152, header: "30 80 80 80 01" },
  ];

  it.each(cases)("remaining length $rl is encoded as $header", ({ rl, header }) => {
    const payload = new Uint8Array(rl - 3);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const packet: PublishPacket = { type: "publish", topic: "t", payload, qos: 0, retain: false, dup: false };
    const expected = concat([hex(header), hex("00 01 74"), payload]);
    const bytes = encode(packet);
    expect(bytes.length).toBe(expected.length);
    expect(toHex(bytes.subarray(0, 12))).toBe(toHex(expected.subarray(0, 12)));
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);

    // vitest's toEqual walks typed arrays element by element (slow at megabytes): compare payloads as hex
    const flat = (ps: Packet[]) => ps.map((p) => (p.type === "publish" ? { ...p, payload: Buffer.from(p.payload).toString("hex") } : p));
    const maxPacketSize = 4 << 20;
    for (const role of BOTH) {
      expect(flat(decodeAll(expected, role, maxPacketSize))).toEqual(flat([packet]));
      // split inside and right after the fixed header, and just before the last byte
      const h = hex(header).length;
      for (const cut of [1, 2, h - 1, h, h + 1, h + 3, expected.length - 1]) {
        expect(flat(decodeSplit(expected, [cut], { role, maxPacketSize }))).toEqual(flat([packet]));
      }
    }
  });

  it("the largest remaining length (ff ff ff 7f = 268,435,455) is a valid header", () => {
    const d = new Decoder({ maxPacketSize: Number.POSITIVE_INFINITY });
    expect(d.push(hex("30 ff ff ff 7f 00 01 74"))).toEqual([]);
    expect(d.buffered).toBe(8);
  });

  it("header of a packet at exactly maxPacketSize is accepted", () => {
    // 30 62: remaining length 98, total 100 bytes
    const bytes = concat([hex("30 62 00 01 74"), new Uint8Array(95)]);
    expect(bytes.length).toBe(100);
    const [p] = new Decoder({ maxPacketSize: 100 }).push(bytes);
    expect(p).toEqual({ type: "publish", topic: "t", payload: new Uint8Array(95), qos: 0, retain: false, dup: false });
  });
});

describe("streams", () => {
  it("10,000 PUBLISH packets in one chunk decode to 10,000 packets in order", () => {
    const packets: PublishPacket[] = [];
    for (let i = 0; i < 10_000; i++) {
      const qos = (i % 3) as 0 | 1 | 2;
      packets.push({
        type: "publish",
        topic: `dev/${i % 97}/m`,
        payload: utf8(`v${i}`),
        qos,
        retain: i % 5 === 0,
        dup: qos > 0 && i % 7 === 0,
        ...(qos > 0 ? { packetId: (i % 65535) + 1 } : {}),
      });
    }
    const chunk = concat(packets.map((p) => encode(p)));
    for (const role of BOTH) {
      const out = new Decoder({ role }).push(chunk);
      expect(out.length).toBe(10_000);
      expect(out).toEqual(packets);
    }
  });

  it("a hand-written mixed client-bound stream in one chunk", () => {
    // CONNACK, SUBACK, PUBLISH qos1, PUBREL, PINGRESP, UNSUBACK, PUBLISH qos0, PUBACK, PUBREC, PUBCOMP
    const stream = hex(
      "20 02 00 00" +
        " 90 04 00 01 01 80" +
        " 32 07 00 01 74 00 05 78 79" +
        " 62 02 00 05" +
        " d0 00" +
        " b0 02 00 02" +
        " 30 03 00 01 74" +
        " 40 02 00 03 50 02 00 04 70 02 00 04",
    );
    const expected: Packet[] = [
      { type: "connack", sessionPresent: false, returnCode: 0 },
      { type: "suback", packetId: 1, granted: [1, 0x80] },
      { type: "publish", topic: "t", payload: utf8("xy"), qos: 1, retain: false, dup: false, packetId: 5 },
      { type: "pubrel", packetId: 5 },
      { type: "pingresp" },
      { type: "unsuback", packetId: 2 },
      { type: "publish", topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, dup: false },
      { type: "puback", packetId: 3 },
      { type: "pubrec", packetId: 4 },
      { type: "pubcomp", packetId: 4 },
    ];
    expect(new Decoder({ role: "client" }).push(stream)).toEqual(expected);
    expect(decodeBytewise(stream, { role: "client" })).toEqual(expected);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(decodeSplit(stream, [cut], { role: "client" })).toEqual(expected);
    }
  });

  for (const role of BOTH) {
    const vs = VECTORS.filter((v) => v.roles.includes(role));
    const stream = concat(vs.map((v) => hex(v.hex)));
    const expected = vs.map((v) => v.packet);

    it(`every ${role}-bound vector concatenated: one chunk, byte by byte, every 2-way split`, () => {
      expect(new Decoder({ role }).push(stream)).toEqual(expected);
      expect(decodeBytewise(stream, { role })).toEqual(expected);
      for (let cut = 0; cut <= stream.length; cut++) {
        expect(decodeSplit(stream, [cut], { role })).toEqual(expected);
      }
    });

    it(`every ${role}-bound vector concatenated: every 3-way split`, () => {
      for (let a = 0; a <= stream.length; a += 3) {
        for (let b = a; b <= stream.length; b += 5) {
          expect(decodeSplit(stream, [a, b], { role })).toEqual(expected);
        }
      }
    });
  }

  it("feed() calls back once per packet, in order", () => {
    const seen: string[] = [];
    new Decoder({ role: "client" }).feed(hex("d0 00 40 02 00 01 d0 00"), (p) => seen.push(p.type));
    expect(seen).toEqual(["pingresp", "puback", "pingresp"]);
  });

  it("an empty chunk is harmless, before and in the middle of a packet", () => {
    const d = new Decoder();
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.push(hex("40"))).toEqual([]);
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.push(hex("02 00"))).toEqual([]);
    expect(d.buffered).toBe(3);
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.push(hex("09 d0"))).toEqual([{ type: "puback", packetId: 9 }]);
    expect(d.buffered).toBe(1);
    expect(d.push(hex("00"))).toEqual([{ type: "pingresp" }]);
    expect(d.buffered).toBe(0);
  });

  it("decoded payloads do not alias the input chunk", () => {
    const chunk = hex("30 07 00 03 61 2f 62 68 69");
    const [p] = new Decoder().push(chunk);
    chunk.fill(0);
    expect(p).toEqual({ type: "publish", topic: "a/b", payload: utf8("hi"), qos: 0, retain: false, dup: false });
  });

  it("decoded payloads never share memory with each other", () => {
    const packets: PublishPacket[] = [];
    for (let i = 0; i < 3000; i++) {
      packets.push({ type: "publish", topic: "t", payload: new Uint8Array(1 + (i % 37)), qos: 0, retain: false, dup: false });
    }
    const out = new Decoder().push(concat(packets.map((p) => encode(p)))) as PublishPacket[];
    expect(out.length).toBe(3000);
    out.forEach((p, i) => p.payload.fill(i & 0xff));
    out.forEach((p, i) => {
      expect(p.payload.length).toBe(1 + (i % 37));
      expect(p.payload.every((b) => b === (i & 0xff))).toBe(true);
    });
  });

  it("a topic of 65,535 bytes (ASCII and multi-byte) decodes", () => {
    for (const topic of ["x".repeat(65_535), "€".repeat(21_845), "é".repeat(32_767) + "/"]) {
      const packet: PublishPacket = { type: "publish", topic, payload: Uint8Array.of(1, 2), qos: 1, retain: false, dup: false, packetId: 3 };
      const bytes = encode(packet);
      // 3 + rl(2 + 65,535 + 2 + 2 = 65,541 -> 3-byte varint 85 80 04)
      expect(toHex(bytes.subarray(0, 6))).toBe("32 85 80 04 ff ff");
      const [p] = new Decoder().push(bytes);
      expect(p).toEqual(packet);
    }
  });

  it("the default role is client", () => {
    expect(new Decoder().push(hex("20 02 00 00"))).toEqual([{ type: "connack", sessionPresent: false, returnCode: 0 }]);
    expect(() => new Decoder().push(hex("c0 00"))).toThrow(/PINGREQ/);
  });
});

describe("PUBLISH QoS 0 with DUP=1", () => {
  it("is accepted and read with dup false, so it re-encodes to a valid packet", () => {
    const [p] = new Decoder().push(hex("38 05 00 01 64 68 69"));
    expect(p).toMatchObject({ type: "publish", qos: 0, dup: false, retain: false, topic: "d" });
    expect(toHex(encode(p!))).toBe("30 05 00 01 64 68 69");
  });
});
