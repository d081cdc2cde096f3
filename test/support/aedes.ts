/**
 * An in-process aedes broker for one test file, served over node:net (mqtt://), over a `ws` WebSocket server
 * (ws://), or over a `ws` server on https (wss://). Everything listens on 127.0.0.1 on a free port; close()
 * drops every connection and stops the servers and the broker.
 */

import * as https from "node:https";
import * as net from "node:net";
import type { TLSSocket } from "node:tls";
import { Aedes, type AedesOptions } from "aedes";
import { createWebSocketStream, WebSocketServer, type WebSocket } from "ws";

/** A running broker. */
export interface TestBroker {
  aedes: Aedes;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A broker behind a WebSocket server. */
export interface WebSocketBroker extends TestBroker {
  /** The subprotocol each accepted WebSocket connection agreed on, in order. */
  protocols: string[];
  /** The peer certificate subject CN of each accepted wss:// connection ("" when none was presented). */
  clientCertificates: string[];
}

/** TLS settings of a wss:// server. */
export interface WebSocketTlsServerOptions {
  cert: string;
  key: string;
  /** CA for client certificates; with requestCert, connections without a valid one are refused. */
  ca?: string;
  requestCert?: boolean;
}

function listen(server: net.Server | https.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: net.Server | https.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}

/** Starts aedes over plain TCP. */
export async function startAedes(options: AedesOptions = {}): Promise<TestBroker> {
  const aedes = await Aedes.createBroker(options);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const port = await listen(server);
  return {
    aedes,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer(server);
      await closeAedes(aedes);
    },
  };
}

/** Starts aedes behind a `ws` WebSocketServer: ws:// without `tls`, wss:// (an https server) with it. */
export async function startAedesWebSocket(options: AedesOptions = {}, tls?: WebSocketTlsServerOptions): Promise<WebSocketBroker> {
  const aedes = await Aedes.createBroker(options);
  const protocols: string[] = [];
  const clientCertificates: string[] = [];
  const httpsServer = tls
    ? https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.requestCert ?? false, rejectUnauthorized: tls.requestCert ?? false })
    : undefined;
  const wss = httpsServer ? new WebSocketServer({ server: httpsServer }) : new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (socket: WebSocket, req) => {
    protocols.push(socket.protocol);
    if (tls) {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      clientCertificates.push(typeof peer?.subject?.CN === "string" ? peer.subject.CN : "");
    }
    const stream = createWebSocketStream(socket);
    stream.on("error", () => undefined); // a client that vanishes mid-frame; aedes sees the close
    aedes.handle(stream, req);
  });
  let port: number;
  if (httpsServer) port = await listen(httpsServer);
  else {
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    port = (wss.address() as net.AddressInfo).port;
  }
  return {
    aedes,
    port,
    url: `${tls ? "wss" : "ws"}://127.0.0.1:${port}`,
    protocols,
    clientCertificates,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (httpsServer) {
        httpsServer.closeAllConnections();
        await closeServer(httpsServer);
      }
      await closeAedes(aedes);
    },
  };
}
