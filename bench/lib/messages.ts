/**
 * How much of a minified bundle is human-readable text (error, warning and event messages): the string and
 * template literal text that reads as prose (contains a space and a letter), found with the TypeScript parser.
 * Its min+gz cost is measured by blanking that text and gzipping again, so it is what the messages add after
 * compression, not a guess from their raw length.
 */
import { gzipSync } from "node:zlib";
import ts from "typescript";

/** Message text in a bundle. */
export interface MessageText {
  /** Raw bytes of prose literal text in the minified code. */
  minified: number;
  /** How many min+gz bytes the bundle would lose without that text. */
  gzipped: number;
}

const isProse = (piece: string): boolean => piece.includes(" ") && /[a-z]/i.test(piece);

/** Measures the prose literal text of a minified ES module. */
export function messageText(code: Uint8Array): MessageText {
  const text = new TextDecoder().decode(code);
  const file = ts.createSourceFile("bundle.js", text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  const spans: Array<[number, number]> = []; // [start, end) of literal text to blank, quotes and `${` excluded
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      spans.push([node.getStart(file) + 1, node.end - 1]);
    } else if (ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      const start = node.getStart(file) + 1; // after ` or }
      const end = node.end - (ts.isTemplateTail(node) ? 1 : 2); // before ` or ${
      spans.push([start, end]);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let minified = 0;
  let out = "";
  let at = 0;
  for (const [start, end] of spans.sort((a, b) => a[0] - b[0])) {
    const piece = text.slice(start, end);
    if (!isProse(piece)) continue;
    minified += Buffer.byteLength(piece);
    out += text.slice(at, start);
    at = end;
  }
  out += text.slice(at);
  const gz = (s: string) => gzipSync(Buffer.from(s), { level: 9 }).length;
  return { minified, gzipped: gz(text) - gz(out) };
}
