/**
 * One live connection: packets out through the encoder, coalesced into one write per turn of the event loop;
 * bytes in through the incremental decoder. A protocol fault closes the link with the ProtocolError; nothing
 * is thrown out of the read path.
 */

import { ClientDecoder } from "../mqtt/decode-client.js";
import { ProtocolError } from "../mqtt/errors.js";
import { show } from "../mqtt/show.js";
import type { Packet } from "../mqtt/packets.js";
import type { OversizePublish } from "../mqtt/reader.js";
import type { Connection, ConnectionHandlers, Transport, TransportOptions } from "../transport/transport.js";
import { ConnectionLostError } from "./errors.js";
import type { WireCodec } from "./wire.js";
import { WriteQueue } from "./write-queue.js";

/** Where a link reports; each call names the link, so one handler object serves every link of a client. */
export interface LinkHandlers {
  /** Bytes arrived (called once per chunk, before its packets). */
  onBytes(link: Link): void;
  onPacket(link: Link, packet: Packet): void;
  /** A PUBLISH over maxPacketSize was skipped as its bytes streamed in (never buffered); in stream order with onPacket. */
  onOversize(link: Link, info: OversizePublish): void;
  /** Called once when the link is gone, with the reason unless it was closed by us. */
  onClose(link: Link, error: Error | undefined): void;
  /** The transport can take writes again. */
  onDrain(link: Link): void;
  /** Bytes were handed to the transport. */
  onWrite(link: Link): void;
}

export class Link {
  #conn: Connection | undefined;
  /** The 3.1.1 decoder, or the connection's codec for another protocol version. */
  readonly #decoder: ClientDecoder | WireCodec;
  readonly #out = new WriteQueue();
  #flushScheduled = false;
  #backpressured = false;
  #closed = false;

  readonly #handlers: LinkHandlers;

  constructor(
    handlers: LinkHandlers,
    maxPacketSize: number,
    /** The codec when not MQTT 3.1.1 (MQTT 5's). */
    readonly codec?: WireCodec,
  ) {
    this.#handlers = handlers;
    this.#decoder = codec ?? new ClientDecoder({ maxPacketSize, onOversizePublish: this.onOversize.bind(this) });
  }

  /** Opens the transport. Rejects with the transport's error. */
  async open(transport: Transport, url: URL, options: TransportOptions): Promise<void> {
    this.#conn = await transport(url, options, this.connectionHandlers());
    if (this.#closed) this.#conn.destroy();
  }

  /** True while open and not waiting for the transport to drain. */
  get writable(): boolean {
    return !this.#closed && this.#conn !== undefined && !this.#backpressured;
  }

  /** Whether the link has closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Encodes and queues a packet; all packets queued in one turn go out in one write. An encoder refusal throws
   * and queues nothing (the shared write slab is left as if the packet had never been tried).
   */
  send(packet: Packet): void {
    if (this.#closed) return;
    if (this.codec) this.codec.write(packet, this.#out);
    else this.#out.add(packet);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes everything queued now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#closed || !this.#conn) return;
    const parts = this.#out.take();
    if (!parts) return;
    try {
      if (!this.writeAll(parts)) this.#backpressured = true;
    } catch (err) {
      // A transport that throws instead of reporting through onClose: this connection is done, nothing escapes.
      this.fail(err instanceof Error ? err : new Error(show(err)));
      return;
    }
    this.#handlers.onWrite(this);
  }

  private writeAll(writes: Uint8Array[]): boolean {
    const conn = this.#conn!;
    if (writes.length === 1) return conn.write(writes[0]!);
    if (conn.writeMany) return conn.writeMany(writes);
    let ok = true;
    for (const w of writes) ok = conn.write(w) && ok;
    return ok;
  }

  /** Closes the link: gracefully flushes first, else drops it at once. onClose is not called for a close we asked for. */
  close(graceful: boolean): void {
    if (this.#closed) return;
    if (graceful) this.flush();
    this.#closed = true;
    if (graceful) this.#conn?.end();
    else this.#conn?.destroy();
  }

  /** Closes the link because of `error` (reported through onClose). */
  fail(error: Error): void {
    if (this.#closed) return;
    this.#conn?.destroy();
    this.finish(error);
  }

  /**
   * The transport's callbacks: a plain object with own functions (a wrapping transport may spread it or call one
   * detached), bound methods rather than closures (no context object, nothing of open()'s scope kept).
   */
  private connectionHandlers(): ConnectionHandlers {
    return { onData: this.onData.bind(this), onClose: this.onPeerClose.bind(this), onDrain: this.onDrain.bind(this) };
  }

  private onPeerClose(error: Error | undefined): void {
    this.finish(error ?? new ConnectionLostError("connection-lost", "the broker closed the connection"));
  }

  private onDrain(): void {
    this.#backpressured = false;
    this.#handlers.onDrain(this);
  }

  private onOversize(info: OversizePublish): void {
    if (!this.#closed) this.#handlers.onOversize(this, info);
  }

  private onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#handlers.onBytes(this);
    try {
      this.#decoder.feed(
        chunk,
        (p) => {
          if (!this.#closed) this.#handlers.onPacket(this, p);
        },
        this,
      );
    } catch (err) {
      // A TLS record (an alert 0x15 or handshake 0x16, version 3.x) where MQTT was expected: a TLS port over mqtt://.
      const tls = err instanceof ProtocolError && chunk[1] === 3 && (chunk[0] === 0x15 || chunk[0] === 0x16);
      this.fail(tls ? new ProtocolError(err.code, "the server speaks TLS (use mqtts://)") : err instanceof Error ? err : new Error(show(err)));
    }
  }

  private finish(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out.clear();
    this.#handlers.onClose(this, error);
  }
}
