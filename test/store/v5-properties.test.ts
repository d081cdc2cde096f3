/**
 * MQTT 5 properties of in-flight messages survive a restart with a FileStore (issue #17): the log keeps them in a
 * record of its own (op 7), a record without properties stays byte-for-byte what 3.1.1 clients wrote (op 1), and a
 * restarted v5 client sends the message again with its properties.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, FileStore, type Client, type OutgoingRecord } from "../../src/index.ts";
import { decodeBody, encodeEntry, FRAME_HEADER, Op } from "../../src/store/log-format.ts";
import type { Packet as Packet5 } from "../../src/mqtt/v5/packets.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

const dirs: string[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end({ force: true }).catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const record = (extra: Partial<OutgoingRecord> = {}): OutgoingRecord => ({ seq: 3, packetId: 0, state: "publish", topic: "a/b", payload: new Uint8Array([1, 2, 3]), qos: 1, retain: false, ...extra });

describe("the log format", () => {
  it("keeps MQTT 5 properties, correlation data bytes included, in an op 7 record", () => {
    const properties = { contentType: "application/json", messageExpiryInterval: 60, correlationData: new Uint8Array([0, 255, 7]), userProperties: [["k", "v"], ["k", "w"]] as Array<[string, string]> };
    const bytes = encodeEntry({ op: Op.PutOutgoing, record: record({ properties }) });
    expect(bytes[FRAME_HEADER]).toBe(Op.PutOutgoing5);
    expect(decodeBody(bytes.subarray(FRAME_HEADER))).toEqual({ op: Op.PutOutgoing5, record: record({ properties }) });
  });

  it("keeps correlation data of the largest size MQTT allows (65,535 bytes)", () => {
    const correlationData = Uint8Array.from({ length: 65_535 }, (_, i) => i % 251);
    const bytes = encodeEntry({ op: Op.PutOutgoing, record: record({ properties: { correlationData } }) });
    expect(decodeBody(bytes.subarray(FRAME_HEADER))).toEqual({ op: Op.PutOutgoing5, record: record({ properties: { correlationData } }) });
  });

  it("writes a record without properties as 3.1.1 clients always did (op 1), and refuses a damaged properties section", () => {
    const plain = encodeEntry({ op: Op.PutOutgoing, record: record() });
    expect(plain[FRAME_HEADER]).toBe(Op.PutOutgoing);
    expect(decodeBody(plain.subarray(FRAME_HEADER))).toEqual({ op: Op.PutOutgoing, record: record() });
    const v5 = encodeEntry({ op: Op.PutOutgoing, record: record({ properties: { contentType: "x" } }) }).slice(FRAME_HEADER);
    v5[19] = 0x7b; // the JSON no longer parses
    expect(decodeBody(v5)).toBeUndefined();
    const short = encodeEntry({ op: Op.PutOutgoing, record: record({ properties: { contentType: "x" } }) }).slice(FRAME_HEADER);
    new DataView(short.buffer).setUint32(14, 1 << 20); // a properties length beyond the record
    expect(decodeBody(short)).toBeUndefined();
  });
});

/**
 * A v5 client with a FileStore goes offline, publishes `topic` at QoS 1 with `properties` (it waits in the store), and
 * ends; returns what a second client on the same store needs.
 */
async function publishedBeforeRestart(topic: string, properties: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-v5-store-"));
  dirs.push(dir);
  const broker = FakeBroker.v5();
  const clock = new FakeClock();
  const options = { url: "mqtt://fake", transport: broker.transport, clock, keepalive: 0, protocolVersion: 5 as const, clientId: "gw-5", clean: false, reconnect: false as const };
  const first = createClient({ ...options, store: new FileStore(dir) });
  clients.push(first);
  const connected = first.connect();
  const conn1 = await broker.nextConnection();
  await conn1.accept();
  await connected;
  conn1.drop(); // offline from now on: the message waits in the store
  await settle();
  const pending = first.publish(topic, "x", { qos: 1, ...properties }).catch((e: unknown) => e);
  await settle();
  await first.end({ force: true });
  expect(await pending).toMatchObject({ code: "client-closed" });
  return { dir, broker, clock, options };
}

describe("a restarted v5 client", () => {
  it("sends a message queued before the restart with its properties", async () => {
    const { dir, broker, options } = await publishedBeforeRestart("up/1", { contentType: "text/plain", correlationData: new Uint8Array([9, 9]), userProperties: { site: "7" } });
    const second = createClient({ ...options, store: new FileStore(dir) });
    clients.push(second);
    const connecting = second.connect();
    const conn = await broker.nextConnection();
    await conn.accept(true);
    await connecting;
    const sent = (await conn.next("publish")) as Extract<Packet5, { type: "publish" }>;
    expect(sent.topic).toBe("up/1");
    expect(sent.properties).toEqual({ contentType: "text/plain", correlationData: new Uint8Array([9, 9]), userProperties: [["site", "7"]] });
  });

  it("sends a restored message with its whole Message Expiry Interval, however long the restart took (the time it waited before is not known)", async () => {
    const { dir, broker, clock, options } = await publishedBeforeRestart("up/ttl", { messageExpiryInterval: 30 });
    await clock.advance(120_000); // far beyond the 30 s, while the process was down

    // Restored as the connection starts; the broker then takes 60 s to answer.
    const second = createClient({ ...options, connectTimeout: 300_000, store: new FileStore(dir) });
    clients.push(second);
    const connecting = second.connect();
    const conn = await broker.nextConnection();
    await clock.advance(60_000);
    await conn.accept(true);
    await connecting;
    const sent = (await conn.next("publish")) as Extract<Packet5, { type: "publish" }>;
    expect(sent.topic).toBe("up/ttl");
    expect(sent.properties).toEqual({ messageExpiryInterval: 30 });
  });
});
