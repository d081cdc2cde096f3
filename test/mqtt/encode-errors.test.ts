/** encode() refuses packets that MQTT 3.1.1 cannot express, with a ProtocolError and a stable code. */

import { describe, expect, it } from "vitest";
import { ProtocolError, encode, encodePublish, type Packet, type ProtocolErrorCode, type PublishPacket } from "../../src/mqtt/index.js";

const pub = (over: Partial<PublishPacket>): PublishPacket => ({
  type: "publish",
  topic: "a/b",
  payload: new Uint8Array(0),
  qos: 0,
  retain: false,
  dup: false,
  ...over,
});

const connect = (over: Partial<Extract<Packet, { type: "connect" }>>): Packet => ({
  type: "connect",
  clientId: "c",
  clean: true,
  keepalive: 60,
  ...over,
});

// Casts for values the types forbid but JavaScript callers can still pass.
const qos = (n: number) => n as 0 | 1 | 2;

const CASES: Array<[name: string, packet: Packet, code: ProtocolErrorCode]> = [
  // packet identifiers (2.3.1): 1..65535, present when needed
  ["PUBLISH QoS 1 packet id 0", pub({ qos: 1, packetId: 0 }), "invalid-packet-id"],
  ["PUBLISH QoS 1 packet id 65536", pub({ qos: 1, packetId: 65536 }), "invalid-packet-id"],
  ["PUBLISH QoS 1 without packet id", pub({ qos: 1 }), "invalid-packet-id"],
  ["PUBLISH QoS 2 packet id 0", pub({ qos: 2, packetId: 0 }), "invalid-packet-id"],
  ["PUBLISH QoS 2 packet id 65536", pub({ qos: 2, packetId: 65536 }), "invalid-packet-id"],
  ["PUBLISH QoS 2 without packet id", pub({ qos: 2 }), "invalid-packet-id"],
  ["PUBLISH QoS 1 packet id -1", pub({ qos: 1, packetId: -1 }), "invalid-packet-id"],
  ["PUBLISH QoS 1 packet id 1.5", pub({ qos: 1, packetId: 1.5 }), "invalid-packet-id"],
  ["PUBLISH QoS 1 packet id NaN", pub({ qos: 1, packetId: Number.NaN }), "invalid-packet-id"],
  ["PUBACK packet id 0", { type: "puback", packetId: 0 }, "invalid-packet-id"],
  ["PUBACK packet id 65536", { type: "puback", packetId: 65536 }, "invalid-packet-id"],
  ["PUBREC packet id 0", { type: "pubrec", packetId: 0 }, "invalid-packet-id"],
  ["PUBREL packet id 65536", { type: "pubrel", packetId: 65536 }, "invalid-packet-id"],
  ["PUBCOMP packet id 0", { type: "pubcomp", packetId: 0 }, "invalid-packet-id"],
  ["UNSUBACK packet id 0", { type: "unsuback", packetId: 0 }, "invalid-packet-id"],
  ["SUBACK packet id 0", { type: "suback", packetId: 0, granted: [0] }, "invalid-packet-id"],
  ["SUBSCRIBE packet id 0", { type: "subscribe", packetId: 0, subscriptions: [{ topic: "a", qos: 0 }] }, "invalid-packet-id"],
  ["SUBSCRIBE packet id 65536", { type: "subscribe", packetId: 65536, subscriptions: [{ topic: "a", qos: 0 }] }, "invalid-packet-id"],
  ["UNSUBSCRIBE packet id 0", { type: "unsubscribe", packetId: 0, topics: ["a"] }, "invalid-packet-id"],

  // flags and CONNACK fields the decoder would refuse
  ["PUBLISH QoS 0 with DUP=1", pub({ dup: true }), "invalid-flags"],
  ["CONNACK return code 6", { type: "connack", sessionPresent: false, returnCode: 6 }, "invalid-return-code"],
  ["CONNACK return code 255", { type: "connack", sessionPresent: false, returnCode: 255 }, "invalid-return-code"],
  ["CONNACK refusal with session present", { type: "connack", sessionPresent: true, returnCode: 5 }, "invalid-connack-flags"],
  [
    "SUBSCRIBE past the remaining-length limit",
    { type: "subscribe", packetId: 1, subscriptions: Array.from({ length: 4200 }, (_, i) => ({ topic: `${"f".repeat(65_000)}${i}`, qos: 0 as const })) },
    "packet-too-large",
  ],

  // QoS
  ["PUBLISH QoS 3", pub({ qos: qos(3), packetId: 1 }), "invalid-qos"],
  ["PUBLISH QoS -1", pub({ qos: qos(-1) }), "invalid-qos"],
  ["SUBSCRIBE requested QoS 3", { type: "subscribe", packetId: 1, subscriptions: [{ topic: "a", qos: qos(3) }] }, "invalid-qos"],
  ["CONNECT will QoS 3", connect({ will: { topic: "w", payload: new Uint8Array(0), qos: qos(3), retain: false } }), "invalid-qos"],

  // topic names (4.7)
  ["PUBLISH topic with '+'", pub({ topic: "a/+" }), "invalid-topic"],
  ["PUBLISH topic with '#'", pub({ topic: "a/#" }), "invalid-topic"],
  ["PUBLISH topic '#'", pub({ topic: "#" }), "invalid-topic"],
  ["PUBLISH empty topic", pub({ topic: "" }), "invalid-topic"],
  ["PUBLISH topic with a lone high surrogate", pub({ topic: "\uD800" }), "invalid-topic"],
  ["PUBLISH topic with a lone low surrogate", pub({ topic: "a/\uDC00" }), "invalid-topic"],
  ["PUBLISH topic with U+0000", pub({ topic: "a\u0000b" }), "invalid-topic"],
  ["PUBLISH topic of 65,536 bytes", pub({ topic: "a".repeat(65_536) }), "invalid-topic"],
  ["CONNECT will topic with '#'", connect({ will: { topic: "w/#", payload: new Uint8Array(0), qos: 0, retain: false } }), "invalid-topic"],
  ["CONNECT empty will topic", connect({ will: { topic: "", payload: new Uint8Array(0), qos: 0, retain: false } }), "invalid-topic"],

  // topic filters
  ["SUBSCRIBE filter a/#/b", { type: "subscribe", packetId: 1, subscriptions: [{ topic: "a/#/b", qos: 0 }] }, "invalid-topic"],
  ["SUBSCRIBE filter a+", { type: "subscribe", packetId: 1, subscriptions: [{ topic: "a+", qos: 1 }] }, "invalid-topic"],
  ["SUBSCRIBE empty filter", { type: "subscribe", packetId: 1, subscriptions: [{ topic: "", qos: 1 }] }, "invalid-topic"],
  [
    "SUBSCRIBE second filter invalid",
    { type: "subscribe", packetId: 1, subscriptions: [{ topic: "ok/#", qos: 1 }, { topic: "x#", qos: 0 }] },
    "invalid-topic",
  ],
  ["SUBSCRIBE filter with a lone surrogate", { type: "subscribe", packetId: 1, subscriptions: [{ topic: "\uDBFF/+", qos: 0 }] }, "invalid-topic"],
  ["UNSUBSCRIBE filter #/a", { type: "unsubscribe", packetId: 1, topics: ["#/a"] }, "invalid-topic"],
  ["UNSUBSCRIBE filter with U+0000", { type: "unsubscribe", packetId: 1, topics: ["a", "\u0000"] }, "invalid-topic"],

  // empty lists (3.8.3-3, 3.10.3-2)
  ["SUBSCRIBE with no filters", { type: "subscribe", packetId: 1, subscriptions: [] }, "empty-list"],
  ["UNSUBSCRIBE with no filters", { type: "unsubscribe", packetId: 1, topics: [] }, "empty-list"],
  ["SUBACK with no return codes", { type: "suback", packetId: 1, granted: [] }, "empty-list"],
  ["SUBACK with return code 3", { type: "suback", packetId: 1, granted: [3 as 0] }, "invalid-suback-code"],

  // CONNECT fields
  ["CONNECT client id with a lone surrogate", connect({ clientId: "dev\uD800" }), "invalid-utf8"],
  ["CONNECT client id with U+0000", connect({ clientId: "a\u0000" }), "invalid-utf8"],
  ["CONNECT username with a lone surrogate", connect({ username: "\uDC00u" }), "invalid-utf8"],
  ["CONNECT password without username", connect({ password: Uint8Array.of(1) }), "invalid-connect-flags"],
  ["CONNECT keepalive 70000", connect({ keepalive: 70_000 }), "invalid-field"],
  ["CONNECT keepalive 65536", connect({ keepalive: 65_536 }), "invalid-field"],
  ["CONNECT keepalive -1", connect({ keepalive: -1 }), "invalid-field"],
  ["CONNECT keepalive 1.5", connect({ keepalive: 1.5 }), "invalid-field"],
  ["CONNECT client id of 65,536 bytes", connect({ clientId: "x".repeat(65_536) }), "invalid-length"],
  ["CONNECT password of 65,536 bytes", connect({ username: "u", password: new Uint8Array(65_536) }), "invalid-length"],
  [
    "CONNECT will payload of 65,536 bytes",
    connect({ will: { topic: "w", payload: new Uint8Array(65_536), qos: 0, retain: false } }),
    "invalid-length",
  ],

  // unknown type
  ["unknown packet type", { type: "auth" } as unknown as Packet, "invalid-packet-type"],
];

