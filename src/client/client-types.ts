/** The shapes the Client's public API speaks: its events, its counters, the options of publish(). */

import type { QoS } from "../mqtt/packets.js";
import type { Payload } from "./options.js";
import type { ClientWarning } from "./errors.js";
import type { Message } from "./subscription.js";

/** Events of a Client and their payloads. */
export interface ClientEvents {
  /** A CONNACK accepted the connection. */
  connect: {
    /** The CONNACK's session present flag. */
    sessionPresent: boolean;
    /** URL of the server that accepted it. */
    server: string;
  };
  /** An established connection ended; `reason` is undefined for end(). */
  disconnect: {
    /** Why it ended; undefined for end(). */
    reason: Error | undefined;
    /** MQTT 5: the reason code of the server's DISCONNECT, when it sent one. */
    reasonCode?: number;
    /** MQTT 5: the Reason String of the server's DISCONNECT, if any. */
    reasonString?: string;
    /** MQTT 5: the Server Reference of the server's DISCONNECT (another server to use), if any. */
    serverReference?: string;
  };
  /** A reconnect attempt is scheduled. `error` is why the previous attempt or connection failed. */
  reconnecting: {
    /** Attempts since the last stable connection, this one included (from 1). */
    attempt: number;
    /** Milliseconds until the attempt. */
    delay: number;
    /** URL of the server the attempt will try. */
    server: string;
    /** Why the previous attempt or connection failed. */
    error: Error | undefined;
  };
  /** The client lost its connection; publishes queue until it is back. */
  offline: undefined;
  /** An application message arrived (also delivered to matching subscriptions). */
  message: Message;
  /** Something failed that no promise reports (a resubscribe was refused, a listener threw: ListenerError with the throw as `cause`). */
  error: Error;
  /** The offline queue evicted a message under overflow "drop-oldest". */
  drop: {
    /** Topic of the evicted message. */
    topic: string;
    /** QoS of the evicted message. */
    qos: QoS;
  };
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
  /** Whether a CONNACK accepted the current connection. */
  connected: boolean;
}

/** Options of publish(). */
export interface PublishOptions {
  /** Default 0. */
  qos?: QoS;
  /** Default false. */
  retain?: boolean;
  /** MQTT 5: seconds the message lives; the broker drops it when it expires before delivery. */
  messageExpiryInterval?: number;
  /** MQTT 5: the payload's content type, e.g. "application/json". */
  contentType?: string;
  /** MQTT 5: 1 says the payload is UTF-8 text, 0 (default) unspecified bytes. */
  payloadFormatIndicator?: 0 | 1;
  /** MQTT 5: where a reply is expected (request/response). */
  responseTopic?: string;
  /** MQTT 5: data a reply carries back, to match it to its request. */
  correlationData?: Payload;
  /** MQTT 5: user properties. */
  userProperties?: Record<string, string | string[]>;
}

export type { MessageProperties } from "../mqtt/packets.js";

/**
 * What a `beforeResume` hook gets after each accepted CONNACK. Until its promise settles, the client sends only
 * what the hook publishes here (and SUBSCRIBE/UNSUBSCRIBE); messages left unacknowledged by the previous connection
 * and everything published through `client.publish()` wait, in order, and follow it.
 */
export interface ResumeContext {
  /** The CONNACK's session present flag. */
  readonly sessionPresent: boolean;
  /**
   * Publishes ahead of everything waiting, as `client.publish()` checks and resolves, but for this connection
   * only: never stored, never sent again; rejects with ConnectionLostError if the connection ends first.
   */
  publish(topic: string, payload: Payload, options?: PublishOptions | null): Promise<void>;
  /**
   * Removes waiting messages for which `match` is true: queued ones, and when the broker kept no session, sent
   * ones whose PUBLISH it never acknowledged. Their publish() promises reject with PublishError
   * "message-discarded". Returns how many were removed. (With a session present, sent ones stay: the broker may
   * hold their packet ids.)
   */
  discard(match: (message: { topic: string; payload: Uint8Array; qos: QoS }) => boolean): number;
}
