/**
 * The hostile broker of malicious-broker.test.ts, speaking MQTT 5 (issue #17): the real client with
 * `protocolVersion: 5` behind the scripted v5 broker takes every sequence of malicious-broker-v5-vectors.ts
 * (properties a packet may not carry, duplicated properties, reason codes the packet may not carry, topic aliases
 * beyond the maximum or never learnt, an empty topic without alias, CONNACK values out of range, AUTH without a
 * method, malformed property sections), in one chunk and one byte per chunk. For each: the client closes the
 * connection itself, reports a typed ProtocolError with the expected code (as the "disconnect" reason, or as the
 * cause of connect()'s ConnectError before the CONNACK), delivers nothing after the fault, writes nothing after
 * it but the DISCONNECT that names it (section 4.13: no ack for what the fault cut off), and nothing escapes the
 * process.
 */
import { describe, expect, it } from "vitest";
import { ConnectError, ProtocolError } from "../../src/index.ts";
import { guardProcess, hex, tick } from "./malicious-broker-support.ts";
import { deliver5, expectProtocolClose5, firstAnswer5, open5, type Rig5 } from "./malicious-broker-v5-support.ts";
import { VECTORS5, type Vector5 } from "./malicious-broker-v5-vectors.ts";

guardProcess();

/**
 * The DISCONNECT reason code the spec gives each fault: "It is a Protocol Error to include ... more than once" (a
 * duplicate property), a value out of range or a property missing, a reason code the packet may not carry, a packet
 * out of turn: 0x82; a Topic Alias out of range or never learnt 0x94; a packet over the client's Maximum Packet Size
 * 0x95; anything that does not parse as specified (an identifier not valid for the packet included): 0x81.
 */
const SPEC_REASON: Record<string, number> = {
  "duplicate-property": 0x82,
  "invalid-property-value": 0x82,
  "missing-property": 0x82,
  "invalid-reason-code": 0x82,
  "unexpected-packet-type": 0x82,
  "invalid-topic-alias": 0x94,
  "packet-too-large": 0x95,
};

async function hostileAfterConnack(vector: Vector5, bytewise: boolean): Promise<void> {
  const rig = await open5({ topicAliasMaximum: vector.topicAliasMaximum ?? 2 });
  const before = rig.conn.packets.length;
  deliver5(rig.conn, hex(vector.bytes), bytewise);
  await tick();
  expectProtocolClose5(rig, vector.code);
  expect(rig.messages).toHaveLength(vector.delivered ?? 0);
  expect(rig.conn.packets.slice(before)).toEqual([{ type: "disconnect", reasonCode: SPEC_REASON[vector.code] ?? 0x81, properties: {} }]);
  expect(rig.errors).toEqual([]);
}

async function hostileFirst(vector: Vector5, bytewise: boolean): Promise<void> {
  const { rig, error } = await firstAnswer5(hex(vector.bytes), bytewise, { topicAliasMaximum: vector.topicAliasMaximum ?? 2 });
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

describe("hostile v5 broker: the client closes with a typed ProtocolError", () => {
  it(`replays ${VECTORS5.length} distinct hostile v5 sequences (at least 100)`, () => {
    expect(VECTORS5.length).toBeGreaterThanOrEqual(100);
    expect(new Set(VECTORS5.map((x) => `${x.kind}: ${x.name}`)).size).toBe(VECTORS5.length);
    expect(new Set(VECTORS5.map((x) => `${x.phase} ${x.topicAliasMaximum ?? 2} ${x.bytes}`)).size).toBe(VECTORS5.length);
  });

  const kinds = [...new Set(VECTORS5.map((x) => x.kind))];
  describe.each(kinds)("%s", (kind) => {
    const rows = VECTORS5.filter((x) => x.kind === kind);
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
