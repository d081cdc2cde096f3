/**
 * FileStore: a durable store. One append-only log per client id under `dir`, each record checksummed.
 * On open the log is read (damaged records are skipped and reported, intact ones kept), then compacted:
 * the live state is written to a temporary file, fsynced and renamed over the log, so a crash during
 * compaction leaves either the old log or the new one. Mutations are written with one write() call each,
 * so a message accepted by publish() survives the process being killed; `fsync: true` also survives power loss.
 */

import type * as Fs from "node:fs";
import type * as Path from "node:path";
import type * as Process from "node:process";
import { encodeEntry, Op, scanLogStream, type LogEntry } from "./log-format.js";
import { StoreError, type OutgoingRecord, type Store, type StoreSnapshot } from "./store.js";

/*
 * The Node built-ins are loaded by the first open(), not when `edgemq` is imported: every import of the core
 * paid for them, with or without a FileStore (and on Deno the first node: module initialises its whole Node
 * compatibility layer); see BENCHMARKS.md, "Startup". Every method that touches the file system runs after an
 * open() (the others throw or return first while the store is not open), so they use these bindings directly.
 * node:crypto is loaded only for client ids too long to be a file name as they are (fileNameFor).
 */
let fs: typeof Fs;
let path: typeof Path;
let process: typeof Process;

/** Loads node:fs, node:path and node:process once; later calls return at once. */
async function loadBuiltins(): Promise<void> {
  if (fs) return;
  const [f, p, pr] = await Promise.all([import("node:fs"), import("node:path"), import("node:process")]);
  path = p;
  process = pr.default;
  fs = f;
}

/** Options of FileStore. */
export interface FileStoreOptions {
  /** fsync after every record (survives power loss; slower). Default false (survives process crashes). */
  fsync?: boolean;
  /** Compact when the log passes this size and is mostly dead records. Default 4 MiB. */
  compactAfterBytes?: number;
}

/**
 * A durable Store: one checksummed append-only log per client id under `dir`; survives a process crash (power loss
 * too with `fsync: true`). Unfinished QoS 1/2 publishes are sent again by the next run. Use one FileStore per
 * client; the client opens it on its first connect(), which then rejects with StoreError if it cannot be used
 * ("store-locked" when another live process holds the same client id's log). Not available in browsers.
 *
 * @example
 * ```ts
 * const client = await connect({
 *   url: "mqtts://broker.example:8883",
 *   clientId: "gw-01",
 *   clean: false,
 *   store: new FileStore("./var/edgemq", { fsync: true }),
 * });
 * ```
 */
export class FileStore implements Store {
  private readonly fsync: boolean;
  private readonly compactAfterBytes: number;
  private file = "";
  private fd: number | undefined;
  private readonly outgoing = new Map<number, OutgoingRecord>();
  private readonly incoming = new Set<number>();
  private logBytes = 0;
  /** After a failed compaction: the log size at which to try again. */
  private retryCompactionAt = 0;
  /** The lock file this store holds while open. */
  private lock: string | undefined;
  /** Reports what fails without failing an operation (a compaction). */
  private warn: ((message: string) => void) | undefined;

  /**
   * A store keeping its files in `dir` (created if missing). Nothing is touched until the client opens it.
   * @param dir Directory of the logs: one log file (and its lock file) per client id.
   * @param options Durability and compaction settings.
   */
  constructor(readonly dir: string, options: FileStoreOptions = {}) {
    this.fsync = options.fsync ?? false;
    this.compactAfterBytes = options.compactAfterBytes ?? 4 << 20;
  }

