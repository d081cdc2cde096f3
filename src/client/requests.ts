/**
 * SUBSCRIBE and UNSUBSCRIBE requests awaiting their SUBACK / UNSUBACK. A request sent on a connection that
 * dropped is sent again (same packet id) on the next one, so no subscribe() promise is left hanging.
 */

import type { Packet, SubackPacket, SubscribePacket, UnsubscribePacket } from "../mqtt/packets.js";
import { ProtocolError } from "../mqtt/errors.js";
import type { PacketIds } from "./packet-ids.js";

type Request =
  | { packet: SubscribePacket; resolve: (ack: SubackPacket) => void; reject: (err: Error) => void }
  | { packet: UnsubscribePacket; resolve: () => void; reject: (err: Error) => void };

/** The connection requests go out on. */
export interface RequestsHost {
  send(packet: Packet): void;
  /** Whether a CONNACK accepted the current connection (else requests wait for the next one). */
  connected(): boolean;
}

export class Requests {
  /** Created on first request and dropped when empty: most of a client's life has no request pending. */
  private pending: Map<number, Request> | undefined;

  constructor(private readonly ids: PacketIds, private readonly host: RequestsHost) {}

  /** Sends SUBSCRIBE (now, or on the next connection); resolves with the SUBACK. */
  subscribe(subscriptions: SubscribePacket["subscriptions"]): Promise<SubackPacket> {
    return new Promise((resolve, reject) => {
      const packet: SubscribePacket = { type: "subscribe", packetId: this.ids.take(), subscriptions };
      (this.pending ??= new Map()).set(packet.packetId, { packet, resolve, reject });
      if (this.host.connected()) this.host.send(packet);
    });
  }

  /** Sends UNSUBSCRIBE (now, or on the next connection); resolves on UNSUBACK. */
  unsubscribe(topics: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const packet: UnsubscribePacket = { type: "unsubscribe", packetId: this.ids.take(), topics };
      (this.pending ??= new Map()).set(packet.packetId, { packet, resolve, reject });
      if (this.host.connected()) this.host.send(packet);
    });
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
    if (!r) return true;
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
      this.ids.release(id);
      r.reject(reason);
    }
  }

  private settle(id: number): void {
    const pending = this.pending;
    if (pending?.delete(id) && pending.size === 0) this.pending = undefined;
    this.ids.release(id);
  }
}
