/**
 * A counting TCP proxy: listens on a free port on 127.0.0.1, forwards every connection to a broker unchanged, and
 * counts the MQTT packets that cross it by type and direction (from each fixed header; payloads are skipped, not
 * parsed). Tests use it to see what a client actually put on the wire and when (e.g. how many PUBACKs it has sent
 * while its application is still behind). Runs on Node, Deno and Bun (node:net).
 */

import * as net from "node:net";

/** MQTT control packet types by their number (the high nibble of the first byte). */
const TYPES = [
  "reserved",
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
  "auth",
] as const;

/** Packets counted in one direction: by type, and PUBLISHes at QoS 1/2 on their own (`publish12`). */
export type PacketCounts = Record<(typeof TYPES)[number] | "publish12", number>;

const zero = (): PacketCounts => Object.fromEntries([...TYPES, "publish12"].map((t) => [t, 0])) as PacketCounts;

/** A running proxy. */
export interface WireCounter {
  port: number;
  url: string;
  /** Packets from the clients to the broker, over every connection so far. */
  readonly up: PacketCounts;
  /** Packets from the broker to the clients, over every connection so far. */
  readonly down: PacketCounts;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

/**
 * Splits a byte stream into MQTT packets by their fixed headers and reports each packet's first byte as soon as its
 * header is complete (before its body has passed).
 */
function packetSplitter(onPacket: (firstByte: number) => void): (chunk: Uint8Array) => void {
  let header: number[] = [];
  let skip = 0;
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const byte = chunk[i++]!;
      header.push(byte);
      if (header.length < 2 || (byte & 0x80) !== 0) continue;
      let length = 0;
      for (let k = header.length - 1; k >= 1; k--) length = length * 128 + (header[k]! & 0x7f);
      onPacket(header[0]!);
      header = [];
      skip = length;
    }
  };
}

function counter(counts: PacketCounts): (chunk: Uint8Array) => void {
  return packetSplitter((first) => {
    const type = TYPES[first >> 4]!;
    counts[type]++;
    if (type === "publish" && ((first >> 1) & 3) > 0) counts.publish12++;
  });
}

/** Starts a proxy to the broker listening on 127.0.0.1:`brokerPort`. */
export async function startWireCounter(brokerPort: number): Promise<WireCounter> {
  const up = zero();
  const down = zero();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const broker = net.connect({ host: "127.0.0.1", port: brokerPort });
    for (const s of [client, broker]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        broker.destroy();
      });
    }
    const countUp = counter(up);
    const countDown = counter(down);
    client.on("data", (d: Uint8Array) => {
      countUp(d);
      if (!broker.write(d)) client.pause();
    });
    broker.on("drain", () => client.resume());
    broker.on("data", (d: Uint8Array) => {
      countDown(d);
      if (!client.write(d)) broker.pause();
    });
    client.on("drain", () => broker.resume());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    up,
    down,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a watched slow consumer saw. */
export interface SlowConsumerRun {
  /** The payloads taken, as numbers, in the order the iterator yielded them. */
  got: number[];
  /** Broken rules seen on the wire (at most 5): an ack ahead of the consumer, a buffered message already acknowledged. */
  faults: string[];
  /** The most messages the subscription buffered at once. */
  maxBuffered: number;
  /** The most QoS 1/2 messages the broker had sent and the client not acknowledged at once. */
  maxUnacked: number;
}

/**
 * Iterates `sub` (its client connected through `wire`) until `n` messages were taken, waiting `workMs(i)` after
 * each, while `publish()` sends them. Checked at every yield and every millisecond: the client has sent no more
 * PUBACKs/PUBRECs than messages the consumer took (an ack goes out only once its consumer took the message), and
 * every buffered message is one still unacknowledged on the wire (so the broker's in-flight window bounds the buffer).
 */
export async function consumeSlowly(
  sub: { buffered: number } & AsyncIterable<{ payload: Uint8Array }>,
  wire: WireCounter,
  options: { qos: 1 | 2; n: number; workMs: (taken: number) => number; publish: () => Promise<unknown> },
): Promise<SlowConsumerRun> {
  const ackType = options.qos === 1 ? "puback" : "pubrec";
  const run: SlowConsumerRun = { got: [], faults: [], maxBuffered: 0, maxUnacked: 0 };
  let taken = 0;
  const check = () => {
    const acks = wire.up[ackType];
    const unacked = wire.down.publish12 - acks;
    run.maxBuffered = Math.max(run.maxBuffered, sub.buffered);
    run.maxUnacked = Math.max(run.maxUnacked, unacked);
    if (run.faults.length >= 5) return;
    if (acks > taken) run.faults.push(`${acks} ${ackType}s on the wire with ${taken} messages taken`);
    if (sub.buffered > unacked) run.faults.push(`${sub.buffered} buffered with ${unacked} unacknowledged on the wire`);
  };
  const consumed = (async () => {
    for await (const msg of sub) {
      taken++;
      check();
      run.got.push(Number(new TextDecoder().decode(msg.payload)));
      if (run.got.length === options.n) break;
      await new Promise((r) => setTimeout(r, options.workMs(run.got.length)));
    }
  })();
  const sampler = setInterval(check, 1);
  try {
    await options.publish();
    await consumed;
  } finally {
    clearInterval(sampler);
  }
  return run;
}
