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
  /** Created on first request and dropped when empty: most of a client's life has no request pending. */
  private pending: Map<number, Request> | undefined;

  /**
   * Packet ids of requests that timed out while their packet may still be answered on this connection: held
   * until the late ack arrives or the connection drops, so a new request cannot take an id the broker may still ack.
   */
  private abandoned: Set<number> | undefined;

  constructor(
    private readonly ids: PacketIds,
    private readonly host: RequestsHost,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** Sends SUBSCRIBE (now, or on the next connection); resolves with the SUBACK. */
  subscribe(subscriptions: SubscribePacket["subscriptions"]): Promise<SubackPacket> {
    return new Promise((resolve, reject) => {
      this.start({ type: "subscribe", packetId: this.ids.take(), subscriptions }, resolve, reject);
    });
  }

  /** Sends UNSUBSCRIBE (now, or on the next connection); resolves on UNSUBACK. */
  unsubscribe(topics: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.start({ type: "unsubscribe", packetId: this.ids.take(), topics }, resolve, reject);
    });
  }

  /** The connection dropped: ids held for late answers are free again (the next connection starts afresh). */
  onDisconnected(): void {
    for (const id of this.abandoned ?? []) this.ids.release(id);
    this.abandoned = undefined;
  }

  /** Filters of SUBSCRIBE requests still awaiting their SUBACK. */
  pendingFilters(): Set<string> {
    const out = new Set<string>();
    for (const r of this.pending?.values() ?? []) {
      if (r.packet.type === "subscribe") for (const s of r.packet.subscriptions) out.add(s.topic);
    }
    return out;
  }

  /** Sends every unanswered request again, in packet-id order of creation. */
  resend(): void {
    for (const r of this.pending?.values() ?? []) this.host.send(r.packet);
  }

  /**
   * Settles the request a SUBACK or UNSUBACK answers; unknown acks are ignored. Returns whether the packet was
   * an ack. Throws ProtocolError when a SUBACK's return codes do not match the request's filters one to one.
   */
  handle(packet: Packet): boolean {
    if (packet.type !== "suback" && packet.type !== "unsuback") return false;
    const r = this.pending?.get(packet.packetId);
    if (!r) {
      if (this.abandoned?.delete(packet.packetId)) this.ids.release(packet.packetId); // a late answer: the id is free
      return true;
    }
    if (packet.type === "suback" && r.packet.type === "subscribe") {
      if (packet.granted.length !== r.packet.subscriptions.length) {
        throw new ProtocolError(
          "invalid-length",
          `SUBACK ${packet.packetId} has ${packet.granted.length} return codes for ${r.packet.subscriptions.length} filters`,
        );
      }
      this.settle(packet.packetId);
      (r.resolve as (a: SubackPacket) => void)(packet);
    } else if (packet.type === "unsuback" && r.packet.type === "unsubscribe") {
      this.settle(packet.packetId);
      (r.resolve as () => void)();
    }
    return true;
  }

  /** Rejects every pending request. */
  close(reason: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    for (const [id, r] of pending ?? []) {
      this.clock.clearTimeout(r.timer);
      this.ids.release(id);
      r.reject(reason);
    }
    this.onDisconnected();
  }

  private start(packet: SubscribePacket | UnsubscribePacket, resolve: (ack: never) => void, reject: (err: Error) => void): void {
    const id = packet.packetId;
    const timer = this.clock.setTimeout(() => this.expire(id), this.timeoutMs);
    (this.pending ??= new Map()).set(id, { packet, resolve, reject, timer } as Request);
    if (this.host.connected()) this.host.send(packet);
  }

  private expire(id: number): void {
    const r = this.pending?.get(id);
    if (!r) return;
    this.forget(id);
    if (this.host.connected()) (this.abandoned ??= new Set()).add(id);
    else this.ids.release(id);
    const what = r.packet.type === "subscribe" ? `SUBSCRIBE to ${r.packet.subscriptions.map((s) => s.topic).join(", ")}` : `UNSUBSCRIBE from ${r.packet.topics.join(", ")}`;
    r.reject(new RequestTimeoutError(`${what}: no answer within ${this.timeoutMs} ms (requestTimeout)`));
  }

  private settle(id: number): void {
    this.clock.clearTimeout(this.pending?.get(id)?.timer);
    this.forget(id);
    this.ids.release(id);
  }

  private forget(id: number): void {
    const pending = this.pending;
    if (pending?.delete(id) && pending.size === 0) this.pending = undefined;
  }
}
