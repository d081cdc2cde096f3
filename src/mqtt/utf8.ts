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
 * TextDecoder, which refuses overlong and truncated sequences, encoded surrogates and code points past U+10FFFF
 * (the WHATWG decoder follows RFC 3629 table 3-7); U+0000 is checked after it. The tests hold this to a byte-by-byte
 * table (test/mqtt/utf8-table.ts) on Node, Bun and Deno.
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

/**
 * Validates well-formed UTF-8 without U+0000 or surrogates (RFC 3629 table 3-7): overlong and truncated sequences,
 * encoded surrogates and code points past U+10FFFF are refused. The same check readUtf8 makes.
 */
export function isStrictUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  return readUtf8(bytes, start, end) !== undefined;
}
