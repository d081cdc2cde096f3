/**
 * Datastream retention while the device cannot send: "volatile" messages wait in memory, "stored" ones in an
 * append-only file in the store directory (they survive a restart). Both are bounded (the oldest is dropped
 * and counted) and honour expiry: a message past its deadline is dropped, never sent.
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
}

/** What a drain produced. */
export interface Drained {
  messages: RetainedMessage[];
  expired: number;
}

/** Bounded in-memory FIFO. */
export class VolatileQueue {
  private items: RetainedMessage[] = [];
  /** Messages dropped because the queue was full. */
  overflowed = 0;

  constructor(private readonly maxMessages: number) {}

  get length(): number {
    return this.items.length;
  }

  push(msg: RetainedMessage): void {
    this.items.push(msg);
    if (this.items.length > this.maxMessages) {
      this.items.shift();
      this.overflowed++;
    }
  }

  /** Removes and returns everything not expired at `now`. */
  drain(now: number): Drained {
    const all = this.items;
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

  push(msg: RetainedMessage): void {
    const id = this.nextId++;
    this.live.set(id, msg);
    this.append({ op: "add", id, topic: msg.topic, payload: base64url(msg.payload), qos: msg.qos, exp: msg.expiresAt });
    if (this.live.size > this.maxMessages) {
      const oldest = this.live.keys().next().value as number;
      this.remove(oldest);
      this.overflowed++;
    }
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
    if (this.lines > 1000 && this.lines > this.live.size * 4) this.compact();
    return { messages, expired };
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private remove(id: number): void {
    if (this.live.delete(id)) this.append({ op: "del", id });
  }

  private append(line: Line): void {
    if (this.fd === undefined) this.fd = fs.openSync(this.file, "a");
    fs.writeSync(this.fd, `${JSON.stringify(line)}\n`);
    this.lines++;
  }

  private compact(): void {
    this.close();
    const body = [...this.live].map(([id, m]) =>
      JSON.stringify({ op: "add", id, topic: m.topic, payload: base64url(m.payload), qos: m.qos, exp: m.expiresAt } satisfies Line),
    );
    writeFileAtomic(this.file, body.length > 0 ? `${body.join("\n")}\n` : "", { fsync: true });
    this.lines = body.length;
  }
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
    return { op: "add", id, message: { topic: line.topic, payload: fromBase64url(line.payload), qos: line.qos!, expiresAt: line.exp } };
  } catch {
    return undefined; // unparsable JSON or a payload that is not base64url
  }
}
