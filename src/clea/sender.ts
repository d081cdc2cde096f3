/**
 * What the device hands to the client for sending. Datastream messages go out at once only while the device is
 * ready (connected, its handshake acknowledged) and nothing older waits; otherwise they wait in retention (offline,
 * a "discard" mapping drops them instead) and retention is handed over oldest first, paced by the client's window,
 * once the device is ready again.
 */

import type { Client, QoS } from "../index.js";
import { PayloadError } from "./errors.js";
import { mappingQos, type Mapping } from "./interface.js";
import type { RetainedMessage, Retention } from "./retention.js";


export class Sender {
  /** Datastream messages and property changes handed to the client. */
  sent = 0;
  /** Datastream messages dropped while offline (retention "discard"). */
  discarded = 0;
  private isReady = false;
  private draining: Promise<void> | undefined;

  constructor(
    private readonly client: Client,
    private readonly retention: Retention,
    private readonly now: () => number,
    /** A message handed over from retention that the client refused. */
    private readonly onError: (err: Error) => void,
    /** Largest payload sent (the broker's max_message_size). */
    private readonly maxPayload: number,
  ) {}

  /** Retained messages dropped because their queue was full. */
  get overflowed(): number {
    return this.retention.overflowed;
  }

  /** Retained messages dropped because they expired. */
  get expired(): number {
    return this.retention.expired;
  }

  /** Messages waiting in retention. */
  get retained(): number {
    return this.retention.length;
  }

  /** Whether datastreams go out now: set once the handshake is acknowledged (or skipped), cleared on disconnect. */
  get ready(): boolean {
    return this.isReady;
  }

  set ready(value: boolean) {
    this.isReady = value;
    if (value) void this.drain();
  }

  /** Hands a message to the client now (which holds it while the device is not ready). */
  publish(topic: string, payload: Uint8Array, qos: QoS): Promise<void> {
    const refused = this.oversize(topic, payload);
    if (refused) return Promise.reject(refused);
    this.sent++;
    return this.client.publish(topic, payload, { qos });
  }

  /**
   * A datastream message: sent now when ready and nothing older waits (or with queueOffline while offline: the
   * client's queue keeps it); otherwise retained: offline as its mapping says, while the handshake runs always.
   */
  async send(topic: string, payload: Uint8Array, mapping: Mapping, major: number, queueOffline = false): Promise<void> {
    const refused = this.oversize(topic, payload);
    if (refused) throw refused; // checked before retention too: a retained message would be refused when replayed
    const qos = mappingQos({ type: "datastream" }, mapping);
    if ((this.isReady && this.client.connected && this.retention.length === 0) || (queueOffline && !this.client.connected)) {
      await this.publish(topic, payload, qos);
      return;
    }
    if (mapping.retention === "discard" && !this.client.connected) {
      this.discarded++;
      return;
    }
    const expiresAt = mapping.expiry > 0 ? this.now() + mapping.expiry * 1000 : undefined;
    const message: RetainedMessage = { topic, payload, qos, expiresAt, major };
    this.retention.push(message, mapping.retention === "stored");
    if (this.isReady) void this.drain();
  }

  /** Removes retained messages for which `drop` is true (their interface went away); returns how many. */
  dropWhere(drop: (m: RetainedMessage) => boolean): number {
    return this.retention.dropWhere(drop);
  }

  /** Closes the stored queue's file. */
  close(): void {
    this.retention.close();
  }

  /**
   * Resolves once retention is empty or the device cannot send (what is left then stays retained), or after `ms`:
   * a graceful end() hands over what it can first.
   */
  async handedOver(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.isReady && this.retention.length > 0 && Date.now() < deadline) {
      const run = this.drain();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([run, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
  }

  /** Hands retention to the client oldest first, one message each time its window and queue have room. */
  private drain(): Promise<void> {
    return (this.draining ??= this.drainAll().finally(() => {
      this.draining = undefined;
    }));
  }

  /** The drain loop: stops when retention is empty or the device cannot send. */
  private async drainAll(): Promise<void> {
    while (this.isReady && this.retention.length > 0) {
      await this.client.ready();
      if (!this.isReady) break; // disconnected meanwhile: what is left stays retained
      const head = this.retention.next(this.now());
      if (!head) break;
      const { topic, payload, qos } = head.message;
      this.sent++;
      // Handed to the client (whose store keeps QoS 1/2): no longer retention's to keep.
      this.client.publish(topic, payload, { qos }).catch((err: Error & { code?: string }) => {
        // Closed: the store keeps it for the next run. Discarded: its interface went away (Device.resume).
        if (err.code !== "client-closed" && err.code !== "message-discarded") this.onError(err);
      });
      head.remove();
    }
  }

  /** The error for a payload over the cap, or undefined. */
  private oversize(topic: string, payload: Uint8Array): PayloadError | undefined {
    if (payload.length <= this.maxPayload) return undefined;
    return new PayloadError("message-too-large", `a ${payload.length}-byte message on ${topic} exceeds maxMessageSize (${this.maxPayload} bytes)`);
  }
}
