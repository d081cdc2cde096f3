/**
 * What a hostile MQTT 5 broker sends, written by hand from the v5 byte layouts (section 3), with the ProtocolError
 * code the client must close the connection with. `after`: sent once the CONNACK has been accepted; `first`: sent
 * instead of the CONNACK (connect() must reject with ConnectError "connection-failed" whose cause is that
 * ProtocolError). The client under test accepts topic aliases up to 2 (`topicAliasMaximum: 2`) unless a row says
 * otherwise.
 */
import type { ProtocolErrorCode } from "../../src/index.ts";

export interface Vector5 {
  /** Class of fault (groups the report). */
  kind: string;
  name: string;
  /** Hex of the bytes the broker sends, in one write. */
  bytes: string;
  code: ProtocolErrorCode;
  phase: "after" | "first";
  /** The client's Topic Alias Maximum for this row (default 2). */
  topicAliasMaximum?: number;
  /** Messages delivered before the fault (default 0). */
  delivered?: number;
}

const v = (kind: string, phase: Vector5["phase"], rows: Array<[name: string, bytes: string, code: ProtocolErrorCode]>): Vector5[] =>
  rows.map(([name, bytes, code]) => ({ kind, name, bytes, code, phase }));

const NOT_ALLOWED_AFTER = v("property not allowed on the packet [MQTT-2.2.2-2]", "after", [
  ["PUBACK with a Topic Alias", "40 07 00 01 00 03 23 00 01", "property-not-allowed"],
  ["PUBACK with a Session Expiry Interval", "40 09 00 01 00 05 11 00 00 00 0a", "property-not-allowed"],
  ["PUBREC with a Subscription Identifier", "50 06 00 01 00 02 0b 01", "property-not-allowed"],
  ["PUBREL with a Content Type", "62 08 00 01 00 04 03 00 01 61", "property-not-allowed"],
  ["PUBCOMP with a Response Topic", "70 08 00 01 00 04 08 00 01 61", "property-not-allowed"],
  ["SUBACK with a Server Keep Alive", "90 07 00 01 03 13 00 0a 00", "property-not-allowed"],
  ["UNSUBACK with an Assigned Client Identifier", "b0 08 00 01 04 12 00 01 78 00", "property-not-allowed"],
  ["PUBLISH with a Receive Maximum", "30 08 00 01 61 03 21 00 05 68", "property-not-allowed"],
  ["PUBLISH with a Session Expiry Interval", "30 0a 00 01 61 05 11 00 00 00 01 68", "property-not-allowed"],
  ["PUBLISH with an Authentication Method", "30 08 00 01 61 04 15 00 01 6d", "property-not-allowed"],
  ["QoS 1 PUBLISH with a Will Delay Interval", "32 0c 00 01 61 00 07 05 18 00 00 00 01 68", "property-not-allowed"],
  ["a server DISCONNECT with a Session Expiry Interval [MQTT-3.14.2-2]", "e0 07 00 05 11 00 00 00 01", "property-not-allowed"],
  ["DISCONNECT with a Topic Alias", "e0 05 00 03 23 00 01", "property-not-allowed"],
  ["AUTH with a Maximum Packet Size", "f0 07 18 05 27 00 00 01 00", "property-not-allowed"],
]);

const NOT_ALLOWED_FIRST = v("property not allowed on CONNACK", "first", [
  ["CONNACK with a Topic Alias", "20 06 00 00 03 23 00 01", "property-not-allowed"],
  ["CONNACK with a Subscription Identifier", "20 05 00 00 02 0b 01", "property-not-allowed"],
  ["CONNACK with a Will Delay Interval", "20 08 00 00 05 18 00 00 00 01", "property-not-allowed"],
  ["CONNACK with Request Problem Information", "20 05 00 00 02 17 01", "property-not-allowed"],
  ["CONNACK with a Content Type", "20 07 00 00 04 03 00 01 61", "property-not-allowed"],
]);

