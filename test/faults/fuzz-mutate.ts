/**
 * A seeded mutator over the corpus. Each input is derived from (seed, index) alone, so any failing input can be
 * rebuilt from the two numbers printed with it. Mutations: bit flips, byte set to an interesting value, byte
 * insert/delete, truncation, splice of two valid frames, remaining-length and string-length field rewrites,
 * type-nibble swap, region duplication; then random chunking.
 */
import { CORPUS, SMALL } from "./fuzz-corpus.ts";

/** A small fast PRNG (mulberry32) over 32-bit state. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return this.u32() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** The PRNG of input `index` under `seed`. */
export function inputRng(seed: number, index: number): Rng {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return new Rng((h ^ (h >>> 16)) >>> 0);
}

const INTERESTING = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x23, 0x2b, 0x2f, 0xc0, 0xed, 0xf4, 0x30, 0x40, 0x62, 0x90];
const LENGTHS = [0, 1, 2, 3, 4, 126, 127, 128, 129, 16_383, 16_384, 65_535, 2_097_151, 2_097_152, 268_435_455];

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    out.push(d);
  } while (n > 0);
  return out;
}

/** Offset just past the fixed header of the frame at `at` (its remaining-length bytes end there). */
function headerEnd(b: Uint8Array, at: number): number {
  let i = at + 1;
  while (i < b.length && i < at + 5 && (b[i]! & 0x80) !== 0) i++;
  return Math.min(i + 1, b.length);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

type Mutator = (b: Uint8Array, r: Rng) => Uint8Array;

/** Named mutators; each returns a new array or mutates its (already copied) input. */
export const MUTATORS: ReadonlyArray<readonly [name: string, fn: Mutator]> = [
  ["bit-flip", (b, r) => {
    if (b.length === 0) return b;
    const flips = 1 + r.int(4);
    for (let k = 0; k < flips; k++) b[r.int(b.length)]! ^= 1 << r.int(8);
    return b;
  }],
  ["byte-set", (b, r) => {
    if (b.length > 0) b[r.int(b.length)] = r.int(3) === 0 ? r.int(256) : r.pick(INTERESTING);
    return b;
  }],
  ["insert", (b, r) => {
    const at = r.int(b.length + 1);
    const n = 1 + r.int(4);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, at), 0);
    for (let k = 0; k < n; k++) out[at + k] = r.int(2) === 0 ? r.int(256) : r.pick(INTERESTING);
    out.set(b.subarray(at), at + n);
    return out;
  }],
  ["delete", (b, r) => {
    if (b.length === 0) return b;
    const at = r.int(b.length);
    const n = 1 + r.int(Math.min(4, b.length - at));
    const out = new Uint8Array(b.length - n);
    out.set(b.subarray(0, at), 0);
    out.set(b.subarray(at + n), at);
    return out;
  }],
  ["truncate", (b, r) => b.subarray(0, r.int(b.length + 1))],
  ["splice", (b, r) => {
    const other = CORPUS[r.pick(SMALL)]!;
    return concat(b.subarray(0, r.int(b.length + 1)), other.subarray(r.int(other.length + 1)));
  }],
  ["remaining-length", (b, r) => {
    // Rewrite the first frame's remaining length: a boundary value, +-1, or random bytes of 1..5.
    if (b.length < 2) return b;
    const end = headerEnd(b, 0);
    const old = b.subarray(1, end);
    let digits: number[];
    const mode = r.int(4);
    if (mode === 0) digits = varint(r.pick(LENGTHS));
    else if (mode === 1) {
      let n = 0;
      for (let k = old.length - 1; k >= 0; k--) n = n * 128 + (old[k]! & 0x7f);
      digits = varint(Math.max(0, n + (r.int(2) === 0 ? 1 : -1)));
    } else if (mode === 2) digits = Array.from({ length: 1 + r.int(5) }, () => r.int(256));
    else digits = [...varint(r.int(300)), 0].slice(0, 1 + r.int(2)).map((d, k, a) => (k < a.length - 1 ? d | 0x80 : d)); // non-minimal
    const out = new Uint8Array(1 + digits.length + b.length - end);
    out[0] = b[0]!;
    out.set(digits, 1);
    out.set(b.subarray(end), 1 + digits.length);
    return out;
  }],
  ["string-length", (b, r) => {
    // Rewrite the 16-bit field right after the fixed header (PUBLISH topic length / packet id).
    const at = headerEnd(b, 0);
    if (at + 2 > b.length) return b;
    const len = (b[at]! << 8) | b[at + 1]!;
    const n = r.pick([0, 1, len - 1, len + 1, len + 2, 0xffff, 0x8000, r.int(0x10000)]) & 0xffff;
    b[at] = n >> 8;
    b[at + 1] = n & 0xff;
    return b;
  }],
  ["type-nibble", (b, r) => {
    if (b.length > 0) b[0] = (r.int(16) << 4) | (r.int(4) === 0 ? r.int(16) : b[0]! & 0x0f);
    return b;
  }],
  ["flags-nibble", (b, r) => {
    if (b.length > 0) b[0] = (b[0]! & 0xf0) | r.int(16);
    return b;
  }],
  ["duplicate", (b, r) => {
    if (b.length === 0) return b;
    const from = r.int(b.length);
    const to = from + 1 + r.int(Math.min(16, b.length - from));
    const at = r.int(b.length + 1);
    const piece = b.slice(from, to);
    const out = new Uint8Array(b.length + piece.length);
    out.set(b.subarray(0, at), 0);
    out.set(piece, at);
    out.set(b.subarray(at), at + piece.length);
    return out;
  }],
];

/** One mutated input: 1..3 corpus frames concatenated, then 1..3 mutations. `applied` names them. */
export function mutatedInput(r: Rng): { bytes: Uint8Array; applied: number[] } {
  const frames = r.int(10) < 6 ? 1 : 2 + r.int(2);
  let bytes: Uint8Array = new Uint8Array(0);
  for (let k = 0; k < frames; k++) {
    const pool = r.int(200) === 0 ? CORPUS.length : 0;
    const frame = pool ? CORPUS[r.int(pool)]! : CORPUS[r.pick(SMALL)]!;
    bytes = concat(bytes, frame);
  }
  const applied: number[] = [];
  const count = 1 + (r.int(4) === 0 ? 1 + r.int(2) : 0);
  for (let k = 0; k < count; k++) {
    const m = r.int(MUTATORS.length);
    applied.push(m);
    bytes = MUTATORS[m]![1](bytes, r);
  }
  return { bytes, applied };
}

/** Cut points (sorted, inside the input) for random chunking: none, a few, many, or one per byte. */
export function chunking(length: number, r: Rng): number[] {
  const mode = r.int(10);
  if (length < 2 || mode < 4) return [];
  if (mode === 9 && length <= 64) return Array.from({ length: length - 1 }, (_, i) => i + 1);
  const n = 1 + r.int(Math.min(mode === 8 ? 32 : 4, length - 1));
  const cuts = new Set<number>();
  for (let k = 0; k < n; k++) cuts.add(1 + r.int(length - 1));
  return [...cuts].sort((a, b) => a - b);
}
