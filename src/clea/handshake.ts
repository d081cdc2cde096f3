/**
 * The Astarte handshake, run after a CONNACK whose session is new (or when the last handshake did not finish):
 * subscriptions, introspection, capabilities, emptyCache, producer purge frame, device properties; the caller then
 * hands over retention. Whether the last handshake completed (and for which introspection) is persisted, because it
 * decides the clean flag of the next connection. Interfaces added or removed later are announced again.
 */

import { writeFileAtomic } from "./files.js";
import * as fs from "node:fs";
import type { Client, ResumeContext, Subscription } from "../index.js";
import type { Interface } from "./interface.js";
import { deflateFrame } from "./payload.js";
import type { PropertyCache } from "./properties.js";

/** Introspection: `name:major:minor` joined by `;` (empty string for none). */
export function introspection(interfaces: Iterable<Interface>): string {
  return [...interfaces].map((i) => `${i.name}:${i.major}:${i.minor}`).join(";");
}

/** Persisted handshake state. */
export interface HandshakeRecord {
  /** The last handshake completed (the broker holds a session the device may resume). */
  done: boolean;
  /** The introspection that handshake announced. */
  introspection: string;
}

/** Reads and writes the handshake record (a JSON file, or memory when no store directory is set). */
export class HandshakeState {
  private record: HandshakeRecord = { done: false, introspection: "" };

  constructor(private readonly file: string | undefined) {}

  /** Loads the record; an unreadable file means "not done" (a full handshake is always safe). */
  load(): string[] {
    if (!this.file || !fs.existsSync(this.file)) return [];
    try {
      const r = JSON.parse(fs.readFileSync(this.file, "utf8")) as HandshakeRecord;
      if (typeof r.done === "boolean" && typeof r.introspection === "string") this.record = r;
      return [];
    } catch (err) {
      return [`handshake state ${this.file} is unreadable (${(err as Error).message}); the next connection runs a full handshake`];
    }
  }

  get done(): boolean {
    return this.record.done;
  }

  get introspection(): string {
    return this.record.introspection;
  }

  save(record: HandshakeRecord): void {
    this.record = record;
    if (!this.file) return;
    writeFileAtomic(this.file, JSON.stringify(record));
  }
}

/** What the handshake needs from its device. */
export interface HandshakeHost {
  readonly client: Client;
  /** `<realm>/<deviceId>`. */
  readonly prefix: string;
  /** The device's interfaces, live (changes at run time are seen). */
  readonly interfaces: ReadonlyMap<string, Interface>;
  /** Its device-owned properties are republished by the handshake. */
  readonly properties: PropertyCache;
  /** The capabilities message (BSON), sent in every handshake when the device asks for capabilities. */
  readonly capabilities: Uint8Array | undefined;
  /** Something failed that does not stop the handshake (a refused subscription). */
  onError(err: Error): void;
  /** Every handshake message was acknowledged. */
  onComplete(introspection: string): void;
}

/** Runs the handshake and later announcements of the introspection, and owns the device's subscriptions. */
export class Handshake {
  /** Filters subscribed (or being subscribed); the client resubscribes them by itself on new sessions. */
  private readonly subscribed = new Set<string>();
  private readonly subscriptions = new Map<string, Subscription>();
  private waiters: Array<() => void> = [];

  constructor(
    private readonly state: HandshakeState,
    private readonly host: HandshakeHost,
  ) {}

  /** Whether a handshake has completed (so the broker keeps the session: connect with clean false). */
  get done(): boolean {
    return this.state.done;
  }

  /** The introspection the last handshake announced (the previous run's, until a new one starts). */
  get announced(): string {
    return this.state.introspection;
  }

  /** Whether a CONNACK needs the full handshake: unless the broker resumed a completed one for the same interfaces. */
  needed(sessionPresent: boolean): boolean {
    return !(sessionPresent && this.state.done && this.state.introspection === introspection(this.host.interfaces.values()));
  }

