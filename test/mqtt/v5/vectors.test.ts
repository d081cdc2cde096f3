/**
 * Byte-exact MQTT 5.0 vectors, written by hand from the OASIS MQTT Version 5.0 specification (section numbers in
 * each row). Each vector is encoded by the sender's encoder and decoded by the receiver's decoder (whole, and one
 * byte at a time); packets both sides send are checked with both encoders and both decoders.
 */

import { describe, expect, it } from "vitest";
import { decodePropertySection, encodePropertySection, type Packet, type Properties, type PropertyContext } from "../../../src/mqtt/v5/index.js";
import { hex, toHex } from "../hex.js";
import { decodeBytewise, decodeFrom, encodeAs, type Sender } from "./helpers.js";

const bytes = (...b: number[]) => Uint8Array.from(b);
const text = (s: string) => new TextEncoder().encode(s);

type Row = [name: string, senders: Sender[], packet: Packet, wire: string];

const ROWS: Row[] = [
  // 3.1: CONNECT, the minimal form: "MQTT", level 5, Clean Start, keep alive 60, empty properties, client id "a".
  ["CONNECT minimal (3.1.2)", ["client"],
    { type: "connect", clientId: "a", clean: true, keepalive: 60, properties: {} },
    "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 61"],
  // 3.1.2.11 CONNECT properties, 3.1.3.2 will properties; flags 0xec: user name, password, will retain, will QoS 1, will.
  ["CONNECT with every property, a will, user name and password (3.1.2.11, 3.1.3.2)", ["client"],
    {
      type: "connect", clientId: "c", clean: false, keepalive: 10,
      properties: {
        sessionExpiryInterval: 3600, receiveMaximum: 20, maximumPacketSize: 1024, topicAliasMaximum: 5,
        requestResponseInformation: 1, requestProblemInformation: 0, userProperties: [["k", "v"]],
        authenticationMethod: "m", authenticationData: bytes(1, 2),
      },
      will: {
        topic: "w", payload: bytes(1), qos: 1, retain: true,
        properties: {
          willDelayInterval: 5, payloadFormatIndicator: 1, messageExpiryInterval: 60, contentType: "t",
          responseTopic: "r", correlationData: bytes(9), userProperties: [["a", "b"]],
        },
      },
      username: "u", password: bytes(0x70),
    },
    "10 5e 00 04 4d 51 54 54 05 ec 00 0a" +
    " 24 11 00 00 0e 10 15 00 01 6d 16 00 02 01 02 17 00 19 01 21 00 14 22 00 05 26 00 01 6b 00 01 76 27 00 00 04 00" +
    " 00 01 63" +
    " 1f 01 01 02 00 00 00 3c 03 00 01 74 08 00 01 72 09 00 01 09 18 00 00 00 05 26 00 01 61 00 01 62" +
    " 00 01 77 00 01 01 00 01 75 00 01 70"],
  // 3.1.2.9: in MQTT 5 a password may be sent without a user name.
  ["CONNECT with a password and no user name (3.1.2.9)", ["client"],
    { type: "connect", clientId: "", clean: true, keepalive: 0, password: bytes(0xab), properties: {} },
    "10 10 00 04 4d 51 54 54 05 42 00 00 00 00 00 00 01 ab"],
  // 3.2: CONNACK, success, no properties.
  ["CONNACK success (3.2.2)", ["server"],
    { type: "connack", sessionPresent: false, reasonCode: 0, properties: {} }, "20 03 00 00 00"],
  // 3.2.2.2: a refusing CONNACK, 0x87 Not authorized.
  ["CONNACK refused, Not authorized (3.2.2.2)", ["server"],
    { type: "connack", sessionPresent: false, reasonCode: 0x87, properties: {} }, "20 03 00 87 00"],
  // 3.2.2.3: every CONNACK property, in identifier order; User Property repeated with the same name.
  ["CONNACK with every property (3.2.2.3)", ["server"],
    {
      type: "connack", sessionPresent: true, reasonCode: 0,
      properties: {
        sessionExpiryInterval: 120, assignedClientIdentifier: "id", serverKeepAlive: 30, authenticationMethod: "m",
        authenticationData: bytes(0xaa), responseInformation: "ri", serverReference: "s2", reasonString: "ok",
        receiveMaximum: 10, topicAliasMaximum: 3, maximumQoS: 1, retainAvailable: false,
        userProperties: [["x", "1"], ["x", "2"]], maximumPacketSize: 65536, wildcardSubscriptionAvailable: true,
        subscriptionIdentifierAvailable: false, sharedSubscriptionAvailable: true,
      },
    },
    "20 4a 01 00 47 11 00 00 00 78 12 00 02 69 64 13 00 1e 15 00 01 6d 16 00 01 aa 1a 00 02 72 69 1c 00 02 73 32" +
    " 1f 00 02 6f 6b 21 00 0a 22 00 03 24 01 25 00 26 00 01 78 00 01 31 26 00 01 78 00 01 32 27 00 01 00 00" +
    " 28 01 29 00 2a 01"],
  // 3.3: PUBLISH QoS 0, topic "a/b", payload "hi", property length 0.
  ["PUBLISH QoS 0 (3.3.2)", ["client", "server"],
    { type: "publish", topic: "a/b", payload: text("hi"), qos: 0, retain: false, dup: false, properties: {} },
    "30 08 00 03 61 2f 62 00 68 69"],
  // 3.3.2.3: PUBLISH properties; first byte 0x3b = DUP, QoS 1, RETAIN.
  ["PUBLISH QoS 1 with properties (3.3.2.3)", ["client", "server"],
    {
      type: "publish", topic: "t", payload: bytes(0xff), qos: 1, retain: true, dup: true, packetId: 10,
      properties: {
        payloadFormatIndicator: 1, messageExpiryInterval: 30, contentType: "c", responseTopic: "r",
        correlationData: bytes(1), topicAlias: 2, userProperties: [["a", "b"]],
      },
    },
    "3b 24 00 01 74 00 0a 1d 01 01 02 00 00 00 1e 03 00 01 63 08 00 01 72 09 00 01 01 23 00 02 26 00 01 61 00 01 62 ff"],
  // 3.3.2.3.8: Subscription Identifiers (server to client only), 200 as the two-byte VBI c8 01 (1.5.5).
  ["PUBLISH with two subscription identifiers (3.3.2.3.8)", ["server"],
    { type: "publish", topic: "t", payload: bytes(), qos: 0, retain: false, dup: false, properties: { subscriptionIdentifiers: [1, 200] } },
    "30 09 00 01 74 05 0b 01 0b c8 01"],
  // 3.3.2.3.4: an empty topic name with a Topic Alias.
  ["PUBLISH with an empty topic and a topic alias (3.3.2.3.4)", ["client", "server"],
    { type: "publish", topic: "", payload: text("x"), qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } },
    "30 07 00 00 03 23 00 01 78"],
  // 3.4.2.1: PUBACK with reason 0x00 and no properties: remaining length 2.
  ["PUBACK short form (3.4.2.1)", ["client", "server"],
    { type: "puback", packetId: 1, reasonCode: 0, properties: {} }, "40 02 00 01"],
  // 3.4.2.1: "If the Remaining Length is less than 4 there is no Property Length": reason 0x10 alone.
  ["PUBACK reason without properties (3.4.2.1)", ["client", "server"],
    { type: "puback", packetId: 1, reasonCode: 0x10, properties: {} }, "40 03 00 01 10"],
  // 3.4.2.2: PUBACK with a Reason String.
  ["PUBACK with a reason string (3.4.2.2)", ["client", "server"],
    { type: "puback", packetId: 1, reasonCode: 0x80, properties: { reasonString: "no" } }, "40 09 00 01 80 05 1f 00 02 6e 6f"],
  // 3.5: PUBREC 0x91 Packet Identifier in use.
  ["PUBREC (3.5.2.1)", ["client", "server"],
    { type: "pubrec", packetId: 2, reasonCode: 0x91, properties: {} }, "50 03 00 02 91"],
  // 3.6: PUBREL, fixed header flags 0010, 0x92 Packet Identifier not found.
  ["PUBREL (3.6.2.1)", ["client", "server"],
    { type: "pubrel", packetId: 3, reasonCode: 0x92, properties: {} }, "62 03 00 03 92"],
  // 3.7: PUBCOMP, short form, with a user property: 3.7.2.2.
  ["PUBCOMP with a user property (3.7.2.2)", ["client", "server"],
    { type: "pubcomp", packetId: 4, reasonCode: 0, properties: { userProperties: [["k", "v"]] } },
    "70 0b 00 04 00 07 26 00 01 6b 00 01 76"],
  // 3.8: SUBSCRIBE; options 0x2d = QoS 1, No Local, Retain As Published, Retain Handling 2 (3.8.3.1); id 300 = ac 02.
  ["SUBSCRIBE with options and a subscription identifier (3.8.2.1, 3.8.3.1)", ["client"],
    {
      type: "subscribe", packetId: 1,
      subscriptions: [
        { topic: "a/+", qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 },
        { topic: "#", qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
      ],
      properties: { subscriptionIdentifier: 300, userProperties: [["k", "v"]] },
    },
    "82 17 00 01 0a 0b ac 02 26 00 01 6b 00 01 76 00 03 61 2f 2b 2d 00 01 23 00"],
  // 3.9: SUBACK, one reason code per filter: granted 1, granted 0, 0x80, 0xa2.
  ["SUBACK (3.9.3)", ["server"],
    { type: "suback", packetId: 1, reasonCodes: [1, 0, 0x80, 0xa2], properties: {} }, "90 07 00 01 00 01 00 80 a2"],
  // 3.10: UNSUBSCRIBE, flags 0010.
  ["UNSUBSCRIBE (3.10)", ["client"],
    { type: "unsubscribe", packetId: 2, topics: ["a", "b/#"], properties: {} }, "a2 0b 00 02 00 00 01 61 00 03 62 2f 23"],
  // 3.11: UNSUBACK with a reason string and two reason codes (0x11 No subscription existed).
  ["UNSUBACK (3.11)", ["server"],
    { type: "unsuback", packetId: 2, reasonCodes: [0, 0x11], properties: { reasonString: "x" } }, "b0 09 00 02 04 1f 00 01 78 00 11"],
  // 3.12, 3.13
  ["PINGREQ (3.12)", ["client"], { type: "pingreq" }, "c0 00"],
  ["PINGRESP (3.13)", ["server"], { type: "pingresp" }, "d0 00"],
  // 3.14.2.1: reason 0x00 and no properties: remaining length 0.
  ["DISCONNECT normal, empty (3.14.2.1)", ["client", "server"],
    { type: "disconnect", reasonCode: 0, properties: {} }, "e0 00"],
  ["DISCONNECT with will message, reason only (3.14.2.1)", ["client"],
    { type: "disconnect", reasonCode: 0x04, properties: {} }, "e0 01 04"],
  // 3.14.2.2: a client may send Session Expiry Interval on DISCONNECT.
  ["DISCONNECT from a client with a session expiry (3.14.2.2.2)", ["client"],
    { type: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 0 } }, "e0 07 00 05 11 00 00 00 00"],
  // 3.14.2.2: a server's DISCONNECT with Server Reference and Reason String, 0x8b Server shutting down.
  ["DISCONNECT from a server (3.14.2.2)", ["server"],
    { type: "disconnect", reasonCode: 0x8b, properties: { serverReference: "s", reasonString: "bye" } },
    "e0 0c 8b 0a 1c 00 01 73 1f 00 03 62 79 65"],
  // 3.15.2.1: AUTH success with no properties: remaining length 0.
  ["AUTH empty (3.15.2.1)", ["client", "server"], { type: "auth", reasonCode: 0, properties: {} }, "f0 00"],
  // 3.15.2.2: AUTH 0x18 Continue authentication with method and data.
  ["AUTH continue (3.15.2.2)", ["client", "server"],
    { type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: bytes(1, 2, 3) } },
    "f0 16 18 14 15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31 16 00 03 01 02 03"],
];

