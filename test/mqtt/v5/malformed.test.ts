/**
 * Malformed MQTT 5.0 input and unencodable packets: each refused with a ProtocolError carrying a stable code.
 * Byte vectors are hand-written from the OASIS MQTT 5.0 specification (sections named per row).
 */

import { describe, expect, it } from "vitest";
import { ProtocolError, type ProtocolErrorCode } from "../../../src/mqtt/index.js";
import { ClientDecoder5, type Packet } from "../../../src/mqtt/v5/index.js";
import { hex } from "../hex.js";
import { decodeFrom, encodeAs, receiverOf, type Sender } from "./helpers.js";

/** The ProtocolError code `run` throws (fails the test if it throws anything else or nothing). */
function codeOf(run: () => unknown): ProtocolErrorCode {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).name).toBe("ProtocolError");
    return (err as ProtocolError).code;
  }
  throw new Error("did not throw");
}

const DECODE: Array<[name: string, sender: Sender, wire: string, code: ProtocolErrorCode]> = [
  // 2.2.2.2: "It is a Protocol Error to include the same property more than once" unless it may repeat.
  ["duplicate Reason String in PUBACK", "server", "40 0c 00 01 80 08 1f 00 01 61 1f 00 01 62", "duplicate-property"],
  ["duplicate Topic Alias in PUBLISH", "server", "30 0a 00 01 74 06 23 00 01 23 00 02", "duplicate-property"],
  ["duplicate Subscription Identifier in SUBSCRIBE (3.8.2.1.2)", "client", "82 0b 00 01 04 0b 01 0b 02 00 01 61 00", "duplicate-property"],
  ["duplicate Receive Maximum in CONNACK", "server", "20 09 00 00 06 21 00 01 21 00 02", "duplicate-property"],
  // 2.2.2.2: a property the packet may not carry.
  ["Topic Alias in PUBACK", "server", "40 07 00 01 00 03 23 00 01", "property-not-allowed"],
  ["Will Delay Interval in CONNECT properties", "client", "10 12 00 04 4d 51 54 54 05 02 00 00 05 18 00 00 00 01 00 00", "property-not-allowed"],
  ["Subscription Identifier on a client's PUBLISH [MQTT-3.3.4-6]", "client", "30 06 00 01 74 02 0b 01", "property-not-allowed"],
  ["Session Expiry Interval on a server's DISCONNECT [MQTT-3.14.2-2]", "server", "e0 07 00 05 11 00 00 00 01", "property-not-allowed"],
  ["unknown property identifier 0x07", "server", "40 06 00 01 00 02 07 00", "unknown-property"],
  // 2.4: reason codes per packet.
  ["PUBACK reason 0x11", "server", "40 03 00 01 11", "invalid-reason-code"],
  ["CONNACK reason 0x04", "server", "20 03 00 04 00", "invalid-reason-code"],
  ["SUBACK reason 0x03", "server", "90 04 00 01 00 03", "invalid-reason-code"],
  ["UNSUBACK reason 0x01", "server", "b0 04 00 01 00 01", "invalid-reason-code"],
  ["PUBREL reason 0x10", "client", "62 03 00 01 10", "invalid-reason-code"],
  ["DISCONNECT reason 0x18", "client", "e0 01 18", "invalid-reason-code"],
  ["AUTH reason 0x01", "client", "f0 01 01", "invalid-reason-code"],
  // 1.5.5: Variable Byte Integers: at most 4 bytes, minimally encoded [MQTT-1.5.5-1].
  ["property length of 5 bytes", "server", "40 08 00 01 00 80 80 80 80 01", "malformed-varint"],
  ["property length not minimal", "server", "40 05 00 01 00 80 00", "malformed-varint"],
  ["subscription identifier not minimal", "server", "30 07 00 01 74 03 0b 81 00", "malformed-varint"],
  ["remaining length of 5 bytes (2.1.4)", "server", "30 80 80 80 80 01", "malformed-remaining-length"],
  ["remaining length not minimal", "client", "c0 80 00", "malformed-remaining-length"],
  // Property values out of range.
  ["Retain Available 2 (3.2.2.3.5)", "server", "20 05 00 00 02 25 02", "invalid-property-value"],
  ["Wildcard Subscription Available 0xff (3.2.2.3.11)", "server", "20 05 00 00 02 28 ff", "invalid-property-value"],
  ["Receive Maximum 0 (3.2.2.3.3)", "server", "20 06 00 00 03 21 00 00", "invalid-property-value"],
  ["Maximum QoS 2 (3.2.2.3.4)", "server", "20 05 00 00 02 24 02", "invalid-property-value"],
  ["Maximum Packet Size 0 (3.2.2.3.6)", "server", "20 08 00 00 05 27 00 00 00 00", "invalid-property-value"],
  ["Payload Format Indicator 2 (3.3.2.3.2)", "server", "30 06 00 01 74 02 01 02", "invalid-property-value"],
  ["Topic Alias 0 (3.3.2.3.4)", "client", "30 07 00 01 74 03 23 00 00", "invalid-property-value"],
  ["Subscription Identifier 0 (3.8.2.1.2)", "client", "82 09 00 01 02 0b 00 00 01 61 00", "invalid-property-value"],
  ["Request Problem Information 2 (3.1.2.11.7)", "client", "10 0f 00 04 4d 51 54 54 05 02 00 00 02 17 02 00 00", "invalid-property-value"],
  ["Response Topic with a wildcard (3.3.2.3.5)", "server", "30 08 00 01 74 04 08 00 01 23", "invalid-property-value"],
  ["Authentication Data without a method (3.1.2.11.10)", "client", "f0 07 18 05 16 00 02 01 02", "missing-property"],
  ["AUTH 0x18 without a method (3.15.2.2.2)", "server", "f0 01 18", "missing-property"],
  // 2.1.3: reserved flag bits.
  ["PUBREL flags 0000", "client", "60 02 00 01", "invalid-flags"],
  ["PUBACK flags 0001", "server", "41 02 00 01", "invalid-flags"],
  ["SUBSCRIBE flags 0000", "client", "80 07 00 01 00 00 01 61 00", "invalid-flags"],
  ["DISCONNECT flags 0001", "client", "e1 00", "invalid-flags"],
  ["AUTH flags 0001", "client", "f1 00", "invalid-flags"],
  ["PUBLISH QoS 3 (3.3.1.2)", "server", "36 05 00 01 74 00 01", "invalid-qos"],
  // 3.8.3.1: subscription options.
  ["reserved subscription option bits [MQTT-3.8.3-5]", "client", "82 07 00 01 00 00 01 61 40", "invalid-subscription-options"],
  ["Retain Handling 3", "client", "82 07 00 01 00 00 01 61 30", "invalid-subscription-options"],
  ["subscription QoS 3", "client", "82 07 00 01 00 00 01 61 03", "invalid-qos"],
  ["No Local on a shared subscription [MQTT-3.8.3-4]", "client", "82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04", "invalid-subscription-options"],
  ["shared subscription without a filter (4.8.2)", "client", "82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 00", "invalid-topic"],
  // Packet identifiers are non-zero (2.2.1).
  ["PUBACK packet id 0", "server", "40 02 00 00", "invalid-packet-id"],
  ["PUBLISH QoS 1 packet id 0", "server", "32 06 00 01 74 00 00 00", "invalid-packet-id"],
  ["SUBSCRIBE packet id 0", "client", "82 07 00 00 00 00 01 61 00", "invalid-packet-id"],
  // Lists that may not be empty.
  ["SUBSCRIBE without filters [MQTT-3.8.3-2]", "client", "82 03 00 01 00", "empty-list"],
  ["UNSUBSCRIBE without filters [MQTT-3.10.3-2]", "client", "a2 03 00 01 00", "empty-list"],
  ["SUBACK without reason codes", "server", "90 03 00 01 00", "empty-list"],
  // Topics.
  ["PUBLISH with an empty topic and no alias (3.3.2.1)", "server", "30 03 00 00 00", "invalid-topic"],
  ["PUBLISH topic with a wildcard [MQTT-3.3.2-2]", "server", "30 04 00 01 23 00", "invalid-topic"],
  // CONNECT and CONNACK.
  ["CONNECT protocol level 4", "client", "10 0d 00 04 4d 51 54 54 04 02 00 00 00 00 00", "invalid-protocol"],
  ["CONNECT reserved flag [MQTT-3.1.2-3]", "client", "10 0d 00 04 4d 51 54 54 05 03 00 00 00 00 00", "invalid-connect-flags"],
  ["CONNECT will QoS without will flag", "client", "10 0d 00 04 4d 51 54 54 05 0a 00 00 00 00 00", "invalid-connect-flags"],
  ["CONNACK session present with a failure [MQTT-3.2.2-6]", "server", "20 03 01 80 00", "invalid-connack-flags"],
  ["CONNACK reserved acknowledge flag", "server", "20 03 02 00 00", "invalid-connack-flags"],
  // Lengths and encodings.
  ["PUBACK trailing bytes", "server", "40 05 00 01 00 00 00", "invalid-length"],
  ["property length past the packet", "server", "40 05 00 01 00 05 1f", "truncated"],
  ["user property without its value", "server", "40 08 00 01 80 04 26 00 01 61", "truncated"],
  ["Reason String not UTF-8 (1.5.4)", "server", "40 08 00 01 80 04 1f 00 01 ff", "invalid-utf8"],
  ["Reason String with U+0000 [MQTT-1.5.4-2]", "server", "40 08 00 01 80 04 1f 00 01 00", "invalid-utf8"],
  ["PINGREQ with a body", "client", "c0 01 00", "invalid-length"],
  ["CONNECT too short", "client", "10 02 00 00", "invalid-length"],
  // Types.
  ["reserved type 0", "server", "00 00", "invalid-packet-type"],
  ["CONNECT sent to a client", "server", "10 0d 00 04 4d 51 54 54 05 02 00 00 00 00 00", "unexpected-packet-type"],
  ["CONNACK sent to a server", "client", "20 03 00 00 00", "unexpected-packet-type"],
  ["PINGRESP sent to a server", "client", "d0 00", "unexpected-packet-type"],
];