const DUPLICATE_AFTER = v("duplicate property [MQTT-2.2.2-2]", "after", [
  ["PUBLISH with two Topic Aliases", "30 0b 00 01 61 06 23 00 01 23 00 02 68", "duplicate-property"],
  ["PUBLISH with two Content Types", "30 0c 00 01 61 08 03 00 01 61 03 00 01 62", "duplicate-property"],
  ["PUBLISH with two Message Expiry Intervals", "30 0e 00 01 61 0a 02 00 00 00 0a 02 00 00 00 0b", "duplicate-property"],
  ["PUBLISH with two Payload Format Indicators", "30 08 00 01 61 04 01 01 01 00", "duplicate-property"],
  ["PUBLISH with two Correlation Data", "30 0c 00 01 61 08 09 00 01 aa 09 00 01 bb", "duplicate-property"],
  ["PUBLISH with two Response Topics", "30 0c 00 01 61 08 08 00 01 72 08 00 01 73", "duplicate-property"],
  ["QoS 2 PUBLISH with two Topic Aliases", "34 0d 00 01 61 00 05 06 23 00 01 23 00 01 68", "duplicate-property"],
  ["PUBACK with two Reason Strings", "40 0c 00 01 00 08 1f 00 01 61 1f 00 01 62", "duplicate-property"],
  ["PUBREC with two Reason Strings", "50 0c 00 01 00 08 1f 00 01 61 1f 00 01 62", "duplicate-property"],
  ["SUBACK with two Reason Strings", "90 0c 00 01 08 1f 00 01 61 1f 00 01 62 00", "duplicate-property"],
  ["DISCONNECT with two Server References", "e0 0a 9c 08 1c 00 01 61 1c 00 01 62", "duplicate-property"],
  ["AUTH with two Authentication Methods", "f0 0a 18 08 15 00 01 61 15 00 01 62", "duplicate-property"],
]);

const DUPLICATE_FIRST = v("duplicate property on CONNACK", "first", [
  ["CONNACK with two Receive Maximums", "20 09 00 00 06 21 00 05 21 00 05", "duplicate-property"],
  ["CONNACK with two Topic Alias Maximums", "20 09 00 00 06 22 00 02 22 00 03", "duplicate-property"],
  ["CONNACK with two Maximum Packet Sizes", "20 0d 00 00 0a 27 00 00 10 00 27 00 00 10 00", "duplicate-property"],
  ["CONNACK with two Server Keep Alives", "20 09 00 00 06 13 00 05 13 00 06", "duplicate-property"],
  ["CONNACK with two Assigned Client Identifiers", "20 0b 00 00 08 12 00 01 61 12 00 01 62", "duplicate-property"],
  ["CONNACK with two Retain Availables", "20 07 00 00 04 25 01 25 01", "duplicate-property"],
]);

const REASON_AFTER = v("reason code not valid for the packet [MQTT-2.4]", "after", [
  ["PUBACK 0x01 (Granted QoS 1)", "40 03 00 01 01", "invalid-reason-code"],
  ["PUBACK 0x04 (a DISCONNECT code)", "40 03 00 01 04", "invalid-reason-code"],
  ["PUBACK 0x11 (an UNSUBACK code)", "40 03 00 01 11", "invalid-reason-code"],
  ["PUBACK 0x18 (an AUTH code)", "40 03 00 01 18", "invalid-reason-code"],
  ["PUBACK 0x81 (Malformed Packet)", "40 03 00 01 81", "invalid-reason-code"],
  ["PUBACK 0x92 (a PUBREL code)", "40 03 00 01 92", "invalid-reason-code"],
  ["PUBACK 0xa3 (no such code)", "40 03 00 01 a3", "invalid-reason-code"],
  ["PUBACK 0xff", "40 03 00 01 ff", "invalid-reason-code"],
  ["PUBREC 0x92", "50 03 00 01 92", "invalid-reason-code"],
  ["PUBREC 0x11", "50 03 00 01 11", "invalid-reason-code"],
  ["PUBREL 0x10", "62 03 00 01 10", "invalid-reason-code"],
  ["PUBREL 0x80 (only 0x00 and 0x92)", "62 03 00 01 80", "invalid-reason-code"],
  ["PUBCOMP 0x87", "70 03 00 01 87", "invalid-reason-code"],
  ["SUBACK 0x03", "90 04 00 01 00 03", "invalid-reason-code"],
  ["SUBACK 0x11", "90 04 00 01 00 11", "invalid-reason-code"],
  ["SUBACK 0x92 after a good one", "90 05 00 01 00 01 92", "invalid-reason-code"],
  ["UNSUBACK 0x01", "b0 04 00 01 00 01", "invalid-reason-code"],
  ["UNSUBACK 0x10", "b0 04 00 01 00 10", "invalid-reason-code"],
  ["DISCONNECT 0x01", "e0 01 01", "invalid-reason-code"],
  ["DISCONNECT 0x18", "e0 01 18", "invalid-reason-code"],
  ["DISCONNECT 0x91", "e0 01 91", "invalid-reason-code"],
  ["DISCONNECT 0xa3", "e0 01 a3", "invalid-reason-code"],
  ["AUTH 0x80", "f0 02 80 00", "invalid-reason-code"],
  ["AUTH 0x87", "f0 02 87 00", "invalid-reason-code"],
]);

