/**
 * The fault proxy itself: its faults are exactly what the fault tests claim they are. A byte cut forwards exactly
 * up to its mark and closes; a cut the bounds no longer allow leaves the stream intact; a stall holds bytes and
 * hides closes (half-open) until resumed; plans depend only on the seed and the connection number.
 */
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { randomPlan, startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";

/** A TCP server that records what each connection receives and whether it was closed. */
async function sink() {
  const conns: Array<{ socket: net.Socket; received: Buffer[]; closed: boolean }> = [];
  const server = net.createServer((socket) => {
    const c = { socket, received: [] as Buffer[], closed: false };
    conns.push(c);
    socket.on("data", (d) => c.received.push(d));
    socket.on("close", () => (c.closed = true));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    conns,
    port: (server.address() as net.AddressInfo).port,
    bytes: (i: number) => Buffer.concat(conns[i]?.received ?? []),
    close: () => {
      for (const c of conns) c.socket.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function dial(proxy: FaultProxy) {
  const socket = net.connect(proxy.port, "127.0.0.1");
  const received: Buffer[] = [];
  let closed = false;
  socket.on("data", (d) => received.push(d));
  socket.on("close", () => (closed = true));
  socket.on("error", () => undefined);
  await new Promise<void>((r) => socket.once("connect", () => r()));
  return { socket, received: () => Buffer.concat(received), closed: () => closed };
}

async function until(fn: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe("fault proxy", () => {
  it("a byte cut forwards exactly up to its mark, then closes both sides", async () => {
    const server = await sink();
    const proxy = await startFaultProxy({ target: server.port, plan: () => ({ cutAfterBytes: 1000 }) });
    cleanup.push(server.close, () => proxy.close());
    const client = await dial(proxy);
    const data = pattern(5000);
    client.socket.write(data);
    await until(() => client.closed() && server.conns[0]?.closed === true);
    expect(server.bytes(0).equals(data.subarray(0, 1000))).toBe(true);
    expect(proxy.stats()).toMatchObject({ cuts: 1, cutsByBytes: 1, bytesUp: 1000 });
  });

  it("once maxCuts is reached, planned cuts are skipped and the stream stays intact", async () => {
    const server = await sink();
    const proxy = await startFaultProxy({ target: server.port, maxCuts: 1, plan: () => ({ cutAfterBytes: 100, segmentBytes: [1, 50] }) });
    cleanup.push(server.close, () => proxy.close());
    const first = await dial(proxy);
    first.socket.write(pattern(300));
    await until(() => first.closed());
    const second = await dial(proxy);
    const data = pattern(5000);
    second.socket.write(data);
    await until(() => server.bytes(1).length === data.length);
    expect(server.bytes(1).equals(data)).toBe(true);
    expect(second.closed()).toBe(false);
    expect(proxy.stats().cuts).toBe(1);
  });

  it("a stall holds bytes in both directions and hides a close; resume delivers what was held, in order", async () => {
    const server = await sink();
    const proxy = await startFaultProxy({ target: server.port });
    cleanup.push(server.close, () => proxy.close());
    const client = await dial(proxy);
    client.socket.write("one,");
    await until(() => server.bytes(0).toString() === "one,");
    expect(proxy.stall()).toBe(1);
    client.socket.write("two,");
    server.conns[0]!.socket.write("down");
    await new Promise((r) => setTimeout(r, 200));
    expect(server.bytes(0).toString()).toBe("one,");
    expect(client.received().length).toBe(0);
    proxy.resume();
    await until(() => server.bytes(0).toString() === "one,two," && client.received().toString() === "down");

    // Half-open: while stalled, the client going away is not passed on to the server.
    proxy.stall();
    client.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(server.conns[0]!.closed).toBe(false);
    await proxy.close();
    await until(() => server.conns[0]!.closed);
  });

  it("plans depend only on the seed and the connection number", async () => {
    const server = await sink();
    const settings = { cutAfterBytes: [100, 100_000], cutAfterMs: [10, 10_000], delayChance: 0.5, delayMs: [0, 3], segmentChance: 0.3, segmentBytes: [1, 64] } as const;
    const plans = async (seed: number) => {
      const proxy = await startFaultProxy({ target: server.port, seed, plan: randomPlan(settings) });
      for (let i = 0; i < 5; i++) (await dial(proxy)).socket.destroy();
      await until(() => proxy.stats().accepted === 5);
      await proxy.close();
      return proxy.events.filter((e) => e.kind === "accept").map((e) => e.detail);
    };
    cleanup.push(server.close);
    const a = await plans(42);
    expect(await plans(42)).toEqual(a);
    expect(await plans(43)).not.toEqual(a);
    expect(new Set(a).size).toBe(5);
  });
});
