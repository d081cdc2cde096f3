/** mqtt:// over node:net and mqtts:// over node:tls: available on Node, Bun and Deno. */

import type * as Net from "node:net";
import type * as Tls from "node:tls";
import { abortReason } from "./abort.js";
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

/** Why TCP cannot work on this platform: never here (the browser build's tcp.browser.ts says why it cannot). */
export const TCP_UNAVAILABLE: string | undefined = undefined;

/** Opens a TCP or TLS connection for mqtt:// (default port 1883) or mqtts:// (default port 8883). */
export const tcpTransport: Transport = async (url: URL, options: TransportOptions, handlers: ConnectionHandlers): Promise<Connection> => {
  const secure = url.protocol === "mqtts:" || url.protocol === "ssl:" || url.protocol === "tls:";
  const signal = options.signal;
  if (signal?.aborted) throw abortReason(signal);
  const net = (netModule ??= await import("node:net"));
  const tls = secure ? (tlsModule ??= await import("node:tls")) : undefined;
  // Loading the modules may have taken a while: the attempt can have been abandoned meanwhile.
  if (signal?.aborted) throw abortReason(signal);
  return connectSocket(net, tls, url, options, handlers);
};

/**
 * Opens the socket with the loaded modules (`tls` only for mqtts://). Until it connects, the promise is settled
 * by the socket's listeners, or by options.signal, which destroys the socket; a synchronous throw (e.g. an
 * unreadable key) rejects it, as before.
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
    const conn = new TcpConnection(socket, handlers, resolve, reject, options.signal);
    (socket as TaggedSocket)[CONNECTION] = conn;
    // The connection itself is the listener (handleEvent): no closure per attempt, and it is removed once settled.
    options.signal?.addEventListener("abort", conn);
    socket.setNoDelay(true);
    socket.once(tls ? "secureConnect" : "connect", onConnect);
    socket.on("data", onData);
    socket.on("drain", onDrain);
    socket.on("error", onError);
    socket.on("close", onClose);
  });

/**
 * One open socket. Until it connects, it settles the transport's promise (and listens to the attempt's abort
 * signal); then it reports to the handlers.
 */
class TcpConnection implements Connection {
  failure: Error | undefined;
  open = false;

  readonly #socket: Net.Socket;
  /** Set while connecting; cleared once open so the promise's functions are not kept for the socket's life. */
  #resolve: ((c: Connection) => void) | undefined;
  #reject: ((e: Error) => void) | undefined;
  /** Set while connecting; cleared (and this listener removed from it) once the attempt settles. */
  #signal: AbortSignal | undefined;

  constructor(
    socket: Net.Socket,
    readonly handlers: ConnectionHandlers,
    resolve: ((c: Connection) => void) | undefined,
    reject: ((e: Error) => void) | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.#socket = socket;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
  }

  opened(): void {
    this.open = true;
    const resolve = this.#resolve;
    this.settle();
    resolve?.(this);
  }

  failed(err: Error): void {
    const reject = this.#reject;
    this.settle();
    reject?.(err);
  }

  /** Drops what only the attempt needed: the promise's functions and the abort listener. */
  private settle(): void {
    this.#resolve = this.#reject = undefined;
    this.#signal?.removeEventListener("abort", this);
    this.#signal = undefined;
  }

  /** The signal's abort event, while connecting: rejects with its reason and destroys the socket being opened. */
  handleEvent(): void {
    const signal = this.#signal;
    if (!signal) return;
    this.failed(abortReason(signal));
    this.#socket.destroy();
  }

  write(bytes: Uint8Array): boolean {
    return this.#socket.write(bytes);
  }

  /** Corked: a large payload and the header before it leave in one writev, not one system call each. */
  writeMany(parts: Uint8Array[]): boolean {
    const socket = this.#socket;
    socket.cork();
    let ok = true;
    for (const p of parts) ok = socket.write(p) && ok;
    socket.uncork();
    return ok;
  }

  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
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
