/** The shapes the Client's public API speaks: its events, its counters, the options of publish(). */

import type { QoS } from "../mqtt/packets.js";
import type { ClientWarning } from "./errors.js";
import type { Message } from "./subscription.js";

/** Events of a Client and their payloads. */
export interface ClientEvents {
  /** A CONNACK accepted the connection. */
  connect: { sessionPresent: boolean; server: string };
  /** An established connection ended; `reason` is undefined for end(). */
  disconnect: { reason: Error | undefined };
  /** A reconnect attempt is scheduled. `error` is why the previous attempt or connection failed. */
  reconnecting: { attempt: number; delay: number; server: string; error: Error | undefined };
  /** The client lost its connection; publishes queue until it is back. */
  offline: undefined;
  /** An application message arrived (also delivered to matching subscriptions). */
  message: Message;
  /** Something failed that no promise reports (a resubscribe was refused, a listener threw: ListenerError with the throw as `cause`). */
  error: Error;
  /** The offline queue evicted a message under overflow "drop-oldest". */
  drop: { topic: string; qos: QoS };
  /** Non-fatal conditions with a `code`: slow-consumer, message-too-large, store-damaged. */
  warning: ClientWarning;
}

/** Counters of a client. */
export interface ClientStats {
  /** Outgoing QoS 1/2 messages awaiting their final ack. */
  inflight: number;
  /** Messages waiting to be sent. */
  queued: number;
  /** PUBLISH packets sent (first transmissions). */
  sent: number;
  /** PUBLISH packets received. */
  received: number;
  /** Reconnect attempts scheduled. */
  reconnects: number;
  /** Messages the client dropped: evicted by the offline queue, QoS 0 ones a slow iterator could not keep, inbound ones over maxPacketSize. */
  dropped: number;
  connected: boolean;
}

/** Options of publish(). */
export interface PublishOptions {
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
}
