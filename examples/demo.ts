/**
 * `npm run demo`: a simulated gateway against an embedded broker (aedes in-process), no setup needed.
 * Set EDGEMQ_URL=mqtt://host:port to use a real broker instead.
 *
 * The gateway publishes sensor telemetry at QoS 1, receives a command from a simulated cloud side, survives a
 * broker outage midway (publishing into its offline queue meanwhile) and loses nothing. Exits 0 on success.
 */
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Aedes } from "aedes";
import { connect, createClient, FileStore } from "../src/index.ts";

const started = performance.now();
function log(who: string, what: string): void {
  console.log(`[${((performance.now() - started) / 1000).toFixed(3).padStart(7)}s] ${who.padEnd(8)} ${what}`);
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An in-process broker whose listener can be stopped and restarted on the same port. */
async function embeddedBroker(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void>; close(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  let port = 0;
  const start = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        aedes.handle(s);
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server ? server.close(() => resolve()) : resolve();
    });
  await start();
  return { url: `mqtt://127.0.0.1:${port}`, start, stop, close: async () => {
    await stop();
    await new Promise<void>((r) => aedes.close(() => r()));
  } };
}

async function main(): Promise<void> {
  const external = process.env.EDGEMQ_URL;
  const broker = external ? undefined : await embeddedBroker();
  const url = external ?? broker!.url;
  log("demo", external ? `using broker ${url}` : `embedded broker listening on ${url}`);

  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-demo-"));
  const gatewayId = `gw-demo-${process.pid}`;

  // The cloud side: collects telemetry and sends a command.
  const cloud = await connect({ url, clientId: `cloud-${process.pid}`, clean: false, reconnect: { initialDelay: 100, maxDelay: 1000 } });
  const telemetry = await cloud.subscribe(`plant/${gatewayId}/+/temperature`, { qos: 1 });
  const seen = new Set<string>();
  let duplicates = 0;
  const collecting = (async () => {
    for await (const msg of telemetry) {
      const key = `${msg.topic}#${JSON.parse(text(msg.payload)).seq}`;
      if (seen.has(key)) duplicates++;
      seen.add(key);
    }
  })();

  // The gateway: durable store, persistent session, fast reconnect for the demo.
  const gateway = createClient({
    url,
    clientId: gatewayId,
    clean: false,
    keepalive: 5,
    store: new FileStore(storeDir),
    reconnect: { initialDelay: 200, maxDelay: 2000 },
    will: { topic: `plant/${gatewayId}/status`, payload: "offline", qos: 1, retain: true },
  });
  gateway.on("connect", (e) => log("gateway", `connected (session present: ${e.sessionPresent})`));
  gateway.on("disconnect", (e) => log("gateway", `disconnected: ${e.reason?.message ?? "by request"}`));
  gateway.on("reconnecting", (e) => log("gateway", `reconnecting in ${e.delay} ms (attempt ${e.attempt})`));
  await gateway.connect();
  await gateway.publish(`plant/${gatewayId}/status`, "online", { qos: 1, retain: true });

  let intervalMs = 100;
  const commands = await gateway.subscribe(`plant/${gatewayId}/cmd/#`, { qos: 1 });
  const handlingCommands = (async () => {
    for await (const cmd of commands) {
      const body = JSON.parse(text(cmd.payload)) as { intervalMs: number };
      intervalMs = body.intervalMs;
      log("gateway", `command ${cmd.topic.split("/").pop()}: sampling every ${intervalMs} ms`);
    }
  })();

  const sensors = ["press-7", "oven-2", "line-4"];
  const rounds = 30;
  let published = 0;
  const acks: Promise<void>[] = [];
  for (let seq = 0; seq < rounds; seq++) {
    for (const [i, sensor] of sensors.entries()) {
      const value = 20 + i * 5 + Math.sin(seq / 3) * 2;
      const payload = JSON.stringify({ seq, value: Number(value.toFixed(2)), at: new Date().toISOString() });
      acks.push(gateway.publish(`plant/${gatewayId}/${sensor}/temperature`, payload, { qos: 1 }));
      published++;
    }
    if (seq === 5) {
      log("cloud", "sending command set-interval (50 ms)");
      await cloud.publish(`plant/${gatewayId}/cmd/set-interval`, JSON.stringify({ intervalMs: 50 }), { qos: 1 });
    }
    if (seq === 12 && broker) {
      log("demo", "broker outage: stopping the listener and dropping every connection");
      await broker.stop();
    }
    if (seq === 18 && broker) {
      log("demo", `broker back (gateway queued ${gateway.stats().queued} messages meanwhile)`);
      await broker.start();
    }
    await sleep(intervalMs);
  }
  await Promise.all(acks);
  log("gateway", `all ${published} telemetry messages acknowledged by the broker`);

  const deadline = Date.now() + 10_000;
  while (seen.size < published && Date.now() < deadline) await sleep(50);
  const stats = gateway.stats();
  await gateway.end();
  await cloud.end();
  await Promise.all([collecting, handlingCommands]);
  await broker?.close();
  fs.rmSync(storeDir, { recursive: true, force: true });

  const ok = seen.size === published;
  console.log(
    `summary: ${ok ? "OK" : "FAILED"} - published ${published}, cloud received ${seen.size} distinct (${duplicates} duplicates), ` +
      `reconnects ${stats.reconnects}, dropped ${stats.dropped}`,
  );
  process.exit(ok ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error("demo failed:", err);
  process.exit(1);
});
