/** Codec smoke tests: run on Deno (source) and Bun (built package) by test/smoke/run.ts. */
import { assert, assertEqual, test } from "./harness.ts";
import type * as Edgemq from "../../src/index.ts";
import { tableStrictUtf8 } from "../mqtt/utf8-table.ts";

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

  test("the role decoders and encoders agree with Decoder and encode", () => {
    const cases: Array<[Edgemq.DecoderRole, Edgemq.Packet]> = [
      ["client", { type: "connack", sessionPresent: false, returnCode: 0 }],
      ["client", { type: "suback", packetId: 3, granted: [1] }],
      ["client", { type: "pingresp" }],
      ["server", { type: "connect", clientId: "c", clean: true, keepalive: 0 }],
      ["server", { type: "unsubscribe", packetId: 4, topics: ["a/+"] }],
      ["server", { type: "disconnect" }],
    ];
    for (const [role, packet] of cases) {
      const bytes = m.encode(packet);
      const own = role === "client" ? m.encodeServerPacket(packet) : m.encodeClientPacket(packet);
      assertEqual(own, bytes, `${packet.type} bytes`);
      const decoder = role === "client" ? new m.ClientDecoder() : new m.ServerDecoder();
      assertEqual(decoder.push(bytes), new m.Decoder({ role }).push(bytes), `${packet.type} decoded`);
      const other = role === "client" ? new m.ServerDecoder() : new m.ClientDecoder();
      try {
        other.push(bytes);
        assert(false, `${packet.type} must be refused by the other role`);
      } catch (err) {
        assertEqual((err as Edgemq.ProtocolError).code, "unexpected-packet-type");
      }
    }
  });

  test("PUBLISH topics are refused exactly when RFC 3629's table refuses their bytes (this runtime's TextDecoder)", () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const edges = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    let accepted = 0;
    for (let n = 0; n < 20_000; n++) {
      const len = 1 + Math.floor(next() * 6);
      const topic = Uint8Array.from({ length: len }, () => (next() < 0.8 ? edges[Math.floor(next() * edges.length)]! : Math.floor(next() * 256)));
      if (topic.includes(0x23) || topic.includes(0x2b)) continue; // wildcards: refused for another reason
      const frame = Uint8Array.of(0x30, 2 + len, 0, len, ...topic);
      let ok = true;
      try {
        new m.ClientDecoder().push(frame);
      } catch (err) {
        assertEqual((err as Edgemq.ProtocolError).code, "invalid-utf8", "code");
        ok = false;
      }
      if (ok) accepted++;
      const bytes = Array.from(topic, (b) => b.toString(16)).join(" ");
      assertEqual(ok, tableStrictUtf8(topic, 0, len), `topic bytes ${bytes}`);
      assertEqual(m.isStrictUtf8(topic, 0, len), ok, `isStrictUtf8 on ${bytes}`);
    }
    assert(accepted > 100, "some random topics are valid");
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
