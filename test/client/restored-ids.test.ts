/**
 * Packet ids held by stored records are never handed out again: a subscribe() made before the store has opened
 * must not take the id of a QoS 2 message waiting for its PUBCOMP, which would make the client PUBLISH that
 * message again after PUBREL ([MQTT-4.3.3-1]) and never release the broker's id. Scripted broker and mosquitto.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect, createClient, FileStore, type Packet } from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { startMosquitto } from "../support/mosquitto.ts";
import { settle } from "../support/fake-clock.ts";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-restored-ids-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A first run that leaves one QoS 2 message in the PUBREL state, with packet id 1, in a FileStore on `dir`. */
async function leavePubrel(dir: string, clientId: string): Promise<number> {
  const broker = new FakeBroker();
  const c = createClient({ url: "mqtt://fake", transport: broker.transport, clientId, clean: false, store: new FileStore(dir), reconnect: false, keepalive: 0 });
  const p = c.connect();
  const conn = await broker.nextConnection();
  await conn.accept(false);
  await p;
  void c.publish("once/x", "only once", { qos: 2 }).catch(() => undefined);
  const sent = await conn.next("publish");
  conn.send({ type: "pubrec", packetId: sent.packetId! });
  await conn.next("pubrel");
  await c.end({ force: true }); // the process "dies" before PUBCOMP
  return sent.packetId!;
}

describe("ids of stored records are reserved before any request can take one", () => {
  it("scripted broker: a subscribe() made before connect() takes another id; the stored message gets PUBREL, never PUBLISH", async () => {
    const dir = path.join(root, "scripted");
    const id = await leavePubrel(dir, "r1");
    expect(id).toBe(1);
    const broker = new FakeBroker();
    const c = createClient({ url: "mqtt://fake", transport: broker.transport, clientId: "r1", clean: false, store: new FileStore(dir), reconnect: false, keepalive: 0 });
    const subscribing = c.subscribe("cmd/#", { qos: 1 }); // before the store is open
    const connecting = c.connect();
    const conn = await broker.nextConnection();
    await conn.accept(true);
    await connecting;
    await settle();
    const sent = conn.packets.filter((p) => p.type !== "connect");
    const sub = sent.find((p): p is Extract<Packet, { type: "subscribe" }> => p.type === "subscribe")!;
    expect(sub.packetId).not.toBe(id);
    expect(sent.filter((p) => p.type === "publish")).toEqual([]);
    expect(sent).toContainEqual({ type: "pubrel", packetId: id });
    conn.send({ type: "pubcomp", packetId: id }, { type: "suback", packetId: sub.packetId, granted: [1] });
    expect((await subscribing).granted).toEqual([1]);
    expect(c.stats().inflight).toBe(0);
    await c.end();
  });

  it("mosquitto: the stored message is released (PUBREL, PUBCOMP), not published again, and the early subscription works", async () => {
    const broker = await startMosquitto();
    const dir = path.join(root, "mosquitto");
    try {
      const id = await leavePubrel(dir, "r2");
      const watcher = await connect({ url: broker.url, clientId: "r2-watch", reconnect: false });
      const seen: string[] = [];
      watcher.on("message", (m) => seen.push(m.topic));
      await watcher.subscribe("once/#", { qos: 2 });
      const c = createClient({ url: broker.url, clientId: "r2", clean: false, store: new FileStore(dir), reconnect: false });
      const subscribing = c.subscribe("cmd/#", { qos: 1 });
      await c.connect();
      const sub = await subscribing;
      expect(sub.granted).toEqual([1]);
      for (let i = 0; i < 100 && c.stats().inflight > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(c.stats().inflight).toBe(0); // mosquitto answered the PUBREL for id 1 with PUBCOMP
      await watcher.publish("cmd/go", "x", { qos: 1 });
      const it = sub[Symbol.asyncIterator]();
      expect((await it.next()).value.topic).toBe("cmd/go");
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([]); // the message was not PUBLISHed again
      expect(id).toBe(1);
      await c.end();
      await watcher.end();
    } finally {
      await broker.dispose();
    }
  });
});