describe("v5 vectors", () => {
  describe.each(ROWS)("%s", (_name, senders, packet, wire) => {
    it.each(senders)("encodes as %s", (sender) => {
      expect(toHex(encodeAs(sender, packet))).toBe(toHex(hex(wire)));
    });
    it.each(senders)("decodes from %s, whole and byte by byte", (sender) => {
      expect(decodeFrom(sender, hex(wire))).toEqual([packet]);
      expect(decodeBytewise(sender, hex(wire))).toEqual([packet]);
    });
  });

  // Forms a decoder must accept that an encoder never writes (it writes the shortest).
  it.each<[string, Sender, string, Packet]>([
    // 3.4.2.1: reason 0x00 with an explicit empty property section.
    ["PUBACK with reason and empty properties (3.4.2.2.1)", "server", "40 04 00 01 00 00", { type: "puback", packetId: 1, reasonCode: 0, properties: {} }],
    // 3.14.2.1: a DISCONNECT of remaining length 1 has a reason code and no property length.
    ["DISCONNECT with reason 0x00 only (3.14.2.1)", "client", "e0 01 00", { type: "disconnect", reasonCode: 0, properties: {} }],
    // 3.3.1.1: DUP on QoS 0 is read as 0 (as the 3.1.1 decoder does).
    ["PUBLISH QoS 0 with DUP (3.3.1.1)", "server", "38 04 00 01 74 00", { type: "publish", topic: "t", payload: bytes(), qos: 0, retain: false, dup: false, properties: {} }],
  ])("decodes %s", (_name, sender, wire, packet) => {
    expect(decodeFrom(sender, hex(wire))).toEqual([packet]);
  });
});

