/** Edgehog OTA flow and device info against a real mosquitto, with the test playing Edgehog. */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, type Client } from "../../src/index.ts";
import { connectDevice, decodePayload, edgehogInterfaces, EDGEHOG, encodePayload, type Device, type OtaReport, type OtaRequest } from "../../src/clea/index.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const DEVICE_ID = "V_zv6ThCCtXWveQ8mPjsKg";
const PREFIX = `acme/${DEVICE_ID}`;
const OTA_REQUEST = `${PREFIX}/io.edgehog.devicemanager.OTARequest/request`;
const OTA_EVENT = `${PREFIX}/io.edgehog.devicemanager.OTAEvent/event`;
const EVENT_TYPES = { requestUUID: "string", status: "string", statusProgress: "integer", statusCode: "string", message: "string" } as const;
const UUID_A = "6e0b1b3c-9f2a-4a5e-8c1d-2b3a4c5d6e7f";
const UUID_B = "0f8fad5b-d9cb-469f-a165-70867728950e";

interface OtaEvent {
  requestUUID: string;
  status: string;
  statusProgress: number;
  statusCode: string;
  message: string;
  at?: Date;
}

let broker: Mosquitto;
let edgehog: Client;
let events: OtaEvent[] = [];
let introspections: string[] = [];
const props = new Map<string, unknown>();
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  broker = await startMosquitto();
  edgehog = await connect({ url: broker.url, clientId: "edgehog-side" });
  edgehog.on("message", (m) => {
    if (m.topic === PREFIX) {
      introspections.push(new TextDecoder().decode(m.payload));
    } else if (m.topic === OTA_EVENT) {
      const d = decodePayload(m.payload, { type: EVENT_TYPES })!;
      events.push({ ...(d.value as Omit<OtaEvent, "at">), at: d.timestamp });
    } else if (m.topic.includes("/io.edgehog.devicemanager.") && m.payload.length > 0) {
      props.set(m.topic.slice(PREFIX.length + 1), decodePayload(m.payload)?.value);
    }
  });
  await edgehog.subscribe(`${PREFIX}/#`, { qos: 2 });
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  events = [];
  introspections = [];
});

