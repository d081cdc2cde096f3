/**
 * Edgehog telemetry timing (issue #16), packet by packet on the scripted broker and a fake clock: the first send
 * at once, the period counted from the end of one send to the start of the next, a server change applied without
 * a restart, and the exact message on the wire (topic, QoS, BSON types, timestamp).
 */
import { BSON, Long } from "bson";
import { afterEach, describe, expect, it } from "vitest";
import { encodePayload, EDGEHOG, type Device } from "../../src/clea/index.ts";
import { hostReaders } from "../../src/clea/edgehog/host.ts";
import type { Packet } from "../../src/index.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";
import { acknowledgeAll, startFakeDevice, TEST_DEVICE_ID } from "./helpers.ts";

type Publish = Extract<Packet, { type: "publish" }>;
const PREFIX = `acme/${TEST_DEVICE_ID}`;
const STATUS_TOPIC = `${PREFIX}/${EDGEHOG.SystemStatus}/systemStatus`;
const EPOCH = Date.UTC(2026, 10, 29, 12, 0, 0);
const realRead = hostReaders.readSystemStatus;
const devices: Device[] = [];

afterEach(async () => {
  hostReaders.readSystemStatus = realRead;
  await Promise.all(devices.splice(0).map((d) => d.end({ force: true }).catch(() => undefined)));
});

describe("telemetry schedule", () => {
  it("sends at once, then every period from the end of one send to the start of the next; a server period applies at once", async () => {
    let reads = 0;
    const clock = new FakeClock();
    // The reading takes 2 s of (fake) time: the period starts after it.
    hostReaders.readSystemStatus = () => {
      reads++;
      return new Promise((resolve) => {
        clock.setTimeout(() => resolve({ availMemoryBytes: 1_000_000n, bootId: "b0075e1d-0000-4000-8000-000000000001", taskCount: 42, uptimeMillis: BigInt(clock.now()) }), 2000);
      });
    };
    const { device, conn } = await startFakeDevice({
      clock,
      now: () => EPOCH + clock.now(),
      edgehog: { storageUsage: false, hardwareInfo: false, networkInterfaces: false, ota: false, commands: false },
    });
    devices.push(device);
    acknowledgeAll(conn);
    await device.handshakeComplete();
    await settle();
    const statuses = (): Publish[] => conn.packets.filter((p): p is Publish => p.type === "publish" && p.topic === STATUS_TOPIC);

    // connectDevice started the schedule: the first reading is under way and lands after 2 s.
    expect(reads).toBe(1);
    expect(statuses()).toHaveLength(0);
    await clock.advance(2000);
    expect(statuses()).toHaveLength(1);
    const first = statuses()[0]!;
    expect(first.qos).toBe(0);
    const doc = BSON.deserialize(first.payload, { promoteValues: false });
    expect(doc.v.availMemoryBytes).toBeInstanceOf(Long);
    expect((doc.v.taskCount as { _bsontype: string })._bsontype).toBe("Int32");
    expect(doc.v.bootId.valueOf()).toBe("b0075e1d-0000-4000-8000-000000000001");
    expect(BSON.deserialize(first.payload, { useBigInt64: true }).v).toEqual({ availMemoryBytes: 1_000_000n, bootId: "b0075e1d-0000-4000-8000-000000000001", taskCount: 42, uptimeMillis: 2000n });
    expect(BSON.deserialize(first.payload).t).toEqual(new Date(EPOCH + 2000));

    // The next reading starts 60 s after the first one ended (t = 62 s) and lands at 64 s.
    await clock.advance(59_999);
    expect(reads).toBe(1);
    await clock.advance(1);
    expect(reads).toBe(2);
    await clock.advance(2000);
    expect(statuses()).toHaveLength(2);

    // The server sets a 10 s period: a reading starts at once, and the next one 10 s after it ends.
    conn.send({ type: "publish", topic: `${PREFIX}/${EDGEHOG.TelemetryConfig}/request/${EDGEHOG.SystemStatus}/periodSeconds`, payload: encodePayload(10n, { type: "longinteger" }), qos: 0, retain: false, dup: false });
    await settle();
    expect(reads).toBe(3);
    expect(device.edgehog.telemetry()[EDGEHOG.SystemStatus]).toEqual({ enabled: true, periodSeconds: 10, source: "server" });
    await clock.advance(2000);
    expect(statuses()).toHaveLength(3);
    await clock.advance(9_999);
    expect(reads).toBe(3);
    await clock.advance(1);
    expect(reads).toBe(4);

    // Turned off by the server: the reading under way finishes, nothing is scheduled after it.
    conn.send({ type: "publish", topic: `${PREFIX}/${EDGEHOG.TelemetryConfig}/request/${EDGEHOG.SystemStatus}/enable`, payload: encodePayload(false, { type: "boolean" }), qos: 0, retain: false, dup: false });
    await clock.advance(120_000);
    expect(reads).toBe(4);
  });

  it("the device's end() stops every telemetry timer", async () => {
    hostReaders.readSystemStatus = async () => ({ availMemoryBytes: 1n, uptimeMillis: 1n });
    const { device, conn, clock } = await startFakeDevice({ edgehog: { storageUsage: false, hardwareInfo: false, networkInterfaces: false } });
    acknowledgeAll(conn);
    await device.handshakeComplete();
    await settle();
    expect(clock.pending().length).toBeGreaterThan(0);
    await device.end({ force: true });
    expect(clock.pending()).toEqual([]);
  });
});
