/** `edgemq pub` and `edgemq sub`, the built command in child processes, against a real mosquitto. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../support/built-package.js";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.js";
import { runCli, startCli, startSubscriber } from "./cli-process.js";

let broker: Mosquitto;
let port: string;
let n = 0;
/** A topic of its own for each test. */
const fresh = (name: string) => `cli/${name}/${process.pid}-${++n}`;

beforeAll(async () => {
  await ensureBuilt();
  broker = await startMosquitto();
  port = String(broker.port);
}, 180_000);

afterAll(async () => {
  await broker?.dispose();
});

describe("pub -m, received by sub -C", () => {
  for (const qos of ["0", "1", "2"]) {
    it(`at QoS ${qos}`, async () => {
      const topic = fresh(`qos${qos}`);
      const sub = await startSubscriber(["-p", port, "-t", topic, "-q", qos, "-C", "2"]);
      for (const m of ["first", "second"]) {
        const pub = await runCli(["pub", "-p", port, "-t", topic, "-q", qos, "-m", m]);
        expect(pub).toMatchObject({ code: 0, stdout: "", stderr: "" });
      }
      const done = await sub.exited();
      expect(done.code).toBe(0);
      expect(done.stdout).toBe("first\nsecond\n");
    });
  }
});

it("-V mqttv5: pub's user properties, content type and message expiry reach sub --json as the message's properties", async () => {
  const topic = fresh("v5");
  const sub = await startSubscriber(["-V", "mqttv5", "-p", port, "-t", topic, "-q", "1", "-C", "1", "--json"]);
  const pub = await runCli(["pub", "-V", "mqttv5", "-p", port, "-t", topic, "-q", "1", "-m", "hi", "--user-property", "a=1", "--user-property", "a=2", "--user-property", "site=plant=7", "--content-type", "text/plain", "--message-expiry", "60"]);
  expect(pub).toMatchObject({ code: 0, stdout: "", stderr: "" });
  const done = await sub.exited();
  expect(done.code).toBe(0);
  const line = JSON.parse(done.stdout) as { payload: string; properties: { contentType: string; userProperties: unknown; messageExpiryInterval: number } };
  expect(line.payload).toBe("hi");
  expect(line.properties).toMatchObject({ contentType: "text/plain", userProperties: { a: ["1", "2"], site: "plant=7" } });
  expect(line.properties.messageExpiryInterval).toBeLessThanOrEqual(60);
});

