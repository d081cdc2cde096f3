/**
 * Malformed input: every row is bytes a peer might send that break MQTT 3.1.1, with the ProtocolError
 * code the decoder must refuse them with. Hex written by hand from the spec's byte layouts.
 */

import { describe, expect, it } from "vitest";
import { Decoder, ProtocolError, type DecoderOptions, type DecoderRole, type Packet, type ProtocolErrorCode } from "../../src/mqtt/index.js";
import { hex, roleDecoder } from "./hex.js";

type Row = [name: string, bytes: string, role: DecoderRole, code: ProtocolErrorCode];

// CONNECT variable header up to (not including) the flags byte: 00 04 'MQTT' 04
const MQTT4 = "00 04 4d 51 54 54 04";

const ROWS: Row[] = [
  // --- remaining length (2.2.3): at most 4 bytes
  ["remaining length of 5 bytes (ff ff ff ff 01)", "30 ff ff ff ff 01", "client", "malformed-remaining-length"],
  ["remaining length: 4 continuation bytes", "30 80 80 80 80", "client", "malformed-remaining-length"],
  ["PINGRESP with a 5-byte remaining length", "d0 80 80 80 80 00", "client", "malformed-remaining-length"],
  ["SUBSCRIBE with a 5-byte remaining length", "82 ff ff ff ff 7f", "server", "malformed-remaining-length"],

  // --- reserved packet types
  ["type 0 (client)", "00 00", "client", "invalid-packet-type"],
  ["type 0 (server)", "00 00", "server", "invalid-packet-type"],
  ["type 15 (client)", "f0 00", "client", "invalid-packet-type"],
  ["type 15 (server)", "f0 00", "server", "invalid-packet-type"],

  // --- packets a client must never receive
  ["client receives CONNECT", `10 0c ${MQTT4} 02 00 00 00 00`, "client", "unexpected-packet-type"],
  ["client receives SUBSCRIBE", "82 06 00 01 00 01 61 00", "client", "unexpected-packet-type"],
  ["client receives UNSUBSCRIBE", "a2 05 00 01 00 01 61", "client", "unexpected-packet-type"],
  ["client receives PINGREQ", "c0 00", "client", "unexpected-packet-type"],
  ["client receives DISCONNECT", "e0 00", "client", "unexpected-packet-type"],
  // --- packets a server must never receive
  ["server receives CONNACK", "20 02 00 00", "server", "unexpected-packet-type"],
  ["server receives SUBACK", "90 03 00 01 00", "server", "unexpected-packet-type"],
  ["server receives UNSUBACK", "b0 02 00 01", "server", "unexpected-packet-type"],
  ["server receives PINGRESP", "d0 00", "server", "unexpected-packet-type"],

  // --- reserved flag bits (2.2.2): PUBREL, SUBSCRIBE, UNSUBSCRIBE 0010, all others 0000
  ["CONNECT flags 0001", `11 0c ${MQTT4} 02 00 00 00 00`, "server", "invalid-flags"],
  ["CONNACK flags 0001", "21 02 00 00", "client", "invalid-flags"],
  ["PUBACK flags 0010", "42 02 00 01", "client", "invalid-flags"],
  ["PUBACK flags 1111 (server)", "4f 02 00 01", "server", "invalid-flags"],
  ["PUBREC flags 1000", "58 02 00 01", "client", "invalid-flags"],
  ["PUBREL flags 0000", "60 02 00 01", "client", "invalid-flags"],
  ["PUBREL flags 0011", "63 02 00 01", "server", "invalid-flags"],
  ["PUBREL flags 1010", "6a 02 00 01", "client", "invalid-flags"],
  ["PUBCOMP flags 0010", "72 02 00 01", "client", "invalid-flags"],
  ["SUBSCRIBE flags 0000", "80 06 00 01 00 01 61 00", "server", "invalid-flags"],
  ["SUBSCRIBE flags 0011", "83 06 00 01 00 01 61 00", "server", "invalid-flags"],
  ["SUBACK flags 0100", "94 03 00 01 00", "client", "invalid-flags"],
  ["UNSUBSCRIBE flags 0000", "a0 05 00 01 00 01 61", "server", "invalid-flags"],
  ["UNSUBSCRIBE flags 0110", "a6 05 00 01 00 01 61", "server", "invalid-flags"],
  ["UNSUBACK flags 0001", "b1 02 00 01", "client", "invalid-flags"],
  ["PINGREQ flags 0001", "c1 00", "server", "invalid-flags"],
  ["PINGRESP flags 1000", "d8 00", "client", "invalid-flags"],
  ["DISCONNECT flags 0100", "e4 00", "server", "invalid-flags"],

  // --- PUBLISH QoS 3 (3.3.1.2)
  ["PUBLISH QoS 3", "36 07 00 03 61 2f 62 00 01", "client", "invalid-qos"],
  ["PUBLISH QoS 3 with dup and retain", "3f 07 00 03 61 2f 62 00 01", "server", "invalid-qos"],

  // --- packet identifier 0 (2.3.1)
  ["PUBLISH QoS 1 packet id 0", "32 07 00 03 61 2f 62 00 00", "client", "invalid-packet-id"],
  ["PUBLISH QoS 2 packet id 0", "34 07 00 03 61 2f 62 00 00", "server", "invalid-packet-id"],
  ["PUBACK packet id 0", "40 02 00 00", "client", "invalid-packet-id"],
  ["PUBREC packet id 0", "50 02 00 00", "client", "invalid-packet-id"],
  ["PUBREL packet id 0", "62 02 00 00", "server", "invalid-packet-id"],
  ["PUBCOMP packet id 0", "70 02 00 00", "client", "invalid-packet-id"],
  ["SUBACK packet id 0", "90 03 00 00 00", "client", "invalid-packet-id"],
  ["UNSUBACK packet id 0", "b0 02 00 00", "client", "invalid-packet-id"],
  ["SUBSCRIBE packet id 0", "82 06 00 00 00 01 61 00", "server", "invalid-packet-id"],
  ["UNSUBSCRIBE packet id 0", "a2 05 00 00 00 01 61", "server", "invalid-packet-id"],

  // --- CONNACK (3.2.2): flags bits 7-1 reserved, return codes 0..5, no session present on refusal
  ["CONNACK flags bit 1 set", "20 02 02 00", "client", "invalid-connack-flags"],
  ["CONNACK flags bit 7 set", "20 02 80 00", "client", "invalid-connack-flags"],
  ["CONNACK flags fe", "20 02 fe 00", "client", "invalid-connack-flags"],
  ["CONNACK flags ff", "20 02 ff 00", "client", "invalid-connack-flags"],
  ["CONNACK return code 6", "20 02 00 06", "client", "invalid-return-code"],
  ["CONNACK return code 255", "20 02 00 ff", "client", "invalid-return-code"],
  ["CONNACK refusal (5) with session present", "20 02 01 05", "client", "invalid-connack-flags"],
  ["CONNACK refusal (1) with session present", "20 02 01 01", "client", "invalid-connack-flags"],

  // --- fixed-size packets with the wrong remaining length
  ["CONNACK remaining length 1", "20 01 00", "client", "invalid-length"],
  ["CONNACK remaining length 3", "20 03 00 00 00", "client", "invalid-length"],
  ["PUBACK remaining length 1", "40 01 01", "client", "invalid-length"],
  ["PUBACK remaining length 3", "40 03 00 01 00", "server", "invalid-length"],
  ["PUBREC remaining length 1", "50 01 01", "client", "invalid-length"],
  ["PUBREC remaining length 3", "50 03 00 01 00", "client", "invalid-length"],
  ["PUBREL remaining length 1", "62 01 01", "client", "invalid-length"],
  ["PUBREL remaining length 3", "62 03 00 01 00", "server", "invalid-length"],
  ["PUBCOMP remaining length 1", "70 01 01", "client", "invalid-length"],
  ["PUBCOMP remaining length 3", "70 03 00 01 00", "client", "invalid-length"],
  ["UNSUBACK remaining length 1", "b0 01 01", "client", "invalid-length"],
  ["UNSUBACK remaining length 3", "b0 03 00 01 00", "client", "invalid-length"],
  ["PINGRESP remaining length 1", "d0 01 00", "client", "invalid-length"],
  ["PINGREQ remaining length 1", "c0 01 00", "server", "invalid-length"],
  ["DISCONNECT remaining length 1", "e0 01 00", "server", "invalid-length"],
  ["PUBACK remaining length 0", "40 00", "client", "invalid-length"],
  // --- variable-size packets too short to hold their mandatory parts
  ["SUBACK with no return codes", "90 02 00 01", "client", "invalid-length"],
  ["SUBSCRIBE with no topic filter (3.8.3-3)", "82 02 00 01", "server", "invalid-length"],
  ["UNSUBSCRIBE with no topic filter (3.10.3-2)", "a2 02 00 01", "server", "invalid-length"],
  ["CONNECT shorter than its variable header", `10 0a ${MQTT4} 02 00 3c`, "server", "invalid-length"],
  ["PUBLISH of remaining length 1", "30 01 00", "client", "invalid-length"],

  // --- SUBACK return codes (3.9.3): 0, 1, 2, 0x80 only
  ["SUBACK code 3", "90 03 00 01 03", "client", "invalid-suback-code"],
  ["SUBACK code 0x7f", "90 03 00 01 7f", "client", "invalid-suback-code"],
  ["SUBACK code 0x81", "90 03 00 01 81", "client", "invalid-suback-code"],
  ["SUBACK code 0xff", "90 03 00 01 ff", "client", "invalid-suback-code"],
  ["SUBACK bad code after good ones", "90 05 00 01 00 80 04", "client", "invalid-suback-code"],

  // --- lengths running past the end of the packet
  ["PUBLISH topic length past the end", "30 05 00 05 61 62 63", "client", "truncated"],
  ["PUBLISH topic length 0xffff in a short packet", "30 03 ff ff 61", "server", "truncated"],
  ["PUBLISH QoS 1 without a packet id", "32 05 00 03 61 2f 62", "client", "truncated"],
  ["PUBLISH QoS 2 with half a packet id", "34 06 00 03 61 2f 62 00", "client", "truncated"],
  ["SUBSCRIBE filter length past the end", "82 06 00 01 00 09 61 00", "server", "truncated"],
  ["SUBSCRIBE filter without its QoS byte", "82 06 00 01 00 02 61 62", "server", "truncated"],
  ["SUBSCRIBE second filter's length prefix cut", "82 07 00 01 00 01 61 00 00", "server", "truncated"],
  ["UNSUBSCRIBE filter length past the end", "a2 05 00 01 00 05 61", "server", "truncated"],
  ["CONNECT protocol name length past the end", `10 0c 00 20 4d 51 54 54 04 02 00 3c 00 00`, "server", "truncated"],
  ["CONNECT client id length past the end", `10 0d ${MQTT4} 02 00 3c 00 05 61`, "server", "truncated"],
  ["CONNECT with half a client id length prefix", `10 0b ${MQTT4} 02 00 3c 00`, "server", "invalid-length"],
  ["CONNECT will topic length past the end", `10 0f ${MQTT4} 06 00 3c 00 00 00 05 61`, "server", "truncated"],
  ["CONNECT will payload length prefix missing", `10 0f ${MQTT4} 06 00 3c 00 00 00 01 74`, "server", "truncated"],
  ["CONNECT will payload past the end", `10 12 ${MQTT4} 06 00 3c 00 00 00 01 74 00 09 78`, "server", "truncated"],
  ["CONNECT username missing", `10 0c ${MQTT4} 82 00 3c 00 00`, "server", "truncated"],
  ["CONNECT username past the end", `10 0f ${MQTT4} 82 00 3c 00 00 00 04 75`, "server", "truncated"],
  ["CONNECT password missing", `10 0f ${MQTT4} c2 00 3c 00 00 00 01 75`, "server", "truncated"],
  ["CONNECT password past the end", `10 12 ${MQTT4} c2 00 3c 00 00 00 01 75 00 05 70`, "server", "truncated"],

  // --- PUBLISH topic names (3.3.2.1, 4.7)
  ["PUBLISH topic with '+'", "30 05 00 03 61 2f 2b", "client", "invalid-topic"],
  ["PUBLISH topic '#'", "30 03 00 01 23", "client", "invalid-topic"],
  ["PUBLISH topic with '#' (server)", "30 05 00 03 61 2f 23", "server", "invalid-topic"],
  ["PUBLISH zero-length topic", "30 04 00 00 68 69", "client", "invalid-topic"],
  ["PUBLISH QoS 1 zero-length topic", "32 04 00 00 00 01", "server", "invalid-topic"],

  // --- strict UTF-8 (1.5.3) in PUBLISH topics
  ["topic with U+0000", "30 05 00 03 61 00 62", "client", "invalid-utf8"],
  ["topic that is only U+0000", "30 03 00 01 00", "client", "invalid-utf8"],
  ["topic with U+0000 after non-ASCII", "30 05 00 03 c3 a9 00", "client", "invalid-utf8"],
  ["topic with an encoded surrogate U+D800 (ed a0 80)", "30 05 00 03 ed a0 80", "client", "invalid-utf8"],
  ["topic with an encoded surrogate U+DFFF (ed bf bf)", "30 05 00 03 ed bf bf", "server", "invalid-utf8"],
  ["topic with overlong '/' (c0 af)", "30 04 00 02 c0 af", "client", "invalid-utf8"],
  ["topic with overlong c1 bf", "30 04 00 02 c1 bf", "client", "invalid-utf8"],
  ["topic with overlong '/' (e0 80 af)", "30 05 00 03 e0 80 af", "client", "invalid-utf8"],
  ["topic with overlong U+07FF (e0 9f bf)", "30 05 00 03 e0 9f bf", "client", "invalid-utf8"],
  ["topic with overlong '/' (f0 80 80 af)", "30 06 00 04 f0 80 80 af", "client", "invalid-utf8"],
  ["topic with overlong U+FFFF (f0 8f bf bf)", "30 06 00 04 f0 8f bf bf", "client", "invalid-utf8"],
  ["topic ending in a truncated sequence (e2 82)", "30 05 00 03 61 e2 82", "client", "invalid-utf8"],
  ["topic ending in a truncated sequence followed by payload", "30 05 00 02 e2 82 ac", "client", "invalid-utf8"],
  ["topic ending in a truncated 4-byte sequence", "30 06 00 04 61 f0 9f 98", "client", "invalid-utf8"],
  ["topic with a lone continuation byte", "30 04 00 02 61 80", "client", "invalid-utf8"],
  ["topic with a lone continuation byte bf", "30 03 00 01 bf", "client", "invalid-utf8"],
  ["topic with a non-continuation in a sequence", "30 05 00 03 e2 41 ac", "client", "invalid-utf8"],
  ["topic with lead byte f5", "30 06 00 04 f5 80 80 80", "client", "invalid-utf8"],
  ["topic with lead byte f8", "30 07 00 05 f8 88 80 80 80", "client", "invalid-utf8"],
  ["topic with byte ff", "30 03 00 01 ff", "client", "invalid-utf8"],
  ["topic with byte fe", "30 03 00 01 fe", "server", "invalid-utf8"],
  ["topic with a code point above U+10FFFF (f4 90 80 80)", "30 06 00 04 f4 90 80 80", "client", "invalid-utf8"],
  // --- strict UTF-8 elsewhere
  ["SUBSCRIBE filter with an encoded surrogate", "82 08 00 01 00 03 ed a0 80 00", "server", "invalid-utf8"],
  ["UNSUBSCRIBE filter with U+0000", "a2 06 00 01 00 02 61 00", "server", "invalid-utf8"],
  ["CONNECT client id with U+0000", `10 0d ${MQTT4} 02 00 3c 00 01 00`, "server", "invalid-utf8"],
  ["CONNECT username with an overlong sequence", `10 10 ${MQTT4} 82 00 3c 00 00 00 02 c0 af`, "server", "invalid-utf8"],
  ["CONNECT will topic with a lone continuation byte", `10 11 ${MQTT4} 06 00 3c 00 00 00 01 80 00 00`, "server", "invalid-utf8"],

  // --- CONNECT (3.1.2)
  ["CONNECT protocol name MQIsdp (3.1)", "10 0e 00 06 4d 51 49 73 64 70 03 02 00 3c 00 00", "server", "invalid-protocol"],
  ["CONNECT protocol name 'mqtt'", "10 0c 00 04 6d 71 74 74 04 02 00 3c 00 00", "server", "invalid-protocol"],
  ["CONNECT protocol name 'MQTX'", "10 0c 00 04 4d 51 54 58 04 02 00 3c 00 00", "server", "invalid-protocol"],
  ["CONNECT protocol level 3", "10 0c 00 04 4d 51 54 54 03 02 00 3c 00 00", "server", "invalid-protocol"],
  ["CONNECT protocol level 5", "10 0c 00 04 4d 51 54 54 05 02 00 3c 00 00", "server", "invalid-protocol"],
  ["CONNECT reserved flag bit 0", `10 0c ${MQTT4} 03 00 3c 00 00`, "server", "invalid-connect-flags"],
  ["CONNECT will QoS 3", `10 11 ${MQTT4} 1e 00 3c 00 00 00 01 77 00 00`, "server", "invalid-qos"],
  ["CONNECT will QoS 1 without the will flag", `10 0c ${MQTT4} 0a 00 3c 00 00`, "server", "invalid-connect-flags"],
  ["CONNECT will retain without the will flag", `10 0c ${MQTT4} 22 00 3c 00 00`, "server", "invalid-connect-flags"],
  ["CONNECT password without username", `10 10 ${MQTT4} 42 00 3c 00 00 00 02 70 77`, "server", "invalid-connect-flags"],
  ["CONNECT with a trailing byte", `10 0d ${MQTT4} 02 00 3c 00 00 ff`, "server", "invalid-length"],
  ["CONNECT with trailing bytes after the password", `10 16 ${MQTT4} c2 00 3c 00 00 00 01 75 00 02 70 77 00 00 00`, "server", "invalid-length"],
  ["CONNECT will topic with '+'", `10 13 ${MQTT4} 06 00 3c 00 00 00 03 61 2f 2b 00 00`, "server", "invalid-topic"],
  ["CONNECT will topic with '#'", `10 11 ${MQTT4} 06 00 3c 00 00 00 01 23 00 00`, "server", "invalid-topic"],
  ["CONNECT empty will topic", `10 10 ${MQTT4} 06 00 3c 00 00 00 00 00 00`, "server", "invalid-topic"],

  // --- SUBSCRIBE requested QoS (3.8.3-4) and filters (4.7.1)
  ["SUBSCRIBE requested QoS 3", "82 06 00 01 00 01 61 03", "server", "invalid-qos"],
  ["SUBSCRIBE requested QoS byte 0x41 (upper bits set)", "82 06 00 01 00 01 61 41", "server", "invalid-qos"],
  ["SUBSCRIBE requested QoS byte 0x80", "82 06 00 01 00 01 61 80", "server", "invalid-qos"],
  ["SUBSCRIBE requested QoS byte 0xfc", "82 06 00 01 00 01 61 fc", "server", "invalid-qos"],
  ["SUBSCRIBE filter a/#/b", "82 0a 00 01 00 05 61 2f 23 2f 62 00", "server", "invalid-topic"],
  ["SUBSCRIBE filter a+", "82 07 00 01 00 02 61 2b 00", "server", "invalid-topic"],
  ["SUBSCRIBE filter a#", "82 07 00 01 00 02 61 23 00", "server", "invalid-topic"],
  ["SUBSCRIBE filter +a", "82 07 00 01 00 02 2b 61 00", "server", "invalid-topic"],
  ["SUBSCRIBE empty filter", "82 05 00 01 00 00 00", "server", "invalid-topic"],
  ["SUBSCRIBE second filter invalid", "82 0b 00 01 00 01 23 00 00 02 23 23 01", "server", "invalid-topic"],
  ["UNSUBSCRIBE filter a+", "a2 06 00 01 00 02 61 2b", "server", "invalid-topic"],
  ["UNSUBSCRIBE empty filter", "a2 05 00 01 00 00 61", "server", "invalid-topic"],
];

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("malformed input", () => {
  it("has at least 70 vectors", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(70);
    expect(new Set(ROWS.map((r) => r[0])).size).toBe(ROWS.length);
  });

  describe.each(ROWS)("%s", (_name, bytes, role, code) => {
    it(`is refused with ${code} in one chunk`, () => {
      expect(() => new Decoder({ role }).push(hex(bytes))).toThrow(ProtocolError);
      const err = thrown(() => new Decoder({ role }).push(hex(bytes)));
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe(code);
      const same = thrown(() => roleDecoder(role).push(hex(bytes))); // ClientDecoder / ServerDecoder
      expect(same).toBeInstanceOf(ProtocolError);
      expect([(same as ProtocolError).code, (same as ProtocolError).message]).toEqual([code, (err as ProtocolError).message]);
    });

    it("is refused with the same code when fed byte by byte", () => {
      const d = new Decoder({ role });
      const data = hex(bytes);
      let err: unknown;
      for (let i = 0; i < data.length && err === undefined; i++) {
        err = thrown(() => d.push(data.slice(i, i + 1)));
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe(code);
    });
  });
});