// One vector per property (2.2.2.2, table 2-4): the property section alone, length first, in a packet that may carry it.
const PROPERTY_ROWS: Array<[name: string, ctx: PropertyContext, props: Properties, wire: string]> = [
  ["0x01 Payload Format Indicator (3.3.2.3.2)", "publish", { payloadFormatIndicator: 1 }, "02 01 01"],
  ["0x02 Message Expiry Interval (3.3.2.3.3)", "publish", { messageExpiryInterval: 0x01020304 }, "05 02 01 02 03 04"],
  ["0x03 Content Type (3.3.2.3.9)", "will", { contentType: "a/b" }, "06 03 00 03 61 2f 62"],
  ["0x08 Response Topic (3.3.2.3.5)", "publish", { responseTopic: "re" }, "05 08 00 02 72 65"],
  ["0x09 Correlation Data (3.3.2.3.6)", "publish", { correlationData: bytes(0, 255) }, "05 09 00 02 00 ff"],
  ["0x0B Subscription Identifier, largest (3.8.2.1.2)", "subscribe", { subscriptionIdentifier: 268_435_455 }, "05 0b ff ff ff 7f"],
  ["0x0B Subscription Identifier on PUBLISH (3.3.2.3.8)", "publish", { subscriptionIdentifiers: [16_384] }, "04 0b 80 80 01"],
  ["0x11 Session Expiry Interval, never expires (3.1.2.11.2)", "connect", { sessionExpiryInterval: 0xffffffff }, "05 11 ff ff ff ff"],
  ["0x12 Assigned Client Identifier (3.2.2.3.7)", "connack", { assignedClientIdentifier: "z" }, "04 12 00 01 7a"],
  ["0x13 Server Keep Alive (3.2.2.3.14)", "connack", { serverKeepAlive: 0x1234 }, "03 13 12 34"],
  ["0x15 Authentication Method (3.15.2.2.2)", "auth", { authenticationMethod: "m" }, "04 15 00 01 6d"],
  ["0x16 Authentication Data (3.15.2.2.3)", "auth", { authenticationMethod: "m", authenticationData: bytes(7) }, "08 15 00 01 6d 16 00 01 07"],
  ["0x17 Request Problem Information (3.1.2.11.7)", "connect", { requestProblemInformation: 1 }, "02 17 01"],
  ["0x18 Will Delay Interval (3.1.3.2.2)", "will", { willDelayInterval: 300 }, "05 18 00 00 01 2c"],
  ["0x19 Request Response Information (3.1.2.11.6)", "connect", { requestResponseInformation: 0 }, "02 19 00"],
  ["0x1A Response Information (3.2.2.3.15)", "connack", { responseInformation: "r/" }, "05 1a 00 02 72 2f"],
  ["0x1C Server Reference (3.14.2.2.5)", "disconnect", { serverReference: "h:1" }, "06 1c 00 03 68 3a 31"],
  ["0x1F Reason String, UTF-8 (3.4.2.2.2)", "puback", { reasonString: "é" }, "05 1f 00 02 c3 a9"],
  ["0x21 Receive Maximum (3.1.2.11.3)", "connect", { receiveMaximum: 65535 }, "03 21 ff ff"],
  ["0x22 Topic Alias Maximum (3.2.2.3.8)", "connack", { topicAliasMaximum: 0 }, "03 22 00 00"],
  ["0x23 Topic Alias (3.3.2.3.4)", "publish", { topicAlias: 65535 }, "03 23 ff ff"],
  ["0x24 Maximum QoS (3.2.2.3.4)", "connack", { maximumQoS: 0 }, "02 24 00"],
  ["0x25 Retain Available (3.2.2.3.5)", "connack", { retainAvailable: true }, "02 25 01"],
  ["0x26 User Property, order kept (3.1.2.11.8)", "unsubscribe", { userProperties: [["b", "1"], ["a", "2"]] }, "0e 26 00 01 62 00 01 31 26 00 01 61 00 01 32"],
  ["0x27 Maximum Packet Size (3.1.2.11.4)", "connect", { maximumPacketSize: 1 }, "05 27 00 00 00 01"],
  ["0x28 Wildcard Subscription Available (3.2.2.3.11)", "connack", { wildcardSubscriptionAvailable: false }, "02 28 00"],
  ["0x29 Subscription Identifiers Available (3.2.2.3.12)", "connack", { subscriptionIdentifierAvailable: true }, "02 29 01"],
  ["0x2A Shared Subscription Available (3.2.2.3.13)", "connack", { sharedSubscriptionAvailable: true }, "02 2a 01"],
];

describe("v5 property vectors", () => {
  it.each(PROPERTY_ROWS)("%s", (_name, ctx, props, wire) => {
    expect(toHex(encodePropertySection(props, ctx))).toBe(toHex(hex(wire)));
    expect(decodePropertySection(hex(wire), ctx)).toEqual(props);
  });

  it("covers every property identifier of table 2-4", () => {
    const ids = new Set(PROPERTY_ROWS.map(([name]) => name.slice(0, 4).toLowerCase()));
    const all = [0x01, 0x02, 0x03, 0x08, 0x09, 0x0b, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1c, 0x1f,
      0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a];
    for (const id of all) expect(ids.has(`0x${id.toString(16).padStart(2, "0")}`)).toBe(true);
  });
});
