/**
 * Connection attempts the client abandons leave nothing open at the server: a connect timeout during a TLS handshake
 * that never finishes, and end() while the TCP connection or the CONNACK is still awaited. Real sockets, real timers.
 */
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ClientClosedError, ConnectError, ConnectionLostError, createClient } from "../../src/index.ts";

/** A TCP server that accepts and never says a word (no TLS handshake, no CONNACK); counts open sockets. */
async function silentServer() {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    open.add(s);
    s.on("error", () => undefined);
    s.on("close", () => open.delete(s));
    s.resume(); // read (and discard) so the peer's close is seen
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return open.size;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(fn: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("abandoned connection attempts destroy their sockets", () => {
  it("20 mqtts:// attempts that time out during the TLS handshake leave 0 sockets open at the server", async () => {
    const server = await silentServer();
    servers.push(server);
    for (let i = 0; i < 20; i++) {
      const client = createClient({ url: `mqtts://127.0.0.1:${server.port}`, reconnect: false, connectTimeout: 100 });
      const err = await client.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe("connect-timeout");
      await client.end();
    }
    await until(() => server.open === 0);
    expect(server.accepted).toBe(20);
    expect(server.open).toBe(0);
  });

  it("end() while the CONNACK is awaited settles connect() at once and closes the socket", async () => {
    const server = await silentServer();
    servers.push(server);
    const client = createClient({ url: `mqtt://127.0.0.1:${server.port}`, connectTimeout: 30_000 });
    const outcome = client.connect().catch((e: unknown) => e);
    await until(() => server.accepted === 1);
    const started = Date.now();
    await client.end();
    expect(await outcome).toBeInstanceOf(ClientClosedError);
    expect(Date.now() - started).toBeLessThan(5000); // not the 30 s connectTimeout
    await until(() => server.open === 0);
    expect(server.open).toBe(0);
  });

  it("end() during the TLS handshake settles connect() at once and closes the socket", async () => {
    const server = await silentServer();
    servers.push(server);
    const client = createClient({ url: `mqtts://127.0.0.1:${server.port}`, connectTimeout: 30_000 });
    const outcome = client.connect().catch((e: unknown) => e);
    await until(() => server.accepted === 1);
    await client.end();
    expect(await outcome).toBeInstanceOf(ClientClosedError);
    await until(() => server.open === 0);
    expect(server.open).toBe(0);
  });
});

describe("a broker that closes the connection", () => {
  it("is reported as ConnectionLostError connection-lost (a typed reason, not a bare Error)", async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
      s.once("data", () => {
        s.write(Uint8Array.of(0x20, 0x02, 0x00, 0x00)); // CONNACK accepted
        setTimeout(() => s.end(), 50); // then a clean close, as a broker shutting down does
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push({ close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) });
    const port = (server.address() as net.AddressInfo).port;
    const client = createClient({ url: `mqtt://127.0.0.1:${port}`, reconnect: false });
    const reason = new Promise<Error | undefined>((resolve) => client.on("disconnect", (d) => resolve(d.reason)));
    await client.connect();
    const err = await reason;
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect((err as ConnectionLostError).code).toBe("connection-lost");
    await client.end();
  });
});
