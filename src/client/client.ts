/**
 * Client: the public methods. The connection lifecycle lives in ConnectionLifecycle, QoS flows in Session, the
 * wire in Link, subscriptions in SubscriptionRegistry, inbound acks in InboundAcks.
 */

import type { Packet, QoS, SubackPacket } from "../mqtt/packets.js";
import type { OversizePublish } from "../mqtt/reader.js";
import { ConnectionLifecycle, type LifecycleHost } from "./connection.js";
import { ClientClosedError, ClientWarning, ConnectionLostError, ListenerError, OptionsError, SubscribeError } from "./errors.js";
import { EdgemqError } from "../mqtt/errors.js";
import { show } from "../mqtt/show.js";
import { Emitter } from "./events.js";
import type { Delivery } from "./inbound.js";
import type { Link, LinkHandlers } from "./link.js";
import { fields, given, integer, ofType } from "./checks.js";
import { resolveOptions, type ClientOptions, type Payload, type ResolvedOptions } from "./options.js";
import { Requests, type RequestsHost } from "./requests.js";
import { checkPublish, filterList, isQos } from "./arguments.js";
import type { RequestOptions } from "./request.js";
import type { ClientParts, V5Client } from "./wire.js";
import { Session, type SessionHost } from "./session.js";
import { runBeforeResume, type ResumeHost } from "./resume.js";
import { DEFAULT_MAX_BUFFERED, Subscription, SubscriptionRegistry, type Message, type SubscribeOptions, type SubscriptionOwner } from "./subscription.js";
import type { ClientEvents, ClientStats, PublishOptions, ResumeContext } from "./client-types.js";

export type { ClientEvents, ClientStats, PublishOptions, ResumeContext };

/**
 * An MQTT 3.1.1 client. Create with connect() (connects at once) or createClient() (attach listeners first).
 *
 * @example
 * ```ts
 * const client = createClient({ url: "mqtt://localhost:1883", clientId: "gw-01", clean: false });
 * client.on("message", (msg) => console.log(msg.topic, new TextDecoder().decode(msg.payload)));
 * await client.connect();
 * await client.publish("gw/01/status", "online", { qos: 1, retain: true });
 * await client.end();
 * ```
 */
export class Client {
  /** Spelled out: a bundler renames the class itself ("_Client"). */
  static readonly name = "Client";
  readonly #o: ResolvedOptions;
  /** Created by the first on(): a client nobody listens to holds no emitter. */
  #events: Emitter<ClientEvents> | undefined;
  readonly #hooks: InstanceType<typeof Client.Hooks>;
  readonly #conn: ConnectionLifecycle;
  readonly #session: Session;
  readonly #subs = new SubscriptionRegistry();
  readonly #requests: Requests;
  /** MQTT 5: the loading of this client's MQTT 5 half (a dynamic import), undefined for MQTT 3.1.1. */
  readonly #load5: Promise<V5Client> | undefined;
  /** MQTT 5: this client's MQTT 5 half, once loaded. */
  #v5: V5Client | undefined;
  #storeOpened: Promise<void> | undefined;
  /** Inbound messages the client dropped: QoS 0 ones a slow iterator could not keep, and PUBLISHes over maxPacketSize. */
  #droppedInbound = 0;
  /** Whether this connection already reported a QoS 2 message taken at QoS 1. */
  #downgradeReported = false;
  /** What was printed for lack of an "error" / "warning" listener: one line per distinct condition. */
  #printed: Set<string> | undefined;

