/**
 * fast-check round trips of every v5 packet type with arbitrary valid properties: encode -> decode equals the
 * input, whole, cut into arbitrary chunks, and one byte at a time; and a sequence of packets decodes in order.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError, checkString, topicFilterProblem, topicNameProblem } from "../../../src/mqtt/index.js";
import type { Packet, Properties, PropertyContext, QoS } from "../../../src/mqtt/v5/index.js";
import { concat } from "../hex.js";
import { decodeBytewise, decodeFrom, encodeAs, receiverOf, type Sender } from "./helpers.js";

const qosArb = fc.constantFrom<QoS>(0, 1, 2);
const idArb = fc.integer({ min: 1, max: 65_535 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const bit = fc.constantFrom<0 | 1>(0, 1);
const binArb = fc.uint8Array({ maxLength: 24 });

const charArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "Z", "0", " ", "$", "-", "/", "+", "#") },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom("é", "€", "😀", "\uFEFF", "\u{10FFFF}") },
);
const strArb = fc.string({ unit: charArb, maxLength: 12 }).filter((s) => checkString(s) === undefined);
const topicArb = strArb.filter((t) => topicNameProblem(t) === undefined);
const filterArb = fc.oneof(fc.constantFrom("#", "+", "a/+/#", "$share/g/x/#"), strArb)
  .filter((f) => topicFilterProblem(f) === undefined && !f.startsWith("$share/") || f === "$share/g/x/#");
const vbiArb = fc.integer({ min: 1, max: 268_435_455 });
const pairs = fc.array(fc.tuple(strArb, strArb), { minLength: 1, maxLength: 3 });

/** An arbitrary for each property field (valid values only). */
const FIELD: { [K in keyof Required<Properties>]: fc.Arbitrary<Properties[K]> } = {
  payloadFormatIndicator: bit, messageExpiryInterval: u32, contentType: strArb, responseTopic: topicArb,
  correlationData: binArb, subscriptionIdentifier: vbiArb, subscriptionIdentifiers: fc.array(vbiArb, { minLength: 1, maxLength: 3 }),
  sessionExpiryInterval: u32, assignedClientIdentifier: strArb, serverKeepAlive: u16, authenticationMethod: strArb,
  authenticationData: binArb, requestProblemInformation: bit, willDelayInterval: u32, requestResponseInformation: bit,
  responseInformation: strArb, serverReference: strArb, reasonString: strArb,
  receiveMaximum: fc.integer({ min: 1, max: 0xffff }), topicAliasMaximum: u16, topicAlias: fc.integer({ min: 1, max: 0xffff }),
  maximumQoS: bit, retainAvailable: fc.boolean(), userProperties: pairs, maximumPacketSize: fc.integer({ min: 1, max: 0xffff_ffff }),
  wildcardSubscriptionAvailable: fc.boolean(), subscriptionIdentifierAvailable: fc.boolean(), sharedSubscriptionAvailable: fc.boolean(),
};

/** Fields each property section may carry (2.2.2.2), for the arbitraries. */
const ALLOWED: Record<PropertyContext, Array<keyof Properties>> = {
  connect: ["sessionExpiryInterval", "receiveMaximum", "maximumPacketSize", "topicAliasMaximum", "requestResponseInformation",
    "requestProblemInformation", "userProperties", "authenticationMethod", "authenticationData"],
  will: ["willDelayInterval", "payloadFormatIndicator", "messageExpiryInterval", "contentType", "responseTopic", "correlationData", "userProperties"],
  connack: ["sessionExpiryInterval", "receiveMaximum", "maximumQoS", "retainAvailable", "maximumPacketSize", "assignedClientIdentifier",
    "topicAliasMaximum", "reasonString", "userProperties", "wildcardSubscriptionAvailable", "subscriptionIdentifierAvailable",
    "sharedSubscriptionAvailable", "serverKeepAlive", "responseInformation", "serverReference", "authenticationMethod", "authenticationData"],
  publish: ["payloadFormatIndicator", "messageExpiryInterval", "topicAlias", "responseTopic", "correlationData", "userProperties",
    "subscriptionIdentifiers", "contentType"],
  puback: ["reasonString", "userProperties"], pubrec: ["reasonString", "userProperties"], pubrel: ["reasonString", "userProperties"],
  pubcomp: ["reasonString", "userProperties"], suback: ["reasonString", "userProperties"], unsuback: ["reasonString", "userProperties"],
  subscribe: ["subscriptionIdentifier", "userProperties"], unsubscribe: ["userProperties"],
  disconnect: ["sessionExpiryInterval", "reasonString", "userProperties", "serverReference"],
  auth: ["authenticationMethod", "authenticationData", "reasonString", "userProperties"],
};