describe("refusal from the fixed header alone", () => {
  const cases: Array<[name: string, header: string, options: DecoderOptions, code: ProtocolErrorCode]> = [
    ["101-byte PUBLISH with maxPacketSize 100 (30 63)", "30 63", { maxPacketSize: 100 }, "packet-too-large"],
    ["131-byte PUBLISH with maxPacketSize 100 (30 80 01)", "30 80 01", { maxPacketSize: 100 }, "packet-too-large"],
    ["16,388-byte SUBACK with maxPacketSize 100 (90 80 80 01)", "90 80 80 01", { maxPacketSize: 100 }, "packet-too-large"],
    ["SUBSCRIBE over maxPacketSize (server)", "82 ff 01", { maxPacketSize: 100, role: "server" }, "packet-too-large"],
    ["2 MiB PUBLISH with maxPacketSize 100 (30 80 80 80 01)", "30 80 80 80 01", { maxPacketSize: 100 }, "packet-too-large"],
    ["huge declared length ff ff ff 7f, default maxPacketSize", "30 ff ff ff 7f", {}, "packet-too-large"],
    ["huge declared length ff ff ff 7f, server", "32 ff ff ff 7f", { role: "server" }, "packet-too-large"],
    ["1 MiB + 1 byte with the default maxPacketSize", "30 fd ff 3f", {}, "packet-too-large"],
    ["5-byte remaining length", "30 ff ff ff ff", {}, "malformed-remaining-length"],
    ["PUBREL with wrong flags, first byte only", "60", {}, "invalid-flags"],
    ["reserved type, first byte only", "f0", {}, "invalid-packet-type"],
    ["CONNECT to a client, first byte only", "10", {}, "unexpected-packet-type"],
    ["PUBLISH QoS 3, first byte only", "36", {}, "invalid-qos"],
    ["PUBACK with remaining length 5, header only", "40 05", {}, "invalid-length"],
  ];

  it.each(cases)("%s", (_name, header, options, code) => {
    const d = new Decoder(options);
    const err = thrown(() => d.push(hex(header)));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(code);
    expect(d.buffered).toBe(0);
  });

  it("the same headers, fed one byte at a time, are refused at the last header byte at the latest", () => {
    for (const [, header, options, code] of cases) {
      const d = new Decoder(options);
      const bytes = hex(header);
      let err: unknown;
      for (let i = 0; i < bytes.length && err === undefined; i++) err = thrown(() => d.push(bytes.slice(i, i + 1)));
      expect((err as ProtocolError).code).toBe(code);
    }
  });

  it("1 MiB exactly is accepted by the default decoder (30 fc ff 3f: rl 1,048,572, total 1,048,576)", () => {
    const d = new Decoder();
    expect(d.push(hex("30 fc ff 3f"))).toEqual([]);
    expect(d.buffered).toBe(4);
  });

  it("a header split across chunks is refused as soon as it is complete", () => {
    const d = new Decoder({ maxPacketSize: 100 });
    expect(d.push(hex("30 80"))).toEqual([]);
    const err = thrown(() => d.push(hex("01")));
    expect((err as ProtocolError).code).toBe("packet-too-large");
  });
});

