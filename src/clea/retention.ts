/**
 * Datastream retention while the device cannot send: "volatile" messages wait in memory, "stored" ones in an
 * append-only file in the store directory (they survive a restart). Both are bounded (the oldest is dropped
 * and counted) and honour expiry: a message past its deadline is dropped, never sent. Retention hands them out
 * oldest first across both queues (one sequence numbers them all).
 */

import { writeFileAtomic } from "./files.js";
import * as fs from "node:fs";
import { base64url, fromBase64url } from "./bytes.js";

/** A datastream message waiting to be sent. */
export interface RetainedMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  /** Wall-clock ms after which it must not be sent; undefined = never expires. */
  expiresAt: number | undefined;
  /** Major version of its interface when it was retained (undefined in records written before it was kept). */
  major?: number;
}

/** The oldest message of a queue and the function that removes it. */
export interface Head {
  seq: number;
  message: RetainedMessage;
  remove: () => void;
}

/** What a drain produced. */
export interface Drained {
  messages: RetainedMessage[];
  expired: number;
}

/** Bounded in-memory FIFO. */
export class VolatileQueue {
  private items: Array<{ seq: number; message: RetainedMessage }> = [];
  /** Messages dropped because the queue was full. */
  overflowed = 0;

  constructor(private readonly maxMessages: number) {}

  get length(): number {
    return this.items.length;
  }

  push(msg: RetainedMessage, seq = 0): void {
    this.items.push({ seq, message: msg });
    if (this.items.length > this.maxMessages) {
      this.items.shift();
      this.overflowed++;
    }
  }

  /** The oldest message. */
  head(): Head | undefined {
    const first = this.items[0];
    return first && { seq: first.seq, message: first.message, remove: () => void this.items.shift() };
  }

  /** Removes the messages for which `drop` is true; returns how many. */
  dropWhere(drop: (m: RetainedMessage) => boolean): number {
    const before = this.items.length;
    this.items = this.items.filter((i) => !drop(i.message));
    return before - this.items.length;
  }

  /** Removes and returns everything not expired at `now`. */
  drain(now: number): Drained {
    const all = this.items.map((i) => i.message);
    this.items = [];
    const messages = all.filter((m) => m.expiresAt === undefined || m.expiresAt > now);
    return { messages, expired: all.length - messages.length };
  }
}

interface Line {
  op: "add" | "del";
  id: number;
  topic?: string;
  payload?: string;
  qos?: 0 | 1 | 2;
  exp?: number;
  maj?: number;
}

/**
 * Bounded FIFO on disk: JSON lines ("add" with the message, "del" when it was handed to the client). A torn or
 * unreadable line is skipped with a warning; the file is rewritten (temporary file + rename) on open and when
 * it is mostly deleted entries.
 */
export class StoredQueue {
  private readonly live = new Map<number, RetainedMessage>();
  private nextId = 1;
  private fd: number | undefined;
  private lines = 0;
  overflowed = 0;

  constructor(private readonly file: string, private readonly maxMessages: number) {}

  get length(): number {
    return this.live.size;
  }

  /** The number the next message gets (one past the highest in the file). */
  get nextSeq(): number {
    return this.nextId;
  }

