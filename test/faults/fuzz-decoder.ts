/**
 * Fuzzing the pure Decoder (client role). For every mutated input:
 *  - only ProtocolError may be thrown, and every feed() returns;
 *  - differential: fed in random chunks or in one chunk, the decoder yields the same packets and the same error code;
 *  - never more than maxPacketSize bytes buffered; nothing buffered after a failure, and a failed decoder stays failed;
 *  - every accepted packet is one a client may receive and survives encode -> decode unchanged (the decoder accepted
 *    nothing the encoder would refuse), except DUP on QoS 0, which the decoder tolerates on purpose (counted).
 */
import { Decoder, encode, ProtocolError, type Packet } from "../../src/index.ts";
import { chunking, inputRng, mutatedInput } from "./fuzz-mutate.ts";

/** Counts of a fuzz run. */
export interface FuzzStats {
  inputs: number;
  bytes: number;
  /** Inputs decoded without error (possibly with an incomplete packet left buffered). */
  accepted: number;
  /** Of the accepted inputs, those that ended inside a packet. */
  incomplete: number;
  /** Inputs refused, by ProtocolError code. */
  rejected: Record<string, number>;
  /** Packets decoded, by type. */
  packets: Record<string, number>;
  /** Accepted QoS 0 PUBLISH with DUP=1 (tolerated, see above). */
  dupOnQos0: number;
  failures: Failure[];
}

/** An input that broke an oracle: rebuild it with inputRng(seed, index). */
export interface Failure {
  seed: number;
  index: number;
  problem: string;
  hex: string;
}

export function newStats(): FuzzStats {
  return { inputs: 0, bytes: 0, accepted: 0, incomplete: 0, rejected: {}, packets: {}, dupOnQos0: 0, failures: [] };
}

/** Adds `b` into `a`. */
export function mergeStats(a: FuzzStats, b: FuzzStats): FuzzStats {
  a.inputs += b.inputs;
  a.bytes += b.bytes;
  a.accepted += b.accepted;
  a.incomplete += b.incomplete;
  a.dupOnQos0 += b.dupOnQos0;
  for (const [k, n] of Object.entries(b.rejected)) a.rejected[k] = (a.rejected[k] ?? 0) + n;
  for (const [k, n] of Object.entries(b.packets)) a.packets[k] = (a.packets[k] ?? 0) + n;
  a.failures.push(...b.failures);
  return a;
}

const CLIENT_RECEIVES = new Set<Packet["type"]>(["connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "suback", "unsuback", "pingresp"]);
const MAX_FAILURES = 20;

interface Outcome {
  packets: Packet[];
  error: unknown;
  buffered: number;
  problem: string | undefined;
}

function run(bytes: Uint8Array, cuts: readonly number[], maxPacketSize: number): Outcome {
  const d = new Decoder({ maxPacketSize, role: "client" });
  const packets: Packet[] = [];
  const onPacket = (p: Packet): void => void packets.push(p);
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

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Structural equality of two decoded packets. */
export function samePacket(a: Packet, b: Packet): boolean {
  if (a.type !== b.type) return false;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) {
    const u = x[k];
    const w = y[k];
    if (u instanceof Uint8Array || w instanceof Uint8Array) {
      if (!sameBytes(u as Uint8Array, w as Uint8Array)) return false;
    } else if (Array.isArray(u) || Array.isArray(w)) {
      if (!Array.isArray(u) || !Array.isArray(w) || u.length !== w.length || u.some((e, i) => e !== w[i])) return false;
    } else if (u !== w) return false;
  }
  return true;
}

function codeOf(err: unknown): string {
  return err instanceof ProtocolError ? err.code : "";
}

/** Why an accepted packet is suspicious, or undefined. */
function roundTripProblem(p: Packet, stats: FuzzStats): string | undefined {
  if (!CLIENT_RECEIVES.has(p.type)) return `a client-role decoder accepted ${p.type.toUpperCase()}`;
  let normal = p;
  if (p.type === "publish" && p.qos === 0 && p.dup) {
    stats.dupOnQos0++;
    normal = { ...p, dup: false };
  }
  let wire: Uint8Array;
  try {
    wire = encode(normal);
  } catch (err) {
    return `accepted a packet the encoder refuses (${codeOf(err) || String(err)}): ${JSON.stringify(normal)}`;
  }
  const again = new Decoder({ maxPacketSize: 1 << 28, role: "client" }).push(wire);
  if (again.length !== 1 || !samePacket(again[0]!, normal)) return `encode -> decode changed ${JSON.stringify(normal)}`;
  return undefined;
}

function hexOf(b: Uint8Array): string {
  return Array.from(b.subarray(0, 256), (x) => x.toString(16).padStart(2, "0")).join(" ") + (b.length > 256 ? ` ... (${b.length} bytes)` : "");
}

/** Checks one input; returns the problem it revealed, if any. */
export function checkInput(seed: number, index: number, stats: FuzzStats): void {
  const r = inputRng(seed, index);
  const { bytes } = mutatedInput(r);
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
    else if (whole.packets.length !== chunked.packets.length || whole.packets.some((p, i) => !samePacket(p, chunked.packets[i]!))) problem = `chunking at ${cuts.join(",")} changed the packets`;
    else if (whole.buffered !== chunked.buffered) problem = `chunking changed the buffered count (${whole.buffered} vs ${chunked.buffered})`;
  }
  for (const p of chunked.packets) {
    stats.packets[p.type] = (stats.packets[p.type] ?? 0) + 1;
    problem ??= roundTripProblem(p, stats);
  }
  if (chunked.error instanceof ProtocolError) stats.rejected[chunked.error.code] = (stats.rejected[chunked.error.code] ?? 0) + 1;
  else {
    stats.accepted++;
    if (chunked.buffered > 0) stats.incomplete++;
  }
  if (problem && stats.failures.length < MAX_FAILURES) stats.failures.push({ seed, index, problem, hex: hexOf(bytes) });
}

/**
 * Checks inputs [start, start + count) of `seed`. Stack traces are switched off meanwhile: most inputs end in a
 * ProtocolError, and capturing its stack would cost more than decoding.
 */
export function fuzzDecoder(seed: number, start: number, count: number, stats: FuzzStats = newStats()): FuzzStats {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (let i = start; i < start + count; i++) checkInput(seed, i, stats);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return stats;
}

/** One-line summary for logs. */
export function summary(s: FuzzStats, ms: number): string {
  const codes = Object.entries(s.rejected)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const types = Object.entries(s.packets)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const rate = ms > 0 ? Math.round((s.inputs / ms) * 1000) : 0;
  return (
    `${s.inputs.toLocaleString("en")} frames (${(s.bytes / 1e6).toFixed(1)} MB) in ${(ms / 1000).toFixed(1)} s = ${rate.toLocaleString("en")} frames/s; ` +
    `accepted ${s.accepted.toLocaleString("en")} (${s.incomplete.toLocaleString("en")} left incomplete), ` +
    `rejected ${(s.inputs - s.accepted).toLocaleString("en")} [${codes}]; packets decoded [${types}]; ` +
    `QoS 0 with DUP tolerated ${s.dupOnQos0}; failures ${s.failures.length}`
  );
}