afterAll(async () => {
  await edgehog?.end({ force: true });
  await broker?.dispose();
});

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`condition not met in time; events: ${JSON.stringify(events.map((e) => [e.requestUUID, e.status, e.statusCode]))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-ota-"));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function device(store = tempDir(), info = {}): Promise<Device> {
  const d = await connectDevice({ realm: "acme", deviceId: DEVICE_ID, url: broker.url, store, edgehog: { info }, reconnect: false });
  cleanup.push(() => d.end({ force: true }).catch(() => undefined));
  await d.handshakeComplete();
  return d;
}

const request = (fields: Record<string, string>) =>
  edgehog.publish(OTA_REQUEST, encodePayload(fields, { type: { operation: "string", url: "string", uuid: "string" } }));
const statuses = (uuid: string) => events.filter((e) => e.requestUUID === uuid).map((e) => (e.statusCode ? `${e.status}/${e.statusCode}` : e.status));

describe("OTA", () => {
  it("runs a handler through Acknowledged -> Downloading -> Deploying -> Deployed -> Rebooting -> Success, all five fields every time", async () => {
    const d = await device();
    d.onOta(async (req, report) => {
      expect(req).toMatchObject({ uuid: UUID_A, url: "http://images.test/fw.bin", operation: "Update" });
      await report("Downloading", { progress: 0 });
      await report("Downloading", { progress: 100 });
      await report("Deploying");
      await report("Deployed");
      await report("Rebooting");
      await report("Success");
    });
    await request({ operation: "Update", url: "http://images.test/fw.bin", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Success"));
    expect(statuses(UUID_A)).toEqual(["Acknowledged", "Downloading", "Downloading", "Deploying", "Deployed", "Rebooting", "Success"]);
    expect(events.map((e) => e.statusProgress)).toEqual([0, 0, 100, 0, 0, 0, 0]);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(["at", "message", "requestUUID", "status", "statusCode", "statusProgress"]);
      expect(e.at).toBeInstanceOf(Date);
    }
    // A repeated uuid is ignored.
    await request({ operation: "Update", url: "http://images.test/fw.bin", uuid: UUID_A });
    await new Promise((r) => setTimeout(r, 200));
    expect(statuses(UUID_A)).toHaveLength(7);
  });

  it("refuses an invalid uuid, a second request while one runs, and reports a throwing handler as InternalError", async () => {
    const d = await device();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    d.onOta(async (req, report) => {
      calls++;
      if (req.uuid === UUID_A) {
        await report("Downloading", { progress: 10 });
        await gate;
        throw new Error("disk full");
      }
    });
    await request({ operation: "Update", url: "http://x/fw", uuid: "not-a-uuid" });
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Downloading"));
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_B });
    await until(() => statuses(UUID_B).length === 1);
    release();
    await until(() => statuses(UUID_A).includes("Failure/InternalError"));
    expect(statuses("not-a-uuid")).toEqual(["Failure/InvalidRequest"]);
    expect(statuses(UUID_B)).toEqual(["Failure/UpdateAlreadyInProgress"]);
    expect(statuses(UUID_A)).toEqual(["Acknowledged", "Downloading", "Failure/InternalError"]);
    expect(events.find((e) => e.statusCode === "InternalError")!.message).toBe("disk full");
    expect(calls).toBe(1);
  });

  it("Cancel before Deploying aborts the handler and reports Failure/Canceled; after Deploying it is ignored", async () => {
    const d = await device();
    let aborted: unknown;
    let phase: "download" | "deploy" = "download";
    let finishDeploy!: () => void;
    d.onOta(async (req: OtaRequest, report: OtaReport) => {
      if (phase === "download") {
        await report("Downloading", { progress: 5 });
        await new Promise<void>((_, reject) => req.signal.addEventListener("abort", () => reject((aborted = req.signal.reason))));
      } else {
        await report("Deploying");
        await new Promise<void>((r) => (finishDeploy = r));
        await report("Deployed");
        await report("Rebooting");
        await report("Success");
      }
    });
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Downloading"));
    await request({ operation: "Cancel", url: "", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Failure/Canceled"));
    expect(aborted).toBeInstanceOf(Error);
    expect(statuses(UUID_A)).toEqual(["Acknowledged", "Downloading", "Failure/Canceled"]);

    phase = "deploy";
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_B });
    await until(() => statuses(UUID_B).includes("Deploying"));
    await request({ operation: "Cancel", url: "", uuid: UUID_B });
    await new Promise((r) => setTimeout(r, 100));
    finishDeploy();
    await until(() => statuses(UUID_B).includes("Success"));
    expect(statuses(UUID_B)).toEqual(["Acknowledged", "Deploying", "Deployed", "Rebooting", "Success"]);
  });

  it("an update interrupted at Rebooting is reported as Success after the restart; one interrupted earlier as Failure", async () => {
    const dir = tempDir();
    const first = await device(dir);
    first.onOta(async (_req, report) => {
      await report("Deploying");
      await report("Deployed");
      await report("Rebooting");
      await new Promise(() => undefined); // the device reboots: the process dies before the handler returns
    });
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Rebooting"));
    await first.end({ force: true });
    await device(dir); // the restarted process
    await until(() => statuses(UUID_A).includes("Success"));
    expect(statuses(UUID_A)).toEqual(["Acknowledged", "Deploying", "Deployed", "Rebooting", "Success"]);

    const dir2 = tempDir();
    const crashing = await device(dir2);
    crashing.onOta(async (_req, report) => {
      await report("Downloading", { progress: 50 });
      await new Promise(() => undefined); // never finishes: the process dies
    });
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_B });
    await until(() => statuses(UUID_B).includes("Downloading"));
    await crashing.end({ force: true });
    await device(dir2);
    await until(() => statuses(UUID_B).includes("Failure/InternalError"));
    expect(events.filter((e) => e.requestUUID === UUID_B).at(-1)!.message).toMatch(/restarted during the update \(last status Downloading\)/);
  });

  it("rejects reports with an unknown status, code or progress", async () => {
    const d = await device();
    const errors: unknown[] = [];
    d.onOta(async (_req, report) => {
      for (const bad of [
        () => report("Flashing" as "Success"),
        () => report("Error", { code: "Oops" as "" }),
        () => report("Downloading", { progress: 101 }),
      ]) {
        await bad().catch((e: unknown) => errors.push(e));
      }
      await report("Success");
    });
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Success"));
    expect(errors.map((e) => (e as { code: string }).code)).toEqual(["invalid-report", "invalid-report", "invalid-report"]);
  });
});

describe("OTA without the edgehog option, and updates that end (issue #13)", () => {
  let images: http.Server;
  let imageUrl = "";
  beforeAll(async () => {
    images = http.createServer((_req, res) => res.end(Buffer.alloc(1024, 7)));
    await new Promise<void>((r) => images.listen(0, "127.0.0.1", r));
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/fw.bin`;
  });
  afterAll(() => new Promise<void>((r) => images.close(() => r())));

  it("runs the README's onOta snippet on a device connected without `edgehog` and without an error listener", async () => {
    const device = await connectDevice({ realm: "acme", deviceId: DEVICE_ID, url: broker.url, store: tempDir(), reconnect: false });
    cleanup.push(() => device.end({ force: true }).catch(() => undefined));
    await device.handshakeComplete();
    expect(device.introspection).not.toContain(EDGEHOG.OTARequest);

    // The README's snippet, as a user copies it:
    device.onOta(async ({ uuid, url, signal }, report) => {
      await report("Downloading", { progress: 0 });
      const image = await fetch(url, { signal });           // signal aborts when Edgehog cancels before Deploying
      // ... write and verify the image, reporting progress ...
      await report("Deploying");
      // ... apply it ...
      await report("Deployed");
      await report("Rebooting");                            // reboot here: Success is reported on the next start
    });

    // Part of the device as soon as onOta returns, and announced to the broker.
    expect(device.introspection).toContain(`${EDGEHOG.OTARequest}:1:0`);
    expect(device.introspection).toContain(`${EDGEHOG.OTAEvent}:0:1`);
    await until(() => introspections.some((i) => i.includes(`${EDGEHOG.OTARequest}:1:0`) && i.includes(`${EDGEHOG.OTAEvent}:0:1`)));
    await new Promise((r) => setTimeout(r, 100)); // the subscription is in place once the introspection is out; give it a moment

    await request({ operation: "Update", url: imageUrl, uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Success"));
    expect(statuses(UUID_A)).toEqual(["Acknowledged", "Downloading", "Deploying", "Deployed", "Rebooting", "Success"]);
  });

  it("addInterface accepts an already parsed Interface", async () => {
    const d = await connectDevice({ realm: "acme", deviceId: DEVICE_ID, url: broker.url, store: tempDir(), reconnect: false });
    cleanup.push(() => d.end({ force: true }).catch(() => undefined));
    await d.handshakeComplete();
    const commands = edgehogInterfaces().find((i) => i.name === EDGEHOG.Commands)!;
    await expect(d.addInterface(commands)).resolves.toBe(commands);
    expect(d.introspection).toContain(EDGEHOG.Commands);
    await until(() => introspections.some((i) => i.includes(EDGEHOG.Commands)));
  });

  it("a handler that reports Rebooting and returns ends the update with Success, and the next request is accepted", async () => {
    const d = await device();
    const seen: string[] = [];
    d.onOta(async (req, report) => {
      seen.push(req.uuid);
      await report("Deploying");
      await report("Deployed");
      await report("Rebooting"); // a gateway rebooted a sub-device, not itself, and returns
    });
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Success"));
    expect(statuses(UUID_A)).toEqual(["Acknowledged", "Deploying", "Deployed", "Rebooting", "Success"]);
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_B });
    await until(() => statuses(UUID_B).includes("Success"));
    expect(statuses(UUID_B)).toEqual(["Acknowledged", "Deploying", "Deployed", "Rebooting", "Success"]);
    expect(seen).toEqual([UUID_A, UUID_B]);
  });

  it("a handler that throws ends the update with Failure, and the next request is accepted", async () => {
    const d = await device();
    d.onOta(async (req, report) => {
      await report("Downloading", { progress: 10 });
      if (req.uuid === UUID_A) throw new Error("checksum mismatch");
      await report("Success");
    });
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_A });
    await until(() => statuses(UUID_A).includes("Failure/InternalError"));
    await request({ operation: "Update", url: "http://x/fw", uuid: UUID_B });
    await until(() => statuses(UUID_B).includes("Success"));
    expect(statuses(UUID_A)).toEqual(["Acknowledged", "Downloading", "Failure/InternalError"]);
    expect(statuses(UUID_B)).toEqual(["Acknowledged", "Downloading", "Success"]);
  });
});

