/**
 * The Clea layer:
 *  1. payload codec per second: the BSON `{v, t}` envelope of a double with an explicit timestamp (encodePayload /
 *     decodePayload), the same envelope deflated, and a deflate frame of a purge list, each beside the bare library
 *     call it wraps (bson's BSON.serialize / deserialize, pako) to show what the layer adds;
 *  2. device.send() throughput at QoS 1 through mosquitto (an interface with a guaranteed double mapping with
 *     explicit_timestamp), beside the core client publishing the same pre-encoded payloads to the same topic: the
 *     cost of validation + encoding + the device's bookkeeping. Window of BENCH_WINDOW (128) unfinished sends.
 * Alternating, median of BENCH_ROUNDS (default 5).
 *
 * Run: npm run bench:clea
 */
import { BSON } from "bson";
import { deflate, inflate } from "pako";
import { connect } from "../src/index.ts";
import { connectDevice, decodePayload, deflateFrame, encodePayload, inflateFrame, parseInterface } from "../src/clea/index.ts";
import { startBenchBroker } from "./lib/broker.ts";
import { median, opsPerSecond, printTable, rate } from "./lib/measure.ts";
import { publishLoop, Run } from "./lib/run.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 128);
const SENDS = Math.round(40_000 * Number(process.env.BENCH_SCALE ?? 1));

// --- 1. payload codec ---
const when = new Date("2025-06-01T12:00:00.000Z");
const envelope = encodePayload(21.5, { type: "double", timestamp: when });
const deflated = encodePayload(21.5, { type: "double", timestamp: when, deflate: true });
const purge = new TextEncoder().encode(Array.from({ length: 200 }, (_, i) => `com.acme.Config/sensor${i}/display/name`).join(";"));
const purgeFrame = deflateFrame(purge);
let sink = 0;

const cases: Array<{ name: string; ours: (n: number) => void; bare: (n: number) => void; bareName: string }> = [
  {
    name: "encode double + timestamp",
    ours: (n) => { for (let i = 0; i < n; i++) sink += encodePayload(21.5 + i, { type: "double", timestamp: when }).length; },
    bareName: "BSON.serialize({v, t})",
    bare: (n) => { for (let i = 0; i < n; i++) sink += BSON.serialize({ v: new BSON.Double(21.5 + i), t: when }).length; },
  },
  {
    name: "decode double + timestamp",
    ours: (n) => { for (let i = 0; i < n; i++) sink += decodePayload(envelope, { type: "double" })!.timestamp!.getTime(); },
    bareName: "BSON.deserialize",
    bare: (n) => { for (let i = 0; i < n; i++) sink += (BSON.deserialize(envelope) as { t: Date }).t.getTime(); },
  },
  {
    name: "encode deflated double + timestamp",
    ours: (n) => { for (let i = 0; i < n; i++) sink += encodePayload(21.5 + i, { type: "double", timestamp: when, deflate: true }).length; },
    bareName: "pako.deflate(BSON)",
    bare: (n) => { for (let i = 0; i < n; i++) sink += deflate(BSON.serialize({ v: new BSON.Double(21.5 + i), t: when })).length; },
  },
  {
    name: "decode deflated double + timestamp",
    ours: (n) => { for (let i = 0; i < n; i++) sink += decodePayload(deflated, { type: "double" })!.timestamp!.getTime(); },
    bareName: "pako.inflate + deserialize",
    bare: (n) => { for (let i = 0; i < n; i++) sink += (BSON.deserialize(inflate(deflated.subarray(4))) as { t: Date }).t.getTime(); },
  },
  {
    name: `deflateFrame (purge list, ${purge.length} B)`,
    ours: (n) => { for (let i = 0; i < n; i++) sink += deflateFrame(purge).length; },
    bareName: "pako.deflate",
    bare: (n) => { for (let i = 0; i < n; i++) sink += deflate(purge).length; },
  },
  {
    name: `inflateFrame (purge list, ${purgeFrame.length} B)`,
    ours: (n) => { for (let i = 0; i < n; i++) sink += inflateFrame(purgeFrame).length; },
    bareName: "pako.inflate",
    bare: (n) => { for (let i = 0; i < n; i++) sink += inflate(purgeFrame.subarray(4)).length; },
  },
];