const REASON_FIRST = v("CONNACK reason code not valid for CONNACK", "first", [
  ["CONNACK 0x01 (a 3.1.1 return code)", "20 03 00 01 00", "invalid-reason-code"],
  ["CONNACK 0x05 (a 3.1.1 return code)", "20 03 00 05 00", "invalid-reason-code"],
  ["CONNACK 0x10", "20 03 00 10 00", "invalid-reason-code"],
  ["CONNACK 0x18", "20 03 00 18 00", "invalid-reason-code"],
  ["CONNACK 0x8b (a DISCONNECT code)", "20 03 00 8b 00", "invalid-reason-code"],
  ["CONNACK 0x93", "20 03 00 93 00", "invalid-reason-code"],
  ["CONNACK 0xff", "20 03 00 ff 00", "invalid-reason-code"],
]);

const ALIAS = v("topic alias beyond the maximum or never learnt [MQTT-3.3.2-9, 3.3.2-10]", "after", [
  ["alias 3 with a topic (maximum 2)", "30 07 00 01 61 03 23 00 03", "invalid-topic-alias"],
  ["alias 65535 with a topic", "30 07 00 01 61 03 23 ff ff", "invalid-topic-alias"],
  ["alias 3 alone", "30 06 00 00 03 23 00 03", "invalid-topic-alias"],
  ["alias 1 never learnt", "30 06 00 00 03 23 00 01", "invalid-topic-alias"],
  ["QoS 1 alias 2 never learnt", "32 08 00 00 00 07 03 23 00 02", "invalid-topic-alias"],
  ["QoS 2 alias 2 never learnt", "34 08 00 00 00 07 03 23 00 02", "invalid-topic-alias"],
  ["alias 0 [MQTT-3.3.2-8]", "30 07 00 01 61 03 23 00 00", "invalid-property-value"],
  ["alias 0 alone", "30 06 00 00 03 23 00 00", "invalid-property-value"],
]);

const ALIAS_NONE: Vector5[] = [
  ["alias 1 with a topic to a client that takes none", "30 07 00 01 61 03 23 00 01"],
  ["alias 1 alone to a client that takes none", "30 06 00 00 03 23 00 01"],
].map(([name, bytes]) => ({ kind: "topic alias to a client with Topic Alias Maximum 0", name: name!, bytes: bytes!, code: "invalid-topic-alias" as const, phase: "after" as const, topicAliasMaximum: 0 }));

ALIAS.push({
  kind: ALIAS[0]!.kind,
  name: "alias 2 learnt, then alias 1 used, in one read",
  bytes: "30 08 00 01 61 03 23 00 02 78 30 07 00 00 03 23 00 01 79",
  code: "invalid-topic-alias",
  phase: "after",
  delivered: 1,
});

const EMPTY_TOPIC = v("empty topic and no alias [MQTT-3.3.2-1]", "after", [
  ["QoS 0, no properties", "30 03 00 00 00", "invalid-topic"],
  ["QoS 0 with a payload", "30 05 00 00 00 68 69", "invalid-topic"],
  ["QoS 1", "32 05 00 00 00 01 00", "invalid-topic"],
  ["QoS 2 retained", "35 05 00 00 00 01 00", "invalid-topic"],
  ["with a Content Type but no alias", "30 07 00 00 04 03 00 01 61", "invalid-topic"],
  ["with User Properties but no alias", "30 0a 00 00 07 26 00 01 6b 00 01 76", "invalid-topic"],
]);

