/**
 * SUBSCRIBE and UNSUBSCRIBE requests awaiting their SUBACK / UNSUBACK. A request sent on a connection that
 * dropped is sent again (same packet id) on the next one; one that gets no answer within requestTimeout (counted
 * from the call, offline time included) rejects with RequestTimeoutError. No promise is left hanging.
 */

import type { Packet, SubackPacket, SubscribePacket, UnsubscribePacket } from "../mqtt/packets.js";
import { ProtocolError } from "../mqtt/errors.js";
import type { Clock } from "./clock.js";
import { RequestTimeoutError } from "./errors.js";
import type { PacketIds } from "./packet-ids.js";

type Request = (
  | { packet: SubscribePacket; resolve: (ack: SubackPacket) => void }
  | { packet: UnsubscribePacket; resolve: () => void }
) & { reject: (err: Error) => void; timer: unknown };

/** The connection requests go out on. */
export interface RequestsHost {
  send(packet: Packet): void;
  /** Whether a CONNACK accepted the current connection (else requests wait for the next one). */
  connected(): boolean;
}

export class Requests {
  /**
   * Unanswered requests in the order they were made; created on first request and dropped when empty. A request
   * made while not connected has packet id 0: it takes an id when it is first sent, after the store has been opened
   * and its ids restored, so it can never take an id a stored message still holds.
   */
  #pending: Request[] | undefined;

  /**
   * Packet ids of requests that timed out while their packet may still be answered on this connection: held
   * until the late ack arrives or the connection drops, so a new request cannot take an id the broker may still ack.
   */
  #abandoned: Set<number> | undefined;

  readonly #ids: PacketIds;
  readonly #host: RequestsHost;
  readonly #clock: Clock;
  readonly #timeoutMs: number;

  constructor(
    ids: PacketIds,
    host: RequestsHost,
    clock: Clock,
    timeoutMs: number,
  ) {
    this.#ids = ids;
    this.#host = host;
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends SUBSCRIBE (now, or on the next connection); resolves with the SUBACK. */
  subscribe(subscriptions: SubscribePacket["subscriptions"]): Promise<SubackPacket> {
    return new Promise((resolve, reject) => {
      this.start({ type: "subscribe", packetId: 0, subscriptions }, resolve, reject);
    });
  }

  /** Sends UNSUBSCRIBE (now, or on the next connection); resolves on UNSUBACK. */
  unsubscribe(topics: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.start({ type: "unsubscribe", packetId: 0, topics }, resolve, reject);
    });
  }

  /** The connection dropped: ids held for late answers are free again (the next connection starts afresh). */
  onDisconnected(): void {
    for (const id of this.#abandoned ?? []) this.#ids.release(id);
    this.#abandoned = undefined;
  }

  /** Filters of SUBSCRIBE requests still awaiting their SUBACK. */
  pendingFilters(): Set<string> {
    const out = new Set<string>();
    for (const r of this.#pending ?? []) {
      if (r.packet.type === "subscribe") for (const s of r.packet.subscriptions) out.add(s.topic);
    }
    return out;
  }

  /** Sends every unanswered request (again: same packet id), in the order they were made. */
  resend(): void {
    for (const r of this.#pending ?? []) this.send(r);
  }

  /**
   * Settles the request a SUBACK or UNSUBACK answers; unknown acks are ignored. Returns whether the packet was
   * an ack. Throws ProtocolError when a SUBACK's return codes do not match the request's filters one to one.
   */
  handle(packet: Packet): boolean {
    if (packet.type !== "suback" && packet.type !== "unsuback") return false;
    const r = this.find(packet.packetId);
    if (!r) {
      if (this.#abandoned?.delete(packet.packetId)) this.#ids.release(packet.packetId); // a late answer: the id is free
      return true;
    }
    if (packet.type === "suback" && r.packet.type === "subscribe") {
      if (packet.granted.length !== r.packet.subscriptions.length) {
        throw new ProtocolError(
          "invalid-length",
          `SUBACK ${packet.packetId} has ${packet.granted.length} return codes for ${r.packet.subscriptions.length} filters`,
        );
      }
      this.settle(r);
      (r.resolve as (a: SubackPacket) => void)(packet);
    } else if (packet.type === "unsuback" && r.packet.type === "unsubscribe") {
      this.settle(r);
      if (packet.refused) r.reject(packet.refused(r.packet.topics)); // MQTT 5: a failure reason code
      else (r.resolve as () => void)();
    }
    return true;
  }

  /** Rejects every pending request. */
  close(reason: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    for (const r of pending ?? []) {
      this.#clock.clearTimeout(r.timer);
      if (r.packet.packetId !== 0) this.#ids.release(r.packet.packetId);
      r.reject(reason);
    }
    this.onDisconnected();
  }

  private start(packet: SubscribePacket | UnsubscribePacket, resolve: (ack: never) => void, reject: (err: Error) => void): void {
    const r = { packet, resolve, reject, timer: undefined } as Request;
    r.timer = this.#clock.setTimeout(() => this.expire(r), this.#timeoutMs);
    (this.#pending ??= []).push(r);
    if (this.#host.connected()) this.send(r);
  }

  /** Sends `r`, taking its packet id on first send. */
  private send(r: Request): void {
    if (r.packet.packetId === 0) r.packet.packetId = this.#ids.take();
    this.#host.send(r.packet);
  }

  private find(id: number): Request | undefined {
    for (const r of this.#pending ?? []) if (r.packet.packetId === id) return r;
    return undefined;
  }

  private expire(r: Request): void {
    if (!this.#pending?.includes(r)) return;
    this.forget(r);
    const id = r.packet.packetId;
    if (id !== 0) {
      if (this.#host.connected()) (this.#abandoned ??= new Set()).add(id);
      else this.#ids.release(id);
    }
    const what = r.packet.type === "subscribe" ? `SUBSCRIBE to ${r.packet.subscriptions.map((s) => s.topic).join(", ")}` : `UNSUBSCRIBE from ${r.packet.topics.join(", ")}`;
    r.reject(new RequestTimeoutError(`${what}: no answer within ${this.#timeoutMs} ms (requestTimeout)`));
  }

  private settle(r: Request): void {
    this.#clock.clearTimeout(r.timer);
    this.forget(r);
    this.#ids.release(r.packet.packetId);
  }

  private forget(r: Request): void {
    const pending = this.#pending!;
    pending.splice(pending.indexOf(r), 1);
    if (pending.length === 0) this.#pending = undefined;
  }
}
