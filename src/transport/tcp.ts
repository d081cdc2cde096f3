/** mqtt:// over node:net and mqtts:// over node:tls: available on Node, Bun and Deno. */

import * as net from "node:net";
import * as tls from "node:tls";
import type { Connection, ConnectionHandlers, Transport, TransportOptions } from "./transport.js";

/** Opens a TCP or TLS connection for mqtt:// (default port 1883) or mqtts:// (default port 8883). */
export const tcpTransport: Transport = (url: URL, options: TransportOptions, handlers: ConnectionHandlers) =>
  new Promise<Connection>((resolve, reject) => {
    const secure = url.protocol === "mqtts:" || url.protocol === "ssl:" || url.protocol === "tls:";
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = url.port ? Number(url.port) : secure ? 8883 : 1883;
    let socket: net.Socket;
    if (secure) {
      const t = options.tls ?? {};
      socket = tls.connect({
        host,
        port,
        ca: t.ca as tls.ConnectionOptions["ca"],
        cert: t.cert as tls.ConnectionOptions["cert"],
        key: t.key as tls.ConnectionOptions["key"],
        passphrase: t.passphrase,
        servername: t.servername ?? (net.isIP(host) ? undefined : host),
        rejectUnauthorized: t.rejectUnauthorized ?? true,
      });
    } else {
      socket = net.connect({ host, port });
    }
    let open = false;
    let failure: Error | undefined;
    socket.setNoDelay(true);
    socket.once(secure ? "secureConnect" : "connect", () => {
      open = true;
      resolve({
        write: (bytes) => socket.write(bytes),
        end: () => socket.end(),
        destroy: () => socket.destroy(),
      });
    });
    socket.on("data", (chunk: Uint8Array) => handlers.onData(chunk));
    socket.on("drain", () => handlers.onDrain());
    socket.on("error", (err) => {
      failure = err;
      if (!open) reject(err);
    });
    socket.on("close", () => {
      if (open) handlers.onClose(failure);
      else if (!failure) reject(new Error("connection closed before it was established"));
    });
  });
