/** Bytes in, bytes out. A Transport opens one Connection to one URL; nothing here knows MQTT. */

/** TLS settings for mqtts:// and wss://. Verification is on unless rejectUnauthorized is false. */
export interface TlsOptions {
  /** Trusted CA certificate(s), PEM. Default: the runtime's trust store. */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** Client certificate chain, PEM (mutual TLS). */
  cert?: string | Uint8Array;
  /** Client private key, PEM (mutual TLS). */
  key?: string | Uint8Array;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
  /** Name to verify the server certificate against (SNI). Default: the URL's host name. */
  servername?: string;
  /** Verify the server's certificate. Default true. */
  rejectUnauthorized?: boolean;
}

/**
 * A WHATWG-compatible WebSocket constructor: the global one (Deno, Bun, Node >= 22) or e.g. the `ws` package's
 * class on Node 20. For wss://, the TLS settings go to a third constructor argument, which `ws` reads and a
 * WHATWG WebSocket ignores.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * The part of the WHATWG WebSocket the transport uses. The handler parameters are `never` so that any
 * implementation's event types fit; the transport reads only `data` (message), `code` (close) and
 * `message` / `error` (error).
 */
export interface WebSocketLike {
  /** Set to "arraybuffer": messages arrive as bytes. */
  binaryType: string;
  /** Bytes queued by send() and not yet written (the transport's backpressure). */
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** The connection opened. */
  onopen: ((ev: never) => void) | null;
  /** A message arrived (its `data` holds the bytes). */
  onmessage: ((ev: never) => void) | null;
  /** The connection closed (its `code` says how). */
  onclose: ((ev: never) => void) | null;
  /** The connection failed. */
  onerror: ((ev: never) => void) | null;
  /** Sends one binary message. */
  send(data: Uint8Array | ArrayBuffer): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
}

/** What a transport needs besides the URL. */
export interface TransportOptions {
  /** TLS settings for mqtts:// and wss://. */
  tls?: TlsOptions;
  /** WebSocket implementation for ws:// and wss:// where the runtime has no global one. */
  webSocket?: WebSocketConstructor;
  /**
   * Abandons the attempt: aborting before the connection opens destroys whatever was being opened and rejects with
   * the signal's reason; after it has opened the signal is ignored and the caller uses destroy().
   */
  signal?: AbortSignal;
}

/** Callbacks from an open connection. */
export interface ConnectionHandlers {
  /** Bytes arrived. The chunk is the caller's to keep. */
  onData(chunk: Uint8Array): void;
  /** The connection closed; `error` says why when it was not a clean close. Called once. */
  onClose(error?: Error): void;
  /** Writes may resume after write() returned false. */
  onDrain(): void;
}

/** One open byte stream. */
export interface Connection {
  /** Queues bytes; returns false when the caller should wait for onDrain before writing more. */
  write(bytes: Uint8Array): boolean;
  /** Optional: queues several chunks to go out together (e.g. one writev); same result as write(). */
  writeMany?(parts: Uint8Array[]): boolean;
  /** Closes after queued bytes are flushed. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
}

/** Opens a connection; rejects when it cannot be established. */
export type Transport = (url: URL, options: TransportOptions, handlers: ConnectionHandlers) => Promise<Connection>;
