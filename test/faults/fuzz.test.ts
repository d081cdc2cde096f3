/**
 * Seeded fuzzing of what a broker can send: 1,000,000 mutated frames through the pure Decoder in batches of
 * 100,000, then 20,000 through the whole client via the scripted broker. The seed is FUZZ_SEED (decimal or 0x hex)
 * or a fixed default so CI is reproducible; a failure prints the seed and input index that rebuild it
 * (scripts/fuzz.ts runs longer campaigns: `npm run fuzz`).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { ProtocolErrorCode } from "../../src/index.ts";
import { guardProcess } from "./malicious-broker-support.ts";
import { clientSummary, fuzzClient, newClientStats, type ClientFuzzStats } from "./fuzz-client.ts";
import { fuzzDecoder, mergeStats, newStats, summary } from "./fuzz-decoder.ts";

guardProcess();

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : 0x5eed_2024;
const BATCH = 100_000;
const BATCHES = 10;
const CLIENT_INPUTS = 10_000; // per client configuration; two configurations

const KNOWN_CODES: readonly ProtocolErrorCode[] = [
  "malformed-remaining-length",
  "packet-too-large",
  "invalid-packet-type",
  "unexpected-packet-type",
  "invalid-flags",
  "invalid-qos",
  "invalid-packet-id",
  "invalid-connack-flags",
  "invalid-return-code",
  "invalid-length",
  "truncated",
  "invalid-suback-code",
  "invalid-topic",
  "invalid-utf8",
];

describe(`fuzzing the Decoder (seed 0x${SEED.toString(16)})`, () => {
  const total = newStats();
  let ms = 0;
  afterAll(() => {
    console.log(`[fuzz] decoder, seed 0x${SEED.toString(16)}: ${summary(total, ms)}`);
  });

  it.each(Array.from({ length: BATCHES }, (_, k) => k))(`batch %i of ${BATCH.toLocaleString("en")} mutated frames`, (k) => {
    const t = performance.now();
    const stats = fuzzDecoder(SEED, k * BATCH, BATCH);
    ms += performance.now() - t;
    mergeStats(total, stats);
    for (const f of stats.failures) console.log(`[fuzz] FAILURE seed 0x${f.seed.toString(16)} input ${f.index}: ${f.problem}\n  bytes: ${f.hex}`);
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(BATCH);
    for (const code of Object.keys(stats.rejected)) expect(KNOWN_CODES).toContain(code);
  });

  it("covered every packet type a client receives and every decoder error code", () => {
    expect(total.inputs).toBe(BATCH * BATCHES);
    expect(Object.keys(total.packets).sort()).toEqual(["connack", "pingresp", "puback", "pubcomp", "publish", "pubrec", "pubrel", "suback", "unsuback"]);
    expect(Object.keys(total.rejected).sort()).toEqual([...KNOWN_CODES].sort());
    // neither degenerate way: mostly refused, and plenty accepted
    expect(total.accepted).toBeGreaterThan(total.inputs / 10);
    expect(total.inputs - total.accepted).toBeGreaterThan(total.inputs / 10);
  });
});

describe(`fuzzing the whole client through the scripted broker (seed 0x${SEED.toString(16)})`, () => {
  const runs: Array<[string, ClientFuzzStats, number]> = [];
  afterAll(() => {
    for (const [name, s, ms] of runs) console.log(`[fuzz] client (${name}), seed 0x${SEED.toString(16)}: ${clientSummary(s, ms)}`);
  });

  it.each([
    ["clean session, automatic acks", false],
    ["persistent session, manual acks", true],
  ] as const)(`${CLIENT_INPUTS.toLocaleString("en")} mutated inputs: %s`, async (name, persistent) => {
    const t = performance.now();
    const stats = await fuzzClient({ seed: (SEED ^ (persistent ? 0xc1 : 0xc0)) >>> 0, count: CLIENT_INPUTS, persistent });
    runs.push([name, stats, performance.now() - t]);
    for (const f of stats.failures) console.log(`[fuzz] FAILURE ${f}`);
    expect(stats.failures).toEqual([]);
    expect(stats.inputs).toBe(CLIENT_INPUTS);
    // the run exercised both outcomes and the CONNACK phase
    expect(stats.keptConnection).toBeGreaterThan(CLIENT_INPUTS / 10);
    expect(Object.values(stats.protocolCloses).reduce((a, b) => a + b, 0)).toBeGreaterThan(CLIENT_INPUTS / 10);
    expect(stats.connectPhase).toBeGreaterThan(0);
    expect(stats.delivered).toBeGreaterThan(0);
    for (const code of Object.keys(stats.protocolCloses)) expect(KNOWN_CODES).toContain(code);
  });

  it("the two runs together pushed 20,000 inputs through the client", () => {
    expect(runs.reduce((n, [, s]) => n + s.inputs, 0)).toBe(2 * CLIENT_INPUTS);
    expect(newClientStats().inputs).toBe(0);
  });
});
