/**
 * Seeded fuzzing of what an MQTT 5 broker can send (issue #17), as fuzz.test.ts does for 3.1.1: 200,000 mutated v5
 * frames and random byte strings through the pure ClientDecoder5, then 12,000 inputs through the whole v5 client via
 * the scripted broker speaking v5 (three configurations: clean session; persistent session with manual acks; the
 * client reconnecting by itself), whole and in random chunks, with a heap check over the last run. The seed is
 * FUZZ_SEED (decimal or 0x hex) or a fixed default so CI is reproducible; every run prints it, and a failure prints
 * the seed and input index that rebuild it.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import type { ProtocolErrorCode } from "../../src/index.ts";
import { guardProcess } from "./malicious-broker-support.ts";
import { clientSummary, fuzzClient5, type ClientFuzz5Stats } from "./fuzz-client-v5.ts";
import { fuzzDecoder5, mergeStats, newStats, summary } from "./fuzz-decoder-v5.ts";

guardProcess();

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : 0x5eed_0005;
const BATCH = 50_000;
const BATCHES = 4;
const CLIENT_INPUTS = 4_000; // per client configuration; three configurations

/** Every code a v5 client's read path may close with. */
const KNOWN_CODES5: readonly ProtocolErrorCode[] = [
  "malformed-remaining-length",
  "packet-too-large",
  "invalid-packet-type",
  "unexpected-packet-type",
  "invalid-flags",
  "invalid-qos",
  "invalid-packet-id",
  "invalid-connack-flags",
  "invalid-length",
  "truncated",
  "invalid-topic",
  "invalid-utf8",
  "empty-list",
  "malformed-varint",
  "unknown-property",
  "invalid-property-value",
  "duplicate-property",
  "property-not-allowed",
  "missing-property",
  "invalid-reason-code",
  "invalid-topic-alias",
];
/** Codes the decoder alone raises (invalid-topic-alias is the wire's: aliases belong to a connection). */
const DECODER_CODES5 = KNOWN_CODES5.filter((c) => c !== "invalid-topic-alias");

describe(`fuzzing the v5 Decoder (seed 0x${SEED.toString(16)})`, () => {
  const total = newStats();
  let ms = 0;
  afterAll(() => {
    console.log(`[fuzz-v5] decoder, seed 0x${SEED.toString(16)}: ${summary(total, ms)}`);
  });

  it.each(Array.from({ length: BATCHES }, (_, k) => k))(`batch %i of ${BATCH.toLocaleString("en")} mutated v5 frames and random bytes`, (k) => {
    const t = performance.now();
    const stats = fuzzDecoder5(SEED, k * BATCH, BATCH);
    ms += performance.now() - t;
    mergeStats(total, stats);
    for (const f of stats.failures) console.log(`[fuzz-v5] FAILURE seed 0x${f.seed.toString(16)} input ${f.index}: ${f.problem}\n  bytes: ${f.hex}`);
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(BATCH);
    for (const code of Object.keys(stats.rejected)) expect(DECODER_CODES5).toContain(code);
  });

  it("covered every packet type a v5 client receives and every v5 decoder error code", () => {
    expect(total.inputs).toBe(BATCH * BATCHES);
    expect(Object.keys(total.packets).sort()).toEqual(["auth", "connack", "disconnect", "pingresp", "puback", "pubcomp", "publish", "pubrec", "pubrel", "suback", "unsuback"]);
    expect(Object.keys(total.rejected).sort()).toEqual([...DECODER_CODES5].sort());
    expect(total.accepted).toBeGreaterThan(total.inputs / 10);
    expect(total.inputs - total.accepted).toBeGreaterThan(total.inputs / 10);
  });
});

describe(`fuzzing the whole v5 client through the scripted broker (seed 0x${SEED.toString(16)})`, () => {
  const runs: Array<[string, ClientFuzz5Stats, number]> = [];
  afterAll(() => {
    for (const [name, s, ms] of runs) {
      console.log(
        `[fuzz-v5] client (${name}), seed 0x${SEED.toString(16)}: ${clientSummary(s, ms)}; ` +
          `server DISCONNECTs ${JSON.stringify(s.serverDisconnects)}; publish() outcomes ${JSON.stringify(s.publishes)}`,
      );
    }
  });

  it.each([
    ["clean session, automatic acks", false, false, 0xc0],
    ["persistent session, manual acks", true, false, 0xc1],
    ["persistent session, the client reconnecting by itself", true, true, 0xc2],
  ] as const)(`${CLIENT_INPUTS.toLocaleString("en")} inputs: %s`, async (name, persistent, reconnect, salt) => {
    const t = performance.now();
    const stats = await fuzzClient5({ seed: (SEED ^ salt) >>> 0, count: CLIENT_INPUTS, persistent, reconnect });
    runs.push([name, stats, performance.now() - t]);
    for (const f of stats.failures) console.log(`[fuzz-v5] FAILURE ${f}`);
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(CLIENT_INPUTS);
    // both outcomes, the CONNACK phase, deliveries, server DISCONNECTs and topic-alias faults all happened
    expect(stats.keptConnection).toBeGreaterThan(CLIENT_INPUTS / 10);
    expect(Object.values(stats.protocolCloses).reduce((a, b) => a + b, 0)).toBeGreaterThan(CLIENT_INPUTS / 10);
    expect(stats.connectPhase).toBeGreaterThan(0);
    expect(stats.delivered).toBeGreaterThan(0);
    expect(Object.keys(stats.serverDisconnects).length).toBeGreaterThan(0);
    expect(stats.protocolCloses["invalid-topic-alias"]).toBeGreaterThan(0);
    for (const code of Object.keys(stats.protocolCloses)) expect(KNOWN_CODES5).toContain(code);
  });

  it("memory stays bounded: the second half of a 3,000-input run adds less than 4 MiB", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const held = (): number => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const samples: Array<[number, number]> = [];
    const count = 3_000;
    const stats = await fuzzClient5({
      seed: (SEED ^ 0xc3) >>> 0,
      count,
      persistent: true,
      sample: { every: 500, fn: (index, client) => {
        samples.push([index, held()]);
        const s = client.stats();
        expect(s.inflight).toBeLessThanOrEqual(8);
        expect(s.queued).toBeLessThanOrEqual(16);
      } },
    });
    expect(stats.failures).toEqual([]);
    const half = samples.find(([i]) => i >= count / 2)![1];
    const last = samples.at(-1)![1];
    console.log(`[fuzz-v5] heap + array buffers, seed 0x${SEED.toString(16)}: ${samples.map(([i, b]) => `${i}: ${(b / 1e6).toFixed(1)} MB`).join(", ")}`);
    expect(last - half).toBeLessThan(4 * 1024 * 1024);
  });
});
