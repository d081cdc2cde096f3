/**
 * Strict MQTT UTF-8 (MQTT 3.1.1 section 1.5.3): well-formed UTF-8, no U+0000, no surrogate code points,
 * no overlong or truncated sequences. Both directions are checked: `TextEncoder` silently turns a lone
 * surrogate into U+FFFD, so strings are checked before encoding.
 */

const encoder = new TextEncoder();
// ignoreBOM: a leading EF BB BF is U+FEFF and must not be stripped by a receiver [MQTT-1.5.3-3].
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Why a string is not valid MQTT UTF-8, or undefined when it is. */
export function checkString(value: string): string | undefined {
  if (value.includes("\u0000")) return "contains U+0000";
  if (!isWellFormed(value)) return "contains a lone surrogate";
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type WellFormedString = string & { isWellFormed?: () => boolean };

/** Whether `value` is well-formed UTF-16 (no lone surrogate), i.e. encodable as UTF-8 without replacement. */
export function isWellFormed(value: string): boolean {
  const s = value as WellFormedString;
  return typeof s.isWellFormed === "function" ? s.isWellFormed() : !LONE_SURROGATE.test(value);
}

/** Number of bytes `value` takes in UTF-8 (assumes it is well formed). */
export function utf8Length(value: string): number {
  const n = value.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 2; // a pair is 4 bytes for 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Writes `value` as UTF-8 into `out` at `offset`; `byteLength` is utf8Length(value). */
export function writeUtf8(value: string, out: Uint8Array, offset: number, byteLength: number): void {
  if (byteLength === value.length) {
    for (let i = 0; i < byteLength; i++) out[offset + i] = value.charCodeAt(i);
    return;
  }
  encoder.encodeInto(value, out.subarray(offset, offset + byteLength));
}

/** UTF-8 bytes of a string (no MQTT checks). */
export function utf8Bytes(value: string): Uint8Array {
  return encoder.encode(value);
}

/**
 * Decodes bytes[start, end) as strict MQTT UTF-8, or returns undefined when they are not.
 * ASCII, the common case for topics, is decoded without TextDecoder. Anything else goes through the fatal
 * TextDecoder, which refuses exactly what isStrictUtf8 refuses (overlong and truncated sequences, surrogates,
 * code points past U+10FFFF: the WHATWG decoder follows the same table 3-7) except U+0000, checked after it;
 * the test suite holds the two to agreement on Node, Bun and Deno.
 */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b === 0) return undefined;
    if (b >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    const len = end - start;
    if (len <= 64) {
      let s = "";
      for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
      return s;
    }
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  let text: string;
  try {
    text = decoder.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
  return text.includes("\u0000") ? undefined : text;
}

/** Validates well-formed UTF-8 without U+0000 or surrogates (RFC 3629 table 3-7). */
export function isStrictUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      if (b0 === 0) return false;
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 === 0xe0) { need = 2; lo = 0xa0; }
    else if (b0 === 0xed) { need = 2; hi = 0x9f; } // excludes surrogates U+D800..U+DFFF
    else if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) need = 2;
    else if (b0 === 0xf0) { need = 3; lo = 0x90; }
    else if (b0 >= 0xf1 && b0 <= 0xf3) need = 3;
    else if (b0 === 0xf4) { need = 3; hi = 0x8f; }
    else return false; // 0x80..0xc1 (continuation or overlong lead) and 0xf5..0xff
    if (i + need >= end) return false; // truncated sequence
    const b1 = bytes[i + 1]!;
    if (b1 < lo || b1 > hi) return false;
    for (let k = 2; k <= need; k++) {
      const b = bytes[i + k]!;
      if (b < 0x80 || b > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}
