/**
 * The connection lifecycle of one client: attempts (transport, CONNECT, CONNACK), the connect timeout, failover
 * across servers, reconnect scheduling with backoff, and keepalive while connected.
 *
 *   idle --connect()--> connecting --CONNACK 0--> connected --drop--> waiting --delay--> connecting ...
 *   any --close()--> closed
 *
 * While connecting, connected or waiting it keeps the process alive (the socket, or a ref'ed timer); closed, it
 * holds nothing.
 */

import { EdgemqError, ProtocolError } from "../mqtt/errors.js";
import { show } from "../mqtt/show.js";
import type { ConnackPacket, Packet, PacketProperties } from "../mqtt/packets.js";
import { transportFor } from "../transport/index.js";
import { Backoff } from "./backoff.js";
import type { ClientEvents } from "./client-types.js";
import { ClientClosedError, ConnectError, ConnectionLostError, OptionsError } from "./errors.js";
import { Keepalive } from "./keepalive.js";
import { Link, type LinkHandlers } from "./link.js";
import { checkAttempt, checkEmptyClientId, type ResolvedOptions } from "./options.js";
import type { V5Client } from "./wire.js";


/** Where the client stands. */
export type ConnectionState = "idle" | "connecting" | "connected" | "waiting" | "closed";

/** What the lifecycle needs from its client. */
export interface LifecycleHost {
  /** The handlers every link reports to. */
  readonly linkHandlers: LinkHandlers;
  /** Opens the store (once) before the first attempt. */
  openStore(): Promise<void>;
  /** A CONNACK accepted the connection: resend requests, resubscribe a new session, replay in-flight messages. */
  established(sessionPresent: boolean): void;
  /** The established connection is gone. */
  lost(): void;
  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void;
}

type Waiter = { resolve: () => void; reject: (e: Error) => void };

export class ConnectionLifecycle {
  state: ConnectionState = "idle";
  /** The current link: being opened, awaiting CONNACK, or connected. */
  link: Link | undefined;
  keepalive: Keepalive | undefined;
  /** Session present flag of the last CONNACK. */
  present = false;
  /** Reconnect attempts scheduled. */
  reconnects = 0;
  readonly #backoff: Backoff | undefined;
  /** Set between CONNECT and CONNACK. The CONNACK is handled synchronously: packets behind it in the same read must see the connected state. */
  #awaitingConnack: { url: URL; resolve: (p: ConnackPacket) => void; reject: (e: Error) => void } | undefined;
  /** Aborts the attempt under way (end(), or its timeout): settles it at once and destroys the socket being opened. */
  #attemptAbort: AbortController | undefined;
  #serverIndex = 0;
  /**
   * Where the next attempt goes instead of the server list, once: an MQTT 5 Server Reference, set by the v5 half
   * (with followServerReference) when a refusing CONNACK or a DISCONNECT names one.
   */
  redirectTo: string | undefined;
  #connecting: Promise<void> | undefined;
  #reconnectTimer: unknown;
  #stableTimer: unknown;
  #connectWaiters: Waiter[] | undefined;

  readonly #o: ResolvedOptions;
  readonly #host: LifecycleHost;
  /** The loading of a v5 client's MQTT 5 half (undefined for MQTT 3.1.1). */
  readonly #load5: Promise<V5Client> | undefined;

  constructor(o: ResolvedOptions, host: LifecycleHost, load5?: Promise<V5Client>) {
    this.#o = o;
    this.#host = host;
    this.#load5 = load5;
    this.#backoff = o.reconnect === false ? undefined : new Backoff(o.reconnect, o.random);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.state === "closed";
  }

