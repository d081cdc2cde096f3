/**
 * What the device hands to the client for sending: datastreams go out at once while online and wait in retention
 * (or are discarded, as their mapping says) while not; on connect, retention is flushed oldest first.
 */

import type { Client, QoS } from "../index.js";
import { PayloadError } from "./errors.js";
import type { Mapping } from "./interface.js";
import type { RetainedMessage, StoredQueue, VolatileQueue } from "./retention.js";

const RELIABILITY_QOS: Record<Mapping["reliability"], QoS> = { unreliable: 0, guaranteed: 1, unique: 2 };

export class Sender {
  /** True once this connection's handshake (or the decision to skip it) has been issued: sends go straight out. */
  online = false;
  /** Datastream messages and property changes handed to the client. */
  sent = 0;
  /** Datastream messages dropped while offline (retention "discard"). */
  discarded = 0;
  /** Retained messages dropped because they expired. */
  expired = 0;

  constructor(
    private readonly client: Client,
    private readonly volatile: VolatileQueue,
    private readonly stored: StoredQueue | undefined,
    private readonly now: () => number,
    /** A flushed message the client refused. */
    private readonly onError: (err: Error) => void,
    /** Largest payload sent (the broker's max_message_size). */
    private readonly maxPayload: number,
  ) {}

  /** Retained messages dropped because their queue was full. */
  get overflowed(): number {
    return this.volatile.overflowed + (this.stored?.overflowed ?? 0);
  }

  /** Messages waiting in retention. */
  get retained(): number {
    return this.volatile.length + (this.stored?.length ?? 0);
  }

  /** Hands a message to the client now (which queues it while offline). */
  publish(topic: string, payload: Uint8Array, qos: QoS): Promise<void> {
    const refused = this.oversize(topic, payload);
    if (refused) return Promise.reject(refused);
    this.sent++;
    return this.client.publish(topic, payload, { qos });
  }

  /** A datastream message: sent while online (or with queueOffline), otherwise retained as its mapping says. */
  async send(topic: string, payload: Uint8Array, mapping: Mapping, queueOffline = false): Promise<void> {
    const refused = this.oversize(topic, payload);
    if (refused) throw refused; // checked before retention too: a retained message would be refused when replayed
    const qos = RELIABILITY_QOS[mapping.reliability];
    if ((this.online && this.client.connected) || queueOffline) {
      await this.publish(topic, payload, qos);
      return;
    }
    const message: RetainedMessage = { topic, payload, qos, expiresAt: mapping.expiry > 0 ? this.now() + mapping.expiry * 1000 : undefined };
    if (mapping.retention === "stored" && this.stored) this.stored.push(message);
    else if (mapping.retention !== "discard") this.volatile.push(message);
    else this.discarded++;
  }

  /** Sends what retention held, oldest first, before anything new; expired messages are dropped. */
  flush(): void {
    const now = this.now();
    const stored = this.stored?.pending(now);
    const volatile = this.volatile.drain(now);
    this.expired += (stored?.expired ?? 0) + volatile.expired;
    for (const { message, done } of stored?.messages ?? []) {
      this.sent++;
      // Handed to the client (whose store keeps QoS 1/2): no longer ours to keep.
      this.client.publish(message.topic, message.payload, { qos: message.qos }).catch(this.onError);
      done();
    }
    for (const message of volatile.messages) {
      this.sent++;
      this.client.publish(message.topic, message.payload, { qos: message.qos }).catch(this.onError);
    }
  }

  /** The error for a payload over the cap, or undefined. */
  private oversize(topic: string, payload: Uint8Array): PayloadError | undefined {
    if (payload.length <= this.maxPayload) return undefined;
    return new PayloadError("message-too-large", `a ${payload.length}-byte message on ${topic} exceeds maxMessageSize (${this.maxPayload} bytes)`);
  }

  /** Closes the stored queue's file. */
  close(): void {
    this.stored?.close();
  }
}
