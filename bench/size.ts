/**
 * Bundle sizes: what an application ships when it bundles edgemq, edgemq/clea or MQTT.js (esbuild, bundle + minify,
 * ESM, ES2022, platform node with node:* external; gzip -9). Next to the whole core entry, the tree-shaken bundles of
 * typical device applications (`import { connect } from "edgemq"`, as the size-limit tool measures an import), then
 * where the bytes go (per module, from esbuild's metafile), and the budget of bench/lib/size-budget.ts.
 * @peculiar/x509 and reflect-metadata (optional peers that clea's pairing imports dynamically) stay external, as in
 * the package build.
 *
 * Run: npm run bench:size
 */
import { execSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { appSize, bundleSize, root, type BundleSize } from "./lib/bundle.ts";
import { printTable } from "./lib/measure.ts";
import { messageText } from "./lib/messages.ts";
import { budgetReport, measureBudgets } from "./lib/size-budget.ts";

const optionalPeers = ["@peculiar/x509", "reflect-metadata"];
const budgets = await measureBudgets();
const [core, connectApp, fileStoreApp] = budgets.map((b) => b.size) as [BundleSize, BundleSize, BundleSize];

const rows: Array<[string, BundleSize]> = [
  ["edgemq (core: src/index.ts, everything exported)", core],
  ['app: import { connect } from "edgemq"', connectApp],
  ['app: import { connect, FileStore } from "edgemq"', fileStoreApp],
  ['app: import { Decoder, encode } from "edgemq" (codec only, both roles)', await appSize(["Decoder", "encode"])],
  ["edgemq/clea, with bson + pako (and the core)", await bundleSize({ entry: "src/clea/index.ts", external: optionalPeers })],
  ["edgemq/clea, bson + pako external (core included)", await bundleSize({ entry: "src/clea/index.ts", external: ["bson", "pako", ...optionalPeers] })],
  ["edgemq/clea layer alone (core, bson, pako external)", await bundleSize({ entry: "src/clea/index.ts", external: ["bson", "pako", ...optionalPeers], externalCore: true })],
  ["bson (as clea imports it)", await bundleSize({ contents: `export { BSON, Binary, Double, Int32, Long } from "bson";` })],
  ["pako (as clea imports it)", await bundleSize({ contents: `export { Deflate, Inflate } from "pako";` })],
  ["MQTT.js 5.16 (mqtt, platform node)", await bundleSize({ contents: `export * from "mqtt"; export { default } from "mqtt";` })],
];
rows.push(["browser app: test/browser/page.ts (esbuild --platform=browser, the package's browser build)", await browserAppSize()]);
const shipped = fs.readFileSync(path.join(root, "node_modules/mqtt/dist/mqtt.min.js"));
rows.push(["MQTT.js 5.16 shipped browser bundle (dist/mqtt.min.js)", { minified: shipped.length, gzipped: gzipSync(shipped, { level: 9 }).length, lazyMinified: 0, lazyGzipped: 0 }]);

/**
 * The browser test's page as a web app ships it: bundled from an app directory whose node_modules/edgemq is this
 * package (built first when dist/browser is missing), for the browser, with no other setting.
 */
async function browserAppSize(): Promise<BundleSize> {
  if (!fs.existsSync(path.join(root, "dist/browser/index.js"))) execSync("npm run build", { cwd: root, stdio: "ignore" });
  const app = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-browser-app-"));
  try {
    fs.mkdirSync(path.join(app, "node_modules"));
    fs.symlinkSync(root, path.join(app, "node_modules", "edgemq"), "dir");
    fs.copyFileSync(path.join(root, "test/browser/page.ts"), path.join(app, "page.ts"));
    const out = await build({ entryPoints: [path.join(app, "page.ts")], absWorkingDir: app, bundle: true, platform: "browser", format: "esm", minify: true, write: false, logLevel: "silent" });
    const code = out.outputFiles[0]!.contents;
    return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, lazyMinified: 0, lazyGzipped: 0 };
  } finally {
    fs.rmSync(app, { recursive: true, force: true });
  }
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
console.log("bundle size (esbuild --bundle --minify, ESM, ES2022; gzip -9)\n");
printTable(
  ["bundle", "min", "min+gz", "vs edgemq core"],
  rows.map(([name, s]) => [name, kb(s.minified), kb(s.gzipped), `${(s.gzipped / core.gzipped).toFixed(2)}x`]),
);

// Where the bytes go: minified bytes per concern (esbuild metafile bytesInOutput, summed over the concern's files).
const CONCERNS: Array<[concern: string, files: string[]]> = [
  ["client state machine", ["client/client.ts"]],
  ["session: QoS 1/2 flows, packet ids, requests", ["client/session.ts", "client/packet-ids.ts", "client/requests.ts"]],
  ["offline queue", ["client/outbox.ts", "client/queue.ts"]],
  ["subscriptions (dispatch)", ["client/subscription.ts"]],
  ["link, keepalive, backoff, events, clock", ["client/link.ts", "client/keepalive.ts", "client/backoff.ts", "client/events.ts", "client/clock.ts"]],
  ["option validation", ["client/options.ts"]],
  ["error classes", ["client/errors.ts", "mqtt/errors.ts", "store/store.ts"]],
  ["codec, client role: framing, PUBLISH, acks, CONNACK/SUBACK", ["mqtt/reader.ts", "mqtt/decode-publish.ts", "mqtt/decode-client.ts"]],
  ["codec, client role: CONNECT/PUBLISH/SUBSCRIBE encoding", ["mqtt/encode-client.ts", "mqtt/writer.ts", "mqtt/alloc.ts", "mqtt/packets.ts"]],
  ["codec, server role (+ role-choosing Decoder/encode)", ["mqtt/decode-server.ts", "mqtt/encode-server.ts", "mqtt/decode.ts", "mqtt/encode.ts"]],
  ["topic validation + topic trie, strict UTF-8", ["mqtt/topic.ts", "mqtt/utf8.ts"]],
  ["transports: TCP/TLS, WebSocket", ["transport/tcp.ts", "transport/websocket.ts", "transport/index.ts", "transport/transport.ts"]],
  ["MemoryStore", ["store/memory.ts"]],
  ["FileStore: log format, CRC32", ["store/file.ts", "store/log-format.ts", "store/crc32.ts"]],
];
const byConcern = (s: BundleSize) => {
  const modules = s.modules ?? {};
  const seen = new Set<string>();
  const out = CONCERNS.map(([, files]) => files.reduce((n, f) => (seen.add(`src/${f}`), n + (modules[`src/${f}`] ?? 0)), 0));
  const other = Object.entries(modules).filter(([f]) => !seen.has(f)).reduce((n, [, b]) => n + b, 0);
  return [...out, other];
};
const whole = byConcern(core);
const connect = byConcern(connectApp);
const share = (n: number, s: BundleSize) => `${((100 * n) / s.minified).toFixed(0)}%`;
console.log("\nwhere the bytes go: minified bytes per concern (esbuild metafile)\n");
printTable(
  ["concern", "core", "share", "connect app", "share"],
  [...CONCERNS.map(([c]) => c), "other (runtime helpers, glue)"].map((c, i) => [
    c,
    `${whole[i]!}`,
    share(whole[i]!, core),
    `${connect[i]!}`,
    share(connect[i]!, connectApp),
  ]),
);
const messages = [core, connectApp].map((s) => messageText(s.code!));
console.log(
  `\nmessage text (string/template literal prose: errors, warnings): core ${kb(messages[0]!.minified)} of the minified code, ` +
    `${kb(messages[0]!.gzipped)} of the min+gz; connect app ${kb(messages[1]!.minified)}, ${kb(messages[1]!.gzipped)} min+gz`,
);

console.log(`\nsize budget (bench/lib/size-budget.ts, checked in npm test):\n  ${budgetReport(budgets).join("\n  ")}`);
