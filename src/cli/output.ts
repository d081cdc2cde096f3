/** What the command prints: received messages (plain, -v, --json) and the one-line reports of failures. */
import type { Client, Message } from "edgemq";
import type { Io } from "./io.js";
import { UsageError } from "./options.js";

const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

/** The payload as text, or undefined when its bytes are not valid UTF-8. */
export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Base64 of `bytes` (no dependency on Buffer, so it reads the same on every runtime). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** How `sub` prints each message. */
export type Format = "plain" | "verbose" | "json";

/**
 * One output line (with its newline) for a message. plain: the payload as UTF-8 text; verbose: "topic payload";
 * json: {"topic","qos","retain","dup","payload"} where payload is a string for valid UTF-8, else {"base64": "..."}.
 */
export function formatMessage(msg: Pick<Message, "topic" | "payload" | "qos" | "retain" | "dup" | "properties">, format: Format): string {
  if (format === "json") {
    const text = utf8OrUndefined(msg.payload);
    const payload = text ?? { base64: toBase64(msg.payload) };
    // MQTT 5: the message's properties, when it has any (correlation data as base64).
    const p = msg.properties;
    const properties = p ? { ...p, ...(p.correlationData ? { correlationData: { base64: toBase64(p.correlationData) } } : {}) } : undefined;
    return `${JSON.stringify({ topic: msg.topic, qos: msg.qos, retain: msg.retain, dup: msg.dup, payload, ...(properties ? { properties } : {}) })}\n`;
  }
  const text = lenient.decode(msg.payload);
  return format === "verbose" ? `${msg.topic} ${text}\n` : `${text}\n`;
}

/** The stderr line of a usage error, with a hint naming the command's --help. */
export function usageLine(err: UsageError, command: string): string {
  return `edgemq: ${err.message} (see "edgemq ${command} --help")\n`;
}

/** The stderr line of a failure: `edgemq: <what> [<code>]: <message>` (the code of a typed edgemq error). */
export function failureLine(what: string, err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return `edgemq: ${what}${typeof code === "string" ? ` [${code}]` : ""}: ${message.replace(/\s*\n\s*/g, " ")}\n`;
}

/** The exit code and stderr line for an error thrown while running `command`: usage errors 1, anything else 2. */
export function report(err: unknown, command: string, what: string): { code: number; line: string } {
  if (err instanceof UsageError) return { code: 1, line: usageLine(err, command) };
  const name = (err as { name?: unknown } | null)?.name;
  // Arguments the library refused before sending anything are usage errors too.
  if (name === "TopicError" || name === "OptionsError") return { code: 1, line: failureLine(`invalid arguments`, err) };
  return { code: 2, line: failureLine(what, err) };
}

/** With -d: a stderr line each time `client` connects (to `url`) and each time it schedules a reconnection. */
export function reportConnection(client: Client, url: string | undefined, io: Io): void {
  client.on("reconnecting", ({ attempt, delay }) => io.stderr.write(`edgemq: reconnecting (attempt ${attempt}) in ${delay} ms\n`));
  client.on("connect", () => io.stderr.write(`edgemq: connected to ${url}\n`));
}
