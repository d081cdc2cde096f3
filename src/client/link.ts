/**
 * One live connection: packets out through the encoder, coalesced into one write per turn of the event loop;
 * bytes in through the incremental decoder. A protocol fault closes the link with the ProtocolError; nothing
 * is thrown out of the read path.
 */

import { ClientDecoder } from "../mqtt/decode-client.js";
import { encodeClientPacket, encodePublish, encodePublishHead } from "../mqtt/encode-client.js";
import type { Packet } from "../mqtt/packets.js";
import type { Connection, ConnectionHandlers, Transport, TransportOptions } from "../transport/transport.js";

/** Where a link reports; each call names the link, so one handler object serves every link of a client. */
export interface LinkHandlers {
  onPacket(link: Link, packet: Packet): void;
  /** Called once when the link is gone, with the reason unless it was closed by us. */
  onClose(link: Link, error: Error | undefined): void;
  /** The transport can take writes again. */
  onDrain(link: Link): void;
  /** Bytes were handed to the transport. */
  onWrite(link: Link): void;
}

/** Packets smaller than this are copied into one combined write; larger ones are written as they are. */
const COALESCE_LIMIT = 16 * 1024;

/** The empty write queue, shared: most of a link's life nothing waits to be written. Never mutated. */
const NONE: Uint8Array[] = [];

export class Link {
  private conn: Connection | undefined;
  private readonly decoder: ClientDecoder;
  private out: Uint8Array[] = NONE;
  /** Bytes of the queued parts small enough to be copied into one combined write. */
  private smallBytes = 0;
  private flushScheduled = false;
  private backpressured = false;
  private closed = false;

  constructor(private readonly handlers: LinkHandlers, maxPacketSize: number) {
    this.decoder = new ClientDecoder({ maxPacketSize });
  }

  /** Opens the transport. Rejects with the transport's error. */
  async open(transport: Transport, url: URL, options: TransportOptions): Promise<void> {
    this.conn = await transport(url, options, this.connectionHandlers());
    if (this.closed) this.conn.destroy();
  }

  /** True while open and not waiting for the transport to drain. */
  get writable(): boolean {
    return !this.closed && this.conn !== undefined && !this.backpressured;
  }

  /** Whether the link has closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Encodes and queues a packet; all packets queued in one turn go out in one write. */
  send(packet: Packet): void {
    if (this.closed) return;
    if (this.out === NONE) this.out = [];
    if (packet.type === "publish" && packet.payload.length >= COALESCE_LIMIT) {
      // A large payload goes to the transport as it is, after its header: no copy into a packet buffer.
      const head = encodePublishHead(packet);
      this.out.push(head, packet.payload);
      this.smallBytes += head.length;
    } else {
      const bytes = packet.type === "publish" ? encodePublish(packet) : encodeClientPacket(packet);
      this.out.push(bytes);
      if (bytes.length < COALESCE_LIMIT) this.smallBytes += bytes.length;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes everything queued now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || !this.conn || this.out.length === 0) return;
    const parts = this.out;
    const small = this.smallBytes;
    this.out = NONE;
    this.smallBytes = 0;
    let ok: boolean;
    if (parts.length === 1) ok = this.conn.write(parts[0]!);
    else {
      // Small parts are copied into one buffer, written in runs between the large parts (which go as they are).
      const writes: Uint8Array[] = [];
      const batch = small > 0 ? new Uint8Array(small) : undefined;
      let from = 0;
      let at = 0;
      for (const p of parts) {
        if (p.length >= COALESCE_LIMIT) {
          if (at > from) writes.push(batch!.subarray(from, at));
          from = at;
          writes.push(p);
        } else {
          batch!.set(p, at);
          at += p.length;
        }
      }
      if (at > from) writes.push(batch!.subarray(from, at));
      ok = this.writeAll(writes);
    }
    if (!ok) this.backpressured = true;
    this.handlers.onWrite(this);
  }

  private writeAll(writes: Uint8Array[]): boolean {
    const conn = this.conn!;
    if (writes.length === 1) return conn.write(writes[0]!);
    if (conn.writeMany) return conn.writeMany(writes);
    let ok = true;
    for (const w of writes) ok = conn.write(w) && ok;
    return ok;
  }

  /** Closes the link: gracefully flushes first, else drops it at once. onClose is not called for a close we asked for. */
  close(graceful: boolean): void {
    if (this.closed) return;
    if (graceful) this.flush();
    this.closed = true;
    if (graceful) this.conn?.end();
    else this.conn?.destroy();
  }

  /** Closes the link because of `error` (reported through onClose). */
  fail(error: Error): void {
    if (this.closed) return;
    this.conn?.destroy();
    this.finish(error);
  }

  /**
   * The transport's callbacks, as a plain object with own functions (a wrapping transport may spread it), made
   * here so they capture only the link and not open()'s scope.
   */
  private connectionHandlers(): ConnectionHandlers {
    return {
      onData: (chunk) => this.onData(chunk),
      onClose: (err) => this.finish(err ?? new Error("the connection was closed by the peer")),
      onDrain: () => {
        this.backpressured = false;
        this.handlers.onDrain(this);
      },
    };
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      this.decoder.feed(chunk, (p) => {
        if (!this.closed) this.handlers.onPacket(this, p);
      });
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private finish(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.out = NONE;
    this.smallBytes = 0;
    this.handlers.onClose(this, error);
  }
}