describe("v5 malformed input", () => {
  it.each(DECODE)("%s", (_name, sender, wire, code) => {
    expect(codeOf(() => decodeFrom(sender, hex(wire)))).toBe(code);
  });

  it("accepts a Subscription Identifier on a server's PUBLISH", () => {
    expect(decodeFrom("server", hex("30 06 00 01 74 02 0b 01"))).toHaveLength(1);
  });

  it("refuses an oversize packet from its fixed header, before any of the body", () => {
    const d = new ClientDecoder5({ maxPacketSize: 16 });
    expect(codeOf(() => d.push(hex("30 7f")))).toBe("packet-too-large");
    expect(d.buffered).toBe(0);
    // Split fixed header: the fault shows as soon as the length's last byte arrives.
    const e = new ClientDecoder5({ maxPacketSize: 200 });
    expect(e.push(hex("30 c9"))).toEqual([]);
    expect(codeOf(() => e.push(hex("01")))).toBe("packet-too-large");
  });

  it("accepts a packet of exactly maxPacketSize", () => {
    const wire = hex("30 08 00 03 61 2f 62 00 68 69");
    expect(new ClientDecoder5({ maxPacketSize: wire.length }).push(wire)).toHaveLength(1);
    expect(codeOf(() => new ClientDecoder5({ maxPacketSize: wire.length - 1 }).push(wire))).toBe("packet-too-large");
  });

  it("stays failed after a protocol error, delivering the packets before it", () => {
    const d = receiverOf("server");
    const seen: Packet[] = [];
    expect(codeOf(() => d.feed(hex("d0 00 40 02 00 00"), (p) => seen.push(p)))).toBe("invalid-packet-id");
    expect(seen).toEqual([{ type: "pingresp" }]);
    expect(codeOf(() => d.push(hex("d0 00")))).toBe("invalid-packet-id");
  });
});

