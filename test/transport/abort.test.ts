/**
 * A connection attempt can be abandoned: TransportOptions.signal. Aborting before the connection opens destroys
 * whatever was being opened (TCP connect, TLS handshake, WebSocket upgrade) and rejects with the signal's reason;
 * once open, the signal is ignored. Each test runs its own servers on free ports on 127.0.0.1.
 */
import { getEventListeners } from "node:events";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { tcpTransport, webSocketTransport, type ConnectionHandlers, type TransportOptions } from "../../src/index.ts";

const handlers: ConnectionHandlers = { onData: () => {}, onClose: () => {}, onDrain: () => {} };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Settles like `p`, or rejects after `ms` with a message saying the attempt never settled (today's bug). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Polls until `check` is true, or fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A server that counts the sockets it accepted and the ones still open; it never writes a byte. */
interface Silent {
  port: number;
  accepted: number;
  open: Set<net.Socket>;
  /** Resolves when the next accepted socket closes. */
  closes: Array<Promise<void>>;
  received: Uint8Array[];
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A plain TCP server on 127.0.0.1 that accepts and never answers (not even a TLS ServerHello). */
async function silentServer(): Promise<Silent> {
  const s: Silent = {
    port: 0,
    accepted: 0,
    open: new Set(),
    closes: [],
    received: [],
    close: async () => {
      for (const sock of s.open) sock.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = net.createServer((sock) => {
    s.accepted++;
    s.open.add(sock);
    sock.on("data", (d: Uint8Array) => s.received.push(d));
    sock.on("error", () => {});
    s.closes.push(new Promise<void>((r) => sock.on("close", () => { s.open.delete(sock); r(); })));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  s.port = (server.address() as AddressInfo).port;
  cleanups.push(() => s.close());
  return s;
}

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, "abort").length;

describe("tcpTransport: options.signal", () => {
  it("mqtts://: aborting during a TLS handshake the server never answers destroys the socket and rejects with the reason (x20)", async () => {
    const server = await silentServer();
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const reason = new Error(`connect timeout ${i}`);
      const attempt = tcpTransport(new URL(`mqtts://127.0.0.1:${server.port}`), { signal: controller.signal, tls: { rejectUnauthorized: false } }, handlers);
      attempt.catch(() => {}); // asserted below; keeps an early rejection from being reported as unhandled
      await until(() => server.accepted === i + 1, 2000, `the server to accept connection ${i}`);
      await sleep(100);
      controller.abort(reason);
      await expect(within(attempt, 2000, "the aborted TLS attempt")).rejects.toBe(reason);
      await within(server.closes[i]!, 2000, `the server-side socket ${i} to close`);
      expect(abortListeners(controller.signal)).toBe(0);
    }
    expect(server.accepted).toBe(20);
    expect(server.open.size).toBe(0);
  });

  it("mqtt://: aborting right after the call (before the connect event) rejects and the server holds no socket", async () => {
    const server = await silentServer();
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const reason = new Error("gave up");
      const attempt = tcpTransport(new URL(`mqtt://127.0.0.1:${server.port}`), { signal: controller.signal }, handlers);
      attempt.catch(() => {});
      controller.abort(reason);
      await expect(within(attempt, 2000, "the aborted TCP attempt")).rejects.toBe(reason);
      expect(abortListeners(controller.signal)).toBe(0);
    }
    await sleep(100);
    await until(() => server.open.size === 0, 2000, "the server to hold no socket");
  });

  it("mqtt:// and mqtts://: an already-aborted signal rejects without connecting", async () => {
    const server = await silentServer();
    for (const scheme of ["mqtt", "mqtts"]) {
      const reason = new Error(`already aborted (${scheme})`);
      const signal = AbortSignal.abort(reason);
      await expect(within(tcpTransport(new URL(`${scheme}://127.0.0.1:${server.port}`), { signal }, handlers), 2000, scheme)).rejects.toBe(reason);
    }
    await sleep(100);
    expect(server.accepted).toBe(0);
  });

  it("rejects with an Error when the reason is not one (nothing is thrown as a string)", async () => {
    const server = await silentServer();
    const attempt = tcpTransport(new URL(`mqtt://127.0.0.1:${server.port}`), { signal: AbortSignal.abort("just a string") }, handlers);
    await expect(attempt).rejects.toBeInstanceOf(Error);
    await expect(attempt).rejects.toMatchObject({ cause: "just a string" });
    const controller = new AbortController();
    const pending = tcpTransport(new URL(`mqtt://127.0.0.1:${server.port}`), { signal: controller.signal }, handlers);
    controller.abort(); // the default reason: an AbortError DOMException, which is an Error
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });

  it("after the connection opened, aborting does nothing: the connection still carries bytes", async () => {
    const server = await silentServer();
    const controller = new AbortController();
    const closed: Array<Error | undefined> = [];
    const conn = await within(
      tcpTransport(new URL(`mqtt://127.0.0.1:${server.port}`), { signal: controller.signal }, { ...handlers, onClose: (e) => closed.push(e) }),
      2000,
      "the connection",
    );
    expect(abortListeners(controller.signal)).toBe(0); // removed once open: nothing kept per connection
    controller.abort(new Error("too late"));
    await sleep(50);
    conn.write(new Uint8Array([1, 2, 3]));
    await until(() => server.received.reduce((n, c) => n + c.length, 0) >= 3, 2000, "the server to receive the bytes");
    expect(Uint8Array.from(Buffer.concat(server.received))).toEqual(new Uint8Array([1, 2, 3]));
    expect(server.open.size).toBe(1);
    expect(closed).toEqual([]);
    conn.destroy();
    await within(server.closes[0]!, 2000, "the server-side socket to close after destroy()");
  });

  it("a failed attempt (connection refused) removes its abort listener", async () => {
    const server = await silentServer();
    const port = server.port;
    await server.close();
    const controller = new AbortController();
    await expect(within(tcpTransport(new URL(`mqtt://127.0.0.1:${port}`), { signal: controller.signal }, handlers), 2000, "refused")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(abortListeners(controller.signal)).toBe(0);
  });
});

/** An HTTP server that takes the WebSocket upgrade request and never answers it. */
async function stalledUpgradeServer(): Promise<{ port: number; upgrades: number; open: Set<net.Socket>; closes: Array<Promise<void>> }> {
  const s = { port: 0, upgrades: 0, open: new Set<net.Socket>(), closes: [] as Array<Promise<void>> };
  const server = http.createServer((_req, res) => res.end());
  server.on("upgrade", (_req, sock: net.Socket) => {
    s.upgrades++;
    s.open.add(sock);
    sock.on("error", () => {});
    // Read, so that the client's FIN is seen; http.Server sockets are half-open on FIN, so answer it with ours
    // (as a real server would) and 'close' follows: the client hung up.
    sock.resume();
    sock.on("end", () => sock.end());
    s.closes.push(new Promise<void>((r) => sock.on("close", () => { s.open.delete(sock); r(); })));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  s.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    for (const sock of s.open) sock.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return s;
}

const wsOptions = (signal: AbortSignal): TransportOptions => ({ signal, webSocket: WebSocket });

describe("webSocketTransport: options.signal", () => {
  it("ws://: aborting while the upgrade is unanswered closes the socket and rejects with the reason", async () => {
    const server = await stalledUpgradeServer();
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const reason = new Error(`ws connect timeout ${i}`);
      const attempt = webSocketTransport(new URL(`ws://127.0.0.1:${server.port}/mqtt`), wsOptions(controller.signal), handlers);
      attempt.catch(() => {});
      await until(() => server.upgrades === i + 1, 2000, `the upgrade request ${i}`);
      await sleep(100);
      controller.abort(reason);
      await expect(within(attempt, 2000, "the aborted WebSocket attempt")).rejects.toBe(reason);
      await within(server.closes[i]!, 2000, `the server-side socket ${i} to close`);
      expect(abortListeners(controller.signal)).toBe(0);
    }
    expect(server.open.size).toBe(0);
  });

  it("ws://: an already-aborted signal rejects without connecting", async () => {
    const server = await stalledUpgradeServer();
    const reason = new Error("already aborted");
    await expect(within(webSocketTransport(new URL(`ws://127.0.0.1:${server.port}/mqtt`), wsOptions(AbortSignal.abort(reason)), handlers), 2000, "ws")).rejects.toBe(reason);
    await sleep(100);
    expect(server.upgrades).toBe(0);
  });

  it("ws://: after the connection opened, aborting does nothing: the connection still carries bytes", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    cleanups.push(() => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }));
    const received: Uint8Array[] = [];
    wss.on("connection", (sock) => sock.on("message", (d: Buffer) => received.push(Uint8Array.from(d))));
    const controller = new AbortController();
    const closed: Array<Error | undefined> = [];
    const port = (wss.address() as AddressInfo).port;
    const conn = await within(
      webSocketTransport(new URL(`ws://127.0.0.1:${port}/mqtt`), wsOptions(controller.signal), { ...handlers, onClose: (e) => closed.push(e) }),
      2000,
      "the WebSocket connection",
    );
    expect(abortListeners(controller.signal)).toBe(0);
    controller.abort(new Error("too late"));
    await sleep(50);
    conn.write(new Uint8Array([4, 5, 6]));
    await until(() => received.length === 1, 2000, "the server to receive the frame");
    expect(received[0]).toEqual(new Uint8Array([4, 5, 6]));
    expect(closed).toEqual([]);
    conn.destroy();
  });
});
