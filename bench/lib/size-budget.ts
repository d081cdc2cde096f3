/**
 * The size budget of `edgemq` (issue #7) in one place: which bundles are guarded, their ceilings, and how a
 * measurement is judged. test/size-budget.test.ts (part of `npm test`), `npm run bench:size-budget` and
 * `npm run bench:size` all read it, so they cannot disagree.
 *
 * The ceilings are regression guards, set just above what the bundles measured when they were last changed
 * (rounded up to the next 0.5 KB). They are not the goal: issue #7 asks for a core of 8 KB min+gz, which this
 * feature set does not reach (BENCHMARKS.md, "Size", says where the bytes go). Raise a ceiling only on purpose,
 * in the commit that adds the bytes, and say why.
 */
import { appSize, coreSize, type BundleSize } from "./bundle.ts";

/** Issue #7's target for the whole core entry, min+gz. Not met: reported, not enforced. */
export const TARGET_GZIPPED = 8 * 1024;

/** One guarded bundle. */
export interface Budget {
  /** What is bundled, for people. */
  label: string;
  /** The names an application imports from "edgemq" (tree-shaken), or undefined for the whole core entry. */
  imports?: readonly string[];
  /** Ceiling in bytes, min+gz (esbuild --bundle --minify, ES2022, gzip -9; see bench/lib/bundle.ts). */
  gzipped: number;
  /** Count the lazily loaded chunks too (what a protocolVersion 5 application loads), gzipped each. */
  withLazy?: boolean;
}

const KB = 1024;

/** The guarded bundles: the whole core entry first, then what typical device applications ship. */
// Measured at 5362362 (after the codec split by role): core 18,187 B, connect 14,401 B, connect + FileStore 16,616 B.
// Core raised to 18.5 KB at a1e2fc0 (18,443 B): lazily loaded built-ins (import cost), the uncopied large-payload
// path (encodePublishHead, corked writeMany) and the client's hooks object (idle heap) added ~250 B; each bought a
// target of issue #7, so the bytes are spent on purpose. The FileStore app raised to 17.0 KB for the same reason
// (17,029 B after packets are encoded straight into a shared write slab: FileStore's lazily loaded node:fs/path).
// The connect app raised to 15.0 KB at the QoS 0 fast path and the recent-valid-topic cache (14,871 B), which cut
// a QoS 0 publish from ~290 to ~195 ns.
// Core raised to 19.0 KB for the WebSocket transport's writeMany (one frame per flush, 18,964 B); the earlier
// changes had left the core 31 B under 18.5 KB.
// The FileStore app raised to 17.5 KB for the cached topic-name lengths (17,416 B; QoS 0 publish ~195 -> ~142 ns).
// All three raised for issue #11 (core 21,309 B, connect 17,332 B, connect + FileStore 19,663 B): inbound flow
// control (acks wait for consumers), skipping oversize PUBLISHes as they stream, abortable connection attempts,
// request timeouts, waitOnFirstConnect, typed warnings and the connection lifecycle in its own class cost ~2 KB.
// Each closes a way the client lost messages or a process, so the bytes are spent on purpose.
// All three raised for issue #12. Before item 1 (at 3eb209b) they measured core 22,283 B, connect 17,745 B,
// connect + FileStore 20,632 B, already over the ceilings above (work committed since they were last set).
// Item 1 ("bad input from plain JavaScript can never hurt another client") adds ~1.4 KB to each (core 23,721 B,
// connect 19,163 B, connect + FileStore 22,063 B): payloads of every ArrayBufferView, typed refusals for any value
// of any argument or option (~1 KB), the mqtt://-vs-mqtts:// messages (~170 B), error names spelled out (~75 B;
// esbuild's keepNames would cost ~1 KB). Without them one bad publish() wedged every client of the process.
// All three raised for issue #13 (core 24,620 B, connect 20,062 B, connect + FileStore 22,960 B): the beforeResume
// gate (~900 B: the session holds its replay and queue while the hook runs, connection-scoped publishes with their
// own window, discard of waiting messages). It is what lets an Astarte device put its handshake before any data on a
// session the broker lost; without it the broker disconnects the device and drops its session, again and again.
// Issue #17 (MQTT 5) changes how bundles are measured: with code splitting, as an application bundler ships a
// dynamic import(). A client that asks for protocol version 5 loads its MQTT 5 half (src/client/v5/client5.ts: the
// v5 codec, topic aliases, enhanced authentication, reason-code errors, request(), reauthenticate(), the v5 option
// checks) as a chunk of its own, counted in the v5 row; the core keeps only its call sites. Measured the new way,
// HEAD before v5 was core 24,667 B, connect 20,086 B, connect + FileStore 22,988 B, and issue #17 allows the connect
// app 0.5 KB more (20,598 B). The v5 call sites and the lazy loading cost ~940 B; the client's classes then moved
// their private members to #private names, which a minifier shortens (~900 B: property names are never renamed).
// Private methods then went back to TS-private names (#private fields stay): V8 gives every instance of a class with
// #private methods a brand slot, which cost an idle client ~0.1 KB of heap (bench:memory 4.41 -> 4.31 KB; 4.20 KB
// before v5), for ~250 B of bundle. With the client's own Receive Maximum watched, DISCONNECT reason codes on protocol
// errors and UNSUBACK errors (~540 B, in the lazily loaded chunk): core 28,692 B (it also exports scramAuth(), ~2.5 KB,
// and AuthError), connect 20,425 B (+339 B on before v5), connect + FileStore 23,475 B (+487 B: the FileStore keeps
// v5 properties), v5 app 32,703 B. The connect ceiling (20.0 KB) stays under what issue #17 allows (20,598 B), which
// test/size-budget.test.ts also checks on its own.
export const BUDGETS: readonly Budget[] = [
  { label: "edgemq core (src/index.ts, everything exported)", gzipped: 28.5 * KB },
  { label: 'app: import { connect } from "edgemq"', imports: ["connect"], gzipped: 20 * KB },
  { label: 'app: import { connect, FileStore } from "edgemq"', imports: ["connect", "FileStore"], gzipped: 23 * KB },
  { label: 'app: import { connect } from "edgemq" with protocolVersion: 5 (+ the lazily loaded MQTT 5 part)', imports: ["connect"], gzipped: 32 * KB, withLazy: true },
];

