/**
 * What a hostile broker sends, written by hand from the MQTT 3.1.1 byte layouts, with the ProtocolError code the
 * client must close the connection with. `after`: sent once the CONNACK has been accepted; `first`: sent instead of
 * the CONNACK (connect() must reject with ConnectError "connection-failed" whose cause is that ProtocolError).
 */
import type { ProtocolErrorCode } from "../../src/index.ts";

export interface Vector {
  /** Class of fault (groups the report). */
  kind: string;
  name: string;
  /** Hex of the bytes the broker sends, in one write. */
  bytes: string;
  code: ProtocolErrorCode;
  phase: "after" | "first";
}

const v = (kind: string, phase: Vector["phase"], rows: Array<[name: string, bytes: string, code: ProtocolErrorCode]>): Vector[] =>
  rows.map(([name, bytes, code]) => ({ kind, name, bytes, code, phase }));

const h2 = (n: number): string => n.toString(16).padStart(2, "0");

// Valid bodies after the first byte, used to show the flags alone are the fault.
const VALID_AFTER_FIRST_BYTE: Array<[name: string, type: number, required: number, rest: string]> = [
  ["CONNACK", 2, 0, "02 00 00"],
  ["PUBACK", 4, 0, "02 00 01"],
  ["PUBREC", 5, 0, "02 00 01"],
  ["PUBREL", 6, 2, "02 00 01"],
  ["PUBCOMP", 7, 0, "02 00 01"],
  ["SUBACK", 9, 0, "03 00 01 00"],
  ["UNSUBACK", 11, 0, "02 00 01"],
  ["PINGRESP", 13, 0, "00"],
];

/** [MQTT-2.2.2-2]: every wrong low nibble on every type a client receives (PUBLISH's flags are meaningful). */
const RESERVED_FLAGS: Vector[] = VALID_AFTER_FIRST_BYTE.flatMap(([name, type, required, rest]) =>
  Array.from({ length: 16 }, (_, flags) => flags)
    .filter((flags) => flags !== required)
    .map((flags) => ({
      kind: "reserved flags",
      name: `${name} with flags ${flags.toString(2).padStart(4, "0")}`,
      bytes: `${h2((type << 4) | flags)} ${rest}`,
      code: "invalid-flags" as const,
      phase: "after" as const,
    })),
);

