/**
 * ws:// and wss:// over the WHATWG WebSocket with the "mqtt" subprotocol and binary frames. MQTT packets are
 * not aligned to frames: each frame's bytes go straight to the incremental decoder.
 */

import { abortReason } from "./abort.js";
import type { Connection, ConnectionHandlers, TlsOptions, Transport, TransportOptions, WebSocketConstructor, WebSocketLike } from "./transport.js";

/** The third constructor argument: TLS settings in the shape node:tls (and so `ws`) reads them. */
type WebSocketTlsArgument = Omit<TlsOptions, "rejectUnauthorized"> & { rejectUnauthorized: boolean };

/** Above this many buffered bytes, write() asks the caller to wait; drain is polled (WebSocket has no drain event). */
const HIGH_WATER = 1 << 20;
const DRAIN_POLL_MS = 10;

/**
 * Opens a WebSocket connection. Uses options.webSocket, else the global WebSocket (Deno, Bun, Node >= 22).
 * options.signal, until the connection opens, closes the WebSocket being opened and rejects with its reason.
 */
export const webSocketTransport: Transport = (url: URL, options: TransportOptions, handlers: ConnectionHandlers): Promise<Connection> =>
  new Promise<Connection>((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const Ctor = options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      reject(new Error("no WebSocket implementation: pass the webSocket option (e.g. the `ws` package) on this runtime"));
      return;
    }
    // TLS settings reach implementations that accept a third argument (the `ws` package); the WHATWG one ignores it.
    const t = options.tls;
    const WithOptions = Ctor as unknown as new (url: string, protocols: string[], options: WebSocketTlsArgument) => WebSocketLike;
    const ws = t
      ? new WithOptions(url.href, ["mqtt"], { ca: t.ca, cert: t.cert, key: t.key, passphrase: t.passphrase, servername: t.servername, rejectUnauthorized: t.rejectUnauthorized ?? true })
      : new Ctor(url.href, ["mqtt"]);
    ws.binaryType = "arraybuffer";
    // Listens only while connecting. Closing a CONNECTING WebSocket fails it (`ws` aborts the upgrade request and
    // destroys its socket); its error and close events still come, and find the promise already settled.
    const onAbort = () => {
      signal!.removeEventListener("abort", onAbort);
      reject(abortReason(signal!));
      ws.close();
    };
    signal?.addEventListener("abort", onAbort);
    let open = false;
    let closed = false;
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    let failure: Error | undefined;

    const waitForDrain = () => {
      if (drainTimer !== undefined || closed) return;
      drainTimer = setTimeout(() => {
        drainTimer = undefined;
        if (closed) return;
        if (ws.bufferedAmount < HIGH_WATER) handlers.onDrain();
        else waitForDrain();
      }, DRAIN_POLL_MS);
    };

    ws.onopen = (_ev: unknown) => {
      open = true;
      signal?.removeEventListener("abort", onAbort);
      const write = (bytes: Uint8Array): boolean => {
        if (closed) return false;
        ws.send(bytes);
        if (ws.bufferedAmount >= HIGH_WATER) {
          waitForDrain();
          return false;
        }
        return true;
      };
      resolve({
        write,
        // One WebSocket message per flush: a large payload and its header travel in one frame, not two.
        writeMany(parts) {
          let size = 0;
          for (const p of parts) size += p.length;
          const joined = new Uint8Array(size);
          let at = 0;
          for (const p of parts) {
            joined.set(p, at);
            at += p.length;
          }
          return write(joined);
        },
        end: () => ws.close(1000),
        destroy: () => ws.close(1000),
      });
    };
    ws.onmessage = (ev: { data: unknown }) => {
      const data = ev.data;
      if (data instanceof ArrayBuffer) handlers.onData(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) handlers.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else {
        failure = new Error("received a text WebSocket frame; MQTT uses binary frames");
        ws.close(1003);
      }
    };
    ws.onerror = (ev: unknown) => {
      // The WHATWG ErrorEvent says little; implementations such as `ws` attach the underlying error (e.g. the
      // TLS verification failure), which is kept as the cause.
      const e = ev as { message?: string; error?: unknown };
      const inner = e.error instanceof Error ? e.error : undefined;
      const message = e.message || inner?.message;
      failure ??= new Error(`WebSocket error${message ? `: ${message}` : ""}`, inner ? { cause: inner } : undefined);
    };
    ws.onclose = (ev: { code?: number }) => {
      if (closed) return;
      closed = true;
      signal?.removeEventListener("abort", onAbort);
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      if (!open) reject(failure ?? new Error(`WebSocket closed before opening (code ${ev.code ?? "unknown"})`));
      else handlers.onClose(failure ?? (ev.code === 1000 ? undefined : new Error(`WebSocket closed (code ${ev.code ?? "unknown"})`)));
    };
  });