  async open(clientId: string, warn?: (message: string) => void): Promise<StoreSnapshot> {
    await loadBuiltins();
    const name = await fileNameFor(clientId);
    // Nothing below awaits, so of two concurrent open()s the second sees the first's fd / openLogs entry.
    if (this.fd !== undefined) throw new StoreError("FileStore is already open: use one FileStore per client");
    const file = path.resolve(this.dir, `${name}.log`);
    if (openLogs.has(file)) throw new StoreError(`${file} is already open by another FileStore in this process`);
    try {
      fs.mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create ${this.dir}: ${(err as Error).message}`, err);
    }
    const lock = takeLock(`${file}.lock`);
    this.file = file;
    this.warn = warn;
    this.outgoing.clear();
    this.incoming.clear();
    const warnings: string[] = [];
    try {
      for (const [offset, length] of this.load(file)) warnings.push(`${this.file}: skipped ${length} damaged byte(s) at offset ${offset}`);
      this.compact();
    } catch (err) {
      releaseLock(lock);
      throw err instanceof StoreError ? err : new StoreError(`cannot write ${file}: ${(err as Error).message}`, err);
    }
    this.lock = lock;
    openLogs.add(file);
    return {
      outgoing: [...this.outgoing.values()].sort((a, b) => a.seq - b.seq).map((r) => ({ ...r })),
      incoming: [...this.incoming],
      warnings,
    };
  }

  /** Replays the log into memory piece by piece (a log larger than memory is never read whole); returns what was skipped. */
  private load(file: string): Array<[number, number]> {
    let fd: number;
    try {
      fd = fs.openSync(file, "r");
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return [];
      throw new StoreError(`cannot read ${file}: ${(err as Error).message}`, err);
    }
    try {
      return scanLogStream(
        (into) => fs.readSync(fd, into, 0, into.length, null),
        (e) => this.apply(e),
      );
    } catch (err) {
      throw new StoreError(`cannot read ${file}: ${(err as Error).message}`, err);
    } finally {
      fs.closeSync(fd);
    }
  }

  putOutgoing(record: OutgoingRecord): void {
    const copy = { ...record };
    this.append({ op: Op.PutOutgoing, record: copy });
    this.outgoing.set(record.seq, copy);
  }

  updateOutgoing(seq: number, packetId: number, state: OutgoingRecord["state"]): void {
    const r = this.outgoing.get(seq);
    if (!r) return;
    this.append({ op: Op.UpdateOutgoing, seq, packetId, state });
    r.packetId = packetId;
    r.state = state;
  }

  deleteOutgoing(seq: number): void {
    if (!this.outgoing.has(seq)) return;
    this.append({ op: Op.DeleteOutgoing, seq });
    this.outgoing.delete(seq);
    this.maybeCompact();
  }

  putIncoming(packetId: number): void {
    this.append({ op: Op.PutIncoming, packetId });
    this.incoming.add(packetId);
  }

  deleteIncoming(packetId: number): void {
    if (!this.incoming.has(packetId)) return;
    this.append({ op: Op.DeleteIncoming, packetId });
    this.incoming.delete(packetId);
    this.maybeCompact();
  }

  clearIncoming(): void {
    if (this.incoming.size === 0) return;
    this.append({ op: Op.ClearIncoming });
    this.incoming.clear();
  }

  async close(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    openLogs.delete(this.file);
    try {
      fs.fsyncSync(fd);
    } catch {
      /* nothing left to do about it: every record was written (or reported) when it was made */
    } finally {
      fs.closeSync(fd);
      releaseLock(this.lock);
      this.lock = undefined;
    }
  }

  /** Applies one log entry to the in-memory state. */
  private apply(e: LogEntry): void {
    switch (e.op) {
      case Op.PutOutgoing:
      case Op.PutOutgoing5:
        this.outgoing.set(e.record.seq, e.record);
        break;
      case Op.UpdateOutgoing: {
        const r = this.outgoing.get(e.seq);
        if (r) {
          r.packetId = e.packetId;
          r.state = e.state;
        }
        break;
      }
      case Op.DeleteOutgoing:
        this.outgoing.delete(e.seq);
        break;
      case Op.PutIncoming:
        this.incoming.add(e.packetId);
        break;
      case Op.DeleteIncoming:
        this.incoming.delete(e.packetId);
        break;
      case Op.ClearIncoming:
        this.incoming.clear();
        break;
    }
  }

  /**
   * Writes one record, whole or not at all: a failed or short write is cut off again (the log ends where it did), and
   * the error is thrown as StoreError with the runtime's error as its cause. The caller changes memory only after.
   */
  private append(entry: LogEntry): void {
    if (this.fd === undefined) throw new StoreError("FileStore is not open: the client opens it on connect()");
    const bytes = encodeEntry(entry);
    const at = this.logBytes;
    try {
      const written = fs.writeSync(this.fd, bytes);
      if (written !== bytes.length) throw Object.assign(new Error(`short write: ${written} of ${bytes.length} bytes`), { code: "EIO" });
      if (this.fsync) fs.fsyncSync(this.fd);
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, at);
      } catch {
        /* a torn tail is skipped (and reported) by the next open */
      }
      throw new StoreError(`cannot write ${this.file}: ${(err as Error).message}`, err);
    }
    this.logBytes += bytes.length;
  }

  /**
   * Rewrites the log when it is large and mostly dead (deleted or superseded records). The mutation that got
   * here is already in the log, so a failed compaction only costs space: the old log stays in use, the failure
   * is reported through open()'s `warn` (the client's "warning" event), and the next attempt waits until the log has doubled.
   */
  private maybeCompact(): void {
    if (this.logBytes < Math.max(this.compactAfterBytes, this.retryCompactionAt)) return;
    let live = 0;
    for (const r of this.outgoing.values()) live += r.payload.length + r.topic.length + 32;
    if (live * 2 >= this.logBytes) return;
    try {
      this.compact();
      this.retryCompactionAt = 0;
    } catch (err) {
      this.retryCompactionAt = this.logBytes * 2;
      this.warn?.(`compacting ${this.file} failed, the log keeps growing: ${(err as Error).message}`);
    }
  }

  /**
   * Atomically replaces the log with the live state: write a temporary file (overwriting any left by an
   * interrupted compaction), fsync, rename, fsync the directory. If any step fails, the old log stays in use
   * and the error is thrown.
   */
  private compact(): void {
    const tmp = `${this.file}.tmp`;
    const parts: Uint8Array[] = [];
    for (const r of [...this.outgoing.values()].sort((a, b) => a.seq - b.seq)) parts.push(encodeEntry({ op: Op.PutOutgoing, record: r }));
    for (const id of this.incoming) parts.push(encodeEntry({ op: Op.PutIncoming, packetId: id }));
    let size = 0;
    try {
      const tmpFd = fs.openSync(tmp, "w");
      try {
        for (const p of parts) {
          fs.writeSync(tmpFd, p);
          size += p.length;
        }
        fs.fsyncSync(tmpFd);
      } finally {
        fs.closeSync(tmpFd);
      }
    } catch (err) {
      removeQuietly(tmp);
      throw err;
    }
    // Closed before the rename: not every platform renames over a file that is open.
    const old = this.fd;
    this.fd = undefined;
    if (old !== undefined) fs.closeSync(old);
    try {
      fs.renameSync(tmp, this.file);
    } catch (err) {
      removeQuietly(tmp);
      if (old !== undefined) this.fd = fs.openSync(this.file, "a");
      throw err;
    }
    syncDirectory(this.dir);
    this.fd = fs.openSync(this.file, "a");
    this.logBytes = size;
  }
}

/** Removes a temporary file after a failure that is being reported already. */
function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    /* the original error is the one thrown; a leftover .tmp is overwritten by the next compaction */
  }
}

function syncDirectory(dir: string): void {
  // Makes the rename durable; not every platform lets a directory be opened for fsync.
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* best effort: the rename itself is atomic */
  }
}

/**
 * Takes the lock file beside a log: it holds the owner's pid. A lock whose process is gone (killed, crashed) is
 * taken over; one held by a live process refuses with StoreError "store-locked": two processes appending to one
 * log, each compacting it under the other, would lose records.
 */
function takeLock(lock: string): string {
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lock, mine, { flag: "wx" });
      return lock;
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw new StoreError(`cannot create ${lock}: ${(err as Error).message}`, err);
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(lock, "utf8").trim());
    } catch {
      /* removed meanwhile, or unreadable: try again */
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new StoreError(`${lock} is held by process ${owner}: another process uses this FileStore for the same client id`, undefined, "store-locked");
    }
    removeQuietly(lock); // stale: its process is gone (or it was ours, left by a store that was never closed)
  }
  throw new StoreError(`cannot take ${lock}: other processes keep taking it`, undefined, "store-locked");
}

function releaseLock(lock: string | undefined): void {
  if (lock !== undefined) removeQuietly(lock);
}

/**
 * Whether a process with this pid exists (signal 0 checks without sending anything). A killed process that nobody
 * reaped (a zombie, as under an init that does not reap) still answers signal 0, so on Linux its state is read too.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true; // no /proc (not Linux): signal 0 is all there is
  }
}

/** Logs open in this process (resolved paths): two FileStores appending to one log would corrupt it. */
const openLogs = new Set<string>();

/** Longest encoded client id used as a file name as it is; longer ones are shortened with a hash. */
const MAX_NAME = 180;

/**
 * A file name that cannot escape `dir` and differs for different client ids. Ids whose encoding is too long
 * for a file name keep a prefix and gain a SHA-256 of the whole id.
 */
async function fileNameFor(clientId: string): Promise<string> {
  const safe = encodeURIComponent(clientId).replace(/[.*!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (safe === "") return "%";
  if (safe.length <= MAX_NAME) return safe;
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256").update(clientId).digest("hex");
  return `${safe.slice(0, 96).replace(/%[0-9A-F]?$/, "")}%~${hash}`;
}
