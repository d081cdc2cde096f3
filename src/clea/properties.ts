/**
 * The properties cache: the last value of every set property (device-owned and server-owned), kept as its
 * encoded BSON payload so an unchanged value is recognised byte for byte. Persisted as JSON in the store
 * directory (written to a temporary file and renamed), so set properties survive a restart and are
 * republished in the handshake. A device-owned change made while the device could not send is marked pending
 * (an unset as a pending entry with an empty payload) until it is handed to the client.
 */

import { writeFileAtomic } from "./files.js";
import * as fs from "node:fs";
import { base64url, fromBase64url, sameBytes } from "./bytes.js";

/** Who owns a property. */
export type Owner = "device" | "server";

/** One cached property. */
export interface CachedProperty {
  owner: Owner;
  interfaceName: string;
  major: number;
  path: string;
  /** The BSON value; empty for a pending unset. */
  payload: Uint8Array;
  /** A device-owned change not yet handed to the client. */
  pending?: boolean;
}

interface FileShape {
  version: 1;
  properties: Array<{ owner: Owner; interface: string; major: number; path: string; payload: string; pending?: boolean }>;
}

export class PropertyCache {
  private readonly entries = new Map<string, CachedProperty>();

  /** A cache persisted to `file`, or memory only when undefined. */
  constructor(private readonly file: string | undefined) {}

  /** Loads the file; returns warnings for what could not be read (the cache then starts empty). */
  load(): string[] {
    if (!this.file || !fs.existsSync(this.file)) return [];
    try {
      const data = JSON.parse(fs.readFileSync(this.file, "utf8")) as FileShape;
      if (data.version !== 1 || !Array.isArray(data.properties)) throw new Error("unknown format");
      for (const p of data.properties) {
        if ((p.owner !== "device" && p.owner !== "server") || typeof p.interface !== "string" || typeof p.path !== "string") continue;
        this.entries.set(key(p.interface, p.path), {
          owner: p.owner,
          interfaceName: p.interface,
          major: p.major,
          path: p.path,
          payload: fromBase64url(p.payload),
          pending: p.pending === true || undefined,
        });
      }
      return [];
    } catch (err) {
      return [`properties cache ${this.file} is unreadable (${(err as Error).message}); starting with an empty cache`];
    }
  }

  /** The cached payload of a set property (undefined when unset, or unset pending). */
  get(interfaceName: string, path: string): CachedProperty | undefined {
    const p = this.entries.get(key(interfaceName, path));
    return p && p.payload.length > 0 ? p : undefined;
  }

  /** Stores a value (`pending`: not handed to the client yet); returns false when the same bytes were already cached. */
  set(owner: Owner, interfaceName: string, major: number, path: string, payload: Uint8Array, pending = false): boolean {
    const k = key(interfaceName, path);
    const old = this.entries.get(k);
    if (old && old.owner === owner && old.major === major && sameBytes(old.payload, payload)) return false;
    this.entries.set(k, { owner, interfaceName, major, path, payload: payload.slice(), pending: pending || undefined });
    this.persist();
    return true;
  }

  /** Removes a property (`pending`: keeps a pending unset until it is handed over); returns whether it was set. */
  unset(interfaceName: string, path: string, pending = false): boolean {
    const k = key(interfaceName, path);
    const old = this.entries.get(k);
    if (!old || old.payload.length === 0) return false;
    if (pending) this.entries.set(k, { ...old, payload: new Uint8Array(0), pending: true });
    else this.entries.delete(k);
    this.persist();
    return true;
  }

  /** Every set property of an owner, in insertion order (pending unsets excluded). */
  list(owner: Owner): CachedProperty[] {
    return [...this.entries.values()].filter((p) => p.owner === owner && p.payload.length > 0);
  }

  /** Device-owned changes not yet handed to the client, pending unsets included. */
  pending(): CachedProperty[] {
    return [...this.entries.values()].filter((p) => p.pending);
  }

  /** `entry` was handed to the client (or announced): no longer pending, unless it changed since it was taken. */
  settle(entry: CachedProperty): void {
    const k = key(entry.interfaceName, entry.path);
    if (this.entries.get(k) !== entry || !entry.pending) return;
    if (entry.payload.length === 0) this.entries.delete(k);
    else this.entries.set(k, { ...entry, pending: undefined });
    this.persist();
  }

  /** Drops every property of interfaces not in `current` (name -> major) or whose major changed; returns what was dropped. */
  retain(current: ReadonlyMap<string, number>): CachedProperty[] {
    const dropped: CachedProperty[] = [];
    for (const [k, p] of this.entries) {
      if (current.get(p.interfaceName) !== p.major) {
        this.entries.delete(k);
        dropped.push(p);
      }
    }
    if (dropped.length > 0) this.persist();
    return dropped;
  }

  private persist(): void {
    if (!this.file) return;
    const data: FileShape = {
      version: 1,
      properties: [...this.entries.values()].map((p) => ({
        owner: p.owner,
        interface: p.interfaceName,
        major: p.major,
        path: p.path,
        payload: base64url(p.payload),
        ...(p.pending ? { pending: true } : {}),
      })),
    };
    writeFileAtomic(this.file, JSON.stringify(data));
  }
}

function key(interfaceName: string, path: string): string {
  return `${interfaceName}${path}`;
}
