/**
 * The chaos scenario of test/faults/chaos.test.ts, long: by default 100,000 QoS 1 + 20,000 QoS 2 messages through
 * at least 200 random cuts on the publisher's link and 80 on the subscriber's, with 10 mosquitto restarts. Not
 * part of `npm test`. Prints progress and the figures; exits 1 if a promise of MQTT 3.1.1 was broken (the same
 * checks as the test: QoS 1 at least once, QoS 2 exactly once, first arrivals in publish order, the QoS 2 and
 * DUP rules on both wires; a failure says whether the broker or the client broke it).
 *
 *   npm run soak
 *   SOAK_QOS1=1000000 SOAK_QOS2=200000 SOAK_CUTS=2000 SOAK_RESTARTS=50 SOAK_MINUTES=180 npm run soak
 *
 * Environment: SOAK_QOS1, SOAK_QOS2, SOAK_CUTS (publisher link), SOAK_SUB_CUTS (subscriber link), SOAK_RESTARTS,
 * SOAK_SEED, SOAK_STORE (file | memory), SOAK_INFLIGHT, SOAK_PAYLOAD (bytes), SOAK_MINUTES (give up after),
 * SOAK_JSON=1 (also print the result as one JSON line).
 */

import process from "node:process";
import { checkChaos, defaultChaosConfig, describeChaos, runChaos, type ChaosConfig } from "../test/faults/chaos-scenario.ts";

function env(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

const store = process.env.SOAK_STORE ?? "file";
if (store !== "file" && store !== "memory") throw new Error(`SOAK_STORE must be "file" or "memory", got ${JSON.stringify(store)}`);

const started = Date.now();
const stamp = () => `[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s]`;
const config: ChaosConfig = {
  ...defaultChaosConfig,
  qos1: env("SOAK_QOS1", 100_000),
  qos2: env("SOAK_QOS2", 20_000),
  pubCuts: env("SOAK_CUTS", 200),
  subCuts: env("SOAK_SUB_CUTS", 80),
  restarts: env("SOAK_RESTARTS", 10),
  seed: env("SOAK_SEED", Date.now() % 1_000_000),
  store,
  maxInflight: env("SOAK_INFLIGHT", defaultChaosConfig.maxInflight),
  payloadBytes: env("SOAK_PAYLOAD", defaultChaosConfig.payloadBytes),
  deadlineMs: env("SOAK_MINUTES", 30) * 60_000,
  progress: (line) => console.log(`${stamp()} ${line}`),
};

console.log(
  `${stamp()} soak: ${config.qos1} QoS 1 + ${config.qos2} QoS 2, >= ${config.pubCuts} + ${config.subCuts} cuts, ${config.restarts} restarts, ` +
    `seed ${config.seed} (replay with SOAK_SEED=${config.seed})`,
);
const result = await runChaos(config);
for (const line of describeChaos(result)) console.log(line);
if (result.restarts.length > 0) {
  const pub = result.restarts.map((r) => r.pubRecoveryMs).sort((a, b) => a - b);
  const sub = result.restarts.map((r) => r.subRecoveryMs).sort((a, b) => a - b);
  const med = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
  console.log(`  recovery after a restart: publisher median ${med(pub)} ms, max ${pub[pub.length - 1]} ms; subscriber median ${med(sub)} ms, max ${sub[sub.length - 1]} ms`);
}
if (process.env.SOAK_JSON === "1") {
  const { progress: _progress, wrapTransport: _wrap, ...plain } = result.config;
  console.log(JSON.stringify({ ...result, config: plain }));
}
const broken = checkChaos(result);
if (broken.length > 0) {
  console.log("BROKEN:");
  for (const b of broken) console.log(`  - ${b}`);
  process.exit(1);
}
console.log(`${stamp()} every promise kept`);
