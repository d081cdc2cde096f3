/**
 * The QoS 0/1/2 flows of one client session: outgoing publishes (window, queue, acks), incoming publishes
 * (exactly-once for QoS 2, acks in arrival order), and replay after a reconnect: unacked PUBLISH again with
 * DUP=1 and pending PUBREL, in their original order, before anything new.
 */

import type { Packet, PacketProperties, PubackPacket, PublishPacket, PubrecPacket, QoS } from "../mqtt/packets.js";
import { utf8Length } from "../mqtt/utf8.js";
import { StoreError, type OutgoingRecord, type Store, type StoreSnapshot } from "../store/store.js";
import { ClientClosedError, ConnectionLostError, PublishError } from "./errors.js";
import { Delivery, InboundAcks } from "./inbound.js";
import { Outbox, type OfflineQueueOptions } from "./outbox.js";
import { PacketIds } from "./packet-ids.js";

/** What the session needs from the connection that carries it. */
export interface SessionHost {
  /** Sends a packet on the current connection (coalesced). */
  send(packet: Packet): void;
  /** True while connected and the transport accepts writes. */
  writable(): boolean;
  /** Hands an incoming message to its consumers (subscriptions hold it, listeners see it) before its ack is decided. */
  deliver(message: Delivery): void;
  /** Reports a message the offline queue evicted under "drop-oldest". */
  dropped(topic: string, qos: QoS): void;
  /** The broker answered a QoS 2 PUBLISH with PUBACK: it took the message at QoS 1. */
  downgraded(topic: string): void;
  /** A store write failed where no promise can carry the error (the flow went on). */
  storeFailed(err: StoreError): void;
}

/** An outgoing message as a check before its PUBLISH is written sees it (MQTT 5 may update its properties). */
export interface OutgoingMessage {
  readonly topic: string;
  properties?: PacketProperties;
}

/** One outgoing message: a QoS 0 packet waiting to be written, or a QoS 1/2 message until its final ack. */
interface Outgoing {
  seq: number;
  qos: QoS;
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  size: number;
  record: OutgoingRecord | undefined;
  /** MQTT 5 PUBLISH properties (a store keeps them in the message's record). */
  properties?: PacketProperties;
  resolve: (() => void) | undefined;
  reject: ((err: Error) => void) | undefined;
  /** Published by a beforeResume hook: belongs to this connection, never stored, rejected when it ends. */
  scoped?: true;
}

/** Session settings. */
export interface SessionOptions {
  maxInflight: number;
  manualAck: boolean;
  offlineQueue: OfflineQueueOptions;
}

export class Session {
  readonly packetIds: PacketIds = new PacketIds();
  /** Created by the first message that has to wait: most clients publish straight through. */
  #waiting: Outbox<Outgoing> | undefined;
  readonly #queueOptions: OfflineQueueOptions;
  // Created on first use: a client that only subscribes never holds these.
  #inflight: Map<number, Outgoing> | undefined;
  /** QoS 2 packet ids received and not yet released by PUBREL. */
  #incoming: Set<number> | undefined;
  /** Acks owed to the broker that wait for their consumers or for an earlier ack; created on first need. */
  #acks: InboundAcks | undefined;
  #nextSeq = 1;
  /** False until restore(): the store is not open, so publishes wait here without touching it. */
  #opened = false;
  // Created when first needed: an idle client holds none of these.
  #unpersisted: Outgoing[] | undefined;
  #roomWaiters: Array<() => void> | undefined;
  #idleWaiters: Array<() => void> | undefined;
  /** True while a beforeResume hook runs: only its own (connection-scoped) publishes go out. */
  #held = false;
  /** DUP flag of the replay that release() will send (the CONNACK's session present flag). */
  #replayDup = false;
  /** In-flight messages of the previous connection not sent again yet: beyond the new window (MQTT 5 Receive Maximum). */
  #resend: Outgoing[] | undefined;
  /** Connection-scoped publishes waiting for room in the window, and how many of them are in flight. */
  #scopedWaiting: Outgoing[] | undefined;
  #scopedInflight = 0;
  /** Publishes sent and received, and queue evictions. */
  sent = 0;
  received = 0;
  dropped = 0;

