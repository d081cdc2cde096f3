/**
 * ws:// and wss:// with the `ws` package's WebSocket (Node 20 has no global one): the client against aedes
 * behind a `ws` server, over plain HTTP and over HTTPS with the test CA; and against a scripted WebSocket
 * server that cuts MQTT packets across frames and joins several into one frame.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import * as net from "node:net";
import {
  connect,
  ConnectError,
  createClient,
  Decoder,
  encode,
  ClientWarning,
  type Client,
  type ClientOptions,
  type Packet,
  type QoS,
} from "../../src/index.ts";
import { startAedesWebSocket, type WebSocketBroker } from "../support/aedes.ts";
import { CLIENT_CN, makeTestCerts, type TestCerts } from "../support/certs.ts";
import { takeMessage, takeMessages, text } from "../support/messages.ts";

const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end({ timeout: 2000 })));
});

async function open(options: ClientOptions): Promise<Client> {
  const client = await connect({ webSocket: WebSocket, reconnect: false, connectTimeout: 10_000, ...options });
  clients.push(client);
  return client;
}

/** Connects expecting a refusal; returns the ConnectError. */
async function refused(options: ClientOptions): Promise<ConnectError> {
  let client: Client | undefined;
  try {
    client = await connect({ webSocket: WebSocket, reconnect: false, connectTimeout: 10_000, ...options });
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe("connection-failed");
    return err as ConnectError;
  }
  await client.end({ force: true });
  throw new Error(`expected the connection to ${options.url} to be refused, but it connected`);
}

/** The innermost cause of an error chain. */
function rootCause(err: unknown): Error & { code?: string } {
  let e = err as Error;
  while (e.cause instanceof Error) e = e.cause;
  return e as Error & { code?: string };
}

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe("ws:// against aedes", () => {
  let broker: WebSocketBroker;
  beforeAll(async () => {
    broker = await startAedesWebSocket();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("connects with the mqtt subprotocol", async () => {
    const before = broker.protocols.length;
    const client = await open({ url: broker.url });
    expect(client.connected).toBe(true);
    expect(broker.protocols.slice(before)).toEqual(["mqtt"]);
  });

  for (const qos of [0, 1, 2] as QoS[]) {
    it(`publishes and receives at QoS ${qos}`, async () => {
      const publisher = await open({ url: broker.url });
      const subscriber = await open({ url: broker.url });
      const topic = `ws/qos${qos}`;
      const sub = await subscriber.subscribe(topic, { qos });
      expect(sub.granted).toEqual([qos]);
      await publisher.publish(topic, `over a WebSocket at QoS ${qos}`, { qos });
      const msg = await takeMessage(sub);
      expect(msg.topic).toBe(topic);
      expect(msg.qos).toBe(qos);
      expect(text(msg.payload)).toBe(`over a WebSocket at QoS ${qos}`);
    });
  }

  it("carries a 200 KB payload both ways at QoS 1", async () => {
    const publisher = await open({ url: broker.url });
    const subscriber = await open({ url: broker.url });
    const sub = await subscriber.subscribe("ws/large", { qos: 1 });
    const payload = pattern(200 * 1024, 7);
    await publisher.publish("ws/large", payload, { qos: 1 });
    const msg = await takeMessage(sub);
    expect(msg.payload.length).toBe(payload.length);
    expect(sameBytes(msg.payload, payload)).toBe(true);
  });

  it("carries a 1.5 MB payload at QoS 2 with maxPacketSize raised above the 1 MiB default", async () => {
    const publisher = await open({ url: broker.url });
    const subscriber = await open({ url: broker.url, maxPacketSize: 2 << 20 });
    const sub = await subscriber.subscribe("ws/huge", { qos: 2 });
    const payload = pattern(1_500_000, 3);
    await publisher.publish("ws/huge", payload, { qos: 2 });
    const msg = await takeMessage(sub);
    expect(msg.qos).toBe(2);
    expect(sameBytes(msg.payload, payload)).toBe(true);
  });

  it("with the default maxPacketSize the same 1.5 MB message is skipped and acknowledged; what follows arrives", async () => {
    const publisher = await open({ url: broker.url });
    const subscriber = await open({ url: broker.url });
    const warnings: ClientWarning[] = [];
    subscriber.on("warning", (w) => warnings.push(w));
    let drops = 0;
    subscriber.on("disconnect", () => drops++);
    const sub = await subscriber.subscribe("ws/too-big", { qos: 1 });
    await publisher.publish("ws/too-big", pattern(1_500_000, 5), { qos: 1 });
    await publisher.publish("ws/too-big", "after", { qos: 1 });
    const msg = await takeMessage(sub);
    expect(text(msg.payload)).toBe("after");
    expect(warnings.map((w) => [w.code, w.topic])).toEqual([["message-too-large", "ws/too-big"]]);
    expect(warnings[0]!.size).toBeGreaterThan(1_500_000);
    expect(drops).toBe(0);
    expect(subscriber.connected).toBe(true);
    expect(subscriber.stats().dropped).toBe(1);
  });

  it("keeps order across many small messages sent in one burst", async () => {
    const publisher = await open({ url: broker.url });
    const subscriber = await open({ url: broker.url });
    const sub = await subscriber.subscribe("ws/burst", { qos: 1 });
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => publisher.publish("ws/burst", `m${i}`, { qos: 1 })));
    const got = await takeMessages(sub, n);
    expect(got.map((m) => text(m.payload))).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
  });

  it("fails with connection-failed when no WebSocket implementation is available", async () => {
    const g = globalThis as { WebSocket?: unknown };
    const had = Object.prototype.hasOwnProperty.call(g, "WebSocket");
    const saved = g.WebSocket;
    delete g.WebSocket; // Node 20 has none; Node 22, Deno and Bun do
    try {
      const client = createClient({ url: broker.url, reconnect: false });
      const err = await client.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.end({ force: true });
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe("connection-failed");
      expect(rootCause(err).message).toMatch(/no WebSocket implementation/);
    } finally {
      if (had) g.WebSocket = saved;
    }
  });
});

