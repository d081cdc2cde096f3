/**
 * Fuzzing the pure MQTT 5 client-role decoder (ClientDecoder5), as fuzz-decoder.ts does for 3.1.1. For every input
 * (mutated v5 corpus frames, or random bytes):
 *  - only ProtocolError may be thrown, and every feed() returns;
 *  - differential: fed in random chunks or in one chunk, the decoder yields the same packets and the same error code;
 *  - never more than maxPacketSize bytes buffered; nothing buffered after a failure, and a failed decoder stays failed;
 *  - every accepted packet is one a v5 client may receive and survives encodeServerPacket5 -> decode unchanged (the
 *    decoder accepted nothing the encoder would refuse: properties allowed, not duplicated, in range; reason codes
 *    valid for the packet).
 */
import { isDeepStrictEqual } from "node:util";
import { ProtocolError } from "../../src/index.ts";
import { ClientDecoder5 } from "../../src/mqtt/v5/decode.ts";
import { encodeServerPacket5 } from "../../src/mqtt/v5/encode-server.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";
import { newStats, type FuzzStats } from "./fuzz-decoder.ts";
import { chunking, inputRng, mutatedInput5, randomInput5 } from "./fuzz-mutate-v5.ts";

export { mergeStats, newStats, summary, type FuzzStats } from "./fuzz-decoder.ts";

const CLIENT_RECEIVES5 = new Set<Packet5["type"]>(["connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "suback", "unsuback", "pingresp", "disconnect", "auth"]);
const MAX_FAILURES = 20;

interface Outcome {
  packets: Packet5[];
  error: unknown;
  buffered: number;
  problem: string | undefined;
}

function run(bytes: Uint8Array, cuts: readonly number[], maxPacketSize: number): Outcome {
  const d = new ClientDecoder5({ maxPacketSize });
  const packets: Packet5[] = [];
  const onPacket = (p: Packet5): void => void packets.push(p);
  let error: unknown;
  let problem: string | undefined;
  let from = 0;
  try {
    for (const cut of [...cuts, bytes.length]) {
      d.feed(bytes.subarray(from, cut), onPacket);
      from = cut;
      if (d.buffered > Math.max(maxPacketSize, 5)) problem = `buffered ${d.buffered} bytes > maxPacketSize ${maxPacketSize}`;
    }
  } catch (err) {
    error = err;
  }
  if (error !== undefined) {
    if (d.buffered !== 0) problem = `still buffering ${d.buffered} bytes after ${String(error)}`;
    try {
      d.feed(Uint8Array.of(0xd0, 0x00), onPacket);
      problem = "a failed decoder accepted more input";
    } catch (again) {
      if (again !== error) problem = "a failed decoder threw a different error";
    }
  }
  return { packets, error, buffered: d.buffered, problem };
}

const codeOf = (err: unknown): string => (err instanceof ProtocolError ? err.code : "");

/** Comparable form of a decoded packet (payload and binary properties as plain arrays). */
function plain(p: Packet5): unknown {
  return JSON.parse(JSON.stringify(p, (_k, v: unknown) => (v instanceof Uint8Array ? { bytes: Array.from(v) } : v)));
}

/** Why an accepted packet is suspicious, or undefined. */
function roundTripProblem(p: Packet5): string | undefined {
  if (!CLIENT_RECEIVES5.has(p.type)) return `a v5 client-role decoder accepted ${p.type.toUpperCase()}`;
  let wire: Uint8Array;
  try {
    wire = encodeServerPacket5(p);
  } catch (err) {
    return `accepted a packet the v5 encoder refuses (${codeOf(err) || String(err)}): ${JSON.stringify(plain(p))}`;
  }
  let again: Packet5[];
  try {
    again = new ClientDecoder5({ maxPacketSize: 1 << 28 }).push(wire);
  } catch (err) {
    return `re-encoded ${JSON.stringify(plain(p))} is refused by the decoder (${codeOf(err) || String(err)})`;
  }
  if (again.length !== 1 || !isDeepStrictEqual(plain(again[0]!), plain(p))) return `encode -> decode changed ${JSON.stringify(plain(p))}`;
  return undefined;
}

function hexOf(b: Uint8Array): string {
  return Array.from(b.subarray(0, 256), (x) => x.toString(16).padStart(2, "0")).join(" ") + (b.length > 256 ? ` ... (${b.length} bytes)` : "");
}

/** The bytes of input `index` under `seed`: one in eight is random bytes, the rest mutated v5 corpus frames. */
export function input5(seed: number, index: number): { r: ReturnType<typeof inputRng>; bytes: Uint8Array } {
  const r = inputRng(seed, index);
  const bytes = r.int(8) === 0 ? randomInput5(r) : mutatedInput5(r).bytes;
  return { r, bytes };
}

/** Checks one input, adding to `stats`. */
export function checkInput5(seed: number, index: number, stats: FuzzStats): void {
  const { r, bytes } = input5(seed, index);
  const cuts = chunking(bytes.length, r);
  const maxPacketSize = r.int(8) === 0 ? 16 + r.int(512) : 1 << 20;
  stats.inputs++;
  stats.bytes += bytes.length;

  const chunked = run(bytes, cuts, maxPacketSize);
  let problem = chunked.problem;
  if (chunked.error !== undefined && !(chunked.error instanceof ProtocolError)) {
    problem = `threw ${chunked.error instanceof Error ? `${chunked.error.name}: ${chunked.error.message}` : String(chunked.error)}`;
  }
  if (!problem && cuts.length > 0) {
    const whole = run(bytes, [], maxPacketSize);
    if (codeOf(whole.error) !== codeOf(chunked.error)) problem = `one chunk: ${codeOf(whole.error) || "ok"}, chunked at ${cuts.join(",")}: ${codeOf(chunked.error) || "ok"}`;
    else if (whole.packets.length !== chunked.packets.length || whole.packets.some((p, i) => !isDeepStrictEqual(plain(p), plain(chunked.packets[i]!)))) problem = `chunking at ${cuts.join(",")} changed the packets`;
    else if (whole.buffered !== chunked.buffered) problem = `chunking changed the buffered count (${whole.buffered} vs ${chunked.buffered})`;
  }
  for (const p of chunked.packets) {
    stats.packets[p.type] = (stats.packets[p.type] ?? 0) + 1;
    problem ??= roundTripProblem(p);
  }
  if (chunked.error instanceof ProtocolError) stats.rejected[chunked.error.code] = (stats.rejected[chunked.error.code] ?? 0) + 1;
  else {
    stats.accepted++;
    if (chunked.buffered > 0) stats.incomplete++;
  }
  if (problem && stats.failures.length < MAX_FAILURES) stats.failures.push({ seed, index, problem, hex: hexOf(bytes) });
}

/** Checks inputs [start, start + count) of `seed` (stack traces off meanwhile, as in fuzz-decoder.ts). */
export function fuzzDecoder5(seed: number, start: number, count: number, stats: FuzzStats = newStats()): FuzzStats {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (let i = start; i < start + count; i++) checkInput5(seed, i, stats);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return stats;
}
