/**
 * The fuzz corpus: valid server -> client frames of every type a client receives, with several QoS levels, flags,
 * packet ids and lengths (1-, 2- and 3-byte remaining lengths, cached and uncached topics, non-ASCII topics).
 * Small packet ids (1..8) collide on purpose with what the client under test has in flight.
 */
import { encode, type Packet, type SubackCode } from "../../src/index.ts";

const te = new TextEncoder();

const publish = (topic: string, payload: Uint8Array | string, qos: 0 | 1 | 2, extra: { retain?: boolean; dup?: boolean; packetId?: number } = {}): Packet => ({
  type: "publish",
  topic,
  payload: typeof payload === "string" ? te.encode(payload) : payload,
  qos,
  retain: extra.retain ?? false,
  dup: extra.dup ?? false,
  packetId: qos > 0 ? (extra.packetId ?? 1) : undefined,
});

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** The valid packets the corpus is made of. */
export const CORPUS_PACKETS: Packet[] = [
  { type: "connack", sessionPresent: false, returnCode: 0 },
  { type: "connack", sessionPresent: true, returnCode: 0 },
  ...[1, 2, 3, 4, 5].map((returnCode): Packet => ({ type: "connack", sessionPresent: false, returnCode })),

  publish("a/b", "hi", 0),
  publish("a/b", "", 0, { retain: true }),
  publish("c", "x", 1, { packetId: 1 }),
  publish("cmd/run", "payload", 1, { packetId: 2, dup: true }),
  publish("cmd/run", "payload", 2, { packetId: 3 }),
  publish("cmd/run", "again", 2, { packetId: 3, dup: true, retain: true }),
  publish("s/température/°C", "21.5", 1, { packetId: 4 }),
  publish("$SYS/broker/uptime", "12345 seconds", 0),
  publish("/", "root", 0),
  publish("a//b/", te.encode("empty levels"), 2, { packetId: 0x00ff }),
  publish("x", bytes(120, 1), 1, { packetId: 0x0100 }), // remaining length 125: one byte
  publish("x", bytes(124, 2), 0), // remaining length 127/128 boundary
  publish("y/z", bytes(200, 3), 2, { packetId: 65535 }), // two-byte remaining length
  publish("t/" + "u".repeat(298), "long topic, not cached", 0),
  publish("emoji/😀", te.encode("4-byte UTF-8"), 1, { packetId: 5 }),
  publish("big", bytes(16_400, 4), 1, { packetId: 6 }), // three-byte remaining length

  ...([1, 2, 7, 0x1234, 65535] as const).flatMap((packetId): Packet[] => [
    { type: "puback", packetId },
    { type: "pubrec", packetId },
    { type: "pubrel", packetId },
    { type: "pubcomp", packetId },
    { type: "unsuback", packetId },
  ]),

  { type: "suback", packetId: 1, granted: [0] },
  { type: "suback", packetId: 2, granted: [1, 2, 0x80] },
  { type: "suback", packetId: 8, granted: Array.from({ length: 20 }, (_, i) => ([0, 1, 2, 0x80] as SubackCode[])[i % 4]!) },
  { type: "suback", packetId: 0xabcd, granted: [0x80] },
  { type: "pingresp" },
];

/** The corpus as wire frames. */
export const CORPUS: Uint8Array[] = CORPUS_PACKETS.map((p) => encode(p));

/** Indexes of the frames small enough to be picked often (the 16 KiB frame would dominate the run time). */
export const SMALL = CORPUS.map((f, i) => [f, i] as const)
  .filter(([f]) => f.length < 1024)
  .map(([, i]) => i);