/** Any valid property section for `ctx`, minus the fields in `without`. */
function propsArb(ctx: PropertyContext, without: Array<keyof Properties> = []): fc.Arbitrary<Properties> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of ALLOWED[ctx]) if (!without.includes(f)) model[f] = FIELD[f];
  return fc.record(model, { requiredKeys: [] }).map((p) => {
    const props = p as Properties;
    // Authentication Data needs an Authentication Method (3.1.2.11.10).
    if (props.authenticationData !== undefined && props.authenticationMethod === undefined) props.authenticationMethod = "m";
    return props;
  });
}

const publishArb = (sender: Sender): fc.Arbitrary<Packet> =>
  fc.record({
    topic: topicArb, qos: qosArb, retain: fc.boolean(), dup: fc.boolean(), packetId: idArb, payload: fc.uint8Array({ maxLength: 40 }),
    emptyTopic: fc.boolean(), properties: propsArb("publish", sender === "client" ? ["subscriptionIdentifiers"] : []),
  }).map(({ topic, qos, retain, dup, packetId, payload, emptyTopic, properties }): Packet => {
    const useAlias = emptyTopic && properties.topicAlias !== undefined;
    const p: Packet = { type: "publish", topic: useAlias ? "" : topic, qos, retain, dup: qos > 0 && dup, payload, properties };
    if (qos > 0) p.packetId = packetId;
    return p;
  });

const pubAckArb = fc.record({
  type: fc.constantFrom("puback", "pubrec", "pubrel", "pubcomp" as const), packetId: idArb, pick: fc.nat(), properties: propsArb("puback"),
}).map(({ type, packetId, pick, properties }): Packet => {
  const codes = { puback: [0, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99], pubrec: [0, 0x10, 0x80, 0x91, 0x99], pubrel: [0, 0x92], pubcomp: [0, 0x92] }[type];
  return { type, packetId, reasonCode: codes[pick % codes.length]!, properties };
});

const disconnectArb = (sender: Sender): fc.Arbitrary<Packet> =>
  fc.record({
    reasonCode: fc.constantFrom(0, 0x80, 0x81, 0x82, 0x87, 0x8b, 0x8e, 0x93, 0x95, 0x9c, 0xa2, ...(sender === "client" ? [0x04] : [])),
    properties: propsArb("disconnect", sender === "server" ? ["sessionExpiryInterval"] : []),
  }).map(({ reasonCode, properties }): Packet => ({ type: "disconnect", reasonCode, properties }));

const authArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.constant<Packet>({ type: "auth", reasonCode: 0, properties: {} }),
  fc.record({ reasonCode: fc.constantFrom(0, 0x18, 0x19), method: strArb, properties: propsArb("auth") })
    .map(({ reasonCode, method, properties }): Packet => ({ type: "auth", reasonCode, properties: { ...properties, authenticationMethod: method } })),
);

const CLIENT_SENT: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({
    clientId: strArb, clean: fc.boolean(), keepalive: u16, properties: propsArb("connect"),
    will: fc.option(fc.record({ topic: topicArb, payload: binArb, qos: qosArb, retain: fc.boolean(), properties: propsArb("will") }), { nil: undefined }),
    username: fc.option(strArb, { nil: undefined }), password: fc.option(binArb, { nil: undefined }),
  }).map((c): Packet => {
    const p: Packet = { type: "connect", clientId: c.clientId, clean: c.clean, keepalive: c.keepalive, properties: c.properties };
    if (c.will) p.will = c.will;
    if (c.username !== undefined) p.username = c.username;
    if (c.password !== undefined) p.password = c.password;
    return p;
  }),
  publishArb("client"),
  pubAckArb,
  fc.record({
    packetId: idArb, properties: propsArb("subscribe"),
    subscriptions: fc.array(fc.record({
      topic: filterArb, qos: qosArb, noLocal: fc.boolean(), retainAsPublished: fc.boolean(), retainHandling: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
    }).map((s) => ({ ...s, noLocal: s.noLocal && !s.topic.startsWith("$share/") })), { minLength: 1, maxLength: 4 }),
  }).map((s): Packet => ({ type: "subscribe", ...s })),
  fc.record({ packetId: idArb, topics: fc.array(filterArb, { minLength: 1, maxLength: 4 }), properties: propsArb("unsubscribe") })
    .map((u): Packet => ({ type: "unsubscribe", ...u })),
  fc.constant<Packet>({ type: "pingreq" }),
  disconnectArb("client"),
  authArb,
);