/** Issue #17: the connect-only app before MQTT 5 (measured with splitting at c68af6b's parent tree), and what it may grow. */
export const CONNECT_APP_BEFORE_V5 = 20_086;
export const V5_GROWTH_ALLOWED = 512;

/** Where MQTT 5 lives: a 3.1.1 application loads none of it at start (it is the lazily loaded chunk). */
export const V5_MODULES: readonly RegExp[] = [/^src\/mqtt\/v5\//, /^src\/client\/v5\//, /^src\/client\/request\.ts$/, /^src\/client\/auth\//];

/** Modules a client-only application must not carry: the server-role codec (what only a broker decodes or sends). */
export const SERVER_ROLE_MODULES: readonly string[] = ["src/mqtt/decode-server.ts", "src/mqtt/encode-server.ts"];

/** A guarded bundle as measured now. */
export interface BudgetResult {
  budget: Budget;
  size: BundleSize;
  /** Within its ceiling. */
  ok: boolean;
}

/** Builds every guarded bundle and judges it. */
export async function measureBudgets(): Promise<BudgetResult[]> {
  const results: BudgetResult[] = [];
  for (const budget of BUDGETS) {
    const measured = budget.imports ? await appSize(budget.imports) : await coreSize();
    const size = budget.withLazy ? { ...measured, gzipped: measured.gzipped + measured.lazyGzipped } : measured;
    results.push({ budget, size, ok: size.gzipped <= budget.gzipped });
  }
  return results;
}

/** "17.34 KB (17,759 bytes)". */
export function kb(bytes: number): string {
  return `${(bytes / KB).toFixed(2)} KB (${bytes.toLocaleString("en-US")} bytes)`;
}

/** One line per guarded bundle, then the line about issue #7's target. */
export function budgetReport(results: readonly BudgetResult[]): string[] {
  const lines = results.map(
    (r) => `${r.ok ? "ok  " : "OVER"} ${r.budget.label}: ${kb(r.size.gzipped)} min+gz, budget ${kb(r.budget.gzipped)}`,
  );
  lines.push(targetLine(results[0]!.size.gzipped));
  return lines;
}

/** Whether the whole core meets issue #7's 8 KB target, said plainly. */
export function targetLine(coreGzipped: number): string {
  const met = coreGzipped <= TARGET_GZIPPED;
  return `issue #7 target, core <= ${kb(TARGET_GZIPPED)} min+gz: ${met ? "met" : "NOT met"} (core ${kb(coreGzipped)}, ${(coreGzipped / TARGET_GZIPPED).toFixed(2)}x the target; see BENCHMARKS.md "Size")`;
}
