/** Codec smoke tests: run on Deno (source) and Bun (built package) by test/smoke/run.ts. */
import { assert, assertEqual, test } from "./harness.ts";
import type * as Edgemq from "../../src/index.ts";

/** Registers the codec smoke tests against one build of the package. */
export function codecSmoke(m: typeof Edgemq): void {
  test("every packet type round-trips through encode and the incremental decoder", () => {
    const clientSide: Edgemq.Packet[] = [
      { type: "connack", sessionPresent: true, returnCode: 0 },
      { type: "publish", topic: "plant/é/temp", payload: Uint8Array.of(1, 2, 3), qos: 2, retain: true, dup: false, packetId: 9 },
      { type: "puback", packetId: 1 },
      { type: "pubrec", packetId: 2 },
      { type: "pubrel", packetId: 3 },
      { type: "pubcomp", packetId: 4 },
      { type: "suback", packetId: 5, granted: [0, 1, 2, 0x80] },
      { type: "unsuback", packetId: 6 },
      { type: "pingresp" },
    ];
    const serverSide: Edgemq.Packet[] = [
      { type: "connect", clientId: "gw-01", clean: false, keepalive: 30, username: "u", password: Uint8Array.of(7) },
      { type: "subscribe", packetId: 7, subscriptions: [{ topic: "cmd/#", qos: 1 }] },
      { type: "unsubscribe", packetId: 8, topics: ["cmd/#"] },
      { type: "pingreq" },
      { type: "disconnect" },
    ];
    for (const [role, packets] of [["client", clientSide], ["server", serverSide]] as const) {
      const bytes = packets.map((p) => m.encode(p));
      const stream = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of bytes) {
        stream.set(b, at);
        at += b.length;
      }
      const decoder = new m.Decoder({ role });
      const out: Edgemq.Packet[] = [];
      for (let i = 0; i < stream.length; i += 3) out.push(...decoder.push(stream.subarray(i, i + 3)));
      assertEqual(out, packets, `${role} packets`);
    }
  });

  test("malformed input is a ProtocolError with a code", () => {
    try {
      new m.Decoder().push(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01));
      assert(false, "should have thrown");
    } catch (err) {
      assert(err instanceof m.ProtocolError, "ProtocolError");
      assertEqual((err as Edgemq.ProtocolError).code, "malformed-remaining-length");
    }
  });

  test("a lone surrogate in a topic is refused before encoding", () => {
    assert(m.topicNameProblem("a/\uD800") !== undefined, "lone surrogate detected");
    assert(m.topicMatches("sport/#", "sport"), "sport/# matches sport");
    assert(!m.topicMatches("#", "$SYS/x"), "# does not match $SYS");
  });
}