const REMAINING_LENGTH = v("remaining length", "after", [
  // 2.2.3: at most four bytes
  ["PUBLISH with a 5-byte remaining length (ff ff ff ff 01)", "30 ff ff ff ff 01", "malformed-remaining-length"],
  ["PUBLISH with four continuation bytes then 00", "30 80 80 80 80 00", "malformed-remaining-length"],
  ["PUBLISH QoS 1 with a 5-byte remaining length", "32 ff ff ff ff 7f", "malformed-remaining-length"],
  ["PUBACK with a 5-byte remaining length", "40 82 80 80 80 00", "malformed-remaining-length"],
  ["SUBACK with a 5-byte remaining length", "90 ff ff ff ff 7f", "malformed-remaining-length"],
  ["UNSUBACK with a 5-byte remaining length", "b0 ff ff ff ff 01", "malformed-remaining-length"],
  ["PINGRESP with a 5-byte remaining length", "d0 80 80 80 80 00", "malformed-remaining-length"],
  ["CONNACK with a 5-byte remaining length", "20 80 80 80 80 00", "malformed-remaining-length"],
  // declared lengths the packet's own layout contradicts
  ["PUBLISH remaining length 0", "30 00", "invalid-length"],
  ["PUBLISH remaining length 1", "30 01 00", "invalid-length"],
  ["PUBLISH remaining length 2 (topic length only)", "30 02 00 01", "invalid-length"],
  ["PUBACK remaining length 0", "40 00", "invalid-length"],
  ["PUBACK remaining length 1", "40 01 01", "invalid-length"],
  ["PUBACK remaining length 3", "40 03 00 01 00", "invalid-length"],
  ["PUBACK declaring 127 bytes (header only)", "40 7f", "invalid-length"],
  ["PUBREC remaining length 1", "50 01 01", "invalid-length"],
  ["PUBREC remaining length 3", "50 03 00 01 00", "invalid-length"],
  ["PUBREL remaining length 1", "62 01 01", "invalid-length"],
  ["PUBREL remaining length 3", "62 03 00 01 00", "invalid-length"],
  ["PUBCOMP remaining length 1", "70 01 01", "invalid-length"],
  ["PUBCOMP remaining length 3", "70 03 00 01 00", "invalid-length"],
  ["UNSUBACK remaining length 1", "b0 01 01", "invalid-length"],
  ["UNSUBACK remaining length 3", "b0 03 00 01 00", "invalid-length"],
  ["PINGRESP remaining length 1", "d0 01 00", "invalid-length"],
  ["PINGRESP remaining length 2", "d0 02 00 00", "invalid-length"],
  ["CONNACK remaining length 3", "20 03 00 00 00", "invalid-length"],
  ["SUBACK remaining length 0", "90 00", "invalid-length"],
  ["SUBACK without return codes (remaining length 2)", "90 02 00 01", "invalid-length"],
  // beyond maxPacketSize (default 1 MiB): refused from the header, nothing buffered. (A PUBLISH over the limit is
  // not a fault: it is skipped and acknowledged, see test/client/oversize-inbound.test.ts.)
  ["SUBACK declaring 200 MB (90 80 80 80 64)", "90 80 80 80 64", "packet-too-large"],
  ["SUBACK declaring the largest remaining length (ff ff ff 7f)", "90 ff ff ff 7f", "packet-too-large"],
  ["SUBACK declaring 16 MiB", "90 80 80 80 08", "packet-too-large"],
  ["SUBACK declaring 2 MiB", "90 80 80 80 01", "packet-too-large"],
  ["SUBACK of 1 MiB + 1 byte (90 fd ff 3f)", "90 fd ff 3f", "packet-too-large"],
]);

const QOS3 = v("QoS 3", "after", [
  ["PUBLISH QoS 3 [MQTT-3.3.1-4]", "36 07 00 03 61 2f 62 00 01", "invalid-qos"],
  ["PUBLISH QoS 3 retained", "37 07 00 03 61 2f 62 00 01", "invalid-qos"],
  ["PUBLISH QoS 3 dup", "3e 07 00 03 61 2f 62 00 01", "invalid-qos"],
  ["PUBLISH QoS 3 dup retained", "3f 07 00 03 61 2f 62 00 01", "invalid-qos"],
  ["PUBLISH QoS 3, first byte only", "36", "invalid-qos"],
]);

const FORBIDDEN: Array<[name: string, bytes: string, code: ProtocolErrorCode]> = [
  ["CONNECT", "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", "unexpected-packet-type"],
  ["SUBSCRIBE", "82 06 00 01 00 01 61 00", "unexpected-packet-type"],
  ["UNSUBSCRIBE", "a2 05 00 01 00 01 61", "unexpected-packet-type"],
  ["PINGREQ", "c0 00", "unexpected-packet-type"],
  ["DISCONNECT", "e0 00", "unexpected-packet-type"],
  ["reserved type 0", "00 00", "invalid-packet-type"],
  ["reserved type 15", "f0 00", "invalid-packet-type"],
];

const FORBIDDEN_AFTER = v("forbidden type after CONNACK", "after", [
  ...FORBIDDEN,
  ["CONNECT with flags 0001 (the type is refused first)", "11 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", "unexpected-packet-type"],
  ["reserved type 0 with flags 1111", "0f 00", "invalid-packet-type"],
  ["reserved type 15 with a 5-byte remaining length", "ff ff ff ff ff 01", "invalid-packet-type"],
  ["reserved type 15, first byte only", "f0", "invalid-packet-type"],
]);

