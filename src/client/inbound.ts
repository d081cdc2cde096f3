/**
 * Inbound flow control: a QoS 1/2 message's PUBACK/PUBREC goes out only once every consumer that will take it has
 * taken it (each "message" listener has run, each Subscription being iterated has yielded it), or, with manualAck,
 * once the application acked it; always in arrival order. A slow consumer therefore throttles the broker through
 * its in-flight window instead of the client dropping messages it has acknowledged.
 */

import type { QoS } from "../mqtt/packets.js";
import type { MessageProperties } from "./client-types.js";
import { Queue } from "./queue.js";
import type { Message } from "./subscription.js";

/** Where a delivery's ack goes when it is ready. */
interface AckLine {
  readonly manualAck: boolean;
  /** Sends the acks at the head of the line that are ready. */
  flush(): void;
}

/**
 * One received message and the state of its ack. It is the Message the application sees; the methods other than
 * ack() are the library's own (subscriptions call them as they buffer, yield or discard the message).
 */
export class Delivery implements Message {
  /** Consumers (iterated subscriptions) that hold the message and have not yielded it yet. */
  holds = 0;
  /** Application code has seen it: a listener ran with it, or an iterator yielded it. */
  seen = false;
  /** The application called ack() (manualAck). */
  acked = false;
  /** MQTT 5 properties of the message, if it carried any. */
  properties?: MessageProperties;
  /**
   * The line this delivery's ack waits in; undefined for QoS 0, once the ack went out, or after the connection dropped.
   * @ignore
   */
  line: AckLine | undefined = undefined;

  /**
   * Creates a delivery for a received PUBLISH (the library's call).
   * @param topic Topic the message was published to.
   * @param payload Message payload bytes.
   * @param qos QoS the message was delivered with.
   * @param retain Whether the broker sent it as a retained message.
   * @param dup Set when the broker says this may be a redelivery.
   * @param packetId The packet id to acknowledge (0 for QoS 0).
   */
  constructor(
    readonly topic: string,
    readonly payload: Uint8Array,
    readonly qos: QoS,
    readonly retain: boolean,
    readonly dup: boolean,
    /** The packet id to acknowledge (0 for QoS 0). */
    readonly packetId: number,
  ) {}

  /** With manualAck, sends the PUBACK/PUBREC (in arrival order); otherwise a no-op. Idempotent. */
  ack(): void {
    if (this.acked) return;
    this.acked = true;
    this.line?.flush();
  }

  /** Whether the ack may go out: nobody holds the message, and with manualAck the application acked it or never saw it. */
  readyUnder(manualAck: boolean): boolean {
    return manualAck ? this.acked || (this.holds === 0 && !this.seen) : this.holds === 0;
  }

  /** A consumer keeps the message for later; the ack waits until it lets go. */
  hold(): void {
    this.holds++;
  }

  /** A consumer that held the message handed it to the application. */
  taken(): void {
    this.seen = true;
    this.release();
  }

  /** A consumer that held the message let go of it without the application seeing it (subscription ended). */
  release(): void {
    if (this.holds > 0 && --this.holds === 0) this.line?.flush();
  }
}

/** The acks owed to the broker on the current connection, in arrival order. */
export class InboundAcks implements AckLine {
  readonly #waiting = new Queue<Delivery>();

  readonly #send: (type: "puback" | "pubrec", packetId: number) => void;

  constructor(
    readonly manualAck: boolean,
    send: (type: "puback" | "pubrec", packetId: number) => void,
  ) {
    this.#send = send;
  }

  /** Whether a PUBREC for `packetId` is still owed (a QoS 2 repeat must then not be answered ahead of it). */
  owes(packetId: number): boolean {
    for (const d of this.#waiting) if (d.qos === 2 && d.packetId === packetId) return true;
    return false;
  }

  /** Sends `d`'s ack now if nothing is ahead of it and it is ready, else queues it in arrival order. */
  offer(d: Delivery): void {
    if (this.#waiting.length === 0 && d.readyUnder(this.manualAck)) {
      this.ack(d);
      return;
    }
    d.line = this;
    this.#waiting.push(d);
    this.flush();
  }

  flush(): void {
    const waiting = this.#waiting;
    let head = waiting.peek();
    while (head !== undefined && head.readyUnder(this.manualAck)) {
      waiting.shift();
      head.line = undefined;
      this.ack(head);
      head = waiting.peek();
    }
  }

  private ack(d: Delivery): void {
    this.#send(d.qos === 1 ? "puback" : "pubrec", d.packetId);
  }

  /** The connection dropped: acks not sent are void (the broker redelivers). Returns them, oldest first. */
  void(): Delivery[] {
    const voided = this.#waiting.drain();
    for (const d of voided) d.line = undefined;
    return voided;
  }
}