describe("after a ProtocolError", () => {
  it("the decoder stays failed and throws the same error again", () => {
    const d = new Decoder({ role: "client" });
    const first = thrown(() => d.push(hex("20 02 00 06")));
    expect(first).toBeInstanceOf(ProtocolError);
    expect((first as ProtocolError).code).toBe("invalid-return-code");
    const second = thrown(() => d.push(hex("d0 00")));
    expect(second).toBe(first);
    const third = thrown(() => d.feed(hex("20 02 00 00"), () => {}));
    expect(third).toBe(first);
    expect(thrown(() => d.push(new Uint8Array(0)))).toBe(first);
    expect(d.buffered).toBe(0);
  });

  it("a failure while a packet was buffered drops the buffer", () => {
    const d = new Decoder({ role: "client" });
    expect(d.push(hex("30 07 00 03"))).toEqual([]);
    expect(d.buffered).toBe(4);
    const err = thrown(() => d.push(hex("61 2f 2b 68 69")));
    expect((err as ProtocolError).code).toBe("invalid-topic");
    expect(d.buffered).toBe(0);
    expect(thrown(() => d.push(hex("d0 00")))).toBe(err);
  });

  it("feed delivers the packets preceding the fault in the same chunk, then throws", () => {
    const d = new Decoder({ role: "client" });
    const seen: Packet[] = [];
    const err = thrown(() => d.feed(hex("d0 00 40 02 00 07 20 02 00 00 90 03 00 01 03 d0 00"), (p) => seen.push(p)));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe("invalid-suback-code");
    expect(seen).toEqual([
      { type: "pingresp" },
      { type: "puback", packetId: 7 },
      { type: "connack", sessionPresent: false, returnCode: 0 },
    ]);
  });

  it("feed delivers the packet completed by a chunk before the fault later in that chunk", () => {
    const d = new Decoder({ role: "client" });
    const seen: Packet[] = [];
    expect(d.push(hex("40 02 00"))).toEqual([]);
    const err = thrown(() => d.feed(hex("07 d0 00 c0 00"), (p) => seen.push(p)));
    expect((err as ProtocolError).code).toBe("unexpected-packet-type");
    expect(seen).toEqual([{ type: "puback", packetId: 7 }, { type: "pingresp" }]);
  });

  it("push throws without returning the packets before the fault (use feed to get them)", () => {
    const d = new Decoder({ role: "client" });
    const err = thrown(() => d.push(hex("d0 00 00 00")));
    expect((err as ProtocolError).code).toBe("invalid-packet-type");
  });
});