describe("encode refuses", () => {
  it.each(CASES)("%s", (_name, packet, code) => {
    expect(() => encode(packet)).toThrow(ProtocolError);
    let err: unknown;
    try {
      encode(packet);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(code);
    expect((err as ProtocolError).name).toBe("ProtocolError");
  });

  it("encodePublish refuses the same PUBLISH packets with the same codes", () => {
    for (const [, packet, code] of CASES) {
      if (packet.type !== "publish") continue;
      expect(() => encodePublish(packet)).toThrow(expect.objectContaining({ code }));
    }
  });
});

describe("encode accepts the boundaries", () => {
  it.each<[string, Packet]>([
    ["packet id 1", { type: "puback", packetId: 1 }],
    ["packet id 65535", { type: "puback", packetId: 65535 }],
    ["QoS 0 PUBLISH without a packet id", pub({})],
    ["keepalive 0", connect({ keepalive: 0 })],
    ["keepalive 65535", connect({ keepalive: 65_535 })],
    ["topic of 65,535 bytes", pub({ topic: "a".repeat(65_535) })],
    ["client id of 65,535 bytes", connect({ clientId: "x".repeat(65_535) })],
    ["empty client id", connect({ clientId: "" })],
    ["topic with a surrogate pair", pub({ topic: "😀/x" })],
    ["username without password", connect({ username: "u" })],
  ])("%s", (_name, packet) => {
    expect(encode(packet)).toBeInstanceOf(Uint8Array);
  });
});
