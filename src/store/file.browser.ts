/**
 * The browser build's stand-in for file.ts (tsup.config.ts swaps it in): a browser has no file system, so a
 * FileStore refuses to open, with the way out named, and the bundle carries no node: built-in.
 */

import { StoreError, type OutgoingRecord, type Store, type StoreSnapshot } from "./store.js";

/** Options of FileStore (accepted, unused in a browser). */
export interface FileStoreOptions {
  /** fsync after every record. */
  fsync?: boolean;
  /** Compact when the log passes this size. */
  compactAfterBytes?: number;
}

const UNAVAILABLE = "FileStore needs a file system, which a browser does not have: use MemoryStore";

/** A FileStore that cannot open here: open() rejects with StoreError "store-error". */
export class FileStore implements Store {
  /** Keeps the signature of the real FileStore. */
  constructor(readonly dir: string, _options: FileStoreOptions = {}) {}
  /** Always rejects: see the class comment. */
  open(): Promise<StoreSnapshot> {
    return Promise.reject(new StoreError(UNAVAILABLE));
  }
  /** Never reached (open() failed). */
  putOutgoing(_record: OutgoingRecord): void {
    throw new StoreError(UNAVAILABLE);
  }
  /** Never reached (open() failed). */
  updateOutgoing(): void {
    throw new StoreError(UNAVAILABLE);
  }
  /** Never reached (open() failed). */
  deleteOutgoing(): void {
    throw new StoreError(UNAVAILABLE);
  }
  /** Never reached (open() failed). */
  putIncoming(): void {
    throw new StoreError(UNAVAILABLE);
  }
  /** Never reached (open() failed). */
  deleteIncoming(): void {
    throw new StoreError(UNAVAILABLE);
  }
  /** Never reached (open() failed). */
  clearIncoming(): void {
    throw new StoreError(UNAVAILABLE);
  }
  /** Nothing to close. */
  async close(): Promise<void> {}
}
