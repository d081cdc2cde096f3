/**
 * A long fuzzing campaign over what a broker can send (the CI suite runs a fixed 1,000,000; this runs until a budget).
 *
 *   npm run fuzz                                   60 s, random seed
 *   FUZZ_SECONDS=3600 FUZZ_SEED=0x1234 npm run fuzz
 *   FUZZ_FRAMES=50000000 npm run fuzz              stop after 50M decoder inputs instead of a time budget
 *   FUZZ_CLIENT_SHARE=0.1 npm run fuzz             share of the time spent on the whole client (default 0.05)
 *   FUZZ_REPLAY=0x1234:987654 npm run fuzz         rebuild one input (seed:index), print it and what the decoder does
 *
 * Every input is rebuilt from (seed, index) alone, so a failure is reported as that pair plus its bytes.
 * Exits 1 on any failure. One process uses one core: run several with different seeds to use more.
 */
import { Decoder, ProtocolError } from "../src/index.ts";
import { clientSummary, fuzzClient, mergeClientStats, newClientStats } from "../test/faults/fuzz-client.ts";
import { checkInput, fuzzDecoder, mergeStats, newStats, summary, type Failure } from "../test/faults/fuzz-decoder.ts";
import { chunking, inputRng, MUTATORS, mutatedInput } from "../test/faults/fuzz-mutate.ts";

const num = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v} is not a non-negative number`);
  return n;
};

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

function replay(spec: string): void {
  const [s, i] = spec.split(":");
  const seed = Number(s) >>> 0;
  const index = Number(i);
  const r = inputRng(seed, index);
  const { bytes, applied } = mutatedInput(r);
  const cuts = chunking(bytes.length, r);
  const maxPacketSize = r.int(8) === 0 ? 16 + r.int(512) : 1 << 20;
  console.log(`seed 0x${seed.toString(16)} input ${index}: ${bytes.length} bytes after ${applied.map((m) => MUTATORS[m]![0]).join(" + ")}`);
  console.log(`  bytes: ${hex(bytes)}`);
  console.log(`  chunked at [${cuts.join(", ")}], maxPacketSize ${maxPacketSize}`);
  const d = new Decoder({ maxPacketSize, role: "client" });
  let from = 0;
  try {
    for (const cut of [...cuts, bytes.length]) {
      d.feed(bytes.subarray(from, cut), (p) => console.log(`  packet: ${JSON.stringify(p, (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v))}`));
      from = cut;
    }
    console.log(`  accepted; ${d.buffered} bytes left buffered`);
  } catch (err) {
    console.log(`  refused: ${err instanceof ProtocolError ? `ProtocolError ${err.code}: ${err.message}` : `NOT A ProtocolError: ${String(err)}`}`);
  }
  const stats = newStats();
  checkInput(seed, index, stats);
  console.log(stats.failures.length === 0 ? "  oracles: pass" : `  oracles: FAIL ${stats.failures[0]!.problem}`);
}

function printFailures(failures: Failure[]): void {
  for (const f of failures) console.log(`FAILURE seed 0x${f.seed.toString(16)} input ${f.index}: ${f.problem}\n  bytes: ${f.hex}\n  replay: FUZZ_REPLAY=0x${f.seed.toString(16)}:${f.index} npm run fuzz`);
}

async function main(): Promise<number> {
  if (process.env.FUZZ_REPLAY) {
    replay(process.env.FUZZ_REPLAY);
    return 0;
  }
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  const frames = num("FUZZ_FRAMES");
  const seconds = num("FUZZ_SECONDS") ?? (frames === undefined ? 60 : Infinity);
  const clientShare = Math.min(0.9, num("FUZZ_CLIENT_SHARE") ?? 0.05);
  const batch = 100_000;
  const clientBatch = 10_000;
  console.log(
    `edgemq fuzz: seed 0x${seed.toString(16)}, ${frames !== undefined ? `${frames.toLocaleString("en")} decoder inputs` : `${seconds} s`}, ` +
      `client share ${clientShare}`,
  );

  const started = performance.now();
  const deadline = started + seconds * 1000;
  const total = newStats();
  const client = newClientStats();
  let decoderMs = 0;
  let clientMs = 0;
  let clientRuns = 0;
  let lastReport = started;
  let next = 0;
  while (performance.now() < deadline && (frames === undefined || next < frames)) {
    if (clientMs < (decoderMs + clientMs) * clientShare) {
      const t = performance.now();
      const runSeed = (seed + Math.imul(0x9e3779b9, ++clientRuns)) >>> 0;
      const s = await fuzzClient({ seed: runSeed, count: clientBatch, persistent: clientRuns % 2 === 0 });
      clientMs += performance.now() - t;
      mergeClientStats(client, s);
      if (s.failures.length > 0) {
        for (const f of s.failures) console.log(`FAILURE (client run ${clientRuns}, persistent ${clientRuns % 2 === 0}): ${f}`);
        break;
      }
      continue;
    }
    const n = frames === undefined ? batch : Math.min(batch, frames - next);
    const t = performance.now();
    const s = fuzzDecoder(seed, next, n);
    decoderMs += performance.now() - t;
    next += n;
    mergeStats(total, s);
    if (s.failures.length > 0) {
      printFailures(s.failures);
      break;
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.log(`  ${((lastReport - started) / 1000).toFixed(0)} s: ${total.inputs.toLocaleString("en")} inputs, ${Math.round(total.inputs / (decoderMs / 1000)).toLocaleString("en")}/s`);
    }
  }
  console.log(`decoder: ${summary(total, decoderMs)}`);
  console.log(`client: ${clientSummary(client, clientMs)}`);
  const failed = total.failures.length + client.failures.length;
  console.log(failed === 0 ? `no failure (seed 0x${seed.toString(16)})` : `${failed} FAILURE(S) (seed 0x${seed.toString(16)})`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