const FORBIDDEN_FIRST = v("forbidden type before CONNACK", "first", FORBIDDEN);

const NOT_CONNACK_FIRST = v("first packet not CONNACK [MQTT-3.2.0-1]", "first", [
  ["PUBLISH QoS 0", "30 05 00 01 61 68 69", "unexpected-packet-type"],
  ["PUBLISH QoS 1", "32 07 00 01 61 00 01 68 69", "unexpected-packet-type"],
  ["PUBLISH QoS 2", "34 07 00 01 61 00 01 68 69", "unexpected-packet-type"],
  ["PUBACK", "40 02 00 01", "unexpected-packet-type"],
  ["PUBREC", "50 02 00 01", "unexpected-packet-type"],
  ["PUBREL", "62 02 00 01", "unexpected-packet-type"],
  ["PUBCOMP", "70 02 00 01", "unexpected-packet-type"],
  ["SUBACK", "90 03 00 01 00", "unexpected-packet-type"],
  ["UNSUBACK", "b0 02 00 01", "unexpected-packet-type"],
  ["PINGRESP", "d0 00", "unexpected-packet-type"],
  ["PINGRESP then CONNACK in one chunk", "d0 00 20 02 00 00", "unexpected-packet-type"],
]);

const BAD_CONNACK = v("CONNACK bad flags or code", "first", [
  ["CONNACK flags 02 [MQTT-3.2.2.1]", "20 02 02 00", "invalid-connack-flags"],
  ["CONNACK flags 04", "20 02 04 00", "invalid-connack-flags"],
  ["CONNACK flags 80", "20 02 80 00", "invalid-connack-flags"],
  ["CONNACK flags fe", "20 02 fe 00", "invalid-connack-flags"],
  ["CONNACK flags ff", "20 02 ff 00", "invalid-connack-flags"],
  ["CONNACK refusal 1 with session present [MQTT-3.2.2-4]", "20 02 01 01", "invalid-connack-flags"],
  ["CONNACK refusal 2 with session present", "20 02 01 02", "invalid-connack-flags"],
  ["CONNACK refusal 3 with session present", "20 02 01 03", "invalid-connack-flags"],
  ["CONNACK refusal 4 with session present", "20 02 01 04", "invalid-connack-flags"],
  ["CONNACK refusal 5 with session present", "20 02 01 05", "invalid-connack-flags"],
  ["CONNACK return code 6", "20 02 00 06", "invalid-return-code"],
  ["CONNACK return code 7", "20 02 00 07", "invalid-return-code"],
  ["CONNACK return code 0x80", "20 02 00 80", "invalid-return-code"],
  ["CONNACK return code 0xff", "20 02 00 ff", "invalid-return-code"],
  ["CONNACK remaining length 0", "20 00", "invalid-length"],
  ["CONNACK remaining length 1", "20 01 00", "invalid-length"],
  ["CONNACK remaining length 3", "20 03 00 00 00", "invalid-length"],
  ["CONNACK fixed-header flags 0001", "21 02 00 00", "invalid-flags"],
  ["CONNACK fixed-header flags 1111", "2f 02 00 00", "invalid-flags"],
  ["CONNACK with a 5-byte remaining length", "20 82 80 80 80 00", "malformed-remaining-length"],
  ["CONNACK declaring 200 MB", "20 80 80 80 64", "invalid-length"],
]);

const SECOND_CONNACK = v("second CONNACK", "after", [
  ["a second CONNACK accepting", "20 02 00 00", "unexpected-packet-type"],
  ["a second CONNACK with session present", "20 02 01 00", "unexpected-packet-type"],
  ["a second CONNACK refusing (5)", "20 02 00 05", "unexpected-packet-type"],
  ["a second CONNACK refusing (1)", "20 02 00 01", "unexpected-packet-type"],
  ["a malformed second CONNACK (flags 02)", "20 02 02 00", "invalid-connack-flags"],
]);