  /**
   * Creates a client without connecting (call connect()).
   * @param options Broker URL(s), identity, session, store and tuning; see ClientOptions.
   * @throws OptionsError for invalid options (no url or servers, an unsupported scheme, a bad value).
   */
  constructor(options: ClientOptions) {
    this.#o = resolveOptions(options);
    this.#hooks = new Client.Hooks(this);
    this.#session = new Session(this.#o.store, this.#hooks, {
      maxInflight: this.#o.maxInflight,
      manualAck: this.#o.manualAck,
      offlineQueue: this.#o.offlineQueue,
    });
    this.#requests = new Requests(this.#session.packetIds, this.#hooks, this.#o.clock, this.#o.requestTimeout);
    const raw = this.#o.v5;
    if (raw) {
      // MQTT 5: loading starts now (a wrong v5 option rejects connect(), publish(), subscribe()).
      this.#load5 = import("./v5/client5.js").then((m) => (this.#v5 = m.createV5(raw, this)));
      this.#load5.catch(() => undefined);
    }
    this.#conn = new ConnectionLifecycle(this.#o, this.#hooks, this.#load5);
  }

  /**
   * The parts of `client` its MQTT 5 half (v5/client5.ts) works with. A static method: the class grants the access
   * (its fields stay private), and the v5 half's import of this module keeps a code-splitting bundler (esbuild) from
   * moving every module both use into a chunk of their own, which a 3.1.1 application would pay for in import lists.
   * @internal
   */
  static parts(client: Client): ClientParts {
    return { client, session: client.#session, conn: client.#conn, o: client.#o, warn: (w) => client.emit("warning", w) };
  }

  /** The client identifier sent in CONNECT (under MQTT 5, the one the server assigned to an empty clientId). */
  get clientId(): string {
    return this.#o.clientId;
  }

  /** Whether a CONNACK accepted the current connection. */
  get connected(): boolean {
    return this.#conn.state === "connected";
  }

  /** Session present flag of the last CONNACK. */
  get sessionPresent(): boolean {
    return this.#conn.present;
  }

  /**
   * Adds an event listener. An "error" or "warning" nobody listens to is printed once per code instead; a listener
   * that throws is reported as a ListenerError on "error".
   * @param event The event's name (see ClientEvents).
   * @param listener Called with the event's payload.
   * @returns The function that removes the listener.
   * @throws OptionsError if `listener` is not a function.
   * @example
   * ```ts
   * const off = client.on("reconnecting", ({ attempt, delay }) => console.log(`retry ${attempt} in ${delay} ms`));
   * off(); // stop listening
   * ```
   */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    if (typeof listener !== "function") throw new OptionsError(`the ${show(event)} listener must be a function, got ${show(listener)}`);
    return (this.#events ??= new Emitter()).on(event, listener);
  }

  /**
   * Connects. Resolves after the first accepted CONNACK; rejects with ConnectError (refused, timed out, or
   * unreachable after trying every server once; with waitOnFirstConnect it keeps trying instead). Once connected,
   * drops are retried per the reconnect option. end() meanwhile rejects it with ClientClosedError at once.
   * @returns A promise that resolves once a CONNACK accepted the connection.
   * @throws ConnectError (async) when refused ("not-authorized", ...), timed out ("connect-timeout") or unreachable
   * ("connection-failed"); OptionsError (async) for a scheme the runtime cannot open (mqtt:// in a browser).
   */
  connect(): Promise<void> {
    return this.#conn.connect();
  }

  /**
   * Publishes `payload`: a string (sent as UTF-8), or the bytes of a Uint8Array (Buffer included), an ArrayBuffer or
   * any other ArrayBufferView, not copied. Resolves when written (QoS 0, or queued while offline), on PUBACK (QoS 1)
   * or on PUBCOMP (QoS 2). `options` and its fields undefined or null take the defaults. Any other payload rejects
   * with PublishError "invalid-payload"; options that are not an object, or a retain that is not a boolean, with
   * OptionsError. A refused publish sends nothing.
   * @param topic Topic name (no wildcards).
   * @param payload Text (sent as UTF-8) or bytes.
   * @param options `qos` (default 0) and `retain` (default false).
   * @returns A promise that resolves when the message is written or queued offline (QoS 0), acknowledged by PUBACK
   * (QoS 1) or by PUBCOMP (QoS 2).
   * @throws (as a rejection) PublishError "invalid-payload", "invalid-qos", "payload-too-large" (over
   * maxOutgoingPacketSize or offlineQueue.maxBytes), "queue-full" (offline queue full with overflow "reject"),
   * "message-dropped" (evicted by "drop-oldest"), "message-discarded" (removed by a beforeResume hook); TopicError
   * for an invalid topic name; OptionsError for bad options; StoreError if the store cannot record it;
   * ClientClosedError after end().
   * @example
   * ```ts
   * await client.publish("plant/press-7/temp", JSON.stringify({ c: 21.5 }), { qos: 1 }); // resolves on PUBACK
   * await client.publish("plant/press-7/raw", new Uint8Array([1, 2, 3]));               // QoS 0: once written
   * ```
   */
  publish(topic: string, payload: Payload, options?: PublishOptions | null): Promise<void> {
    try {
      if (this.#conn.state === "closed") throw new ClientClosedError();
      const p = checkPublish(topic, payload, options, this.#o.maxOutgoingPacketSize);
      // MQTT 5: with its properties, through the v5 half; before it is loaded, in order behind the load.
      if (this.#load5) return this.#v5 ? this.#v5.publish(topic, p, options) : this.#load5.then((v5) => v5.publish(topic, p, options));
      return this.#session.publish(topic, p.bytes, p.qos, p.retain, p.topicBytes);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Waits until the in-flight window has room and nothing is queued, for bulk publishers that pace themselves
   * instead of filling the offline queue.
   * @returns A promise that resolves at once if there is room, else when there is (or when the client ends); it
   * never rejects.
   * @example
   * ```ts
   * for (const reading of readings) {
   *   await client.ready();
   *   void client.publish("plant/press-7/temp", String(reading), { qos: 1 }).catch(console.error);
   * }
   * ```
   */
  ready(): Promise<void> {
    return this.#session.waitForRoom();
  }

  /**
   * Subscribes to one or more topic filters. The Subscription is registered before SUBSCRIBE is sent, so
   * messages arriving with the SUBACK are kept. Rejects with SubscribeError if the broker refuses any filter, and
   * with RequestTimeoutError when no SUBACK comes within requestTimeout. Refuses its arguments before sending
   * anything: TopicError "invalid-topic-filter" for a filter that is not a valid filter string (or filters that are
   * not a string or an array), SubscribeError "no-filters" for an empty list and "invalid-qos", OptionsError for
   * options that are not an object or a maxBuffered that is not a count.
   * @param filters One topic filter or a list of them (`+` and `#` wildcards allowed).
   * @param options Requested `qos` (default 0) and `maxBuffered` (QoS 0 messages kept for a slow iterator).
   * @returns A promise of the Subscription, once the SUBACK granted every filter. Iterate it with `for await`;
   * `break` or unsubscribe() ends it.
   * @throws (as a rejection) SubscribeError "subscribe-refused" (its `refused` lists the filters), "no-filters",
   * "invalid-qos"; TopicError; OptionsError; RequestTimeoutError; ClientClosedError after end().
   * @example
   * ```ts
   * const commands = await client.subscribe("gw/01/cmd/#", { qos: 1 });
   * for await (const msg of commands) {
   *   console.log(msg.topic, new TextDecoder().decode(msg.payload));
   * }
   * ```
   */
  async subscribe(filters: string | readonly string[], options?: SubscribeOptions | null): Promise<Subscription> {
    if (this.#conn.state === "closed") throw new ClientClosedError();
    const list = filterList(filters);
    const [q, max] = fields("the subscribe options", options, "qos", "maxBuffered");
    const qos = q ?? 0;
    if (!isQos(qos)) throw new SubscribeError([], [], "invalid-qos", `QoS ${show(qos)} is not 0, 1 or 2`);
    const maxBuffered = max ?? DEFAULT_MAX_BUFFERED;
    integer("maxBuffered", maxBuffered, 0, Number.MAX_SAFE_INTEGER);
    const options5 = this.#load5 && (await this.#load5).subscriptionOptions(options);
    const sub = new Subscription(list, qos, maxBuffered as number, this.#hooks);
    sub.options5 = options5;
    this.#subs.add(sub);
    let suback;
    try {
      suback = await this.#requests.subscribe(list.map((topic) => ({ topic, qos, ...options5 })));
    } catch (err) {
      sub.close();
      this.#subs.delete(sub);
      throw err;
    }
    sub.granted = suback.granted;
    const refused = list.filter((_, i) => suback.granted[i] === 0x80);
    if (refused.length > 0) {
      sub.close();
      const orphaned = this.#subs.delete(sub).filter((f) => !refused.includes(f));
      if (orphaned.length > 0) void this.#requests.unsubscribe(orphaned).catch(() => undefined);
      throw this.subscribeRefused(refused, suback);
    }
    // The caller's for-await starts within the microtasks that follow; if nobody iterates by the next turn, nobody reads.
    setTimeout(() => sub.settleReader(), 0);
    return sub;
  }

  /**
   * MQTT 5 request/response: publishes with a Response Topic (this client's, subscribed on first use) and fresh
   * Correlation Data, and resolves with the first reply carrying them back. Publishes at QoS 1 unless `qos` says
   * otherwise; takes the other publish options too.
   * @param topic Where the request goes.
   * @param payload The request's payload.
   * @param options The publish options, and `timeout` (ms to wait for the reply, default 30,000).
   * @returns A promise of the reply Message.
   * @throws (as a rejection) RequestTimeoutError "request-timeout" when no reply comes in time; OptionsError when the
   * client does not speak MQTT 5; the publish's and the subscribe's errors; ClientClosedError after end().
   * @example
   * ```ts
   * const reply = await client.request("svc/echo", "ping", { timeout: 5000 });
   * console.log(new TextDecoder().decode(reply.payload));
   * ```
   */
  request(topic: string, payload: Payload, options?: RequestOptions | null): Promise<Message> {
    return this.ext("request()").then((v5) => v5.request(topic, payload, options));
  }

  /**
   * MQTT 5 re-authentication on the live connection with the `auth` handler (e.g. a token or password about to be
   * rotated): AUTH "re-authenticate", the server's challenges answered by the handler, its success verified by
   * `done()`. Publishing goes on meanwhile. A server that fails it disconnects; a server this side cannot verify is
   * disconnected from.
   * @returns A promise that resolves once the server accepted and was verified.
   * @throws (as a rejection) OptionsError without `auth`; ConnectionLostError when not connected or the connection
   * ends first; AuthError or ProtocolError when the exchange fails (the connection is then dropped and retried).
   */
  reauthenticate(): Promise<void> {
    return this.ext("reauthenticate()").then((v5) => v5.reauthenticate());
  }

  /** The MQTT 5 half, for what only MQTT 5 has (`what`); a 3.1.1 client rejects with OptionsError. */
  private ext(what: string): Promise<V5Client> {
    return this.#load5 ?? Promise.reject(new OptionsError(`${what} needs protocolVersion: 5`));
  }

  /**
   * Counters for monitoring: in flight, queued, sent, received, reconnects, dropped, connected.
   * @returns A fresh snapshot (a plain object; it does not update).
   */
  stats(): ClientStats {
    return {
      inflight: this.#session.inflightCount,
      queued: this.#session.queuedCount,
      sent: this.#session.sent,
      received: this.#session.received,
      reconnects: this.#conn.reconnects,
      dropped: this.#session.dropped + this.#droppedInbound,
      connected: this.connected,
    };
  }

  /**
   * Closes the client. Graceful (default): waits up to endTimeout for in-flight acks and queued messages, then
   * sends DISCONNECT. `force: true` drops the connection without DISCONNECT (the broker then publishes the will).
   * A connection attempt under way is abandoned at once. Unfinished publishes reject with ClientClosedError; their
   * records stay in the store for the next run. Afterwards the client holds nothing that keeps a process alive.
   * Options that are not an object (undefined and null mean the defaults), a force that is not a boolean or a
   * timeout that is not a whole number of ms reject with OptionsError and leave the client as it was.
   * @param options `force`: drop the connection without DISCONNECT; `timeout`: ms to wait for acks (default
   * endTimeout, 10,000); MQTT 5 `sessionExpiryInterval`: sent in the DISCONNECT, how long the broker keeps the
   * session now (a session connected with 0 cannot be given more).
   * @returns A promise that resolves once the client is closed; at once if it already was.
   * @throws OptionsError (as a rejection) for invalid options.
   * @example
   * ```ts
   * await client.end();                // waits for in-flight acks, then DISCONNECT
   * await client.end({ force: true }); // no DISCONNECT: the broker publishes the will
   * ```
   */
  async end(options?: { force?: boolean; timeout?: number; sessionExpiryInterval?: number } | null): Promise<void> {
    const [force, ms, expiry] = fields("the end() options", options, "force", "timeout", "sessionExpiryInterval");
    ofType("force", force, "boolean");
    if (given(ms)) integer("timeout", ms, 0, 2 ** 31 - 1);
    // MQTT 5: the DISCONNECT may change how long the broker keeps the session.
    const disconnect = given(expiry) ? (await this.ext("sessionExpiryInterval on end()")).disconnect(expiry) : undefined;
    if (this.#conn.state === "closed") return;
    if (this.#conn.state === "connected" && !force) {
      let timer: unknown;
      const timeout = new Promise<void>((resolve) => {
        timer = this.#o.clock.setTimeout(resolve, (ms as number | undefined) ?? this.#o.endTimeout);
      });
      await Promise.race([this.#session.whenIdle(), timeout]);
      this.#o.clock.clearTimeout(timer);
      if (this.#conn.closed) return; // another end() finished meanwhile
    }
    const wasConnected = this.#conn.close(!force, disconnect);
    const closed = new ClientClosedError();
    this.#session.close(closed);
    this.#requests.close(closed);
    this.#v5?.close(closed);
    this.#subs.closeAll();
    if (this.#storeOpened) await this.#storeOpened.catch(() => undefined);
    await this.#o.store.close();
    if (wasConnected) this.emit("disconnect", { reason: undefined });
  }

  /** Opens the store once; a failed open is not kept, so the next connect() tries again (the disk may be freed). */
  private openStore(): Promise<void> {
    const warn = (message: string) => this.emit("warning", new ClientWarning("store-degraded", message));
    this.#storeOpened ??= this.#o.store.open(this.#o.clientId, warn).then(
      (snapshot) => {
        for (const w of snapshot.warnings) this.emit("warning", new ClientWarning("store-damaged", w));
        this.#session.restore(snapshot);
      },
      (err: unknown) => {
        this.#storeOpened = undefined;
        throw err;
      },
    );
    return this.#storeOpened;
  }

  /**
   * The client's side of its lifecycle, session, requests, links and subscriptions: one object whose methods reach
   * the client, instead of a closure per callback (an idle client would hold a dozen of them).
   */
  private static readonly Hooks = class implements LifecycleHost, SessionHost, RequestsHost, LinkHandlers, SubscriptionOwner {
    readonly #client: Client;

    constructor(client: Client) {
      this.#client = client;
    }

    get linkHandlers(): LinkHandlers {
      return this;
    }

    openStore(): Promise<void> {
      return this.#client.openStore();
    }

    connected(): boolean {
      return this.#client.#conn.state === "connected";
    }

    established(sessionPresent: boolean): void {
      const c = this.#client;
      c.#downgradeReported = false;
      c.#requests.resend(); // first: requests the previous connection left unanswered
      if (!sessionPresent) c.resubscribe();
      const hook = c.#o.beforeResume;
      c.#session.onConnected(sessionPresent, hook !== undefined);
      if (hook) runBeforeResume(hook, sessionPresent, c.resumeHost());
    }

    lost(): void {
      this.#client.#v5?.lost();
      this.#client.#session.onDisconnected();
      this.#client.#requests.onDisconnected();
    }

    emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
      this.#client.emit(event, payload);
    }

    send(packet: Packet): void {
      this.#client.#conn.link?.send(packet);
    }

    writable(): boolean {
      const conn = this.#client.#conn;
      return conn.state === "connected" && conn.link !== undefined && conn.link.writable;
    }

    deliver(message: Delivery): void {
      this.#client.deliver(message);
    }

    dropped(topic: string, qos: QoS): void {
      this.#client.emit("drop", { topic, qos });
    }

    storeFailed(err: Error): void {
      this.#client.emit("error", err);
    }

    downgraded(topic: string): void {
      const c = this.#client;
      if (c.#downgradeReported) return;
      c.#downgradeReported = true;
      const message = `the broker answered a QoS 2 PUBLISH on ${JSON.stringify(topic)} with PUBACK: it takes QoS 2 messages at QoS 1 (reported once per connection)`;
      c.emit("warning", new ClientWarning("qos-downgraded", message, { topic }));
    }

    onBytes(link: Link): void {
      // Once per chunk rather than per packet: one clock read covers every packet that arrived together.
      const conn = this.#client.#conn;
      if (link === conn.link) conn.keepalive?.received();
    }

    onPacket(link: Link, packet: Packet): void {
      this.#client.onPacket(link, packet);
    }

    onOversize(link: Link, info: OversizePublish): void {
      if (link === this.#client.#conn.link) this.#client.skipOversize(info);
    }

    onClose(link: Link, error: Error | undefined): void {
      this.#client.#conn.linkClosed(link, error);
    }

    onDrain(link: Link): void {
      if (link === this.#client.#conn.link) this.#client.#session.pump();
    }

    onWrite(link: Link): void {
      const conn = this.#client.#conn;
      if (link === conn.link) conn.keepalive?.sent();
    }

    unsubscribed(sub: Subscription): Promise<void> {
      return this.#client.unsubscribeAll(sub);
    }

    overflowed(sub: Subscription, first: boolean): void {
      const c = this.#client;
      c.#droppedInbound++;
      if (first) {
        const message = `a subscription to ${sub.filters.join(", ")} is iterated too slowly: QoS 0 messages beyond maxBuffered are dropped (${sub.dropped} so far)`;
        c.emit("warning", new ClientWarning("slow-consumer", message, { filters: sub.filters }));
      }
    }
  };

  /** What a beforeResume hook started now may act on: this connection only. */
  private resumeHost(): ResumeHost {
    const link = this.#conn.link;
    const current = (): boolean => link !== undefined && this.#conn.link === link && this.#conn.state === "connected";
    return {
      current,
      publishScoped: (topic, payload, options) => {
        try {
          const p = checkPublish(topic, payload, options, this.#o.maxOutgoingPacketSize);
          return this.#session.publishScoped(topic, p.bytes, p.qos, p.retain);
        } catch (err) {
          return Promise.reject(err);
        }
      },
      discard: (match) => this.#session.discard(match),
      release: () => this.#session.release(),
      fail: (err) => {
        this.emit("error", err);
        link!.fail(new ConnectionLostError("connection-lost", `beforeResume failed: ${err.message}`, err));
      },
    };
  }

  /** A new session knows none of our subscriptions: subscribe again to every active filter. */
  private resubscribe(): void {
    const pending = this.#requests.pendingFilters();
    const filters = this.#subs.active().filter((f) => !pending.has(f.topic));
    // 64 filters per SUBSCRIBE (MQTT 5 groups them by subscription identifier too).
    const batches = this.#v5 ? this.#v5.batches(filters) : [];
    if (!this.#v5) for (let i = 0; i < filters.length; i += 64) batches.push(filters.slice(i, i + 64));
    for (const batch of batches) {
      this.#requests.subscribe(batch).then(
        (ack) => {
          const refused = batch.filter((_, k) => ack.granted[k] === 0x80).map((f) => f.topic);
          if (refused.length > 0) this.emit("error", this.subscribeRefused(refused, ack));
        },
        (err: Error) => {
          if (!(err instanceof ClientClosedError)) this.emit("error", err);
        },
      );
    }
  }

  /** The SubscribeError for `refused` filters of a SUBACK (MQTT 5's says why). */
  private subscribeRefused(refused: string[], ack: SubackPacket): SubscribeError {
    return this.#v5 ? this.#v5.subscribeRefused(refused, ack) : new SubscribeError(refused, ack.granted);
  }

  /** Handles a packet received on `link`: to the session, else to the pending requests; a request error fails the link. */
  private onPacket(link: Link, p: Packet): void {
    if (!this.#conn.admits(link, p)) return;
    if (p.type === "pingresp" || this.#v5?.handle(link, p) || this.#session.handle(p)) return;
    try {
      this.#requests.handle(p);
    } catch (err) {
      link.fail(err as Error);
    }
  }

  /** An inbound PUBLISH over maxPacketSize was skipped as it streamed in: acknowledge it and say so. */
  private skipOversize(info: OversizePublish): void {
    this.#droppedInbound++;
    this.#session.skip(info.qos, info.packetId ?? 0);
    const message = `skipped a ${info.size}-byte message on ${JSON.stringify(info.topic)}: larger than maxPacketSize (${this.#o.maxPacketSize})`;
    this.emit("warning", new ClientWarning("message-too-large", message, { topic: info.topic, size: info.size }));
  }

  /** Hands an inbound message to each matching subscription and to the "message" listeners. */
  private deliver(msg: Delivery): void {
    for (const sub of this.#subs.match(msg.topic)) sub.push(msg);
    if (this.#events?.has("message")) {
      msg.seen = true;
      this.emit("message", msg);
    }
  }

  /** Forgets `sub` and, unless the client is closed, UNSUBSCRIBEs the filters no other subscription holds. */
  private async unsubscribeAll(sub: Subscription): Promise<void> {
    const orphaned = this.#subs.delete(sub);
    if (orphaned.length > 0 && this.#conn.state !== "closed") await this.#requests.unsubscribe(orphaned);
  }

  /**
   * Emits `event` to its listeners; an "error" or "warning" nobody listens to is printed instead. A listener that
   * throws is reported as a ListenerError on "error" (printed if it came from an "error" listener).
   */
  private emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    if ((event === "error" || event === "warning") && !this.#events?.has(event)) {
      this.print(event, payload as Error);
      return;
    }
    const thrown = this.#events?.emit(event, payload);
    for (const err of thrown ?? []) {
      const wrapped = new ListenerError(event, err);
      if (event === "error") this.print("error", wrapped);
      else this.emit("error", wrapped);
    }
  }

  /** Nobody listens: one line per distinct condition, never one per occurrence. */
  private print(event: "error" | "warning", err: Error): void {
    const code = err instanceof EdgemqError ? err.code : err.name;
    const key = `${event}:${code}`;
    const printed = (this.#printed ??= new Set());
    if (printed.has(key)) return;
    printed.add(key);
    const where = err.cause instanceof Error ? ` (${firstFrame(err.cause)})` : "";
    console.warn(`edgemq ${event} [${code}]: ${err.message}${where}; add a "${event}" listener to handle these (further ones are not printed)`);
  }
}

/** The first "at ..." line of an error's stack, for a one-line report. */
function firstFrame(err: Error): string {
  return err.stack?.split("\n").find((l) => l.trim().startsWith("at "))?.trim() ?? err.name;
}

/**
 * Creates a client without connecting: attach handlers, then call connect(). Use it to receive what the broker
 * queued for a persistent session, which may arrive with the CONNACK.
 * @param options Broker URL(s), identity, session, store and tuning; see ClientOptions.
 * @returns The unconnected Client.
 * @throws OptionsError for invalid options.
 * @example
 * ```ts
 * const client = createClient({ url: "mqtts://broker.example:8883", clientId: "gw-01", clean: false });
 * client.on("message", (msg) => console.log(msg.topic));
 * await client.connect();
 * ```
 */
export function createClient(options: ClientOptions): Client {
  return new Client(options);
}

/**
 * Creates a client and connects.
 * @param options Broker URL(s), identity, session, store and tuning; see ClientOptions.
 * @returns A promise of the Client, resolved once the first CONNACK accepts the connection.
 * @throws (as a rejection) OptionsError for invalid options; ConnectError when refused, timed out or unreachable
 * (with `waitOnFirstConnect` it keeps retrying instead).
 * @example
 * ```ts
 * const client = await connect({
 *   url: "mqtts://broker.example:8883",
 *   clientId: "gw-01",
 *   clean: false,                         // persistent session, resumed on reconnect
 *   store: new FileStore("./var/edgemq"), // unacked QoS 1/2 messages survive a crash
 * });
 * ```
 */
export async function connect(options: ClientOptions): Promise<Client> {
  const client = new Client(options);
  await client.connect();
  return client;
}