const bad = (p: unknown) => p as Packet;

const ENCODE: Array<[name: string, sender: Sender, packet: Packet, code: ProtocolErrorCode]> = [
  ["property not allowed on PUBACK", "client", bad({ type: "puback", packetId: 1, reasonCode: 0, properties: { topicAlias: 1 } }), "property-not-allowed"],
  ["Subscription Identifier on a client's PUBLISH", "client",
    { type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: false, properties: { subscriptionIdentifiers: [1] } }, "property-not-allowed"],
  ["Session Expiry Interval on a server's DISCONNECT", "server", { type: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 1 } }, "property-not-allowed"],
  ["unknown property", "client", bad({ type: "pubrel", packetId: 1, reasonCode: 0, properties: { colour: "red" } }), "unknown-property"],
  ["Receive Maximum 0", "client", { type: "connect", clientId: "a", clean: true, keepalive: 0, properties: { receiveMaximum: 0 } }, "invalid-property-value"],
  ["Maximum QoS 2", "server", bad({ type: "connack", sessionPresent: false, reasonCode: 0, properties: { maximumQoS: 2 } }), "invalid-property-value"],
  ["Retain Available as a number", "server", bad({ type: "connack", sessionPresent: false, reasonCode: 0, properties: { retainAvailable: 1 } }), "invalid-property-value"],
  ["Payload Format Indicator 2", "client",
    bad({ type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: false, properties: { payloadFormatIndicator: 2 } }), "invalid-property-value"],
  ["Topic Alias 0", "client",
    { type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: false, properties: { topicAlias: 0 } }, "invalid-property-value"],
  ["Subscription Identifier 0", "client", { type: "subscribe", packetId: 1, subscriptions: [{ topic: "a", qos: 0 }], properties: { subscriptionIdentifier: 0 } }, "invalid-property-value"],
  ["Subscription Identifier past the VBI range", "client",
    { type: "subscribe", packetId: 1, subscriptions: [{ topic: "a", qos: 0 }], properties: { subscriptionIdentifier: 268_435_456 } }, "invalid-property-value"],
  ["Maximum Packet Size 0", "client", { type: "connect", clientId: "a", clean: true, keepalive: 0, properties: { maximumPacketSize: 0 } }, "invalid-property-value"],
  ["user property that is not a pair", "client", bad({ type: "unsubscribe", packetId: 1, topics: ["a"], properties: { userProperties: [["k"]] } }), "invalid-property-value"],
  ["Response Topic with a wildcard", "client",
    { type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: false, properties: { responseTopic: "r/#" } }, "invalid-property-value"],
  ["Reason String with a lone surrogate", "server", { type: "puback", packetId: 1, reasonCode: 0x80, properties: { reasonString: "\uD800" } }, "invalid-utf8"],
  ["Authentication Data without a method", "client", { type: "connect", clientId: "a", clean: true, keepalive: 0, properties: { authenticationData: new Uint8Array(1) } }, "missing-property"],
  ["AUTH 0x18 without a method", "client", { type: "auth", reasonCode: 0x18, properties: {} }, "missing-property"],
  ["PUBACK reason 0x11", "server", { type: "puback", packetId: 1, reasonCode: 0x11 }, "invalid-reason-code"],
  ["CONNACK reason 0x04", "server", { type: "connack", sessionPresent: false, reasonCode: 0x04 }, "invalid-reason-code"],
  ["SUBACK reason 0x03", "server", { type: "suback", packetId: 1, reasonCodes: [0x03] }, "invalid-reason-code"],
  ["DISCONNECT reason 0x18", "client", { type: "disconnect", reasonCode: 0x18 }, "invalid-reason-code"],
  ["AUTH reason 0x01", "server", { type: "auth", reasonCode: 0x01, properties: { authenticationMethod: "m" } }, "invalid-reason-code"],
  ["CONNACK session present with a failure", "server", { type: "connack", sessionPresent: true, reasonCode: 0x80 }, "invalid-connack-flags"],
  ["packet id 0", "client", { type: "pubrec", packetId: 0, reasonCode: 0 }, "invalid-packet-id"],
  ["QoS 1 PUBLISH without packet id", "server", { type: "publish", topic: "t", payload: new Uint8Array(), qos: 1, retain: false, dup: false }, "invalid-packet-id"],
  ["empty SUBSCRIBE", "client", { type: "subscribe", packetId: 1, subscriptions: [] }, "empty-list"],
  ["empty UNSUBSCRIBE", "client", { type: "unsubscribe", packetId: 1, topics: [] }, "empty-list"],
  ["empty SUBACK", "server", { type: "suback", packetId: 1, reasonCodes: [] }, "empty-list"],
  ["Retain Handling 3", "client", bad({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "a", qos: 0, retainHandling: 3 }] }), "invalid-subscription-options"],
  ["No Local on a shared subscription", "client", { type: "subscribe", packetId: 1, subscriptions: [{ topic: "$share/g/a", qos: 0, noLocal: true }] }, "invalid-subscription-options"],
  ["subscription QoS 3", "client", bad({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "a", qos: 3 }] }), "invalid-qos"],
  ["PUBLISH QoS 3", "server", bad({ type: "publish", topic: "t", payload: new Uint8Array(), qos: 3, retain: false, dup: false, packetId: 1 }), "invalid-qos"],
  ["empty topic without a topic alias", "client", { type: "publish", topic: "", payload: new Uint8Array(), qos: 0, retain: false, dup: false }, "invalid-topic"],
  ["invalid topic filter", "client", { type: "unsubscribe", packetId: 1, topics: ["a/#/b"] }, "invalid-topic"],
  ["DUP on QoS 0", "client", { type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: true }, "invalid-flags"],
  ["keepalive out of range", "client", { type: "connect", clientId: "a", clean: true, keepalive: 70_000 }, "invalid-field"],
  ["CONNACK from a client", "client", { type: "connack", sessionPresent: false, reasonCode: 0 }, "unexpected-packet-type"],
  ["CONNECT from a server", "server", { type: "connect", clientId: "a", clean: true, keepalive: 0 }, "unexpected-packet-type"],
  ["no packet type", "client", bad({ type: "bogus" }), "invalid-packet-type"],
];

describe("v5 unencodable packets", () => {
  it.each(ENCODE)("%s", (_name, sender, packet, code) => {
    expect(codeOf(() => encodeAs(sender, packet))).toBe(code);
  });
});
