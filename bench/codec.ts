/**
 * Codec benchmark: edgemq vs mqtt-packet in the same process, alternating, several rounds.
 * Encode and decode of a 64-byte QoS 1 PUBLISH, and of a mixed stream of acks.
 * Run: npm run bench:codec
 */
import mqttPacket from "mqtt-packet";
import { Decoder, encode, type Packet } from "../src/index.ts";
import { median, opsPerSecond, printTable, rate } from "./lib/measure.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const payload = new Uint8Array(64).fill(0x61);
const topic = "plant/press-7/temperature";

const publish: Packet = { type: "publish", topic, payload, qos: 1, retain: false, dup: false, packetId: 1234 };
const mpPublish = { cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false, messageId: 1234 } as const;

const acks: Packet[] = [
  { type: "puback", packetId: 1 },
  { type: "pubrec", packetId: 2 },
  { type: "pubrel", packetId: 3 },
  { type: "pubcomp", packetId: 4 },
  { type: "pingresp" },
  { type: "suback", packetId: 5, granted: [1] },
  { type: "unsuback", packetId: 6 },
];
const mpAcks = [
  { cmd: "puback", messageId: 1 },
  { cmd: "pubrec", messageId: 2 },
  { cmd: "pubrel", messageId: 3 },
  { cmd: "pubcomp", messageId: 4 },
  { cmd: "pingresp" },
  { cmd: "suback", messageId: 5, granted: [1] },
  { cmd: "unsuback", messageId: 6 },
];

/** 1,000 copies of the packets concatenated: one decode call decodes a realistic socket read. */
function stream(packets: Packet[], copies: number): Uint8Array {
  const one = packets.map((p) => encode(p));
  const size = one.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(size * copies);
  let at = 0;
  for (let c = 0; c < copies; c++) for (const b of one) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const publishStream = stream([publish], 1000);
const ackStream = stream(acks, Math.floor(1000 / acks.length));
const ackCount = Math.floor(1000 / acks.length) * acks.length;

let sink = 0;
const cases: Array<{ name: string; edgemq: (n: number) => void; mqttPacket: (n: number) => void }> = [
  {
    name: "encode PUBLISH qos1 64 B",
    edgemq: (n) => { for (let i = 0; i < n; i++) sink += encode(publish).length; },
    mqttPacket: (n) => { for (let i = 0; i < n; i++) sink += mqttPacket.generate(mpPublish as never).length; },
  },
  {
    name: "encode acks (mixed)",
    edgemq: (n) => { for (let i = 0; i < n; i++) sink += encode(acks[i % acks.length]!).length; },
    mqttPacket: (n) => { for (let i = 0; i < n; i++) sink += mqttPacket.generate(mpAcks[i % mpAcks.length] as never).length; },
  },
  {
    name: "decode PUBLISH qos1 64 B",
    edgemq: decodeWithEdgemq(publishStream, 1000),
    mqttPacket: decodeWithMqttPacket(publishStream, 1000),
  },
  {
    name: "decode acks (mixed)",
    edgemq: decodeWithEdgemq(ackStream, ackCount),
    mqttPacket: decodeWithMqttPacket(ackStream, ackCount),
  },
];

function decodeWithEdgemq(bytes: Uint8Array, perStream: number): (n: number) => void {
  const decoder = new Decoder();
  const onPacket = () => { sink++; };
  return (n) => { for (let done = 0; done < n; done += perStream) decoder.feed(bytes, onPacket); };
}

function decodeWithMqttPacket(bytes: Uint8Array, perStream: number): (n: number) => void {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", () => { sink++; });
  parser.on("error", (err: Error) => { throw err; });
  const buf = Buffer.from(bytes);
  return (n) => { for (let done = 0; done < n; done += perStream) parser.parse(buf); };
}

const rows: string[][] = [];
for (const c of cases) {
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(opsPerSecond(c.edgemq));
    theirs.push(opsPerSecond(c.mqttPacket));
  }
  const a = median(ours);
  const b = median(theirs);
  rows.push([c.name, rate(a), rate(b), `${(a / b).toFixed(2)}x`]);
}
console.log(`codec, packets per second, median of ${ROUNDS} alternating rounds (${process.version})\n`);
printTable(["case", "edgemq", "mqtt-packet", "edgemq / mqtt-packet"], rows);
if (sink === -1) console.log(sink);