  /** The outgoing window now: the maxInflight option, or less while an MQTT 5 server's Receive Maximum says so. */
  maxInflight: number;
  /**
   * MQTT 5: looks at each PUBLISH before it is written; an error ends the message instead (its publish rejects with
   * it, nothing is sent). Set by the v5 half (message expiry, the server's Maximum Packet Size).
   */
  check: ((e: OutgoingMessage, packet: PublishPacket) => PublishError | undefined) | undefined;
  readonly #manualAck: boolean;

  readonly #store: Store;
  readonly #host: SessionHost;

  constructor(
    store: Store,
    host: SessionHost,
    options: SessionOptions,
  ) {
    this.#store = store;
    this.#host = host;
    this.#queueOptions = options.offlineQueue;
    this.maxInflight = options.maxInflight;
    this.#manualAck = options.manualAck;
  }

  /** Outgoing QoS 1/2 messages sent and not finally acknowledged. */
  get inflightCount(): number {
    return this.#inflight?.size ?? 0;
  }

  /** Messages waiting to be sent. */
  get queuedCount(): number {
    return this.#waiting?.length ?? 0;
  }

  /** Whether anything outgoing is unfinished (used by a graceful end()). */
  get idle(): boolean {
    return this.inflightCount === 0 && this.queuedCount === 0;
  }

