/**
 * Small-buffer allocation from a shared slab. `new Uint8Array(n)` creates a fresh ArrayBuffer each time,
 * which costs far more than the packet encoding itself; a view on a preallocated slab is an order of magnitude
 * cheaper. Views are never reused: a slab is dropped (and collected once no view holds it) when full.
 */

const SLAB_SIZE = 64 * 1024;
const MAX_POOLED = 4096;

let slab = new ArrayBuffer(SLAB_SIZE);
let offset = 0;

/** A Uint8Array of `size` bytes in a region no other caller gets (zero-filled: slabs start zeroed and regions are never reused). */
export function alloc(size: number): Uint8Array {
  if (size > MAX_POOLED) return new Uint8Array(size);
  if (offset + size > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    offset = 0;
  }
  const view = new Uint8Array(slab, offset, size);
  offset += (size + 7) & ~7; // keep views 8-byte aligned
  return view;
}

/** A copy of bytes[start, end) in its own region. */
export function copyRange(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = alloc(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}