  /** Resolves once the broker acknowledged a complete handshake for the current interfaces. */
  complete(): Promise<void> {
    if (this.state.done && this.state.introspection === introspection(this.host.interfaces.values())) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * The handshake, in protocol order, through the resume gate (so it goes before anything else): subscriptions,
   * introspection, capabilities, emptyCache, producer purge, then every set device-owned property once. Resolves
   * once the broker acknowledged all of it (PUBCOMP) with the introspection it announced (undefined when the
   * interfaces changed meanwhile: their announcement finishes it); rejects if the connection ends first. The caller
   * calls finish() once the device is ready for data, so that handshakeComplete() never resolves before that.
   */
  async run(resume: ResumeContext): Promise<string | undefined> {
    const { prefix, interfaces, properties, capabilities } = this.host;
    const current = introspection(interfaces.values());
    this.state.save({ done: false, introspection: current });
    const subscribed = this.subscribeServerInterfaces().catch((err: Error) => {
      if (err.name !== "ClientClosedError") this.host.onError(err); // a refused filter: the rest of the handshake still goes
    });
    const set = properties.list("device");
    // Unsets made while offline: the purge below leaves them out, which unsets them on the server.
    const unsets = properties.pending().filter((p) => p.payload.length === 0);
    const acks: Array<Promise<unknown>> = [subscribed, resume.publish(prefix, current, { qos: 2 })];
    if (capabilities) acks.push(resume.publish(`${prefix}/capabilities`, capabilities, { qos: 2 }));
    acks.push(resume.publish(`${prefix}/control/emptyCache`, "1", { qos: 2 }));
    const purge = set.map((p) => `${p.interfaceName}${p.path}`).join(";");
    acks.push(resume.publish(`${prefix}/control/producer/properties`, deflateFrame(new TextEncoder().encode(purge)), { qos: 2 }));
    for (const p of set) acks.push(resume.publish(`${prefix}/${p.interfaceName}${p.path}`, p.payload, { qos: 2 }));
    await Promise.all(acks);
    for (const p of [...set, ...unsets]) properties.settle(p);
    return introspection(interfaces.values()) === current ? current : undefined;
  }

  /** The handshake run() returned was acknowledged and the device is ready: marks it done, tells the waiters. */
  finish(current: string): void {
    this.state.save({ done: true, introspection: current });
    for (const w of this.waiters.splice(0)) w();
    this.host.onComplete(current);
  }

  /** Republishes the introspection (and subscribes to new server interfaces) after a run-time change. */
  async reannounce(): Promise<void> {
    const { client, prefix, interfaces } = this.host;
    const current = introspection(interfaces.values());
    if (!client.connected) {
      // Not connected: the next connection sees a different introspection and runs a full handshake.
      return;
    }
    await Promise.all([this.subscribeServerInterfaces(), client.publish(prefix, current, { qos: 2 })]);
    if (introspection(interfaces.values()) === current) this.state.save({ done: true, introspection: current });
  }

  /** Ends the subscription of a removed interface. */
  unsubscribe(name: string): Promise<unknown> {
    const filter = `${this.host.prefix}/${name}/#`;
    const sub = this.subscriptions.get(filter);
    this.subscriptions.delete(filter);
    this.subscribed.delete(filter);
    return sub ? sub.unsubscribe().catch(() => undefined) : Promise.resolve();
  }

  /** Subscribes (once; the client resubscribes on new sessions) to consumer properties and every server-owned interface. */
  private subscribeServerInterfaces(): Promise<unknown> {
    const { client, prefix, interfaces } = this.host;
    const wanted = [`${prefix}/control/consumer/properties`];
    for (const i of interfaces.values()) if (i.ownership === "server") wanted.push(`${prefix}/${i.name}/#`);
    const pending: Array<Promise<unknown>> = [];
    for (const filter of wanted) {
      if (this.subscribed.has(filter)) continue;
      this.subscribed.add(filter);
      // Messages are read from the client's "message" event, in arrival order across interfaces.
      const p = client.subscribe(filter, { qos: 2, maxBuffered: 0 }).then(
        (sub) => {
          this.subscriptions.set(filter, sub);
        },
        (err: Error) => {
          this.subscribed.delete(filter);
          throw err;
        },
      );
      pending.push(p);
    }
    return Promise.all(pending);
  }
}
