/**
 * Client: the public methods and the connection state machine. QoS flows live in Session, the wire in Link,
 * subscriptions in SubscriptionRegistry, reconnect timing in Backoff, liveness in Keepalive.
 *
 *   idle --connect()--> connecting --CONNACK 0--> connected --drop--> waiting --delay--> connecting ...
 *   any --end()--> closed
 */

import { ProtocolError } from "../mqtt/errors.js";
import type { ConnackPacket, Packet, QoS } from "../mqtt/packets.js";
import { assertTopicFilter, topicNameLength } from "../mqtt/topic.js";
import { packetSize } from "../mqtt/encode.js";
import { transportFor } from "../transport/index.js";
import { Backoff } from "./backoff.js";
import {
  ClientClosedError,
  ConnectError,
  ConnectionLostError,
  PublishError,
  SubscribeError,
  SubscriptionOverflowError,
} from "./errors.js";
import { Emitter } from "./events.js";
import { Keepalive } from "./keepalive.js";
import { Link, type LinkHandlers } from "./link.js";
import { checkEmptyClientId, resolveOptions, toBytes, type ClientOptions, type ResolvedOptions } from "./options.js";
import { Requests, type RequestsHost } from "./requests.js";
import { Session, type SessionHost } from "./session.js";
import { Subscription, SubscriptionRegistry, type Message, type SubscribeOptions, type SubscriptionOwner } from "./subscription.js";
import type { ClientEvents, ClientStats, PublishOptions } from "./client-types.js";

export type { ClientEvents, ClientStats, PublishOptions };

type State = "idle" | "connecting" | "connected" | "waiting" | "closed";

/** An MQTT 3.1.1 client. Create with connect() or createClient(). */
export class Client {
  private readonly o: ResolvedOptions;
  /** Created by the first on(): a client nobody listens to holds no emitter. */
  private events: Emitter<ClientEvents> | undefined;
  private readonly hooks: InstanceType<typeof Client.Hooks>;
  private readonly session: Session;
  private readonly subs = new SubscriptionRegistry();
  private readonly requests: Requests;
  private readonly backoff: Backoff | undefined;
  private state: State = "idle";
  private link: Link | undefined;
  private keepalive: Keepalive | undefined;
  /** Set between CONNECT and CONNACK. The CONNACK is handled synchronously: packets behind it in the same read must see the connected state. */
  private awaitingConnack: { url: URL; resolve: (p: ConnackPacket) => void; reject: (e: Error) => void } | undefined;
  private serverIndex = 0;
  private storeOpened: Promise<void> | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: unknown;
  private stableTimer: unknown;
  private reconnects = 0;
  private connectWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> | undefined;
  private present = false;

  constructor(options: ClientOptions) {
    this.o = resolveOptions(options);
    this.hooks = new Client.Hooks(this);
    this.session = new Session(this.o.store, this.hooks, {
      maxInflight: this.o.maxInflight,
      manualAck: this.o.manualAck,
      offlineQueue: this.o.offlineQueue,
    });
    this.requests = new Requests(this.session.packetIds, this.hooks);
    this.backoff = this.o.reconnect === false ? undefined : new Backoff(this.o.reconnect, this.o.random);
  }

  /** The client identifier sent in CONNECT. */
  get clientId(): string {
    return this.o.clientId;
  }

  /** Whether a CONNACK accepted the current connection. */
  get connected(): boolean {
    return this.state === "connected";
  }

  /** Session present flag of the last CONNACK. */
  get sessionPresent(): boolean {
    return this.present;
  }