const CONNACK_VALUES = v("CONNACK property out of range", "first", [
  ["Receive Maximum 0 (3.2.2.3.3: a Protocol Error)", "20 06 00 00 03 21 00 00", "invalid-property-value"],
  ["Maximum Packet Size 0", "20 08 00 00 05 27 00 00 00 00", "invalid-property-value"],
  ["Maximum QoS 2", "20 05 00 00 02 24 02", "invalid-property-value"],
  ["Retain Available 2", "20 05 00 00 02 25 02", "invalid-property-value"],
  ["Wildcard Subscription Available 7", "20 05 00 00 02 28 07", "invalid-property-value"],
  ["session present on a refusal (0x87)", "21 03 01 87 00", "invalid-flags"],
  ["session present with a refusal (0x87), flags right", "20 03 01 87 00", "invalid-connack-flags"],
  ["Authentication Data without a method", "20 07 00 00 04 16 00 01 aa", "missing-property"],
]);

const AUTH_AFTER = v("AUTH without an Authentication Method (3.15.2.2.2)", "after", [
  ["continue (0x18), no properties", "f0 02 18 00", "missing-property"],
  ["continue (0x18), reason code only", "f0 01 18", "missing-property"],
  ["success (0x00) with an empty property section", "f0 02 00 00", "missing-property"],
  ["re-authenticate (0x19)", "f0 01 19", "missing-property"],
  ["continue with Authentication Data only", "f0 06 18 04 16 00 01 aa", "missing-property"],
  ["continue with a Reason String only", "f0 06 18 04 1f 00 01 61", "missing-property"],
]);

const AUTH_FIRST = v("AUTH without a method instead of CONNACK", "first", [
  ["continue (0x18), no properties", "f0 02 18 00", "missing-property"],
  ["continue with Authentication Data only", "f0 06 18 04 16 00 01 aa", "missing-property"],
]);

const PROPERTY_BYTES = v("malformed property section", "after", [
  ["PUBACK property length past the end", "40 04 00 01 00 05", "truncated"],
  ["PUBACK with property identifier 0x00", "40 05 00 01 00 01 00", "unknown-property"],
  ["PUBACK with property identifier 0x7f", "40 05 00 01 00 01 7f", "unknown-property"],
  ["PUBACK Reason String of invalid UTF-8", "40 08 00 01 00 04 1f 00 01 ff", "invalid-utf8"],
  ["PUBACK User Property without its value", "40 08 00 01 00 04 26 00 01 61", "truncated"],
  ["PUBLISH Payload Format Indicator 2", "30 06 00 01 61 02 01 02", "invalid-property-value"],
  ["PUBLISH Subscription Identifier 0", "30 06 00 01 61 02 0b 00", "invalid-property-value"],
  ["PUBLISH Response Topic with a wildcard", "30 08 00 01 61 04 08 00 01 23", "invalid-property-value"],
  ["PUBLISH property length of 5 bytes", "30 0a 00 01 61 ff ff ff ff 01 00 00", "malformed-varint"],
  ["SUBACK property length past the end", "90 04 00 01 09 00", "truncated"],
  ["SUBACK with properties but no reason code", "90 03 00 01 00", "empty-list"],
  ["DISCONNECT Reason String cut short", "e0 06 00 04 1f 00 05 61", "truncated"],
]);

/** Every hostile v5 sequence, in report order. */
export const VECTORS5: Vector5[] = [
  ...NOT_ALLOWED_AFTER,
  ...NOT_ALLOWED_FIRST,
  ...DUPLICATE_AFTER,
  ...DUPLICATE_FIRST,
  ...REASON_AFTER,
  ...REASON_FIRST,
  ...ALIAS,
  ...ALIAS_NONE,
  ...EMPTY_TOPIC,
  ...CONNACK_VALUES,
  ...AUTH_AFTER,
  ...AUTH_FIRST,
  ...PROPERTY_BYTES,
];