  /** Restores what the store held: sent messages keep their packet ids; unsent ones queue in order. */
  restore(snapshot: StoreSnapshot): void {
    const queued: Outgoing[] = [];
    for (const record of snapshot.outgoing) {
      this.#nextSeq = Math.max(this.#nextSeq, record.seq + 1);
      const entry = this.entryFor(record.seq, record.qos, record.topic, record.payload, record.retain, record, undefined, record.properties);
      if (record.packetId !== 0 && !this.packetIds.has(record.packetId)) {
        this.packetIds.reserve(record.packetId);
        (this.#inflight ??= new Map()).set(record.packetId, entry);
      } else {
        record.packetId = 0;
        queued.push(entry);
      }
    }
    if (queued.length > 0) this.outbox.requeueFront(queued);
    for (const id of snapshot.incoming) (this.#incoming ??= new Set()).add(id);
    // Publishes made before the store was open come after everything restored, in their order.
    for (const e of this.#unpersisted ?? []) {
      e.seq = this.#nextSeq++;
      if (e.record) {
        e.record.seq = e.seq;
        this.#store.putOutgoing(e.record);
      }
    }
    this.#unpersisted = undefined;
    this.#opened = true;
  }

  /** Accepts a publish: sends it now if it can, else queues it. Resolves per QoS (written / PUBACK / PUBCOMP). */
  publish(topic: string, payload: Uint8Array, qos: QoS, retain: boolean, topicBytes: number = utf8Length(topic), properties?: PacketProperties): Promise<void> {
    if (qos === 0 && this.queuedCount === 0 && this.open()) {
      // The common QoS 0 case: written now, nothing to remember, so no entry and no promise executor.
      this.sent++;
      this.#host.send({ type: "publish", topic, payload, qos, retain, dup: false, packetId: undefined, properties });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const seq = this.#opened ? this.#nextSeq++ : 0;
      const record: OutgoingRecord | undefined =
        qos === 0 ? undefined : { seq, packetId: 0, state: "publish", topic, payload, qos, retain, properties };
      const entry = this.entryFor(seq, qos, topic, payload, retain, record, topicBytes, properties);
      entry.resolve = resolve;
      entry.reject = reject;
      if (this.queuedCount === 0 && this.open() && (qos === 0 || this.inflightCount < this.maxInflight)) {
        if (record) {
          record.packetId = this.packetIds.take();
          if (!this.persist(record, reject)) {
            this.packetIds.release(record.packetId); // nothing was sent: the id is free again
            return;
          }
        }
        this.transmit(entry);
        return;
      }
      const refusal = this.outbox.refusal(entry);
      if (refusal) {
        reject(
          refusal === "too-large"
            ? new PublishError("payload-too-large", `a message of ${entry.size} bytes exceeds offlineQueue.maxBytes (${this.outbox.maxBytes})`)
            : new PublishError("queue-full", `the offline queue is full (${this.outbox.length} messages, ${this.outbox.bytes} bytes)`),
        );
        return;
      }
      // Written before it is queued: a publish whose record could not be written rejects and is never sent.
      if (this.#opened && record && !this.persist(record, reject)) return;
      const admitted = this.outbox.offer(entry) as { ok: true; evicted: Outgoing[] };
      if (!this.#opened) (this.#unpersisted ??= []).push(entry);
      if (qos === 0) {
        // QoS 0 is done once queued; an eviction later is reported by the "drop" event and stats, not this promise.
        entry.resolve = undefined;
        entry.reject = undefined;
        resolve();
      }
      for (const victim of admitted.evicted) this.evict(victim);
    });
  }

  /** Resolves when the in-flight window and the queue have room again (backpressure for bulk publishers). */
  waitForRoom(): Promise<void> {
    if (this.inflightCount < this.maxInflight && this.queuedCount === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#roomWaiters ??= []).push(resolve));
  }

  /** Resolves when nothing outgoing is unfinished. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  /**
   * After CONNACK: forget broker-side state if the session is new, replay in-flight messages, then send queued ones.
   * With `hold`, the replay waits for release() (a beforeResume hook runs first).
   */
  onConnected(sessionPresent: boolean, hold = false): void {
    if (!sessionPresent) {
      this.#incoming = undefined;
      this.record(() => this.#store.clearIncoming());
    }
    this.#replayDup = sessionPresent;
    this.#held = hold;
    if (!hold) this.replay();
  }

  /** The beforeResume hook is done: replay in-flight messages, then send queued ones. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.replay();
  }

  private replay(): void {
    const replay = [...(this.#inflight?.values() ?? [])].filter((e) => !e.scoped).sort((a, b) => a.seq - b.seq);
    // Sent again in order, as many as the window takes (an MQTT 5 server's Receive Maximum may be smaller than what
    // was in flight); the rest follow as acks make room, before anything new (pump()).
    this.#resend = replay.length > 0 ? replay : undefined;
    this.pump();
  }

  /** Sends the previous connection's in-flight messages again while the window has room; false while some wait. */
  private resendInflight(): boolean {
    const resend = this.#resend!;
    while (resend.length > 0 && this.open() && this.inflightCount - resend.length < this.maxInflight) {
      const e = resend.shift()!;
      const r = e.record!;
      if (this.#inflight?.get(r.packetId) !== e) continue; // discarded meanwhile
      if (r.state === "pubrel") this.#host.send({ type: "pubrel", packetId: r.packetId });
      else this.sendPublish(e, r.packetId, this.#replayDup);
    }
    if (resend.length > 0) return false;
    this.#resend = undefined;
    return true;
  }

  /**
   * The connection is gone. Acks not yet sent are void: the broker redelivers those messages. A QoS 2 message
   * the application has not acked (manualAck) is forgotten too, so its redelivery reaches the application again
   * (at-least-once processing) instead of being suppressed as a duplicate. One that is only waiting for an
   * iterator stays known: the copy in the subscription is delivered, the redelivery is answered as a repeat.
   */
  onDisconnected(): void {
    this.#resend = undefined;
    this.#held = false;
    this.endScoped(new ConnectionLostError("connection-lost", "the connection ended before the broker acknowledged this message"));
    for (const d of this.#acks?.void() ?? []) {
      if (d.qos === 2 && this.#manualAck && !d.acked && this.#incoming?.delete(d.packetId)) this.record(() => this.#store.deleteIncoming(d.packetId));
    }
  }

  /**
   * A publish that belongs to the current connection (a beforeResume hook's): sent ahead of everything held, within
   * the in-flight window counted among such publishes alone, never stored; it rejects with ConnectionLostError if
   * the connection ends before its final ack.
   */
  publishScoped(topic: string, payload: Uint8Array, qos: QoS, retain: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!this.#host.writable()) {
        reject(new ConnectionLostError("connection-lost", "the connection this message belonged to has ended"));
        return;
      }
      const record: OutgoingRecord | undefined = qos === 0 ? undefined : { seq: 0, packetId: 0, state: "publish", topic, payload, qos, retain };
      const entry = this.entryFor(0, qos, topic, payload, retain, record);
      entry.scoped = true;
      entry.resolve = resolve;
      entry.reject = reject;
      (this.#scopedWaiting ??= []).push(entry);
      this.pumpScoped();
    });
  }

  /**
   * Removes messages not yet acknowledged for which `match` is true: queued ones, and (when the broker kept no
   * session, so it holds no state for their packet ids) in-flight ones whose PUBLISH was not acknowledged. Their
   * publish() promises reject with PublishError "message-discarded". Returns how many were removed.
   */
  discard(match: (message: { topic: string; payload: Uint8Array; qos: QoS }) => boolean): number {
    const removed: Outgoing[] = [];
    if (!this.#replayDup) {
      for (const [id, e] of this.#inflight ?? []) {
        if (e.scoped || e.record!.state !== "publish" || !safeMatch(match, e)) continue;
        this.#inflight!.delete(id);
        this.packetIds.release(id);
        removed.push(e);
      }
    }
    if (this.#waiting) removed.push(...this.#waiting.removeWhere((e) => safeMatch(match, e)));
    for (const e of removed) {
      const early = this.#unpersisted?.indexOf(e) ?? -1;
      if (early >= 0) this.#unpersisted!.splice(early, 1);
      else if (e.record) this.record(() => this.#store.deleteOutgoing(e.seq));
      e.reject?.(new PublishError("message-discarded", `discarded before it was sent again (${JSON.stringify(e.topic)})`));
    }
    return removed.length;
  }

  /** Sends queued messages while the window and the transport have room. */
  pump(): void {
    this.pumpScoped();
    if (this.#resend && !this.resendInflight()) return;
    while (this.queuedCount > 0 && this.open()) {
      const next = this.outbox.peek()!;
      if (next.qos > 0 && this.inflightCount >= this.maxInflight) break;
      this.outbox.shift();
      if (next.record) {
        next.record.packetId = this.packetIds.take();
        const r = next.record;
        this.record(() => this.#store.updateOutgoing(next.seq, r.packetId, "publish"));
      }
      this.transmit(next);
    }
    if (this.#roomWaiters && this.queuedCount === 0 && this.inflightCount < this.maxInflight) wake(this.takeRoomWaiters());
    if (this.#idleWaiters && this.idle) wake(this.takeIdleWaiters());
  }

  /** Handles a PUBLISH, PUBACK, PUBREC, PUBREL or PUBCOMP from the broker. Returns false for other packets. */
  handle(packet: Packet): boolean {
    switch (packet.type) {
      case "publish":
        this.receive(packet);
        return true;
      case "puback": {
        const e = this.#inflight?.get(packet.packetId);
        if (e && packet.refused) this.finish(packet.packetId, e, packet.refused(e.topic));
        else if (e?.qos === 1) this.finish(packet.packetId, e); // an unknown PUBACK is ignored
        else if (e?.qos === 2 && e.record!.state === "publish") {
          // The broker took a QoS 2 message at QoS 1 (RabbitMQ does): it is delivered, so it is done.
          this.#host.downgraded(e.topic);
          this.finish(packet.packetId, e);
        }
        return true;
      }
      case "pubrec": {
        const e = this.#inflight?.get(packet.packetId);
        if (e && e.qos === 2 && e.record!.state === "publish") {
          e.record!.state = "pubrel";
          if (!e.scoped) this.record(() => this.#store.updateOutgoing(e.seq, packet.packetId, "pubrel"));
        }
        // Known or not, a PUBREC is answered with PUBREL so the broker can finish its side.
        if (!e || e.qos === 2) this.#host.send({ type: "pubrel", packetId: packet.packetId });
        return true;
      }
      case "pubcomp": {
        const e = this.#inflight?.get(packet.packetId);
        if (e && e.qos === 2 && e.record!.state === "pubrel") this.finish(packet.packetId, e); // unknown: ignored
        return true;
      }
      case "pubrel":
        if (this.#incoming?.has(packet.packetId)) {
          // Forgotten only once written: a throw fails the connection before PUBCOMP, so the broker sends PUBREL
          // again after the reconnect (a PUBCOMP with the id still stored would make a later message with this id
          // look like a repeat after a restart, and be lost).
          this.#store.deleteIncoming(packet.packetId);
          this.#incoming.delete(packet.packetId);
        }
        this.#host.send({ type: "pubcomp", packetId: packet.packetId });
        return true;
      default:
        return false;
    }
  }

  /** Rejects every pending publish (client closed). Records stay in the store for the next run. */
  close(reason: Error = new ClientClosedError()): void {
    this.endScoped(reason);
    for (const e of this.#waiting?.drain() ?? []) e.reject?.(reason);
    const inflight = this.#inflight;
    this.#inflight = undefined;
    for (const e of inflight?.values() ?? []) e.reject?.(reason);
    this.packetIds.clear();
    wake(this.takeRoomWaiters());
    wake(this.takeIdleWaiters());
  }

  /** Writes `record`; on a store failure rejects with StoreError (the store's state is as before) and returns false. */
  private persist(record: OutgoingRecord, reject: (err: Error) => void): boolean {
    try {
      this.#store.putOutgoing(record);
      return true;
    } catch (err) {
      reject(asStoreError(err));
      return false;
    }
  }

  /**
   * A store write that must not stop the flow it belongs to (an ack is in hand, a state moved on): a failure is
   * reported, and the log replays the record later (a possible duplicate, which QoS 1 allows and QoS 2 handles).
   */
  private record(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.#host.storeFailed(asStoreError(err));
    }
  }

  /** Whether ordinary publishes may be written now. */
  private open(): boolean {
    return !this.#held && this.#host.writable();
  }

  /** Sends connection-scoped publishes while the transport and their window have room. */
  private pumpScoped(): void {
    const waiting = this.#scopedWaiting;
    while (waiting && waiting.length > 0 && this.#host.writable()) {
      const next = waiting[0]!;
      if (next.record) {
        if (this.#scopedInflight >= this.maxInflight) break;
        next.record.packetId = this.packetIds.take();
        this.#scopedInflight++;
      }
      waiting.shift();
      this.transmit(next);
    }
  }

  /** Rejects every connection-scoped publish (the connection or the client ended). */
  private endScoped(reason: Error): void {
    const ended = this.#scopedWaiting ?? [];
    this.#scopedWaiting = undefined;
    for (const [id, e] of this.#inflight ?? []) {
      if (!e.scoped) continue;
      this.#inflight!.delete(id);
      this.packetIds.release(id);
      ended.push(e);
    }
    this.#scopedInflight = 0;
    for (const e of ended) e.reject?.(reason);
  }

  private get outbox(): Outbox<Outgoing> {
    return (this.#waiting ??= new Outbox(this.#queueOptions));
  }

  private takeRoomWaiters(): Array<() => void> | undefined {
    const w = this.#roomWaiters;
    this.#roomWaiters = undefined;
    return w;
  }

  private takeIdleWaiters(): Array<() => void> | undefined {
    const w = this.#idleWaiters;
    this.#idleWaiters = undefined;
    return w;
  }

  private entryFor(
    seq: number,
    qos: QoS,
    topic: string,
    payload: Uint8Array,
    retain: boolean,
    record: OutgoingRecord | undefined,
    topicBytes = utf8Length(topic),
    properties?: PacketProperties,
  ): Outgoing {
    return { seq, qos, topic, payload, retain, size: payload.length + topicBytes, record, properties, resolve: undefined, reject: undefined };
  }

  private transmit(e: Outgoing): void {
    const r = e.record;
    if (r) (this.#inflight ??= new Map()).set(r.packetId, e);
    if (this.sendPublish(e, r?.packetId, false)) {
      this.sent++;
      if (!r) e.resolve?.();
    }
  }

  /** Writes a PUBLISH, unless the MQTT 5 check ends the message instead (then it is dropped, its publish rejected). */
  private sendPublish(e: Outgoing, packetId: number | undefined, dup: boolean): boolean {
    const packet = publishPacket(e, packetId, dup);
    const refused = this.check?.(e, packet);
    if (!refused) {
      this.#host.send(packet);
      return true;
    }
    this.dropped++;
    if (packetId !== undefined) this.finish(packetId, e, refused);
    else e.reject?.(refused);
    return false;
  }

  /** Ends an in-flight message: resolved, or rejected with `refused` (an MQTT 5 broker refused it). */
  private finish(packetId: number, e: Outgoing, refused?: Error): void {
    this.#inflight!.delete(packetId);
    this.packetIds.release(packetId);
    if (e.scoped) this.#scopedInflight--;
    else this.record(() => this.#store.deleteOutgoing(e.seq));
    if (refused) e.reject?.(refused);
    else e.resolve?.();
    this.pump();
  }

  private evict(victim: Outgoing): void {
    this.dropped++;
    const early = this.#unpersisted?.indexOf(victim) ?? -1;
    if (early >= 0) this.#unpersisted!.splice(early, 1);
    else if (victim.record) this.record(() => this.#store.deleteOutgoing(victim.seq));
    victim.reject?.(new PublishError("message-dropped", `dropped from the full offline queue (overflow "drop-oldest")`));
    this.#host.dropped(victim.topic, victim.qos);
  }

  /** An inbound PUBLISH too large to take (skipped by the reader): acknowledged per its QoS, delivered to nobody. */
  skip(qos: QoS, packetId: number): void {
    if (qos === 0 || this.isRepeat(qos, packetId)) return;
    this.ackLine.offer(new Delivery("", EMPTY, qos, false, false, packetId));
  }

  private receive(p: PublishPacket): void {
    this.received++;
    const id = p.packetId ?? 0;
    if (this.isRepeat(p.qos, id)) return;
    const d = new Delivery(p.topic, p.payload, p.qos, p.retain, p.dup, id);
    if (p.messageProperties) d.properties = p.messageProperties;
    this.#host.deliver(d);
    if (p.qos > 0) this.ackLine.offer(d);
  }

  /**
   * A QoS 2 PUBLISH whose packet id is known and not yet released: already delivered. It is answered (unless the
   * first copy's PUBREC is still owed, which then answers both); a new one is remembered before it is delivered.
   */
  private isRepeat(qos: QoS, id: number): boolean {
    if (qos !== 2) return false;
    if (this.#incoming?.has(id)) {
      if (!this.#acks?.owes(id)) this.ackLine.offer(new Delivery("", EMPTY, 2, false, true, id));
      return true;
    }
    // Marked received only once written: if the write fails, the message is not taken (no delivery, no PUBREC) and
    // the connection is failed, so the broker sends it again after the reconnect.
    this.#store.putIncoming(id);
    (this.#incoming ??= new Set()).add(id);
    return false;
  }

  private get ackLine(): InboundAcks {
    return (this.#acks ??= new InboundAcks(this.#manualAck, (type, packetId) => this.#host.send({ type, packetId })));
  }
}

const EMPTY = new Uint8Array(0);

/** A store failure as a StoreError (the store's own, or the thrown value as its cause). */
function asStoreError(err: unknown): StoreError {
  return err instanceof StoreError ? err : new StoreError(`the store failed: ${(err as Error)?.message ?? String(err)}`, err);
}

/** A discard predicate's verdict; one that throws keeps the message (nothing is lost to a faulty predicate). */
function safeMatch(match: (message: { topic: string; payload: Uint8Array; qos: QoS }) => boolean, e: Outgoing): boolean {
  try {
    return match({ topic: e.topic, payload: e.payload, qos: e.qos }) === true;
  } catch {
    return false;
  }
}

function wake(waiters: Array<() => void> | undefined): void {
  for (const w of waiters ?? []) w();
}

function publishPacket(e: Outgoing, packetId: number | undefined, dup: boolean): PublishPacket {
  return { type: "publish", topic: e.topic, payload: e.payload, qos: e.qos, retain: e.retain, dup, packetId, properties: e.properties };
}