  /** Adds an event listener; returns the function that removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return (this.events ??= new Emitter()).on(event, listener);
  }

  /**
   * Connects. Resolves after the first accepted CONNACK; rejects with ConnectError (refused, timed out, or
   * unreachable after trying every server once). Once connected, drops are retried per the reconnect option.
   */
  connect(): Promise<void> {
    if (this.state === "closed") return Promise.reject(new ClientClosedError());
    if (this.state === "connected") return Promise.resolve();
    if (!this.connecting && (this.state === "waiting" || this.state === "connecting")) {
      // A reconnect cycle is already running: wait for it rather than racing it with a second connection.
      return new Promise((resolve, reject) => (this.connectWaiters ??= []).push({ resolve, reject }));
    }
    this.connecting ??= this.firstConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Publishes. Resolves when written (QoS 0, or queued while offline), on PUBACK (QoS 1) or on PUBCOMP (QoS 2). */
  publish(topic: string, payload: string | Uint8Array, options: PublishOptions = {}): Promise<void> {
    try {
      if (this.state === "closed") throw new ClientClosedError();
      const topicBytes = topicNameLength(topic);
      const qos = checkQos(options.qos ?? 0);
      const bytes = toBytes(payload);
      const size = packetSize(2 + topicBytes + (qos > 0 ? 2 : 0) + bytes.length);
      if (size > this.o.maxOutgoingPacketSize) {
        throw new PublishError("payload-too-large", `a PUBLISH of ${size} bytes exceeds maxOutgoingPacketSize (${this.o.maxOutgoingPacketSize})`);
      }
      return this.session.publish(topic, bytes, qos, options.retain ?? false, topicBytes);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Resolves when the in-flight window and the queue have room (for bulk publishers that pace themselves). */
  ready(): Promise<void> {
    return this.session.waitForRoom();
  }

  /**
   * Subscribes to one or more topic filters. The Subscription is registered before SUBSCRIBE is sent, so
   * messages arriving with the SUBACK are kept. Rejects with SubscribeError if the broker refuses any filter.
   */
  async subscribe(filters: string | string[], options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.state === "closed") throw new ClientClosedError();
    const list = typeof filters === "string" ? [filters] : [...filters];
    if (list.length === 0) throw new TypeError("subscribe() needs at least one topic filter");
    for (const f of list) assertTopicFilter(f);
    const qos = checkQos(options.qos ?? 0);
    const sub = new Subscription(list, qos, options.maxBuffered ?? 10_000, this.hooks);
    this.subs.add(sub);
    const suback = await this.requests.subscribe(list.map((topic) => ({ topic, qos })));
    sub.granted = suback.granted;
    const refused = list.filter((_, i) => suback.granted[i] === 0x80);
    if (refused.length > 0) {
      sub.close();
      const orphaned = this.subs.delete(sub).filter((f) => !refused.includes(f));
      if (orphaned.length > 0) void this.requests.unsubscribe(orphaned).catch(() => undefined);
      throw new SubscribeError(refused, suback.granted);
    }
    return sub;
  }

  /** Counters for monitoring. */
  stats(): ClientStats {
    return {
      inflight: this.session.inflightCount,
      queued: this.session.queuedCount,
      sent: this.session.sent,
      received: this.session.received,
      reconnects: this.reconnects,
      dropped: this.session.dropped,
      connected: this.connected,
    };
  }

  /**
   * Closes the client. Graceful (default): waits up to endTimeout for in-flight acks and queued messages, then
   * sends DISCONNECT. `force: true` drops the connection without DISCONNECT (the broker then publishes the will).
   * Unfinished publishes reject with ClientClosedError; their records stay in the store for the next run.
   */
  async end(options: { force?: boolean; timeout?: number } = {}): Promise<void> {
    if (this.state === "closed") return;
    const wasConnected = this.state === "connected";
    if (wasConnected && !options.force) {
      let timer: unknown;
      const timeout = new Promise<void>((resolve) => {
        timer = this.o.clock.setTimeout(resolve, options.timeout ?? this.o.endTimeout);
      });
      await Promise.race([this.session.whenIdle(), timeout]);
      this.o.clock.clearTimeout(timer);
    }
    const link = this.link;
    this.state = "closed";
    this.stopTimers();
    this.link = undefined;
    if (link) {
      if (wasConnected && !options.force) {
        link.send({ type: "disconnect" });
        link.close(true);
      } else link.close(false);
    }
    this.awaitingConnack?.reject(new ClientClosedError());
    const closed = new ClientClosedError();
    for (const w of this.takeConnectWaiters()) w.reject(closed);
    this.session.close(closed);
    this.requests.close(closed);
    this.subs.closeAll();
    if (this.storeOpened) await this.storeOpened.catch(() => undefined);
    await this.o.store.close();
    if (wasConnected) this.emit("disconnect", { reason: undefined });
  }

  // --- connection state machine ---

  private async firstConnect(): Promise<void> {
    await this.openStore();
    let lastError: Error | undefined;
    for (let tried = 0; tried < this.o.servers.length; tried++) {
      if (this.state === "closed") throw new ClientClosedError();
      try {
        await this.attempt(new URL(this.o.servers[this.serverIndex]!), 0);
        return;
      } catch (err) {
        lastError = err as Error;
        this.serverIndex = (this.serverIndex + 1) % this.o.servers.length;
      }
    }
    if (this.state !== "closed") this.state = "idle";
    throw lastError ?? new ClientClosedError();
  }

  private openStore(): Promise<void> {
    this.storeOpened ??= this.o.store.open(this.o.clientId).then((snapshot) => {
      for (const w of snapshot.warnings) this.emit("warning", w);
      this.session.restore(snapshot);
    });
    return this.storeOpened;
  }

  /** One connection attempt to `url`: transport, CONNECT, CONNACK. Resolves once connected. */
  private async attempt(url: URL, attempt: number): Promise<void> {
    this.state = "connecting";
    const creds = (this.o.beforeConnect ? await this.o.beforeConnect(attempt) : undefined) ?? {};
    if (this.state !== "connecting") throw new ClientClosedError();
    checkEmptyClientId(this.o.clientId, creds.clean ?? this.o.clean);
    const link = new Link(this.hooks, this.o.maxPacketSize);
    this.link = link;
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.o.clock.setTimeout(() => {
        const err = new ConnectError("connect-timeout", `no CONNACK from ${url.host} within ${this.o.connectTimeout} ms`);
        link.fail(err);
        reject(err);
      }, this.o.connectTimeout);
    });
    try {
      const transport = this.o.transport ?? transportFor(url)!;
      await Promise.race([
        link.open(transport, url, { tls: creds.tls ?? this.o.tls, webSocket: this.o.webSocket }).catch((err: unknown) => {
          throw new ConnectError("connection-failed", `cannot connect to ${url.host}: ${(err as Error).message}`, undefined, err);
        }),
        timeout,
      ]);
      const connack = new Promise<ConnackPacket>((resolve, reject) => {
        this.awaitingConnack = { url, resolve, reject };
      });
      const password = creds.password !== undefined ? toBytes(creds.password) : this.o.password;
      link.send({
        type: "connect",
        clientId: this.o.clientId,
        clean: creds.clean ?? this.o.clean,
        keepalive: this.o.keepalive,
        username: creds.username ?? this.o.username,
        password,
        will: this.o.will,
      });
      const ack = await Promise.race([connack, timeout]);
      if (ack.returnCode !== 0) {
        link.close(false);
        throw ConnectError.fromReturnCode(ack.returnCode);
      }
    } catch (err) {
      if (this.link === link) this.link = undefined;
      link.close(false);
      throw err;
    } finally {
      this.awaitingConnack = undefined;
      this.o.clock.clearTimeout(timer);
    }
  }

