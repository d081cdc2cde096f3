/**
 * The MQTT 5 fuzz corpus: valid v5 server -> client frames of every type a v5 client receives, with properties
 * (CONNACK with limits and identifiers, PUBLISH with message properties, topic aliases learnt and used, user
 * properties, subscription identifiers), acks with and without reason codes and reason strings, SUBACK and UNSUBACK
 * with reason codes, DISCONNECT and AUTH. Small packet ids (1..8) collide on purpose with what the client has in
 * flight; aliases 1..4 fall inside the fuzzed client's Topic Alias Maximum (4), 5 and 9 outside it.
 */
import { encodeServerPacket5 } from "../../src/mqtt/v5/encode-server.ts";
import type { Packet as Packet5, PublishProperties } from "../../src/mqtt/v5/packets.ts";

const te = new TextEncoder();

const publish = (topic: string, payload: Uint8Array | string, qos: 0 | 1 | 2, extra: { retain?: boolean; dup?: boolean; packetId?: number; properties?: PublishProperties } = {}): Packet5 => ({
  type: "publish",
  topic,
  payload: typeof payload === "string" ? te.encode(payload) : payload,
  qos,
  retain: extra.retain ?? false,
  dup: extra.dup ?? false,
  ...(qos > 0 ? { packetId: extra.packetId ?? 1 } : {}),
  ...(extra.properties ? { properties: extra.properties } : {}),
});

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** The valid v5 packets the corpus is made of. */
export const CORPUS5_PACKETS: Packet5[] = [
  { type: "connack", sessionPresent: false, reasonCode: 0 },
  { type: "connack", sessionPresent: true, reasonCode: 0, properties: { sessionExpiryInterval: 3600, receiveMaximum: 4, topicAliasMaximum: 3 } },
  {
    type: "connack", sessionPresent: false, reasonCode: 0,
    properties: {
      assignedClientIdentifier: "auto-1", serverKeepAlive: 30, maximumQoS: 1, retainAvailable: false, maximumPacketSize: 4096,
      wildcardSubscriptionAvailable: true, subscriptionIdentifierAvailable: false, sharedSubscriptionAvailable: true,
      responseInformation: "resp/", reasonString: "welcome", userProperties: [["k", "v"], ["k", "w"]],
    },
  },
  ...[0x80, 0x85, 0x87, 0x8a, 0x97, 0x9c, 0x9f].map((reasonCode): Packet5 => ({ type: "connack", sessionPresent: false, reasonCode, properties: { reasonString: "no", serverReference: "mqtt://b:1883" } })),

  publish("a/b", "hi", 0),
  publish("a/b", "", 0, { retain: true, properties: {} }),
  publish("c", "x", 1, { packetId: 1 }),
  publish("cmd/run", "payload", 1, { packetId: 2, dup: true, properties: { topicAlias: 1 } }),
  publish("", "via alias", 1, { packetId: 3, properties: { topicAlias: 1 } }),
  publish("", "via alias 2", 0, { properties: { topicAlias: 2 } }),
  publish("s/température/°C", "21.5", 2, { packetId: 4, properties: { topicAlias: 2, contentType: "text/plain", payloadFormatIndicator: 1 } }),
  publish("cmd/run", "again", 2, { packetId: 3, dup: true, retain: true, properties: { messageExpiryInterval: 60, userProperties: [["a", "1"], ["b", "2"], ["a", "3"]] } }),
  publish("svc/req", "ping", 1, { packetId: 5, properties: { responseTopic: "svc/reply/1", correlationData: bytes(8, 9), subscriptionIdentifiers: [1, 268_435_455] } }),
  publish("$SYS/broker/uptime", "12345 seconds", 0, { properties: { topicAlias: 4 } }),
  publish("/", "root", 0),
  publish("x", bytes(120, 1), 1, { packetId: 0x0100, properties: { payloadFormatIndicator: 0 } }),
  publish("y/z", bytes(200, 3), 2, { packetId: 65535, properties: { topicAlias: 3 } }),
  publish("emoji/😀", te.encode("4-byte UTF-8"), 1, { packetId: 6, properties: { userProperties: [["😀", ""]] } }),
  publish("t/" + "u".repeat(298), "long topic", 0, { properties: { topicAlias: 1 } }),
  publish("", "alias beyond the maximum", 0, { properties: { topicAlias: 5 } }),
  publish("far/alias", "alias beyond the maximum", 1, { packetId: 7, properties: { topicAlias: 9 } }),
  publish("big", bytes(16_400, 4), 1, { packetId: 8, properties: { contentType: "application/octet-stream" } }),

  ...([1, 2, 7, 0x1234, 65535] as const).flatMap((packetId): Packet5[] => [
    { type: "puback", packetId, reasonCode: 0 },
    { type: "pubrec", packetId, reasonCode: 0 },
    { type: "pubrel", packetId, reasonCode: 0 },
    { type: "pubcomp", packetId, reasonCode: 0 },
    { type: "unsuback", packetId, reasonCodes: [0] },
  ]),
  { type: "puback", packetId: 1, reasonCode: 0x10 },
  { type: "puback", packetId: 2, reasonCode: 0x87, properties: { reasonString: "no write access" } },
  { type: "puback", packetId: 3, reasonCode: 0x97, properties: { userProperties: [["why", "quota"]] } },
  { type: "pubrec", packetId: 1, reasonCode: 0x80 },
  { type: "pubrec", packetId: 2, reasonCode: 0x10, properties: { reasonString: "nobody" } },
  { type: "pubrec", packetId: 3, reasonCode: 0x99 },
  { type: "pubrel", packetId: 4, reasonCode: 0x92 },
  { type: "pubcomp", packetId: 2, reasonCode: 0x92, properties: { reasonString: "gone" } },
  { type: "unsuback", packetId: 2, reasonCodes: [0x11, 0x87, 0x8f], properties: { reasonString: "partly" } },

  { type: "suback", packetId: 1, reasonCodes: [0] },
  { type: "suback", packetId: 2, reasonCodes: [1, 2, 0x80], properties: { reasonString: "mixed" } },
  { type: "suback", packetId: 3, reasonCodes: [0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2, 0x83] },
  { type: "suback", packetId: 8, reasonCodes: Array.from({ length: 20 }, (_, i) => [0, 1, 2, 0x80][i % 4]!) },
  { type: "pingresp" },

  { type: "disconnect", reasonCode: 0 },
  { type: "disconnect", reasonCode: 0x8b, properties: { reasonString: "shutting down" } },
  { type: "disconnect", reasonCode: 0x9c, properties: { serverReference: "mqtt://b.example:1883", userProperties: [["x", "y"]] } },
  { type: "disconnect", reasonCode: 0x95 },
  { type: "auth", reasonCode: 0 },
  { type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM-SHA-256", authenticationData: bytes(32, 5) } },
  { type: "auth", reasonCode: 0x19, properties: { authenticationMethod: "X", reasonString: "again" } },
];

/** The corpus as wire frames. */
export const CORPUS5: Uint8Array[] = CORPUS5_PACKETS.map((p) => encodeServerPacket5(p));

/** Indexes of the frames small enough to be picked often (the 16 KiB frame would dominate the run time). */
export const SMALL5 = CORPUS5.map((f, i) => [f, i] as const)
  .filter(([f]) => f.length < 1024)
  .map(([, i]) => i);
