/** mqtt:// over node:net and mqtts:// over node:tls: available on Node, Bun and Deno. */

import * as net from "node:net";
import * as tls from "node:tls";
import type { Connection, ConnectionHandlers, Transport, TransportOptions } from "./transport.js";

/** Where a socket's listeners find their connection: the listeners are shared functions, not closures per socket. */
const CONNECTION = Symbol("edgemq.connection");
type TaggedSocket = net.Socket & { [CONNECTION]: TcpConnection };

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
    (socket as TaggedSocket)[CONNECTION] = new TcpConnection(socket, handlers, resolve, reject);
    socket.setNoDelay(true);
    socket.once(secure ? "secureConnect" : "connect", onConnect);
    socket.on("data", onData);
    socket.on("drain", onDrain);
    socket.on("error", onError);
    socket.on("close", onClose);
  });

/** One open socket. Until it connects, it settles the transport's promise; then it reports to the handlers. */
class TcpConnection implements Connection {
  failure: Error | undefined;
  open = false;

  constructor(
    private readonly socket: net.Socket,
    readonly handlers: ConnectionHandlers,
    /** Set while connecting; cleared once open so the promise's functions are not kept for the socket's life. */
    private resolve: ((c: Connection) => void) | undefined,
    private reject: ((e: Error) => void) | undefined,
  ) {}

  opened(): void {
    this.open = true;
    const resolve = this.resolve;
    this.resolve = this.reject = undefined;
    resolve?.(this);
  }

  failed(err: Error): void {
    const reject = this.reject;
    this.resolve = this.reject = undefined;
    reject?.(err);
  }

  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// Node's EventEmitter calls listeners with `this` set to the socket.
function onConnect(this: TaggedSocket): void {
  this[CONNECTION].opened();
}

function onData(this: TaggedSocket, chunk: Uint8Array): void {
  this[CONNECTION].handlers.onData(chunk);
}

function onDrain(this: TaggedSocket): void {
  this[CONNECTION].handlers.onDrain();
}

function onError(this: TaggedSocket, err: Error): void {
  const conn = this[CONNECTION];
  conn.failure = err;
  conn.failed(err);
}

function onClose(this: TaggedSocket): void {
  const conn = this[CONNECTION];
  if (conn.open) conn.handlers.onClose(conn.failure);
  else conn.failed(conn.failure ?? new Error("connection closed before it was established"));
}