  /**
   * The client's side of its session, requests, links and subscriptions: one object whose methods reach the
   * client, instead of a closure per callback (an idle client would hold a dozen of them).
   */
  private static readonly Hooks = class implements SessionHost, RequestsHost, LinkHandlers, SubscriptionOwner {
    constructor(private readonly client: Client) {}

    send(packet: Packet): void {
      this.client.link?.send(packet);
    }

    connected(): boolean {
      return this.client.state === "connected";
    }

    writable(): boolean {
      const c = this.client;
      return c.state === "connected" && c.link !== undefined && c.link.writable;
    }

    deliver(message: Message): void {
      this.client.deliver(message);
    }

    dropped(topic: string, qos: QoS): void {
      this.client.emit("drop", { topic, qos });
    }

    onBytes(link: Link): void {
      // Once per chunk rather than per packet: one clock read covers every packet that arrived together.
      if (link === this.client.link) this.client.keepalive?.received();
    }

    onPacket(link: Link, packet: Packet): void {
      this.client.onPacket(link, packet);
    }

    onClose(link: Link, error: Error | undefined): void {
      this.client.onLinkClosed(link, error);
    }

    onDrain(link: Link): void {
      if (link === this.client.link) this.client.session.pump();
    }

    onWrite(link: Link): void {
      if (link === this.client.link) this.client.keepalive?.sent();
    }

    unsubscribed(sub: Subscription): Promise<void> {
      return this.client.unsubscribeAll(sub);
    }

    overflowed(sub: Subscription): void {
      this.client.emit("error", new SubscriptionOverflowError(sub.filters, sub.dropped));
    }
  };

  private onAccepted(link: Link, url: URL, sessionPresent: boolean): void {
    this.state = "connected";
    this.present = sessionPresent;
    this.keepalive = new Keepalive(this.o.keepalive, this.o.clock, link);
    this.keepalive.start();
    this.requests.resend(); // first: requests the previous connection left unanswered
    if (!sessionPresent) this.resubscribe();
    this.session.onConnected(sessionPresent);
    if (this.backoff) {
      const backoff = this.backoff;
      this.stableTimer = this.o.clock.setTimeout(() => {
        this.stableTimer = undefined; // a fired Node timer is still an object worth ~200 bytes
        backoff.reset();
      }, backoff.stableAfter);
    }
    for (const w of this.takeConnectWaiters()) w.resolve();
    this.emit("connect", { sessionPresent, server: url.href });
  }

