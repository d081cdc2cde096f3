/**
 * An independent oracle for strict MQTT UTF-8: RFC 3629 table 3-7 written out byte by byte (no TextDecoder). The
 * library decodes non-ASCII with the platform's fatal TextDecoder; the tests hold it to this table on every runtime
 * (test/mqtt/utf8.test.ts on Node, test/smoke/codec.smoke.ts on Deno and Bun).
 */

/** Whether bytes[start, end) is well-formed UTF-8 without U+0000 or surrogates, by RFC 3629 table 3-7. */
export function tableStrictUtf8(bytes: Uint8Array, start: number, end: number): boolean {
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
