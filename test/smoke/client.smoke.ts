/** Client integration subset for Deno and Bun: a real mosquitto, QoS 0/1/2, reconnect after a restart, FileStore resume. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeTestCerts } from "../support/certs.ts";
import { freePort, startMosquitto } from "../support/mosquitto.ts";
import { assert, assertEqual, test } from "./harness.ts";
import type * as Edgemq from "../../src/index.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Registers the client smoke tests against one build of the package. */
export function clientSmoke(m: typeof Edgemq): void {
  test("connects to mosquitto and publishes/receives at QoS 0, 1 and 2", async () => {
    const broker = await startMosquitto();
    try {
      const sub = await m.connect({ url: broker.url, reconnect: false });
      const pub = await m.connect({ url: broker.url, reconnect: false });
      const s = await sub.subscribe("smoke/#", { qos: 2 });
      assertEqual(s.granted, [2], "granted QoS");
      await pub.publish("smoke/0", "zero");
      await pub.publish("smoke/1", "one", { qos: 1 });
      await pub.publish("smoke/2", "two", { qos: 2 });
      const got: string[] = [];
      for await (const msg of s) {
        got.push(`${msg.topic}=${text(msg.payload)}@${msg.qos}`);
        if (got.length === 3) break;
      }
      assertEqual(got, ["smoke/0=zero@0", "smoke/1=one@1", "smoke/2=two@2"]);
      await pub.end();
      await sub.end();
    } finally {
      await broker.dispose();
    }
  });

  test("large payloads (written uncopied after their header) arrive intact between small ones", async () => {
    const broker = await startMosquitto();
    try {
      const sub = await m.connect({ url: broker.url, reconnect: false });
      const pub = await m.connect({ url: broker.url, reconnect: false });
      const s = await sub.subscribe("big/x", { qos: 1 });
      const big = new Uint8Array(200_000).map((_, i) => i % 251);
      await Promise.all([
        pub.publish("big/x", big, { qos: 1 }),
        pub.publish("big/x", "small", { qos: 1 }),
        pub.publish("big/x", big, { qos: 0 }),
      ]);
      const sizes: number[] = [];
      for await (const msg of s) {
        sizes.push(msg.payload.length);
        if (msg.payload.length === big.length) assert(msg.payload.every((x, i) => x === i % 251), "payload bytes intact");
        if (sizes.length === 3) break;
      }
      assertEqual(sizes, [200_000, 5, 200_000]);
      await pub.end();
      await sub.end();
    } finally {
      await broker.dispose();
    }
  });

  test("reconnects after a broker restart and loses no QoS 1 message", async () => {
    const broker = await startMosquitto({ persistence: true });
    try {
      const received = new Set<string>();
      const fast = { initialDelay: 50, maxDelay: 300 };
      const sub = m.createClient({ url: broker.url, clientId: "smoke-sub", clean: false, reconnect: fast });
      sub.on("message", (msg) => received.add(text(msg.payload)));
      await sub.connect();
      await sub.subscribe("restart/#", { qos: 1 });
      const pub = await m.connect({ url: broker.url, clientId: "smoke-pub", clean: false, reconnect: fast });
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) {
        pending.push(pub.publish("restart/x", String(i), { qos: 1 }));
        if (i === 50) {
          await broker.stop();
          await broker.start();
        }
      }
      await Promise.all(pending);
      await until(() => received.size === 100, 15_000, "100 messages");
      assert(pub.stats().reconnects > 0, "the publisher reconnected");
      await pub.end();
      await sub.end();
    } finally {
      await broker.dispose();
    }
  });

  test("FileStore keeps unacked messages for the next client with the same id", async () => {
    const broker = await startMosquitto();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-smoke-store-"));
    try {
      const received: string[] = [];
      const sub = await m.connect({ url: broker.url, reconnect: false });
      sub.on("message", (msg) => received.push(text(msg.payload)));
      await sub.subscribe("store/#", { qos: 1 });
      // Offline publisher: messages go to the FileStore only.
      const offline = m.createClient({ url: "mqtt://127.0.0.1:1", clientId: "smoke-store", clean: false, store: new m.FileStore(dir), reconnect: false, connectTimeout: 2000 });
      const connecting = offline.connect().catch((e: unknown) => e);
      const accepted = [offline.publish("store/a", "1", { qos: 1 }), offline.publish("store/a", "2", { qos: 2 })];
      for (const p of accepted) p.catch(() => undefined);
      assert((await connecting) instanceof m.ConnectError, "the unreachable broker is refused");
      await offline.end({ force: true });
      const online = await m.connect({ url: broker.url, clientId: "smoke-store", clean: false, store: new m.FileStore(dir), reconnect: false });
      await until(() => received.length === 2, 5000, "stored messages");
      assertEqual(received, ["1", "2"]);
      await online.end();
      await sub.end();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await broker.dispose();
    }
  });

  test("mutual TLS with a certificate the test made, and a wrong CA refused", async () => {
    const certs = makeTestCerts();
    const port = await freePort();
    const broker = await startMosquitto({
      listenerConfig: [
        `listener ${port} 127.0.0.1`,
        `cafile ${certs.ca.certFile}`,
        `certfile ${certs.server.certFile}`,
        `keyfile ${certs.server.keyFile}`,
        "require_certificate true",
        "use_identity_as_username true",
      ],
    });
    try {
      const url = `mqtts://127.0.0.1:${port}`;
      const c = await m.connect({ url, reconnect: false, tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key } });
      const s = await c.subscribe("tls/#", { qos: 1 });
      await c.publish("tls/x", "secure", { qos: 1 });
      for await (const msg of s) {
        assertEqual(text(msg.payload), "secure");
        break;
      }
      await c.end();
      let refused: unknown;
      try {
        await m.connect({ url, reconnect: false, tls: { ca: certs.otherCa.cert, cert: certs.client.cert, key: certs.client.key } });
      } catch (err) {
        refused = err;
      }
      assert(refused instanceof m.ConnectError, "a server certificate from an unknown CA is refused");
      assertEqual((refused as Edgemq.ConnectError).code, "connection-failed");
    } finally {
      await broker.dispose();
      certs.dispose();
    }
  });
}
