/**
 * The FileStore's record format. Each record: magic byte 0xA5, u32 body length, u32 CRC-32 of the body, body.
 * The body's first byte is the operation. A reader that meets a damaged record resynchronises on the next
 * magic byte whose length and checksum hold, so one bad record never hides the intact ones after it.
 */

import type { OutgoingRecord } from "./store.js";
import { crc32 } from "./crc32.js";

export const MAGIC = 0xa5;
export const FRAME_HEADER = 9;
/** A body longer than this cannot be ours (MQTT's own packet limit plus headroom). */
export const MAX_BODY = 268_435_455 + 64;

/** Operation codes: the first byte of a record body. */
export const Op = {
  PutOutgoing: 1,
  UpdateOutgoing: 2,
  DeleteOutgoing: 3,
  PutIncoming: 4,
  DeleteIncoming: 5,
  ClearIncoming: 6,
  /** PutOutgoing with MQTT 5 properties (JSON, bytes as base64) between the flags and the topic. */
  PutOutgoing5: 7,
} as const;

type OpCode<K extends keyof typeof Op> = (typeof Op)[K];

/** One decoded log operation. */
export type LogEntry =
  | { op: OpCode<"PutOutgoing"> | OpCode<"PutOutgoing5">; record: OutgoingRecord }
  | { op: OpCode<"UpdateOutgoing">; seq: number; packetId: number; state: OutgoingRecord["state"] }
  | { op: OpCode<"DeleteOutgoing">; seq: number }
  | { op: OpCode<"PutIncoming"> | OpCode<"DeleteIncoming">; packetId: number }
  | { op: OpCode<"ClearIncoming"> };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JSON.stringify replacer: a Uint8Array (correlation data) becomes { $b64: "..." } (a loop: 64 KB of bytes is too many arguments to spread). */
function bytesAsBase64(_key: string, value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value;
  let binary = "";
  for (const b of value) binary += String.fromCharCode(b);
  return { $b64: btoa(binary) };
}

/** JSON.parse reviver: { $b64: "..." } becomes the Uint8Array again (atob throws on bad base64: the record is refused). */
function base64AsBytes(_key: string, value: unknown): unknown {
  const b64 = (value as { $b64?: unknown } | null)?.$b64;
  return typeof b64 === "string" ? Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)) : value;
}

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + body.length);
  const view = new DataView(out.buffer);
  out[0] = MAGIC;
  view.setUint32(1, body.length);
  view.setUint32(5, crc32(body));
  out.set(body, FRAME_HEADER);
  return out;
}

/** Encodes one operation as a framed record. */
export function encodeEntry(entry: LogEntry): Uint8Array {
  switch (entry.op) {
    case Op.PutOutgoing:
    case Op.PutOutgoing5: {
      const r = entry.record;
      const topic = encoder.encode(r.topic);
      // MQTT 5 properties, when there are any, go between the flags and the topic (record op 7).
      const props = r.properties ? encoder.encode(JSON.stringify(r.properties, bytesAsBase64)) : undefined;
      const at = props ? 18 + props.length : 14;
      const body = new Uint8Array(at + 2 + topic.length + r.payload.length);
      const v = new DataView(body.buffer);
      body[0] = props ? Op.PutOutgoing5 : Op.PutOutgoing;
      v.setFloat64(1, r.seq);
      v.setUint16(9, r.packetId);
      body[11] = r.state === "pubrel" ? 1 : 0;
      body[12] = r.qos;
      body[13] = r.retain ? 1 : 0;
      if (props) {
        v.setUint32(14, props.length);
        body.set(props, 18);
      }
      v.setUint16(at, topic.length);
      body.set(topic, at + 2);
      body.set(r.payload, at + 2 + topic.length);
      return frame(body);
    }
    case Op.UpdateOutgoing: {
      const body = new Uint8Array(12);
      const v = new DataView(body.buffer);
      body[0] = Op.UpdateOutgoing;
      v.setFloat64(1, entry.seq);
      v.setUint16(9, entry.packetId);
      body[11] = entry.state === "pubrel" ? 1 : 0;
      return frame(body);
    }
    case Op.DeleteOutgoing: {
      const body = new Uint8Array(9);
      body[0] = Op.DeleteOutgoing;
      new DataView(body.buffer).setFloat64(1, entry.seq);
      return frame(body);
    }
    case Op.PutIncoming:
    case Op.DeleteIncoming:
      return frame(Uint8Array.of(entry.op, entry.packetId >> 8, entry.packetId & 0xff));
    case Op.ClearIncoming:
      return frame(Uint8Array.of(Op.ClearIncoming));
  }
}

