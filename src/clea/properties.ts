/**
 * The properties cache: the last value of every set property (device-owned and server-owned), kept as its
 * encoded BSON payload so an unchanged value is recognised byte for byte. Persisted as JSON in the store
 * directory (written to a temporary file and renamed), so set properties survive a restart and are
 * republished in the handshake.
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
  payload: Uint8Array;
}

interface FileShape {
  version: 1;
  properties: Array<{ owner: Owner; interface: string; major: number; path: string; payload: string }>;
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
        });
      }
      return [];
    } catch (err) {
      return [`properties cache ${this.file} is unreadable (${(err as Error).message}); starting with an empty cache`];
    }
  }

  /** The cached payload of a property. */
  get(interfaceName: string, path: string): CachedProperty | undefined {
    return this.entries.get(key(interfaceName, path));
  }

  /** Stores a value; returns false when the same bytes were already cached (nothing to republish). */
  set(owner: Owner, interfaceName: string, major: number, path: string, payload: Uint8Array): boolean {
    const k = key(interfaceName, path);
    const old = this.entries.get(k);
    if (old && old.owner === owner && old.major === major && sameBytes(old.payload, payload)) return false;
    this.entries.set(k, { owner, interfaceName, major, path, payload: payload.slice() });
    this.persist();
    return true;
  }

  /** Removes a property; returns whether it was set. */
  unset(interfaceName: string, path: string): boolean {
    if (!this.entries.delete(key(interfaceName, path))) return false;
    this.persist();
    return true;
  }

  /** Every cached property of an owner, in insertion order. */
  list(owner: Owner): CachedProperty[] {
    return [...this.entries.values()].filter((p) => p.owner === owner);
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
      })),
    };
    writeFileAtomic(this.file, JSON.stringify(data));
  }
}

function key(interfaceName: string, path: string): string {
  return `${interfaceName}${path}`;
}
