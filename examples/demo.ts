/**
 * `npm run demo`: a simulated Clea gateway against an embedded broker (aedes in-process), no setup needed.
 * Set EDGEMQ_URL=mqtt://host:port to use a real broker instead.
 *
 * The gateway connects as a Clea device, publishes sensor telemetry (three sensors with explicit timestamps and
 * one object interface), sets device properties, receives a command and an OTA request from a simulated cloud
 * side, reports the OTA through to Success, and rides out a broker restart midway without losing a guaranteed
 * message. As an Edgehog device it sends SystemStatus and StorageUsage from the host, and the cloud side changes the
 * SystemStatus period through config.Telemetry (60 s -> 1 s) while it runs. It prints what happened and a summary
 * line, and exits 0 when everything arrived.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Aedes } from "aedes";
import { connect } from "edgemq";
import { connectDevice, decodePayload, encodePayload, randomDeviceId } from "edgemq/clea";
import { imageDownloadHandler } from "./ota-handler.ts";

const started = performance.now();
function log(who: string, what: string): void {
  console.log(`[${((performance.now() - started) / 1000).toFixed(3).padStart(7)}s] ${who.padEnd(8)} ${what}`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An in-process broker whose listener can be stopped and restarted on the same port (sessions survive in aedes). */
async function embeddedBroker() {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
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
  return {
    url: `mqtt://127.0.0.1:${port}`,
    start,
    stop,
    close: async () => {
      await stop();
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

/** Serves one firmware image over HTTP with a Content-Length, like an update server would. */
async function firmwareServer(image: Uint8Array) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": image.length });
    res.end(image);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}/gw-os-2.0.0.bin`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function main(): Promise<void> {
  const external = process.env.EDGEMQ_URL;
  const broker = external ? undefined : await embeddedBroker();
  const url = external ?? broker!.url;
  log("demo", external ? `using broker ${url}` : `embedded broker listening on ${url}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-demo-"));
  const image = crypto.randomBytes(512 * 1024);
  const firmware = await firmwareServer(image);
  const sha = crypto.createHash("sha256").update(image).digest("hex");

  const realm = "acme";
  const deviceId = randomDeviceId();
  const prefix = `${realm}/${deviceId}`;

  // --- the simulated cloud side (what Clea's broker forwards to Astarte and Edgehog) ---
  const cloud = await connect({ url, clientId: `clea-cloud-${process.pid}`, clean: false, reconnect: { initialDelay: 100, maxDelay: 500 } });
  const telemetry = new Set<string>();
  let duplicates = 0;
  const otaStatuses: string[] = [];
  const properties = new Map<string, unknown>();
  const systemStatus: number[] = [];
  let storage: string | undefined;
  cloud.on("message", (msg) => {
    const topic = msg.topic.slice(prefix.length);
    if (topic === "") return log("cloud", `introspection: ${new TextDecoder().decode(msg.payload).split(";").length} interfaces`);
    if (topic === "/io.edgehog.devicemanager.SystemStatus/systemStatus") {
      const { value, timestamp } = decodePayload(msg.payload)!;
      const status = value as { availMemoryBytes: bigint; taskCount?: number; uptimeMillis: bigint };
      systemStatus.push(timestamp!.getTime());
      const gap = systemStatus.length > 1 ? ` (${((systemStatus.at(-1)! - systemStatus.at(-2)!) / 1000).toFixed(1)} s after the last)` : "";
      return log("cloud", `SystemStatus: ${status.availMemoryBytes / 1_048_576n} MiB available, ${status.taskCount ?? "?"} tasks, up ${status.uptimeMillis / 1000n} s${gap}`);
    }
    if (topic.startsWith("/io.edgehog.devicemanager.StorageUsage/")) {
      const v = decodePayload(msg.payload)!.value as { totalBytes: bigint; freeBytes: bigint };
      if (!storage) log("cloud", `StorageUsage ${topic.split("/")[2]}: ${v.freeBytes / 1_073_741_824n} of ${v.totalBytes / 1_073_741_824n} GiB free`);
      storage = topic.split("/")[2];
      return;
    }
    if (topic.startsWith("/com.acme.Sensors/") || topic.startsWith("/com.acme.Environment/")) {
      const key = `${topic}@${decodePayload(msg.payload)?.timestamp?.getTime()}`;
      if (telemetry.has(key)) duplicates++;
      telemetry.add(key);
    } else if (topic === "/io.edgehog.devicemanager.OTAEvent/event") {
      const ev = decodePayload(msg.payload)?.value as { status: string; statusProgress: number; statusCode: string };
      otaStatuses.push(ev.status);
      log("cloud", `OTA event: ${ev.status}${ev.statusProgress ? ` ${ev.statusProgress}%` : ""}${ev.statusCode ? ` (${ev.statusCode})` : ""}`);
    } else if (!topic.startsWith("/control/") && msg.payload.length > 0) {
      properties.set(topic, decodePayload(msg.payload)?.value);
    }
  });
  await cloud.subscribe([`${prefix}/#`, prefix], { qos: 2 });

  // --- the gateway ---
  const device = await connectDevice({
    realm,
    deviceId,
    url,
    interfaces: [new URL("./interfaces", import.meta.url).pathname],
    store: path.join(workDir, "device"),
    edgehog: { info: { serialNumber: "GW-0042", partNumber: "SECO-GW-1", baseImage: { name: "gw-os", version: "1.9.0" } } },
    keepalive: 5,
    reconnect: { initialDelay: 200, maxDelay: 2000 },
  });
  device.on("disconnect", ({ reason }) => log("gateway", `disconnected: ${reason?.message ?? "by request"}`));
  device.on("connect", ({ sessionPresent, handshake }) => log("gateway", `reconnected (session present: ${sessionPresent}, handshake: ${handshake})`));
  device.on("command", ({ command }) => log("gateway", `command received: ${command} (simulated: a real gateway would reboot)`));
  device.on("error", (err) => log("gateway", `refused a server message: ${err.message}`));
  device.onOta(imageDownloadHandler({ workDir: path.join(workDir, "ota"), log: (line) => log("gateway", `OTA ${line}`) }));
  await device.handshakeComplete();
  log("gateway", `connected as ${prefix}; handshake complete (${device.introspection.split(";").length} interfaces)`);

  await device.setProperty("com.acme.Config", "/display/name", "Press line 7");
  await device.setProperty("com.acme.Config", "/sampling/intervalMs", 50);
  log("gateway", "device properties set: display name, sampling interval");

  const sensors = ["press7", "oven2", "line4"];
  const rounds = 40;
  let sent = 0;
  const base = Date.now();
  for (let round = 0; round < rounds; round++) {
    const at = new Date(base + round * 1000);
    for (const [i, sensor] of sensors.entries()) {
      await device.send("com.acme.Sensors", `/${sensor}/temperature`, 20 + i * 5 + Math.sin(round / 4), { timestamp: at });
      sent++;
    }
    await device.sendObject("com.acme.Environment", "/hall", { temp: 21 + Math.cos(round / 5), hum: 40 + (round % 7) }, { timestamp: at });
    sent++;
    if (round === 5) {
      log("cloud", "config.Telemetry: SystemStatus every 1 s instead of 60 s");
      const periodTopic = `${prefix}/io.edgehog.devicemanager.config.Telemetry/request/io.edgehog.devicemanager.SystemStatus/periodSeconds`;
      await cloud.publish(periodTopic, encodePayload(1n, { type: "longinteger" }), { qos: 2 });
    }
    if (round === 8) {
      log("cloud", "sending Edgehog command Reboot");
      await cloud.publish(`${prefix}/io.edgehog.devicemanager.Commands/request`, encodePayload("Reboot", { type: "string" }), { qos: 2 });
    }
    if (round === 15 && broker) {
      log("demo", "broker restart: stopping the listener and dropping every connection");
      await broker.stop();
    }
    if (round === 22 && broker) {
      log("demo", `broker back (the gateway retained ${device.stats().retained} messages meanwhile)`);
      await broker.start();
      await device.client.connect();
    }
    if (round === 28) {
      log("cloud", "sending OTA request: update to gw-os 2.0.0");
      const request = { operation: "Update", uuid: crypto.randomUUID(), url: `${firmware.url}#sha256=${sha}` };
      await cloud.publish(`${prefix}/io.edgehog.devicemanager.OTARequest/request`, encodePayload(request, { type: { operation: "string", uuid: "string", url: "string" } }));
    }
    await sleep(50);
  }
  log("gateway", `${sent} telemetry messages sent`);

  const deadline = Date.now() + 15_000;
  const fastStatus = () => systemStatus.filter((t, i) => i > 0 && t - systemStatus[i - 1]! < 5000).length;
  while ((telemetry.size < sent || !otaStatuses.includes("Success") || fastStatus() < 2) && Date.now() < deadline) await sleep(50);
  const period = device.edgehog.telemetry()["io.edgehog.devicemanager.SystemStatus"];
  const stats = device.stats();
  const reconnects = device.client.stats().reconnects;
  await device.end();
  await cloud.end();
  await firmware.close();
  await broker?.close();
  fs.rmSync(workDir, { recursive: true, force: true });

  const lost = sent - telemetry.size;
  const otaOk = otaStatuses.join(" -> ").includes("Acknowledged -> Downloading") && otaStatuses.at(-1) === "Success";
  const edgehogOk = storage !== undefined && fastStatus() >= 2 && period?.periodSeconds === 1 && period.source === "server";
  const ok = lost === 0 && otaOk && edgehogOk && properties.get("/com.acme.Config/display/name") === "Press line 7";
  console.log(
    `summary: ${ok ? "OK" : "FAILED"} - telemetry sent ${sent}, received ${telemetry.size} distinct (${duplicates} duplicates, ${lost} lost); ` +
      `OTA ${[...new Set(otaStatuses)].join(" -> ")}; SystemStatus ${systemStatus.length} (every ${period?.periodSeconds} s, set by the ${period?.source}); ` +
      `StorageUsage ${storage ?? "none"}; ${properties.size} properties; reconnects ${reconnects}; retained ${stats.retained}`,
  );
  process.exit(ok ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error("demo failed:", err);
  process.exit(1);
});
