/**
 * Reproduces a mosquitto 2.0.11 behaviour that the chaos test avoids (see RELIABILITY.md): with an unlimited
 * in-flight window (max_inflight_messages 0, or 65535), a QoS 2 message the broker has already released with
 * PUBREL is, after a restart with persistence, sent again as a PUBLISH (DUP=1) instead of a PUBREL. MQTT 3.1.1
 * section 4.3.3 [MQTT-4.3.3-1]: the sender MUST NOT re-send the PUBLISH once it has sent the corresponding
 * PUBREL. A receiver that already answered the PUBREL MUST treat the resent PUBLISH as a new publication
 * [MQTT-4.3.3-2], so the application sees the message twice. With a finite window (the default 20, or 65534)
 * the broker re-sends PUBREL as it should.
 *
 *   npx tsx scripts/repro-mosquitto-qos2-restart.ts                                   # exits 1: breach
 *   MOSQ_CONFIG="max_inflight_messages 20" npx tsx scripts/repro-mosquitto-qos2-restart.ts   # exits 0
 *
 * A raw subscriber (the codec only, no session logic) subscribes at QoS 2, receives one message, answers PUBREC,
 * receives PUBREL and stops there (no PUBCOMP). The broker is stopped with SIGTERM (it saves its persistence)
 * and started again; the subscriber reconnects with clean session off and prints what the broker sends.
 */
import * as net from "node:net";
import process from "node:process";
import { connect, Decoder, encode, type Packet } from "../src/index.ts";
import { startMosquitto } from "../test/support/mosquitto.ts";

const broker = await startMosquitto({ persistence: true, config: (process.env.MOSQ_CONFIG ?? "max_inflight_messages 0").split(";").filter(Boolean) });

function rawClient() {
  const socket = net.connect(broker.port, "127.0.0.1");
  const decoder = new Decoder({ role: "client" });
  const queue: Packet[] = [];
  let wake: (() => void) | undefined;
  socket.on("data", (d: Uint8Array) => {
    for (const p of decoder.push(new Uint8Array(d))) queue.push(p);
    wake?.();
  });
  socket.on("error", () => undefined);
  return {
    socket,
    send: (p: Packet) => socket.write(encode(p)),
    async next(): Promise<Packet> {
      const deadline = Date.now() + 5000;
      while (queue.length === 0) {
        if (Date.now() > deadline) throw new Error("no packet from the broker within 5 s");
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return queue.shift()!;
    },
  };
}

const show = (p: Packet) => (p.type === "publish" ? `PUBLISH id ${p.packetId} qos ${p.qos} dup ${p.dup}` : `${p.type.toUpperCase()} ${JSON.stringify({ ...p, type: undefined })}`);
let verdict = 2;
try {
  let sub = rawClient();
  sub.send({ type: "connect", clientId: "repro-sub", clean: false, keepalive: 60 });
  console.log("<-", show(await sub.next()));
  sub.send({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "repro", qos: 2 }] });
  console.log("<-", show(await sub.next()));
  const pub = await connect({ url: broker.url, clientId: "repro-pub", reconnect: false });
  await pub.publish("repro", "once", { qos: 2 });
  await pub.end();
  const publish = await sub.next();
  console.log("<-", show(publish));
  if (publish.type !== "publish") throw new Error("expected PUBLISH");
  sub.send({ type: "pubrec", packetId: publish.packetId! });
  console.log("->", "PUBREC", publish.packetId);
  const pubrel = await sub.next();
  console.log("<-", show(pubrel), "(the broker has released the message; no PUBCOMP is sent)");
  sub.socket.destroy();
  await broker.stop();
  await broker.start();
  console.log("-- broker restarted (SIGTERM, persistence saved and loaded)");
  sub = rawClient();
  sub.send({ type: "connect", clientId: "repro-sub", clean: false, keepalive: 60 });
  console.log("<-", show(await sub.next()));
  const after = await sub.next();
  console.log("<-", show(after));
  sub.socket.destroy();
  if (after.type === "pubrel") {
    console.log("OK: the broker re-sent PUBREL, as MQTT-4.3.3-1 requires");
    verdict = 0;
  } else {
    console.log("BROKER BREACH: the broker re-sent the PUBLISH after its PUBREL (MQTT-4.3.3-1)");
    verdict = 1;
  }
} finally {
  await broker.dispose();
}
process.exit(verdict);
