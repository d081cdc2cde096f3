/**
 * ws:// and wss:// over the WHATWG WebSocket with the "mqtt" subprotocol and binary frames. MQTT packets are
 * not aligned to frames: each frame's bytes go straight to the incremental decoder.
 */

import type { Connection, ConnectionHandlers, Transport, TransportOptions, WebSocketConstructor } from "./transport.js";

/** Above this many buffered bytes, write() asks the caller to wait; drain is polled (WebSocket has no drain event). */
const HIGH_WATER = 1 << 20;
const DRAIN_POLL_MS = 10;

/** Opens a WebSocket connection. Uses options.webSocket, else the global WebSocket (Deno, Bun, Node >= 22). */
export const webSocketTransport: Transport = (url: URL, options: TransportOptions, handlers: ConnectionHandlers) =>
  new Promise<Connection>((resolve, reject) => {
    const Ctor = options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      reject(new Error("no WebSocket implementation: pass the webSocket option (e.g. the `ws` package) on this runtime"));
      return;
    }
    // TLS settings reach implementations that accept a third argument (the `ws` package); the WHATWG one ignores it.
    const t = options.tls;
    const ws = t
      ? new Ctor(url.href, ["mqtt"], { ca: t.ca, cert: t.cert, key: t.key, passphrase: t.passphrase, servername: t.servername, rejectUnauthorized: t.rejectUnauthorized ?? true })
      : new Ctor(url.href, ["mqtt"]);
    ws.binaryType = "arraybuffer";
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

    ws.onopen = () => {
      open = true;
      resolve({
        write: (bytes) => {
          if (closed) return false;
          ws.send(bytes);
          if (ws.bufferedAmount >= HIGH_WATER) {
            waitForDrain();
            return false;
          }
          return true;
        },
        end: () => ws.close(1000),
        destroy: () => ws.close(1000),
      });
    };
    ws.onmessage = (ev) => {
      const data = ev.data;
      if (data instanceof ArrayBuffer) handlers.onData(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) handlers.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else {
        failure = new Error("received a text WebSocket frame; MQTT uses binary frames");
        ws.close(1003);
      }
    };
    ws.onerror = (ev) => {
      const message = (ev as { message?: string; error?: { message?: string } }).message ?? (ev as { error?: { message?: string } }).error?.message;
      failure ??= new Error(`WebSocket error${message ? `: ${message}` : ""}`);
    };
    ws.onclose = (ev) => {
      if (closed) return;
      closed = true;
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      if (!open) reject(failure ?? new Error(`WebSocket closed before opening (code ${ev.code ?? "unknown"})`));
      else handlers.onClose(failure ?? (ev.code === 1000 ? undefined : new Error(`WebSocket closed (code ${ev.code ?? "unknown"})`)));
    };
  });
