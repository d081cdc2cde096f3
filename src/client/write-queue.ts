/**
 * What a link has to write this turn. Packets are encoded straight into a slab shared by every link of the
 * process (a Sink), so a turn's packets sit side by side and go out as one view of it: no buffer per packet and
 * no copy into a combined write. A region of the slab is never written twice, so bytes handed to a transport
 * stay as they were until it is done with them. Large payloads are queued as they are, between runs.
 */

import { writeClientPacket, writePublishHead } from "../mqtt/encode-client.js";
import type { Packet } from "../mqtt/packets.js";
import type { Sink } from "../mqtt/writer.js";

const SLAB_SIZE = 64 * 1024;
/** Payloads from this size on are written as they are, after their header, instead of being encoded into the queue. */
const LARGE_PAYLOAD = 16 * 1024;
/** Packets above this get a buffer of their own instead of a slab region. */
const OWN_BUFFER_OVER = SLAB_SIZE / 4;

let slab = new Uint8Array(SLAB_SIZE);
/** The slab's first byte no queue has reserved. */
let top = 0;

const NO_BYTES = new Uint8Array(0);

export class WriteQueue implements Sink {
  bytes: Uint8Array = NO_BYTES;
  pos = 0;
  /** Where the run being written began in `bytes`. */
  #start = 0;
  /** Finished runs and large payloads, in write order. */
  #parts: Uint8Array[] | undefined;

  /** Makes room for exactly n bytes at `pos`: continues this queue's run in the slab when nothing came between. */
  reserve(n: number): void {
    if (this.bytes === slab && this.pos === top && top + n <= SLAB_SIZE) {
      top += n;
      return;
    }
    this.cut();
    if (n > OWN_BUFFER_OVER) {
      this.bytes = new Uint8Array(n);
      this.#start = this.pos = 0;
      return;
    }
    if (top + n > SLAB_SIZE) {
      slab = new Uint8Array(SLAB_SIZE);
      top = 0;
    }
    this.bytes = slab;
    this.#start = this.pos = top;
    top += n;
  }

  /** Queues bytes to be written as they are (a large payload after its header). */
  append(bytes: Uint8Array): void {
    this.cut();
    (this.#parts ??= []).push(bytes);
  }

  /** Everything queued, in order, or undefined when nothing is; the queue is empty afterwards. */
  take(): Uint8Array[] | undefined {
    this.cut();
    const parts = this.#parts;
    this.#parts = undefined;
    return parts;
  }

  /**
   * Encodes `packet` into the queue; a payload from LARGE_PAYLOAD bytes on is queued as it is, after its header.
   * An encoder refusal throws and queues nothing, and no other queue's bytes are touched: the encoder checks its
   * fields before reserving, and moves `pos` only over a packet that filled exactly what it reserved (Writer), so
   * a packet refused midway leaves at most an abandoned region of the slab, which no queue is ever handed.
   */
  add(packet: Packet): void {
    if (packet.type === "publish" && packet.payload.length >= LARGE_PAYLOAD) {
      writePublishHead(packet, this);
      this.append(packet.payload);
    } else writeClientPacket(packet, this);
  }

  /** Forgets everything queued (the connection is gone). */
  clear(): void {
    this.#start = this.pos;
    this.#parts = undefined;
  }

  /** Ends the current run: its bytes become one part. */
  private cut(): void {
    if (this.pos > this.#start) (this.#parts ??= []).push(this.bytes.subarray(this.#start, this.pos));
    this.#start = this.pos;
  }
}
