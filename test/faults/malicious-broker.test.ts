/**
 * A scripted hostile broker drives the real client through its transport seam with every sequence of
 * malicious-broker-vectors.ts, in one chunk and one byte per chunk. For each: the client closes the connection
 * itself, reports a typed ProtocolError with the expected code (as the "disconnect" reason, or as the cause of
 * connect()'s ConnectError before the CONNACK), delivers nothing, writes nothing after the fault, and nothing escapes.
 */
import { describe, expect, it } from "vitest";
import { ConnectError, ProtocolError } from "../../src/index.ts";
import { deliver, expectProtocolClose, firstAnswer, guardProcess, hex, open, tick, varint, join, type Rig } from "./malicious-broker-support.ts";
import { VECTORS, type Vector } from "./malicious-broker-vectors.ts";

guardProcess();

/** Packets the client wrote up to now (to check nothing follows the fault). */
const writeCount = (rig: Rig): number => rig.conn.writes.length;

async function hostileAfterConnack(vector: Vector, bytewise: boolean): Promise<void> {
  const rig = await open();
  const before = writeCount(rig);
  deliver(rig.conn, hex(vector.bytes), bytewise);
  await tick();
  expectProtocolClose(rig, vector.code);
  expect(rig.messages).toEqual([]);
  expect(writeCount(rig)).toBe(before);
}

async function hostileFirst(vector: Vector, bytewise: boolean): Promise<void> {
  const { rig, error } = await firstAnswer(hex(vector.bytes), bytewise);
  expect(error).toBeInstanceOf(ConnectError);
  expect((error as ConnectError).code).toBe("connection-failed");
  const cause = (error as ConnectError).cause;
  expect(cause).toBeInstanceOf(ProtocolError);
  expect((cause as ProtocolError).code).toBe(vector.code);
  expect(rig.conn.closedByClient).toBe(true);
  expect(rig.client.connected).toBe(false);
  expect(rig.reasons).toEqual([]); // never connected: no "disconnect"
  expect(rig.messages).toEqual([]);
  expect(rig.conn.packets.map((p) => p.type)).toEqual(["connect"]);
}

describe("hostile broker: the client closes with a typed ProtocolError", () => {
  it(`replays ${VECTORS.length} distinct hostile sequences (at least 150)`, () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(150);
    expect(new Set(VECTORS.map((x) => `${x.kind}: ${x.name}`)).size).toBe(VECTORS.length);
    expect(new Set(VECTORS.map((x) => `${x.phase} ${x.bytes}`)).size).toBe(VECTORS.length);
  });

  const kinds = [...new Set(VECTORS.map((x) => x.kind))];
  describe.each(kinds)("%s", (kind) => {
    const rows = VECTORS.filter((x) => x.kind === kind);
    it.each(rows.map((r) => [r.name, r] as const))("%s", async (_name, vector) => {
      if (vector.phase === "after") {
        await hostileAfterConnack(vector, false);
        await hostileAfterConnack(vector, true);
      } else {
        await hostileFirst(vector, false);
        await hostileFirst(vector, true);
      }
    });
  });
});

describe("maxPacketSize from the client option, enforced at the fixed header", () => {
  it("a SUBACK header declaring 200 MB is refused at its last byte, before any body byte arrives", async () => {
    const rig = await open({ maxPacketSize: 1024 });
    const header = hex("90 80 80 80 64"); // remaining length 209,715,200
    for (let i = 0; i < header.length - 1; i++) {
      deliver(rig.conn, header.subarray(i, i + 1));
      expect(rig.reasons).toEqual([]);
    }
    deliver(rig.conn, header.subarray(header.length - 1));
    expectProtocolClose(rig, "packet-too-large"); // synchronously: right after the header, nothing else sent
    // whatever the broker pushes next never reaches the client: the connection is closed
    deliver(rig.conn, new Uint8Array(64 * 1024));
    await tick();
    expect(rig.reasons).toHaveLength(1);
    expect(rig.messages).toEqual([]);
  });

  it("one byte over the option is refused from the header; exactly the option is delivered, even one byte per chunk", async () => {
    const max = 1024;
    const over = await open({ maxPacketSize: max });
    const rlOver = max + 1 - 1 - varint(max - 3).length; // total = 1 + varint + rl = max + 1
    deliver(over.conn, Uint8Array.from([0x90, ...varint(rlOver)])); // a SUBACK: only PUBLISH is skipped
    expectProtocolClose(over, "packet-too-large");

    const exact = await open({ maxPacketSize: max });
    const rl = max - 1 - varint(max - 3).length;
    const topic = new TextEncoder().encode("big");
    const payload = new Uint8Array(rl - 2 - topic.length).fill(0x5a);
    const frame = join(Uint8Array.from([0x30, ...varint(rl), 0, topic.length]), topic, payload);
    expect(frame.length).toBe(max);
    deliver(exact.conn, frame, true);
    await tick();
    expect(exact.reasons).toEqual([]);
    expect(exact.messages).toHaveLength(1);
    expect(exact.messages[0]!.payload).toEqual(payload);
  });

  it("the limit follows the option: 64 KiB refuses what 1 MiB accepts", async () => {
    const header = Uint8Array.from([0x90, ...varint(100_000)]);
    const small = await open({ maxPacketSize: 64 * 1024 });
    deliver(small.conn, header);
    expectProtocolClose(small, "packet-too-large");
    const large = await open();
    deliver(large.conn, header);
    await tick();
    expect(large.reasons).toEqual([]); // waiting for the body
    expect(large.client.connected).toBe(true);
  });
});