/** Decodes a checksum-verified body, or returns undefined when its content makes no sense. */
export function decodeBody(body: Uint8Array): LogEntry | undefined {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  switch (body[0]) {
    case Op.PutOutgoing:
    case Op.PutOutgoing5: {
      let at = 14;
      let properties: OutgoingRecord["properties"];
      if (body[0] === Op.PutOutgoing5) {
        if (body.length < 18 || 18 + v.getUint32(14) > body.length) return undefined;
        at = 18 + v.getUint32(14);
        try {
          properties = JSON.parse(decoder.decode(body.subarray(18, at)), base64AsBytes) as OutgoingRecord["properties"];
        } catch {
          return undefined;
        }
        if (typeof properties !== "object" || properties === null) return undefined;
      }
      if (body.length < at + 2) return undefined;
      const topicLen = v.getUint16(at);
      if (at + 2 + topicLen > body.length) return undefined;
      const qos = body[12];
      const state = body[11];
      const seq = v.getFloat64(1);
      if ((qos !== 1 && qos !== 2) || (state !== 0 && state !== 1) || !Number.isSafeInteger(seq)) return undefined;
      const record: OutgoingRecord = {
        seq,
        packetId: v.getUint16(9),
        state: state === 1 ? "pubrel" : "publish",
        qos,
        retain: body[13] === 1,
        topic: decoder.decode(body.subarray(at + 2, at + 2 + topicLen)),
        payload: body.slice(at + 2 + topicLen),
      };
      if (properties) record.properties = properties;
      return { op: body[0], record };
    }
    case Op.UpdateOutgoing:
      if (body.length !== 12 || (body[11] !== 0 && body[11] !== 1)) return undefined;
      return { op: Op.UpdateOutgoing, seq: v.getFloat64(1), packetId: v.getUint16(9), state: body[11] === 1 ? "pubrel" : "publish" };
    case Op.DeleteOutgoing:
      return body.length === 9 ? { op: Op.DeleteOutgoing, seq: v.getFloat64(1) } : undefined;
    case Op.PutIncoming:
    case Op.DeleteIncoming:
      return body.length === 3 ? { op: body[0], packetId: v.getUint16(1) } : undefined;
    case Op.ClearIncoming:
      return body.length === 1 ? { op: Op.ClearIncoming } : undefined;
    default:
      return undefined;
  }
}

/** The result of reading a whole log. */
export interface ScanResult {
  entries: LogEntry[];
  /** Damaged regions that were skipped: [offset, length]. */
  skipped: Array<[number, number]>;
}

/** Reads every intact record of `data`, skipping (and reporting) damaged regions. */
export function scanLog(data: Uint8Array): ScanResult {
  const entries: LogEntry[] = [];
  let given = false;
  const skipped = scanLogStream(
    (into) => {
      if (given) return 0;
      given = true;
      into.set(data);
      return data.length;
    },
    (e) => entries.push(e),
    data.length,
  );
  return { entries, skipped };
}

/** What readAt() says about the bytes at a position. */
type ReadOutcome = { entry: LogEntry; next: number } | { need: number } | undefined;

/**
 * Reads a log piece by piece: `readInto` fills the buffer it is given from the file's current position and returns
 * how many bytes it put there (0 at the end). Each intact record goes to `onEntry` in order; damaged regions are
 * skipped and returned as [offset, length]. Memory holds one piece plus the record being read, never the whole log.
 */
export function scanLogStream(
  readInto: (into: Uint8Array) => number,
  onEntry: (entry: LogEntry) => void,
  chunkSize = 1 << 20,
): Array<[number, number]> {
  const skipped: Array<[number, number]> = [];
  let buf = new Uint8Array(0);
  let base = 0; // file offset of buf[0]
  let pos = 0;
  let badStart = -1;
  let eof = false;
  let need = chunkSize;
  for (;;) {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (pos < buf.length) {
      const r = readAt(buf, view, pos, eof);
      if (r && "need" in r) {
        need = r.need;
        break;
      }
      if (r) {
        if (badStart >= 0) {
          skipped.push([badStart, base + pos - badStart]);
          badStart = -1;
        }
        onEntry(r.entry);
        pos = r.next;
      } else {
        if (badStart < 0) badStart = base + pos;
        const next = buf.indexOf(MAGIC, pos + 1);
        pos = next === -1 ? buf.length : next;
      }
    }
    if (eof) break;
    // Keep the unread tail and read after it: at least a piece, or all of a record whose length is known.
    const tail = buf.length - pos;
    const next = new Uint8Array(Math.max(tail + chunkSize, need));
    next.set(buf.subarray(pos));
    let filled = tail;
    while (filled < next.length) {
      const n = readInto(next.subarray(filled));
      if (n === 0) {
        eof = true;
        break;
      }
      filled += n;
    }
    base += pos;
    buf = next.subarray(0, filled);
    pos = 0;
    need = chunkSize;
  }
  if (badStart >= 0) skipped.push([badStart, base + buf.length - badStart]);
  return skipped;
}

/** The record at `pos`; { need } when its bytes are not all read yet (never at the end of the file); undefined when damaged. */
function readAt(data: Uint8Array, view: DataView, pos: number, eof: boolean): ReadOutcome {
  if (data[pos] !== MAGIC) return undefined;
  if (pos + FRAME_HEADER > data.length) return eof ? undefined : { need: FRAME_HEADER };
  const len = view.getUint32(pos + 1);
  if (len === 0 || len > MAX_BODY) return undefined;
  if (pos + FRAME_HEADER + len > data.length) return eof ? undefined : { need: FRAME_HEADER + len };
  const start = pos + FRAME_HEADER;
  if (crc32(data, start, start + len) !== view.getUint32(pos + 5)) return undefined;
  const entry = decodeBody(data.subarray(start, start + len));
  return entry ? { entry, next: start + len } : undefined;
}