const STRING_PAST_END = v("string length past the end", "after", [
  ["PUBLISH topic length 5 with 3 bytes left", "30 05 00 05 61 62 63", "truncated"],
  ["PUBLISH topic length 0xffff in a 3-byte body", "30 03 ff ff 61", "truncated"],
  ["PUBLISH topic length 4 with 2 bytes left", "30 04 00 03 61 62", "truncated"],
  ["PUBLISH declaring 3 bytes, holding a 5-byte topic", "30 03 00 05 61 62 63 64 65", "truncated"],
  ["PUBLISH topic length 255 in a 129-byte body", `30 81 01 00 ff ${"61 ".repeat(127)}`, "truncated"],
  ["PUBLISH QoS 1 without a packet id", "32 05 00 03 61 2f 62", "truncated"],
  ["PUBLISH QoS 1 dup, topic runs into the packet id", "3a 05 00 04 61 2f 62", "truncated"],
  ["PUBLISH QoS 1 whose topic fills the body", "32 06 00 04 61 2f 62 63", "truncated"],
  ["PUBLISH QoS 2 with half a packet id", "34 06 00 03 61 2f 62 00", "truncated"],
]);

const UTF8 = v("invalid UTF-8 in topic [MQTT-1.5.3]", "after", [
  ["topic with U+0000 [MQTT-1.5.3-2]", "30 05 00 03 61 00 62", "invalid-utf8"],
  ["topic that is only U+0000", "30 03 00 01 00", "invalid-utf8"],
  ["topic ending in U+0000 after non-ASCII", "30 05 00 03 c3 a9 00", "invalid-utf8"],
  ["QoS 1 topic with U+0000", "32 07 00 03 61 00 62 00 01", "invalid-utf8"],
  ["topic with the overlong U+0000 (c0 80)", "30 04 00 02 c0 80", "invalid-utf8"],
  ["topic with surrogate U+D800 (ed a0 80) [MQTT-1.5.3-1]", "30 05 00 03 ed a0 80", "invalid-utf8"],
  ["topic with surrogate U+DFFF (ed bf bf)", "30 05 00 03 ed bf bf", "invalid-utf8"],
  ["topic with surrogate U+DC00 (ed b0 80)", "30 05 00 03 ed b0 80", "invalid-utf8"],
  ["topic with a CESU-8 surrogate pair (ed a0 bd ed b8 80)", "30 08 00 06 ed a0 bd ed b8 80", "invalid-utf8"],
  ["QoS 2 topic with surrogate U+D83D", "34 09 00 05 61 2f ed a0 bd 00 07", "invalid-utf8"],
  ["topic with overlong '/' (c0 af)", "30 04 00 02 c0 af", "invalid-utf8"],
  ["topic with overlong c1 bf", "30 04 00 02 c1 bf", "invalid-utf8"],
  ["topic with overlong '/' (e0 80 af)", "30 05 00 03 e0 80 af", "invalid-utf8"],
  ["topic with overlong U+07FF (e0 9f bf)", "30 05 00 03 e0 9f bf", "invalid-utf8"],
  ["topic with overlong '/' (f0 80 80 af)", "30 06 00 04 f0 80 80 af", "invalid-utf8"],
  ["topic with overlong U+FFFF (f0 8f bf bf)", "30 06 00 04 f0 8f bf bf", "invalid-utf8"],
  ["topic ending in a truncated 3-byte sequence (e2 82)", "30 05 00 03 61 e2 82", "invalid-utf8"],
  ["topic cut inside a sequence that continues in the payload", "30 05 00 02 e2 82 ac", "invalid-utf8"],
  ["topic ending in a truncated 4-byte sequence", "30 06 00 04 61 f0 9f 98", "invalid-utf8"],
  ["topic ending in a lone lead byte c3", "30 04 00 02 61 c3", "invalid-utf8"],
  ["topic with a lone continuation byte", "30 04 00 02 61 80", "invalid-utf8"],
  ["topic with lead byte f5", "30 06 00 04 f5 80 80 80", "invalid-utf8"],
  ["topic with byte ff", "30 03 00 01 ff", "invalid-utf8"],
  ["topic above U+10FFFF (f4 90 80 80)", "30 06 00 04 f4 90 80 80", "invalid-utf8"],
]);

