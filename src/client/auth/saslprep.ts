/**
 * SASLprep (RFC 4013, the stringprep profile of RFC 3454) for SCRAM user names and passwords, as the client side of
 * RFC 5802 section 5.1 uses it: a "query" string, so unassigned code points are allowed.
 *
 * What is done: mapping (non-ASCII spaces, table C.1.2, become U+0020; "commonly mapped to nothing", table B.1, are
 * removed), normalization with the runtime's NFKC (`String.prototype.normalize`), and the prohibited output of
 * RFC 4013 section 2.3 (tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9). For ASCII input this is
 * exactly what the RFC asks: only the control characters U+0000..U+001F and U+007F are refused.
 *
 * What is not done: the bidirectional check (RFC 3454 section 6, tables D.1 and D.2) is skipped, so a string that
 * mixes right-to-left and left-to-right characters is passed on and the server decides; and NFKC follows the
 * runtime's Unicode version, not Unicode 3.2, which differs only for characters assigned after 3.2.
 */

/** Table C.1.2: non-ASCII space characters, mapped to U+0020. */
function isNonAsciiSpace(cp: number): boolean {
  return cp === 0x00a0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200b) || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

/** Table B.1: commonly mapped to nothing (U+200B is taken by C.1.2 first and becomes a space). */
function isMappedToNothing(cp: number): boolean {
  return (
    cp === 0x00ad ||
    cp === 0x034f ||
    cp === 0x1806 ||
    (cp >= 0x180b && cp <= 0x180d) ||
    cp === 0x200c ||
    cp === 0x200d ||
    cp === 0x2060 ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    cp === 0xfeff
  );
}

/** Tables C.1.2 through C.9 as RFC 4013 section 2.3 lists them: a name for the error, or undefined when allowed. */
function prohibition(cp: number): string | undefined {
  if (isNonAsciiSpace(cp)) return "a non-ASCII space";
  if (cp <= 0x1f || cp === 0x7f) return "an ASCII control character";
  if (
    (cp >= 0x80 && cp <= 0x9f) ||
    cp === 0x06dd ||
    cp === 0x070f ||
    cp === 0x180e ||
    cp === 0x200c ||
    cp === 0x200d ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    (cp >= 0x2060 && cp <= 0x2063) ||
    (cp >= 0x206a && cp <= 0x206f) ||
    cp === 0xfeff ||
    (cp >= 0xfff9 && cp <= 0xfffc) ||
    (cp >= 0x1d173 && cp <= 0x1d17a)
  ) {
    return "a non-ASCII control character";
  }
  if ((cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0xffffd) || (cp >= 0x100000 && cp <= 0x10fffd)) {
    return "a private-use character";
  }
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return "a non-character code point";
  if (cp >= 0xd800 && cp <= 0xdfff) return "a lone surrogate";
  if (cp >= 0xfff9 && cp <= 0xfffd) return "a character inappropriate for plain text";
  if (cp >= 0x2ff0 && cp <= 0x2ffb) return "an ideographic description character";
  if (cp === 0x0340 || cp === 0x0341 || cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e)) {
    return "a display-changing or deprecated character";
  }
  if (cp === 0xe0001 || (cp >= 0xe0020 && cp <= 0xe007f)) return "a tagging character";
  return undefined;
}

/** The outcome of saslPrep: the prepared string, or why the input is refused. */
export type SaslPrepResult = { ok: true; value: string } | { ok: false; reason: string };

/** Prepares `input` with SASLprep as a query string (see the module comment for what is and is not checked). */
export function saslPrep(input: string): SaslPrepResult {
  let mapped = "";
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (isNonAsciiSpace(cp)) mapped += " ";
    else if (!isMappedToNothing(cp)) mapped += ch;
  }
  // A lone surrogate survives normalize() unchanged, so the prohibition loop below still sees it.
  const normalized = mapped.normalize("NFKC");
  for (const ch of normalized) {
    const cp = ch.codePointAt(0)!;
    const reason = prohibition(cp);
    if (reason !== undefined) {
      return { ok: false, reason: `contains ${reason} (U+${cp.toString(16).toUpperCase().padStart(4, "0")})` };
    }
  }
  return { ok: true, value: normalized };
}