describe("Edgehog device info and commands", () => {
  it("publishes SystemInfo, OSInfo, BaseImage and RuntimeInfo on connect, and delivers Commands as typed events", async () => {
    props.clear();
    const d = await device(tempDir(), { serialNumber: "SN-1", partNumber: "PN-7", baseImage: { name: "gw-os", version: "1.2.3" } });
    await until(() => props.size >= 8);
    expect(props.get("io.edgehog.devicemanager.SystemInfo/serialNumber")).toBe("SN-1");
    expect(props.get("io.edgehog.devicemanager.SystemInfo/partNumber")).toBe("PN-7");
    expect(props.get("io.edgehog.devicemanager.BaseImage/version")).toBe("1.2.3");
    expect(props.get("io.edgehog.devicemanager.OSInfo/osName")).toBe(os.type());
    expect(props.get("io.edgehog.devicemanager.RuntimeInfo/name")).toBe("edgemq");
    expect(props.get("io.edgehog.devicemanager.RuntimeInfo/environment")).toBe(`Node.js ${process.version}`);
    const commands: string[] = [];
    d.on("command", (c) => commands.push(c.command));
    await edgehog.publish(`${PREFIX}/io.edgehog.devicemanager.Commands/request`, encodePayload("Reboot", { type: "string" }), { qos: 2 });
    await until(() => commands.length === 1);
    expect(commands).toEqual(["Reboot"]);
  });
});