  /** Reads the file; returns warnings for skipped lines. */
  open(): string[] {
    const warnings: string[] = [];
    let text = "";
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") throw err;
    }
    let skipped = 0;
    for (const raw of text.split("\n")) {
      if (raw.length === 0) continue;
      const line = parseLine(raw);
      if (line === undefined) skipped++;
      else if (line.op === "add") this.live.set(line.id, line.message);
      else this.live.delete(line.id);
      if (line !== undefined) this.nextId = Math.max(this.nextId, line.id + 1);
    }
    if (skipped > 0) warnings.push(`${this.file}: skipped ${skipped} damaged retention record(s)`);
    this.compact();
    return warnings;
  }

  push(msg: RetainedMessage, seq = this.nextId): void {
    const id = seq;
    this.nextId = Math.max(this.nextId, id + 1);
    this.live.set(id, msg);
    this.append(record(id, msg));
    if (this.live.size > this.maxMessages) {
      const oldest = this.live.keys().next().value as number;
      this.remove(oldest);
      this.overflowed++;
    }
  }

  /** The oldest message. */
  head(): Head | undefined {
    for (const [id, message] of this.live) return { seq: id, message, remove: () => this.remove(id) };
    return undefined;
  }

  /** Removes the messages for which `drop` is true; returns how many. */
  dropWhere(drop: (m: RetainedMessage) => boolean): number {
    let n = 0;
    for (const [id, m] of [...this.live]) {
      if (!drop(m)) continue;
      this.remove(id);
      n++;
    }
    return n;
  }

  /** Unexpired messages in order, each with the function that deletes it once handed over. */
  pending(now: number): { messages: Array<{ message: RetainedMessage; done: () => void }>; expired: number } {
    let expired = 0;
    const messages: Array<{ message: RetainedMessage; done: () => void }> = [];
    for (const [id, m] of [...this.live]) {
      if (m.expiresAt !== undefined && m.expiresAt <= now) {
        this.remove(id);
        expired++;
      } else messages.push({ message: m, done: () => this.remove(id) });
    }
    return { messages, expired };
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private remove(id: number): void {
    if (this.live.delete(id)) this.append({ op: "del", id });
    if (this.lines > 1000 && this.lines > this.live.size * 4) this.compact();
  }

  private append(line: Line): void {
    if (this.fd === undefined) this.fd = fs.openSync(this.file, "a");
    fs.writeSync(this.fd, `${JSON.stringify(line)}\n`);
    this.lines++;
  }

  private compact(): void {
    this.close();
    const body = [...this.live].map(([id, m]) => JSON.stringify(record(id, m)));
    writeFileAtomic(this.file, body.length > 0 ? `${body.join("\n")}\n` : "", { fsync: true });
    this.lines = body.length;
  }
}

/** The "add" record of a message. */
function record(id: number, m: RetainedMessage): Line {
  return { op: "add", id, topic: m.topic, payload: base64url(m.payload), qos: m.qos, exp: m.expiresAt, maj: m.major };
}

/** One record of the file, or undefined when the line is torn or damaged in any way. */
function parseLine(raw: string): { op: "add"; id: number; message: RetainedMessage } | { op: "del"; id: number } | undefined {
  try {
    const line = JSON.parse(raw) as Partial<Line> | null;
    if (line === null || typeof line !== "object" || !Number.isSafeInteger(line.id)) return undefined;
    const id = line.id!;
    if (line.op === "del") return { op: "del", id };
    if (line.op !== "add" || typeof line.topic !== "string" || typeof line.payload !== "string" || ![0, 1, 2].includes(line.qos as number)) {
      return undefined;
    }
    if (line.exp !== undefined && typeof line.exp !== "number") return undefined;
    const major = Number.isSafeInteger(line.maj) ? line.maj : undefined;
    return { op: "add", id, message: { topic: line.topic, payload: fromBase64url(line.payload), qos: line.qos!, expiresAt: line.exp, major } };
  } catch {
    return undefined; // unparsable JSON or a payload that is not base64url
  }
}

/** Both queues as one: numbered in one sequence, handed out oldest first, expired messages dropped on the way. */
export class Retention {
  private seq: number;
  /** Retained messages dropped because they expired. */
  expired = 0;

  constructor(
    private readonly volatile: VolatileQueue,
    private readonly stored: StoredQueue | undefined,
  ) {
    this.seq = stored?.nextSeq ?? 1;
  }

  /** Messages waiting. */
  get length(): number {
    return this.volatile.length + (this.stored?.length ?? 0);
  }

  /** Messages dropped because their queue was full. */
  get overflowed(): number {
    return this.volatile.overflowed + (this.stored?.overflowed ?? 0);
  }

  /** Keeps a message: on disk when `durable` and a store exists, else in memory. */
  push(message: RetainedMessage, durable: boolean): void {
    const seq = this.seq++;
    if (durable && this.stored) this.stored.push(message, seq);
    else this.volatile.push(message, seq);
  }

  /** The oldest message not expired at `now` (expired ones met on the way are dropped and counted). */
  next(now: number): Head | undefined {
    for (;;) {
      const a = this.volatile.head();
      const b = this.stored?.head();
      const head = a && b ? (a.seq < b.seq ? a : b) : (a ?? b);
      if (!head) return undefined;
      const exp = head.message.expiresAt;
      if (exp === undefined || exp > now) return head;
      head.remove();
      this.expired++;
    }
  }

  /** Removes the messages for which `drop` is true; returns how many. */
  dropWhere(drop: (m: RetainedMessage) => boolean): number {
    return this.volatile.dropWhere(drop) + (this.stored?.dropWhere(drop) ?? 0);
  }

  /** Closes the stored queue's file. */
  close(): void {
    this.stored?.close();
  }
}