it("MQTT 5 flags without -V mqttv5, a malformed one, or an unknown -V are usage errors (exit 1)", async () => {
  const noV5 = await runCli(["pub", "-p", port, "-t", "x", "-m", "y", "--user-property", "a=1"]);
  expect(noV5.code).toBe(1);
  expect(noV5.stderr).toContain("need -V mqttv5");
  expect((await runCli(["pub", "-V", "mqttv5", "-p", port, "-t", "x", "-m", "y", "--user-property", "novalue"])).code).toBe(1);
  const bad = await runCli(["pub", "-V", "mqttv31", "-p", port, "-t", "x", "-m", "y"]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("-V must be mqttv311 or mqttv5");
});

it("sub -v prints the topic and the payload (-h is the host)", async () => {
  const base = fresh("verbose");
  const sub = await startSubscriber(["-h", "127.0.0.1", "-p", port, "-t", `${base}/#`, "-C", "2", "-v"]);
  await runCli(["pub", "-h", "127.0.0.1", "-p", port, "-t", `${base}/a`, "-m", "one two"]);
  await runCli(["pub", "-p", port, "-t", `${base}/b`, "-m", "three"]);
  const done = await sub.exited();
  expect(done.code).toBe(0);
  expect(done.stdout).toBe(`${base}/a one two\n${base}/b three\n`);
});

it("sub --json prints one JSON object per line; bytes that are not UTF-8 as base64", async () => {
  const base = fresh("json");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-cli-"));
  try {
    const file = path.join(dir, "payload.bin");
    fs.writeFileSync(file, Uint8Array.from([0xff, 0x00, 0xfe, 0x41]));
    const sub = await startSubscriber(["-p", port, "-t", `${base}/#`, "-q", "1", "-C", "2", "--json"]);
    expect((await runCli(["pub", "-p", port, "-t", `${base}/text`, "-q", "1", "-m", "héllo \"q\""])).code).toBe(0);
    expect((await runCli(["pub", "-p", port, "-t", `${base}/bin`, "-q", "1", "-f", file])).code).toBe(0);
    const done = await sub.exited();
    expect(done.code).toBe(0);
    const lines = done.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { topic: `${base}/text`, qos: 1, retain: false, dup: false, payload: 'héllo "q"' },
      { topic: `${base}/bin`, qos: 1, retain: false, dup: false, payload: { base64: Buffer.from([0xff, 0x00, 0xfe, 0x41]).toString("base64") } },
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it("pub -l publishes one message per stdin line", async () => {
  const topic = fresh("lines");
  const sub = await startSubscriber(["-p", port, "-t", topic, "-q", "1", "-C", "3"]);
  const pub = await runCli(["pub", "-p", port, "-t", topic, "-q", "1", "-l"], "alpha\nbeta\ngamma\n");
  expect(pub).toMatchObject({ code: 0, stderr: "" });
  const done = await sub.exited();
  expect(done.code).toBe(0);
  expect(done.stdout).toBe("alpha\nbeta\ngamma\n");
});

it("pub -s publishes all of stdin as one message", async () => {
  const topic = fresh("stdin");
  const sub = await startSubscriber(["-p", port, "-t", topic, "-C", "1", "--json"]);
  expect((await runCli(["pub", "-p", port, "-t", topic, "-s"], "line 1\nline 2")).code).toBe(0);
  const done = await sub.exited();
  expect(JSON.parse(done.stdout).payload).toBe("line 1\nline 2");
});

it("pub -f publishes the file's bytes", async () => {
  const topic = fresh("file");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-cli-"));
  try {
    const file = path.join(dir, "msg.txt");
    fs.writeFileSync(file, "from a file");
    const sub = await startSubscriber(["-p", port, "-t", topic, "-C", "1", "-q", "2"]);
    expect((await runCli(["pub", "-p", port, "-t", topic, "-q", "2", "-f", file])).code).toBe(0);
    const done = await sub.exited();
    expect(done).toMatchObject({ code: 0, stdout: "from a file\n" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it("pub -n publishes an empty message", async () => {
  const topic = fresh("null");
  const sub = await startSubscriber(["-p", port, "-t", topic, "-C", "1", "--json"]);
  expect((await runCli(["pub", "-p", port, "-t", topic, "-n"])).code).toBe(0);
  const done = await sub.exited();
  expect(done.code).toBe(0);
  expect(JSON.parse(done.stdout)).toEqual({ topic, qos: 0, retain: false, dup: false, payload: "" });
});

it("pub -r retains the message: a later sub gets it (and -R skips it)", async () => {
  const topic = fresh("retain");
  expect((await runCli(["pub", "-p", port, "-t", topic, "-q", "1", "-r", "-m", "kept"])).code).toBe(0);
  const later = await runCli(["sub", "-p", port, "-t", topic, "-C", "1", "--json"]);
  expect(later.code).toBe(0);
  expect(JSON.parse(later.stdout)).toMatchObject({ topic, retain: true, payload: "kept" });

  // -R: the retained message is not printed and does not count; a live one is.
  const skipping = await startSubscriber(["-p", port, "-t", topic, "-C", "1", "-R"]);
  expect((await runCli(["pub", "-p", port, "-t", topic, "-m", "live"])).code).toBe(0);
  expect(await skipping.exited()).toMatchObject({ code: 0, stdout: "live\n" });
  // Clear the retained message (an empty retained publish).
  expect((await runCli(["pub", "-p", port, "-t", topic, "-r", "-n"])).code).toBe(0);
});

it("sub without -C runs until SIGTERM (or SIGINT), then exits 0", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const topic = fresh("signal");
    const sub = await startSubscriber(["-p", port, "-t", topic]);
    expect((await runCli(["pub", "-p", port, "-t", topic, "-m", "before"])).code).toBe(0);
    const deadline = Date.now() + 5000;
    while (!sub.stdout().includes("before") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sub.child.kill(signal);
    const done = await sub.exited();
    expect(done).toMatchObject({ code: 0, signal: null, stdout: "before\n" });
  }
});

it("a connection refused exits 2 with one stderr line naming the code", async () => {
  const free = await import("../support/mosquitto.js").then((m) => m.freePort());
  for (const args of [
    ["pub", "-p", String(free), "-t", "x", "-m", "y"],
    ["sub", "-p", String(free), "-t", "x"],
    ["pub", "-u", `mqtt://127.0.0.1:${free}`, "-t", "x", "-m", "y", "-q", "1"],
  ]) {
    const r = await runCli(args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(new RegExp(`^edgemq: connection failed \\[connection-failed\\]: .*ECONNREFUSED 127\\.0\\.0\\.1:${free}\\n$`));
  }
});

it("pub -l of an empty stdin sends nothing and exits 0", async () => {
  const r = await startCli(["pub", "-p", port, "-t", fresh("empty"), "-l"]).exited();
  expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
});

it("pub -m does not wait for a stdin that stays open: it exits once acknowledged", async () => {
  const p = startCli(["pub", "-p", port, "-t", fresh("open-stdin"), "-q", "2", "-m", "x"], "open");
  try {
    expect(await p.exited(5000)).toMatchObject({ code: 0, stdout: "", stderr: "" });
  } finally {
    p.child.stdin!.destroy();
  }
});