/**
 * A WebSocket server with a script instead of a broker: it decodes what the client sends and answers with
 * frames of its choosing.
 */
class ScriptedServer {
  readonly wss: WebSocketServer;
  port = 0;
  constructor(private readonly script: (socket: WebSocket, packet: Packet) => void) {
    this.wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    this.wss.on("connection", (socket) => {
      const decoder = new Decoder({ role: "server", maxPacketSize: 1 << 20 });
      socket.on("message", (data: Buffer) => {
        for (const p of decoder.push(new Uint8Array(data))) this.script(socket, p);
      });
    });
  }
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.wss.once("listening", resolve));
    this.port = (this.wss.address() as net.AddressInfo).port;
    return `ws://127.0.0.1:${this.port}`;
  }
  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

describe("ws:// frames are not packets", () => {
  const servers: ScriptedServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  const publish = (topic: string, payload: string): Uint8Array =>
    encode({ type: "publish", topic, payload: new TextEncoder().encode(payload), qos: 0, retain: false, dup: false });

  it("decodes a CONNACK split over two frames, a SUBACK and PUBLISH joined in one frame, and a PUBLISH sent one byte per frame", async () => {
    const server = new ScriptedServer((socket, p) => {
      if (p.type === "connect") {
        const connack = encode({ type: "connack", sessionPresent: false, returnCode: 0 });
        socket.send(connack.subarray(0, 1));
        socket.send(connack.subarray(1));
      } else if (p.type === "subscribe") {
        const suback = encode({ type: "suback", packetId: p.packetId, granted: [0] });
        const first = publish("frames/a", "joined with the SUBACK");
        const joined = new Uint8Array(suback.length + first.length);
        joined.set(suback, 0);
        joined.set(first, suback.length);
        socket.send(joined);
        for (const byte of publish("frames/b", "one byte per frame")) socket.send(new Uint8Array([byte]));
      }
    });
    servers.push(server);
    const client = await open({ url: await server.start(), keepalive: 0 });
    const sub = await client.subscribe("frames/#");
    const got = await takeMessages(sub, 2);
    expect(got.map((m) => [m.topic, text(m.payload)])).toEqual([
      ["frames/a", "joined with the SUBACK"],
      ["frames/b", "one byte per frame"],
    ]);
  });

  it("a text frame breaks the connection with an error naming it", async () => {
    const server = new ScriptedServer((socket, p) => {
      if (p.type === "connect") {
        socket.send(encode({ type: "connack", sessionPresent: false, returnCode: 0 }));
        socket.send("not binary");
      }
    });
    servers.push(server);
    const client = createClient({ url: await server.start(), webSocket: WebSocket, reconnect: false, keepalive: 0 });
    clients.push(client);
    const disconnected = new Promise<Error | undefined>((resolve) => client.on("disconnect", (e) => resolve(e.reason)));
    await client.connect();
    const reason = await disconnected;
    expect(reason?.message).toMatch(/text WebSocket frame/);
    expect(client.connected).toBe(false);
  });
});

describe("wss:// against aedes with the test CA", () => {
  let certs: TestCerts;
  let broker: WebSocketBroker;
  let mutual: WebSocketBroker;
  beforeAll(async () => {
    certs = makeTestCerts();
    broker = await startAedesWebSocket({}, { cert: certs.server.cert, key: certs.server.key });
    mutual = await startAedesWebSocket({}, { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, requestCert: true });
  });
  afterAll(async () => {
    await broker?.close();
    await mutual?.close();
    certs?.dispose();
  });

  it("connects with the test CA and carries QoS 1 messages", async () => {
    const client = await open({ url: broker.url, tls: { ca: certs.ca.cert } });
    const sub = await client.subscribe("wss/echo", { qos: 1 });
    await client.publish("wss/echo", "over wss", { qos: 1 });
    const msg = await takeMessage(sub);
    expect(text(msg.payload)).toBe("over wss");
    expect(broker.protocols.at(-1)).toBe("mqtt");
  });

  it("refuses the server certificate when the CA is not trusted, keeping the TLS error as the cause", async () => {
    const err = await refused({ url: broker.url, tls: { ca: certs.otherCa.cert } });
    const cause = rootCause(err);
    expect(cause.message).toMatch(/certificate/i);
    // The https server sends only its own certificate, whose issuer the client does not know.
    expect(cause.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("rejectUnauthorized: false accepts the untrusted certificate", async () => {
    const client = await open({ url: broker.url, tls: { ca: certs.otherCa.cert, rejectUnauthorized: false } });
    expect(client.connected).toBe(true);
  });

  it("passes servername through: a name the certificate lacks is refused, one it has is accepted", async () => {
    const err = await refused({ url: broker.url, tls: { ca: certs.ca.cert, servername: "wrong.test" } });
    expect(rootCause(err).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    const client = await open({ url: broker.url, tls: { ca: certs.ca.cert, servername: "broker.test" } });
    expect(client.connected).toBe(true);
  });

  it("presents the client certificate to a server that requires one", async () => {
    const before = mutual.clientCertificates.length;
    const client = await open({ url: mutual.url, tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key } });
    expect(client.connected).toBe(true);
    expect(mutual.clientCertificates.slice(before)).toEqual([CLIENT_CN]);
  });

  it("is refused by that server without a client certificate", async () => {
    await refused({ url: mutual.url, tls: { ca: certs.ca.cert } });
  });
});
