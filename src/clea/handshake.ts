/**
 * The Astarte handshake, run after a CONNACK whose session is new (or when the last handshake did not finish):
 * subscriptions, introspection, emptyCache, producer purge frame, device properties; the caller then flushes
 * retention. Whether the last handshake completed (and for which introspection) is persisted, because it
 * decides the clean flag of the next connection.
 */

import * as fs from "node:fs";
import type { Interface } from "./interface.js";

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
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record));
    fs.renameSync(tmp, this.file);
  }
}
