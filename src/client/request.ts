/**
 * MQTT 5 request/response (`client.request()`): the request goes out with a Response Topic and fresh Correlation
 * Data; the reply is the first message on that topic carrying the same Correlation Data. All requests of a client
 * share one response topic, subscribed once, on first use.
 */

import type { Message } from "./subscription.js";
import type { PublishOptions } from "./client-types.js";
import { OptionsError, RequestTimeoutError } from "./errors.js";
import type { Payload } from "./options.js";
import type { Clock, Random } from "./clock.js";

/** Options of request(): the publish options, plus how long to wait for the reply. */
export interface RequestOptions extends Omit<PublishOptions, "responseTopic" | "correlationData"> {
  /** Milliseconds to wait for the reply; then it rejects with code "request-timeout". Default 30,000. */
  timeout?: number;
}

/** What the requester needs from its client. */
export interface RequesterHost {
  readonly clientId: string;
  readonly clock: Clock;
  readonly random: Random;
  publish(topic: string, payload: Payload, options: PublishOptions): Promise<void>;
  /** Subscribes to `filter` at QoS 1 and hands every message on it to `onMessage`. */
  listen(filter: string, onMessage: (msg: Message) => void): Promise<void>;
}

interface Pending {
  resolve: (msg: Message) => void;
  reject: (err: Error) => void;
  timer: unknown;
}

/** Sends requests and matches their replies by correlation data. */
export class Requester {
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private listening: Promise<void> | undefined;
  private readonly responseTopic: string;

  constructor(private readonly host: RequesterHost) {
    const tag = Math.floor(host.random() * 2 ** 48).toString(36);
    this.responseTopic = `edgemq/response/${host.clientId.replace(/[#+/]/g, "_") || "client"}/${tag}`;
  }

  /** See Client.request(). */
  async request(topic: string, payload: Payload, options: RequestOptions = {}): Promise<Message> {
    const timeout = options.timeout ?? 30_000;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2 ** 31 - 1) throw new OptionsError(`timeout must be an integer in 1..${2 ** 31 - 1}`);
    this.listening ??= this.host.listen(this.responseTopic, (msg) => this.reply(msg)).catch((err: unknown) => {
      this.listening = undefined; // the next request subscribes again
      throw err;
    });
    await this.listening;
    const id = this.correlationId();
    const reply = new Promise<Message>((resolve, reject) => {
      const timer = this.host.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`no reply to the request on ${JSON.stringify(topic)} within ${timeout} ms`));
      }, timeout);
      this.pending.set(id, { resolve, reject, timer });
    });
    const { timeout: _t, ...publish } = options;
    try {
      await this.host.publish(topic, payload, { qos: 1, ...publish, responseTopic: this.responseTopic, correlationData: id });
    } catch (err) {
      this.settle(id)?.reject(err as Error);
    }
    return reply;
  }

  /** Rejects every pending request (the client closed). */
  close(reason: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(reason);
  }

  private reply(msg: Message): void {
    const data = msg.properties?.correlationData;
    if (!data) return;
    this.settle(new TextDecoder().decode(data))?.resolve(msg);
  }

  private settle(id: string): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    this.host.clock.clearTimeout(p.timer);
    return p;
  }

  /** Unique among this client's requests (the counter), hard to guess for others (the random part). */
  private correlationId(): string {
    return `${(this.seq++).toString(36)}-${Math.floor(this.host.random() * 2 ** 48).toString(36)}`;
  }
}
