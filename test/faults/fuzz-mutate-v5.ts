/**
 * The seeded mutator of fuzz-mutate.ts over the MQTT 5 corpus: the same mutators (splicing v5 frames instead of
 * 3.1.1 ones), plus two aimed at the v5 property section: a byte set to a property identifier (known, allowed
 * elsewhere, or unknown) and a region repeated (a duplicated property when it lands in the section). Inputs
 * derive from (seed, index) alone, through inputRng, as in 3.1.1.
 */
import { CORPUS5, SMALL5 } from "./fuzz-corpus-v5.ts";
import { MUTATORS, type Rng } from "./fuzz-mutate.ts";

export { chunking, inputRng, Rng } from "./fuzz-mutate.ts";

/** Property identifiers: every one of section 2.2.2.2, and a few that are not properties. */
const PROPERTY_IDS = [0x01, 0x02, 0x03, 0x08, 0x09, 0x0b, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1c, 0x1f, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x00, 0x04, 0x2b, 0x7f, 0x80];
/** Reason codes, valid somewhere or nowhere. */
const REASON_CODES = [0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x19, 0x80, 0x81, 0x87, 0x8e, 0x92, 0x94, 0x95, 0xa2, 0x03, 0x05, 0x7f, 0xa3, 0xff];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

type Mutator = (b: Uint8Array, r: Rng) => Uint8Array;

/** The 3.1.1 mutators with splice over the v5 corpus, and the two v5 ones. */
export const MUTATORS5: ReadonlyArray<readonly [name: string, fn: Mutator]> = [
  ...MUTATORS.map(([name, fn]): readonly [string, Mutator] =>
    name === "splice"
      ? [name, (b, r) => {
          const other = CORPUS5[r.pick(SMALL5)]!;
          return concat(b.subarray(0, r.int(b.length + 1)), other.subarray(r.int(other.length + 1)));
        }]
      : [name, fn],
  ),
  ["property-id", (b, r) => {
    // Somewhere after the fixed header: a property identifier or a reason code.
    if (b.length < 3) return b;
    b[2 + r.int(b.length - 2)] = r.int(2) === 0 ? r.pick(PROPERTY_IDS) : r.pick(REASON_CODES);
    return b;
  }],
  ["repeat-tail", (b, r) => {
    // Repeats 2..8 bytes from the back (where properties and reason codes sit), length fields unchanged.
    if (b.length < 4) return b;
    const n = 2 + r.int(Math.min(7, b.length - 2));
    const from = b.length - n - r.int(Math.max(1, b.length - n - 2));
    const piece = b.slice(from, from + n);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, from + n), 0);
    out.set(piece, from + n);
    out.set(b.subarray(from + n), from + 2 * n);
    return out;
  }],
];

/** One mutated input: 1..3 v5 corpus frames concatenated, then 1..3 mutations. `applied` names them. */
export function mutatedInput5(r: Rng): { bytes: Uint8Array; applied: number[] } {
  const frames = r.int(10) < 6 ? 1 : 2 + r.int(2);
  let bytes: Uint8Array = new Uint8Array(0);
  for (let k = 0; k < frames; k++) {
    const pool = r.int(200) === 0 ? CORPUS5.length : 0;
    bytes = concat(bytes, pool ? CORPUS5[r.int(pool)]! : CORPUS5[r.pick(SMALL5)]!);
  }
  const applied: number[] = [];
  const count = 1 + (r.int(4) === 0 ? 1 + r.int(2) : 0);
  for (let k = 0; k < count; k++) {
    const m = r.int(MUTATORS5.length);
    applied.push(m);
    bytes = MUTATORS5[m]![1](bytes, r);
  }
  return { bytes, applied };
}

/** Random bytes (no corpus at all): 1..64 of them, first byte any packet type. */
export function randomInput5(r: Rng): Uint8Array {
  return Uint8Array.from({ length: 1 + r.int(64) }, () => r.int(256));
}