describe("decoding never trusts earlier packets", () => {
  // Same length, first, middle and last byte as a valid topic seen just before: whatever the decoder
  // remembers about "abc/e" must not let these through (or turn them into "abc/e").
  it.each<[string, string, ProtocolErrorCode]>([
    ["a+c/e", "30 07 00 05 61 2b 63 2f 65", "invalid-topic"],
    ["a#c/e", "30 07 00 05 61 23 63 2f 65", "invalid-topic"],
    ["a<ff>c/e", "30 07 00 05 61 ff 63 2f 65", "invalid-utf8"],
    ["a<00>c/e", "30 07 00 05 61 00 63 2f 65", "invalid-utf8"],
  ])("topic %s after abc/e", (_name, bytes, code) => {
    for (let round = 0; round < 3; round++) {
      const d = new Decoder();
      expect(d.push(hex("30 07 00 05 61 62 63 2f 65"))).toEqual([
        { type: "publish", topic: "abc/e", payload: new Uint8Array(0), qos: 0, retain: false, dup: false },
      ]);
      const err = thrown(() => d.push(hex(bytes)));
      expect((err as ProtocolError).code).toBe(code);
      const err2 = thrown(() => new Decoder().push(hex(bytes)));
      expect((err2 as ProtocolError).code).toBe(code);
    }
  });

  it("a different valid topic that looks alike decodes to itself", () => {
    const d = new Decoder();
    const topics = ["abc/e", "axc/e", "abc/e", "a/c/e", "abcce", "abc/e"];
    for (const t of topics) {
      const [p] = d.push(hex(`30 07 00 05 ${Array.from(new TextEncoder().encode(t), (b) => b.toString(16)).join(" ")}`));
      expect(p).toEqual({ type: "publish", topic: t, payload: new Uint8Array(0), qos: 0, retain: false, dup: false });
    }
  });
});