const codecRows: string[][] = [];
for (const c of cases) {
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(opsPerSecond(c.ours, 300));
    b.push(opsPerSecond(c.bare, 300));
  }
  codecRows.push([c.name, rate(median(a)), c.bareName, rate(median(b)), `${(median(a) / median(b)).toFixed(2)}x`]);
}
console.log(`Clea payload codec, operations per second, ${process.version}, median of ${ROUNDS} alternating rounds\n`);
printTable(["edgemq/clea", "ops/s", "bare library call", "ops/s", "clea / bare"], codecRows);

// --- 2. device.send() through mosquitto ---
const iface = parseInterface({
  interface_name: "com.acme.Bench",
  version_major: 1,
  version_minor: 0,
  type: "datastream",
  ownership: "device",
  mappings: [{ endpoint: "/%{sensor}/value", type: "double", reliability: "guaranteed", explicit_timestamp: true }],
});
const REALM = "bench";
const DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";
const broker = await startBenchBroker();
const device = await connectDevice({ realm: REALM, deviceId: DEVICE_ID, url: broker.url, interfaces: [iface], keepalive: 60, maxInflight: WINDOW });
await device.handshakeComplete();
const core = await connect({ url: broker.url, clientId: "bench-core", keepalive: 60, reconnect: false, maxInflight: WINDOW });
const topic = `${REALM}/${DEVICE_ID}/com.acme.Bench/s1/value`;
const payloads = Array.from({ length: 256 }, (_, i) => encodePayload(20 + i / 10, { type: "double", timestamp: when }));

async function timed(fn: () => Promise<void>): Promise<{ rate: number; cpuUs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { rate: (SENDS * 1000) / ms, cpuUs: (cpu.user + cpu.system) / SENDS };
}
const viaDevice = () =>
  timed(() => {
    let i = 0;
    return publishLoop(new Run(SENDS, Infinity), WINDOW, (done, fail) => {
      const v = 20 + (i++ % 256) / 10;
      device.send("com.acme.Bench", "/s1/value", v, { timestamp: when }).then(done, fail);
    });
  });
const viaCore = () =>
  timed(() => {
    let i = 0;
    return publishLoop(new Run(SENDS, Infinity), WINDOW, (done, fail) => {
      core.publish(topic, payloads[i++ % 256]!, { qos: 1 }).then(done, fail);
    });
  });

const dev: Array<{ rate: number; cpuUs: number }> = [];
const raw: Array<{ rate: number; cpuUs: number }> = [];
try {
  await viaDevice();
  await viaCore();
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      dev.push(await viaDevice());
      raw.push(await viaCore());
    } else {
      raw.push(await viaCore());
      dev.push(await viaDevice());
    }
  }
} finally {
  await device.end();
  await core.end();
  await broker.stop();
}
const m = (l: Array<{ rate: number; cpuUs: number }>, f: "rate" | "cpuUs") => median(l.map((x) => x[f]));
console.log(`\nClea device.send() at QoS 1 through mosquitto (acknowledged sends), ${SENDS} per round, window ${WINDOW}, median of ${ROUNDS} alternating rounds\n`);
printTable(
  ["sender", "sends/s", "CPU/send", "rate vs core", "CPU vs core"],
  [
    ["device.send(double, explicit timestamp)", rate(m(dev, "rate")), `${m(dev, "cpuUs").toFixed(1)} µs`, `${(m(dev, "rate") / m(raw, "rate")).toFixed(2)}x`, `${(m(dev, "cpuUs") / m(raw, "cpuUs")).toFixed(2)}x`],
    ["core client.publish(pre-encoded payload)", rate(m(raw, "rate")), `${m(raw, "cpuUs").toFixed(1)} µs`, "1.00x", "1.00x"],
  ],
);
if (sink === -1) console.log(sink);
process.exit(0);
