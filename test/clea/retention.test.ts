/** Retention queues: bounds, expiry, and the stored queue's file surviving restarts and damage. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StoredQueue, VolatileQueue, type RetainedMessage } from "../../src/clea/retention.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const file = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-ret-"));
  dirs.push(d);
  return path.join(d, "retention.log");
};
const msg = (n: number, expiresAt?: number): RetainedMessage => ({ topic: `t/${n}`, payload: Uint8Array.of(n), qos: 1, expiresAt });

describe("VolatileQueue", () => {
  it("keeps the newest maxMessages, counts what it dropped, and drops expired messages on drain", () => {
    const q = new VolatileQueue(3);
    for (let i = 0; i < 5; i++) q.push(msg(i, i === 3 ? 100 : undefined));
    expect(q.overflowed).toBe(2);
    const { messages, expired } = q.drain(200);
    expect(messages.map((m) => m.topic)).toEqual(["t/2", "t/4"]);
    expect(expired).toBe(1);
    expect(q.length).toBe(0);
  });
});

describe("StoredQueue", () => {
  it("survives a restart in order, forgets what was handed over, and stays bounded", () => {
    const f = file();
    const q = new StoredQueue(f, 3);
    expect(q.open()).toEqual([]);
    for (let i = 0; i < 4; i++) q.push(msg(i));
    expect(q.overflowed).toBe(1);
    const first = q.pending(0);
    first.messages[0]!.done();
    q.close();
    const again = new StoredQueue(f, 3);
    expect(again.open()).toEqual([]);
    const { messages } = again.pending(0);
    expect(messages.map((m) => m.message.topic)).toEqual(["t/2", "t/3"]);
    expect(messages[0]!.message.payload).toEqual(Uint8Array.of(2));
    again.close();
  });

  it("drops expired messages instead of returning them", () => {
    const q = new StoredQueue(file(), 10);
    q.open();
    q.push(msg(1, 1000));
    q.push(msg(2, 5000));
    const { messages, expired } = q.pending(2000);
    expect(messages.map((m) => m.message.topic)).toEqual(["t/2"]);
    expect(expired).toBe(1);
    q.close();
  });

  it("skips a torn or damaged line with a warning and keeps the intact ones", () => {
    const f = file();
    const q = new StoredQueue(f, 10);
    q.open();
    q.push(msg(1));
    q.push(msg(2));
    q.close();
    fs.appendFileSync(f, '{"op":"add","id":9,"topic":"t/9","payl'); // torn tail
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace('"t/1"', '"t/1"x')); // a damaged first line
    const again = new StoredQueue(f, 10);
    const warnings = again.open();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 2 damaged retention record/);
    expect(again.pending(0).messages.map((m) => m.message.topic)).toEqual(["t/2"]);
    again.close();
  });

  it("skips lines that are valid JSON but not records (null, bad ids, bad base64) instead of failing to open", () => {
    const f = file();
    const q = new StoredQueue(f, 10);
    q.open();
    q.push(msg(1));
    q.close();
    fs.appendFileSync(f, 'null\n{"op":"add","id":"x","topic":"t","payload":"AQ","qos":1}\n{"op":"add","id":7,"topic":"t","payload":"!!","qos":1}\n');
    const again = new StoredQueue(f, 10);
    expect(again.open()).toEqual([expect.stringMatching(/skipped 3 damaged retention record/)]);
    expect(again.pending(0).messages.map((m) => m.message.topic)).toEqual(["t/1"]);
    again.close();
  });
});