  /** See Client.connect(). */
  connect(): Promise<void> {
    if (this.state === "closed") return Promise.reject(new ClientClosedError());
    if (this.state === "connected") return Promise.resolve();
    if (!this.#connecting && (this.state === "waiting" || this.state === "connecting")) {
      // A reconnect cycle is already running: wait for it rather than racing it with a second connection.
      return this.waitForConnection();
    }
    this.#connecting ??= this.firstConnect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * Whether a packet from `link` goes on to the session: false for a stale link and while the CONNACK is awaited
   * (the CONNACK is handled here; anything else before it breaks the protocol).
   */
  admits(link: Link, p: Packet): boolean {
    if (link !== this.link) return false;
    const waiting = this.#awaitingConnack;
    if (waiting) {
      if (p.type !== "connack") {
        link.fail(new ProtocolError("unexpected-packet-type", `the broker sent ${p.type.toUpperCase()} before CONNACK`));
        return false;
      }
      this.#awaitingConnack = undefined;
      if (p.returnCode === 0) this.accepted(link, waiting.url, p.sessionPresent);
      else link.close(false); // refused [MQTT-3.2.2-5]: nothing behind it in the same read may reach the session
      waiting.resolve(p);
      return false;
    }
    if (p.type === "connack") {
      link.fail(new ProtocolError("unexpected-packet-type", "the broker sent a second CONNACK"));
      return false;
    }
    return true;
  }

  /** The transport of `link` closed (not by us). */
  linkClosed(link: Link, err: Error | undefined): void {
    if (link !== this.link) return;
    this.link = undefined;
    const waiting = this.#awaitingConnack;
    if (waiting) {
      const cause = err ?? new Error("connection closed");
      // A TLS port reached with mqtt:// closes (mosquitto) or sends a TLS alert (seen in Link) instead of a CONNACK.
      const hint = !(cause instanceof ProtocolError) && /^(mqtt|tcp):$/.test(waiting.url.protocol) ? " (no CONNACK: if the server expects TLS, use mqtts://)" : "";
      waiting.reject(
        cause instanceof ConnectError ? cause : new ConnectError("connection-failed", `connection closed before CONNACK: ${cause.message}${hint}`, undefined, cause),
      );
      return;
    }
    if (this.state !== "connected") return;
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.#o.clock.clearTimeout(this.#stableTimer);
    this.#host.lost();
    this.state = this.#backoff ? "waiting" : "idle";
    const reason: Error & { reasonCode?: number; reasonString?: string; serverReference?: string } = err ?? new ConnectionLostError("connection-lost", "the connection closed");
    // An MQTT 5 server's DISCONNECT (its error carries them) adds its reason code, reason string and server reference.
    const { reasonCode, reasonString, serverReference } = reason;
    this.#host.emit("disconnect", reasonCode === undefined ? { reason } : { reason, reasonCode, reasonString, serverReference });
    this.#host.emit("offline", undefined);
    if (this.#backoff) this.scheduleReconnect(reason);
  }

  /**
   * Closes for good: stops every timer, settles an attempt under way (its socket is destroyed), and closes the
   * link, with DISCONNECT first when `graceful` and connected. Returns whether it was connected.
   */
  close(graceful: boolean, disconnect?: PacketProperties): boolean {
    const wasConnected = this.state === "connected";
    this.state = "closed";
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.#o.clock.clearTimeout(this.#reconnectTimer);
    this.#o.clock.clearTimeout(this.#stableTimer);
    const closed = new ClientClosedError();
    this.#attemptAbort?.abort(closed);
    const link = this.link;
    this.link = undefined;
    if (link && wasConnected && graceful) {
      link.send({ type: "disconnect", properties: disconnect });
      link.close(true);
    } else link?.close(false);
    for (const w of this.takeConnectWaiters()) w.reject(closed);
    return wasConnected;
  }

  private waitForConnection(): Promise<void> {
    return new Promise((resolve, reject) => (this.#connectWaiters ??= []).push({ resolve, reject }));
  }

  private async firstConnect(): Promise<void> {
    await this.#host.openStore();
    let lastError: Error | undefined;
    for (let tried = 0; tried < this.#o.servers.length; tried++) {
      if (this.state === "closed") throw new ClientClosedError();
      const redirected = this.redirectTo !== undefined;
      try {
        await this.attempt(new URL(this.server()), 0);
        return;
      } catch (err) {
        lastError = err as Error;
        // A Server Reference (MQTT 5) is tried before the next listed server, and only one is followed.
        if (this.redirectTo && !redirected) tried--;
        else {
          this.redirectTo = undefined;
          this.#serverIndex = (this.#serverIndex + 1) % this.#o.servers.length;
        }
      }
    }
    if (this.state === "closed") throw new ClientClosedError();
    if (this.#o.waitOnFirstConnect && !(lastError instanceof OptionsError)) {
      // A gateway that boots before its broker is reachable: keep trying with the reconnect backoff.
      const connected = this.waitForConnection();
      this.scheduleReconnect(lastError!);
      return connected;
    }
    this.state = "idle";
    throw lastError ?? new ClientClosedError();
  }

  /** One connection attempt to `url`: transport, CONNECT, CONNACK. Resolves once connected. */
  private async attempt(url: URL, attempt: number): Promise<void> {
    this.state = "connecting";
    const abort = new AbortController();
    this.#attemptAbort = abort;
    const aborted = new Promise<never>((_, reject) => {
      abort.signal.addEventListener("abort", () => reject(abort.signal.reason as Error), { once: true });
    });
    aborted.catch(() => undefined); // only ever raced: an abort after the attempt settled concerns nobody
    let link: Link | undefined;
    let timer: unknown;
    try {
      let settings: unknown;
      if (this.#o.beforeConnect) {
        try {
          settings = await Promise.race([this.#o.beforeConnect(attempt), aborted]);
        } catch (err) {
          if (err instanceof EdgemqError) throw err;
          throw new ConnectError("connection-failed", `beforeConnect failed: ${err instanceof Error ? err.message : show(err)}`, undefined, err);
        }
      }
      const creds = checkAttempt(settings);
      if (!this.#load5) checkEmptyClientId(this.#o.clientId, creds.clean ?? this.#o.clean);
      // MQTT 5: its half is loaded (and its options checked) before the first attempt; each attempt has its own wire.
      const codec = this.#load5 && (await Promise.race([this.#load5.then((v5) => v5.wire(url.href)), aborted]));
      link = new Link(this.#host.linkHandlers, this.#o.maxPacketSize, codec);
      this.link = link;
      // Ref'ed: an attempt is work under way, whatever the transport holds meanwhile.
      timer = this.#o.clock.setTimeout(
        () => abort.abort(new ConnectError("connect-timeout", `no CONNACK from ${url.host} within ${this.#o.connectTimeout} ms`)),
        this.#o.connectTimeout,
        true,
      );
      const transport = this.#o.transport ?? transportFor(url)!;
      const options = { tls: creds.tls ?? this.#o.tls, webSocket: this.#o.webSocket, signal: abort.signal };
      await Promise.race([
        link.open(transport, url, options).catch((err: unknown) => {
          // A plain port answers a TLS handshake by closing (or with plain bytes): say so rather than just "reset".
          const plain = /^(mqtts|ssl|tls):$/.test(url.protocol) && /ECONNRESET|WRONG_VERSION|PACKET_LENGTH/.test(String((err as { code?: unknown } | undefined)?.code));
          const why = `${plain ? "the server did not speak TLS (is it an mqtt:// port?): " : ""}${err instanceof Error ? err.message : show(err)}`;
          throw new ConnectError("connection-failed", `cannot connect to ${url.host}: ${why}`, undefined, err);
        }),
        aborted,
      ]);
      const connack = new Promise<ConnackPacket>((resolve, reject) => {
        this.#awaitingConnack = { url, resolve, reject };
      });
      const password = creds.password ?? this.#o.password;
      link.send({
        type: "connect",
        clientId: this.#o.clientId,
        clean: creds.clean ?? this.#o.clean,
        keepalive: this.#o.keepalive,
        username: creds.username ?? this.#o.username,
        password,
        will: this.#o.will,
      });
      const ack = await Promise.race([connack, aborted]);
      if (ack.returnCode !== 0) throw ConnectError.fromReturnCode(ack.returnCode);
    } catch (err) {
      if (link) {
        if (this.link === link) this.link = undefined;
        link.close(false);
      }
      throw err;
    } finally {
      this.#awaitingConnack = undefined;
      this.#o.clock.clearTimeout(timer);
      if (this.#attemptAbort === abort) this.#attemptAbort = undefined;
    }
  }

  private accepted(link: Link, url: URL, sessionPresent: boolean): void {
    this.state = "connected";
    this.present = sessionPresent;
    this.keepalive = new Keepalive(this.#o.keepalive, this.#o.clock, link);
    this.keepalive.start();
    this.#host.established(sessionPresent);
    if (this.#backoff) {
      const backoff = this.#backoff;
      this.#stableTimer = this.#o.clock.setTimeout(() => {
        this.#stableTimer = undefined; // a fired Node timer is still an object worth ~200 bytes
        backoff.reset();
      }, backoff.stableAfter);
    }
    for (const w of this.takeConnectWaiters()) w.resolve();
    this.#host.emit("connect", { sessionPresent, server: url.href });
  }

  private scheduleReconnect(previous: Error): void {
    if (this.state === "closed" || !this.#backoff) return;
    this.state = "waiting";
    const refusedCredentials = previous instanceof ConnectError && (previous.code === "bad-username-or-password" || previous.code === "not-authorized");
    const delay = this.#backoff.next(refusedCredentials);
    const attempt = this.#backoff.attempts;
    this.reconnects++;
    const redirected = this.redirectTo !== undefined;
    const server = this.server();
    this.#host.emit("reconnecting", { attempt, delay, server, error: previous });
    this.#reconnectTimer = this.#o.clock.setTimeout(
      () => {
        this.#reconnectTimer = undefined;
        if (this.state !== "waiting") return;
        this.attempt(new URL(server), attempt).catch((err: Error) => {
          if (this.state === "closed") return;
          if (!redirected) this.#serverIndex = (this.#serverIndex + 1) % this.#o.servers.length;
          this.scheduleReconnect(err);
        });
      },
      delay,
      true, // a client waiting to reconnect keeps its process alive, as a connected socket does
    );
  }

  /** The next attempt's server: a Server Reference to follow (once), else the current listed one. */
  private server(): string {
    const server = this.redirectTo ?? this.#o.servers[this.#serverIndex]!;
    this.redirectTo = undefined;
    return server;
  }

  private takeConnectWaiters(): Waiter[] {
    const w = this.#connectWaiters ?? [];
    this.#connectWaiters = undefined;
    return w;
  }
}