const PACKET_ID_ZERO = v("packet id 0 [MQTT-2.3.1-1]", "after", [
  ["PUBLISH QoS 1 with packet id 0", "32 07 00 03 61 2f 62 00 00", "invalid-packet-id"],
  ["PUBLISH QoS 2 with packet id 0", "34 07 00 03 61 2f 62 00 00", "invalid-packet-id"],
  ["PUBACK with packet id 0", "40 02 00 00", "invalid-packet-id"],
  ["PUBREC with packet id 0", "50 02 00 00", "invalid-packet-id"],
  ["PUBREL with packet id 0", "62 02 00 00", "invalid-packet-id"],
  ["PUBCOMP with packet id 0", "70 02 00 00", "invalid-packet-id"],
  ["SUBACK with packet id 0", "90 03 00 00 00", "invalid-packet-id"],
  ["UNSUBACK with packet id 0", "b0 02 00 00", "invalid-packet-id"],
]);

const SUBACK_CODES = v("SUBACK bad return code [MQTT-3.9.3-2]", "after", [
  ["SUBACK code 3", "90 03 00 01 03", "invalid-suback-code"],
  ["SUBACK code 0x40", "90 03 00 01 40", "invalid-suback-code"],
  ["SUBACK code 0x7f", "90 03 00 01 7f", "invalid-suback-code"],
  ["SUBACK code 0x81", "90 03 00 01 81", "invalid-suback-code"],
  ["SUBACK code 0xff", "90 03 00 01 ff", "invalid-suback-code"],
  ["SUBACK bad code after good ones", "90 05 00 01 00 80 04", "invalid-suback-code"],
]);

const WILDCARD = v("wildcard or empty PUBLISH topic [MQTT-3.3.2-2]", "after", [
  ["topic '+'", "30 03 00 01 2b", "invalid-topic"],
  ["topic '#'", "30 03 00 01 23", "invalid-topic"],
  ["topic 'a/+'", "30 05 00 03 61 2f 2b", "invalid-topic"],
  ["topic 'a/#'", "30 05 00 03 61 2f 23", "invalid-topic"],
  ["topic '+/b'", "30 05 00 03 2b 2f 62", "invalid-topic"],
  ["topic 'a/b+'", "30 06 00 04 61 2f 62 2b", "invalid-topic"],
  ["topic '#/a'", "30 05 00 03 23 2f 61", "invalid-topic"],
  ["QoS 1 topic 'sport/+/score'", "32 11 00 0d 73 70 6f 72 74 2f 2b 2f 73 63 6f 72 65 00 01", "invalid-topic"],
  ["QoS 2 retained topic '#'", "35 05 00 01 23 00 01", "invalid-topic"],
  ["empty topic [MQTT-4.7.3-1]", "30 04 00 00 68 69", "invalid-topic"],
  ["QoS 1 empty topic", "32 04 00 00 00 01", "invalid-topic"],
]);

/** Every hostile sequence of the table, in report order. */
export const VECTORS: Vector[] = [
  ...REMAINING_LENGTH,
  ...RESERVED_FLAGS,
  ...QOS3,
  ...FORBIDDEN_AFTER,
  ...FORBIDDEN_FIRST,
  ...NOT_CONNACK_FIRST,
  ...BAD_CONNACK,
  ...SECOND_CONNACK,
  ...STRING_PAST_END,
  ...UTF8,
  ...PACKET_ID_ZERO,
  ...SUBACK_CODES,
  ...WILDCARD,
];