  /** A new session knows none of our subscriptions: subscribe again to every active filter. */
  private resubscribe(): void {
    const pending = this.requests.pendingFilters();
    const filters = this.subs.active().filter((f) => !pending.has(f.topic));
    for (let i = 0; i < filters.length; i += 64) {
      const batch = filters.slice(i, i + 64);
      this.requests.subscribe(batch).then(
        (ack) => {
          const refused = batch.filter((_, k) => ack.granted[k] === 0x80).map((f) => f.topic);
          if (refused.length > 0) this.emit("error", new SubscribeError(refused, ack.granted));
        },
        () => undefined, // client closed: nothing to report
      );
    }
  }

  private onPacket(link: Link, p: Packet): void {
    if (link !== this.link) return;
    const waiting = this.awaitingConnack;
    if (waiting) {
      if (p.type !== "connack") {
        link.fail(new ProtocolError("unexpected-packet-type", `the broker sent ${p.type.toUpperCase()} before CONNACK`));
        return;
      }
      this.awaitingConnack = undefined;
      if (p.returnCode === 0) this.onAccepted(link, waiting.url, p.sessionPresent);
      else link.close(false); // refused [MQTT-3.2.2-5]: nothing behind it in the same read may reach the session
      waiting.resolve(p);
      return;
    }
    if (p.type === "connack") {
      link.fail(new ProtocolError("unexpected-packet-type", "the broker sent a second CONNACK"));
      return;
    }
    if (p.type === "pingresp" || this.session.handle(p)) return;
    try {
      this.requests.handle(p);
    } catch (err) {
      link.fail(err as Error);
    }
  }

  private onLinkClosed(link: Link, err: Error | undefined): void {
    if (link !== this.link) return;
    this.link = undefined;
    if (this.awaitingConnack) {
      const cause = err ?? new Error("connection closed");
      this.awaitingConnack.reject(
        cause instanceof ConnectError ? cause : new ConnectError("connection-failed", `connection closed before CONNACK: ${cause.message}`, undefined, cause),
      );
      return;
    }
    if (this.state !== "connected") return;
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.o.clock.clearTimeout(this.stableTimer);
    this.session.onDisconnected();
    this.state = this.backoff ? "waiting" : "idle";
    const reason = err ?? new ConnectionLostError("connection-lost", "the connection closed");
    this.emit("disconnect", { reason });
    this.emit("offline", undefined);
    if (this.backoff) this.scheduleReconnect(reason);
  }

  private scheduleReconnect(previous: Error): void {
    if (this.state === "closed" || !this.backoff) return;
    this.state = "waiting";
    const refusedCredentials = previous instanceof ConnectError && (previous.returnCode === 4 || previous.returnCode === 5);
    const delay = this.backoff.next(refusedCredentials);
    const attempt = this.backoff.attempts;
    this.reconnects++;
    const server = this.o.servers[this.serverIndex]!;
    this.emit("reconnecting", { attempt, delay, server, error: previous });
    this.reconnectTimer = this.o.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state !== "waiting") return;
      this.attempt(new URL(server), attempt).catch((err: Error) => {
        if (this.state === "closed") return;
        this.serverIndex = (this.serverIndex + 1) % this.o.servers.length;
        this.scheduleReconnect(err);
      });
    }, delay);
  }

  // --- helpers ---

  private deliver(msg: Message): void {
    for (const sub of this.subs.match(msg.topic)) sub.push(msg);
    this.emit("message", msg);
  }

  private async unsubscribeAll(sub: Subscription): Promise<void> {
    const orphaned = this.subs.delete(sub);
    if (orphaned.length > 0 && this.state !== "closed") await this.requests.unsubscribe(orphaned);
  }

  private emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    if (event === "error" && !this.events?.has("error")) {
      // No listener: report rather than swallow, without crashing the process.
      console.warn(`edgemq: ${(payload as Error).message}`);
      return;
    }
    const thrown = this.events?.emit(event, payload);
    for (const err of thrown ?? []) {
      if (event === "error") console.error("edgemq: an error listener threw:", err);
      else this.emit("error", err instanceof Error ? err : new Error(String(err)));
    }
  }

  private takeConnectWaiters(): Array<{ resolve: () => void; reject: (e: Error) => void }> {
    const w = this.connectWaiters ?? [];
    this.connectWaiters = undefined;
    return w;
  }

  private stopTimers(): void {
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.o.clock.clearTimeout(this.reconnectTimer);
    this.o.clock.clearTimeout(this.stableTimer);
  }
}

function checkQos(qos: number): QoS {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new PublishError("invalid-qos", `QoS ${String(qos)} is not 0, 1 or 2`);
  return qos;
}

/** Creates a client without connecting: attach handlers, then call connect(). */
export function createClient(options: ClientOptions): Client {
  return new Client(options);
}

/** Creates a client and connects; resolves once the first CONNACK accepts the connection. */
export async function connect(options: ClientOptions): Promise<Client> {
  const client = new Client(options);
  await client.connect();
  return client;
}
