/** mqtt:// over node:net and mqtts:// over node:tls: available on Node, Bun and Deno. */

import type * as Net from "node:net";
import type * as Tls from "node:tls";
import type { Connection, ConnectionHandlers, Transport, TransportOptions } from "./transport.js";

/*
 * node:net and node:tls are loaded by the first connection that needs them, not when `edgemq` is imported: as
 * static imports they were most of the core's import cost, paid by every importer whether it connected over TCP
 * or not (on Deno the first node: module also initialises the whole Node compatibility layer); BENCHMARKS.md,
 * "Startup", has the figures. mqtt:// never loads node:tls. Once loaded, the modules are kept here so that
 * reconnects do not go through import() again.
 */
let netModule: typeof Net | undefined;
let tlsModule: typeof Tls | undefined;

/** Where a socket's listeners find their connection: the listeners are shared functions, not closures per socket. */
const CONNECTION = Symbol("edgemq.connection");
type TaggedSocket = Net.Socket & { [CONNECTION]: TcpConnection };

/** Opens a TCP or TLS connection for mqtt:// (default port 1883) or mqtts:// (default port 8883). */
export const tcpTransport: Transport = async (url: URL, options: TransportOptions, handlers: ConnectionHandlers) => {
  const secure = url.protocol === "mqtts:" || url.protocol === "ssl:" || url.protocol === "tls:";
  const net = (netModule ??= await import("node:net"));
  const tls = secure ? (tlsModule ??= await import("node:tls")) : undefined;
  return connectSocket(net, tls, url, options, handlers);
};

/**
 * Opens the socket with the loaded modules (`tls` only for mqtts://). Until it connects, the promise is settled
 * by the socket's listeners; a synchronous throw (e.g. an unreadable key) rejects it, as before.
 */
const connectSocket = (net: typeof Net, tls: typeof Tls | undefined, url: URL, options: TransportOptions, handlers: ConnectionHandlers) =>
  new Promise<Connection>((resolve, reject) => {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = url.port ? Number(url.port) : tls ? 8883 : 1883;
    let socket: Net.Socket;
    if (tls) {
      const t = options.tls ?? {};
      socket = tls.connect({
        host,
        port,
        ca: t.ca as Tls.ConnectionOptions["ca"],
        cert: t.cert as Tls.ConnectionOptions["cert"],
        key: t.key as Tls.ConnectionOptions["key"],
        passphrase: t.passphrase,
        servername: t.servername ?? (net.isIP(host) ? undefined : host),
        rejectUnauthorized: t.rejectUnauthorized ?? true,
      });
    } else {
      socket = net.connect({ host, port });
    }
    (socket as TaggedSocket)[CONNECTION] = new TcpConnection(socket, handlers, resolve, reject);
    socket.setNoDelay(true);
    socket.once(tls ? "secureConnect" : "connect", onConnect);
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
    private readonly socket: Net.Socket,
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

  /** Corked: a large payload and the header before it leave in one writev, not one system call each. */
  writeMany(parts: Uint8Array[]): boolean {
    const socket = this.socket;
    socket.cork();
    let ok = true;
    for (const p of parts) ok = socket.write(p) && ok;
    socket.uncork();
    return ok;
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