const SERVER_SENT: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({ sessionPresent: fc.boolean(), reasonCode: fc.constantFrom(0, 0x80, 0x84, 0x86, 0x87, 0x8a, 0x95, 0x9c, 0x9f), properties: propsArb("connack") })
    .map((c): Packet => ({ type: "connack", ...c, sessionPresent: c.sessionPresent && c.reasonCode < 0x80 })),
  publishArb("server"),
  pubAckArb,
  fc.record({ packetId: idArb, reasonCodes: fc.array(fc.constantFrom(0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2), { minLength: 1, maxLength: 5 }), properties: propsArb("suback") })
    .map((s): Packet => ({ type: "suback", ...s })),
  fc.record({ packetId: idArb, reasonCodes: fc.array(fc.constantFrom(0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91), { minLength: 1, maxLength: 5 }), properties: propsArb("unsuback") })
    .map((u): Packet => ({ type: "unsuback", ...u })),
  fc.constant<Packet>({ type: "pingresp" }),
  disconnectArb("server"),
  authArb,
);

const ARBS: Record<Sender, fc.Arbitrary<Packet>> = { client: CLIENT_SENT, server: SERVER_SENT };

describe.each<Sender>(["client", "server"])("v5 round trip of what a %s sends", (sender) => {
  it("decodes each packet to itself, whole and byte by byte", () => {
    fc.assert(fc.property(ARBS[sender], (packet) => {
      const bytes = encodeAs(sender, packet);
      expect(decodeFrom(sender, bytes)).toEqual([packet]);
      expect(decodeBytewise(sender, bytes)).toEqual([packet]);
    }), { numRuns: 500 });
  });

  it("decodes a sequence cut into arbitrary chunks to the same sequence", () => {
    fc.assert(fc.property(fc.array(ARBS[sender], { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (packets, rawCuts) => {
      const bytes = concat(packets.map((p) => encodeAs(sender, p)));
      const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      expect(decodeFrom(sender, bytes, cuts)).toEqual(packets);
    }), { numRuns: 300 });
  });

  it("re-encodes every decoded packet to the same bytes", () => {
    fc.assert(fc.property(ARBS[sender], (packet) => {
      const bytes = encodeAs(sender, packet);
      const [decoded] = decodeFrom(sender, bytes);
      expect(encodeAs(sender, decoded!)).toEqual(bytes);
    }), { numRuns: 200 });
  });
});

describe.each<Sender>(["client", "server"])("v5 decoding of damaged input from a %s", (sender) => {
  /** Decodes `bytes`; anything thrown must be a ProtocolError, and whatever is decoded must re-encode to the same bytes. */
  const decodeOrRefuse = (bytes: Uint8Array): void => {
    const d = receiverOf(sender);
    const packets: Packet[] = [];
    try {
      d.feed(bytes, (p) => packets.push(p));
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
    }
    for (const p of packets) expect(decodeFrom(sender, encodeAs(sender, p))).toEqual([p]);
  };

  it("refuses random bytes only with ProtocolError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodeOrRefuse), { numRuns: 2000 });
  });

  it("refuses a valid packet with one byte changed only with ProtocolError", () => {
    fc.assert(fc.property(ARBS[sender], fc.nat(), fc.integer({ min: 1, max: 255 }), (packet, at, xor) => {
      const bytes = encodeAs(sender, packet).slice();
      bytes[at % bytes.length]! ^= xor;
      decodeOrRefuse(bytes);
    }), { numRuns: 1000 });
  });
});

it("the arbitraries reach every packet type", () => {
  const seen = new Set<string>();
  for (const s of ["client", "server"] as const) for (const p of fc.sample(ARBS[s], 400)) seen.add(p.type);
  expect([...seen].sort()).toEqual(["auth", "connack", "connect", "disconnect", "pingreq", "pingresp", "puback", "pubcomp",
    "publish", "pubrec", "pubrel", "suback", "subscribe", "unsuback", "unsubscribe"]);
});
