/** `edgemq pub`: publishes one message (-m, -f, -n, -s) or one per stdin line (-l), waits for the acks, ends gracefully. */
import { readFile } from "node:fs/promises";
import { connect, type Client, type PublishOptions } from "edgemq";
import type { Io } from "./io.js";
import { COMMON_FLAGS, COMMON_HELP, clientOptions, parseCount, parseQos, topics, UsageError, type FlagSpec, type ParsedValues } from "./options.js";
import { runCommand } from "./command.js";

const PUB_FLAGS = {
  message: { type: "string", short: "m" },
  file: { type: "string", short: "f" },
  "stdin-line": { type: "boolean", short: "l" },
  "null-message": { type: "boolean", short: "n" },
  "stdin-file": { type: "boolean", short: "s" },
  retain: { type: "boolean", short: "r" },
  "user-property": { type: "string", multiple: true },
  "content-type": { type: "string" },
  "message-expiry": { type: "string" },
} as const satisfies Record<string, FlagSpec>;

/** Help text of `edgemq pub`. */
export const PUB_HELP = `usage: edgemq pub -t TOPIC (-m TEXT | -f FILE | -l | -n | -s) [flags]

Publishes to the (first) topic, waits for the acknowledgements its QoS asks for, then disconnects.

message (exactly one):
  -m TEXT                 the message
  -f FILE                 the file's bytes as the message
  -l                      one message per stdin line (without its newline)
  -n                      an empty message
  -s                      all of stdin as one message
publish:
  -t TOPIC                topic
  -q 0|1|2                QoS (default 0)
  -r                      retain the message
MQTT 5 (with -V mqttv5):
  --user-property KEY=VALUE
                          a user property (repeatable)
  --content-type TYPE     the payload's content type
  --message-expiry SECONDS
                          the broker drops the message when it is not delivered in time
${COMMON_HELP}`;

/** Runs `edgemq pub args`; resolves with the exit code. */
export function pub(args: string[], io: Io): Promise<number> {
  const spec = { name: "pub", flags: { ...COMMON_FLAGS, ...PUB_FLAGS }, help: PUB_HELP, phase: "connection failed" };
  return runCommand(args, io, spec, async (cmd) => {
    const { values } = cmd;
    const topic = topics(values, false)[0]!;
    const qos = parseQos(values.qos as string | undefined, "-q");
    const retain = values.retain === true;
    const sources = (["message", "file", "stdin-line", "null-message", "stdin-file"] as const).filter((k) => values[k] !== undefined && values[k] !== false);
    if (sources.length !== 1) throw new UsageError("give exactly one of -m, -f, -l, -n, -s");
    const options = clientOptions(values);
    const publishOptions = { qos, retain, ...v5PublishOptions(values, options.protocolVersion === 5) };
    // Read what can be read before connecting, so a bad file is a usage error and nothing is sent.
    let payload: string | Uint8Array | undefined;
    if (values.message !== undefined) payload = values.message as string;
    else if (values["null-message"] === true) payload = "";
    else if (values.file !== undefined) payload = await readMessageFile(values.file as string);
    else if (values["stdin-file"] === true) payload = await readAll(io.stdin);

    const client = await connect({ ...options, reconnect: false });
    const letGo = cmd.atEnd(() => client.end({ force: true }));
    if (values.debug === true) io.stderr.write(`edgemq: connected to ${options.url}\n`);
    cmd.phase = "publish failed";
    if (payload !== undefined) await client.publish(topic, payload, publishOptions);
    else await publishLines(client, io.stdin, topic, publishOptions);
    cmd.phase = "disconnect failed";
    letGo();
    await client.end();
    return 0;
  });
}

async function readMessageFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read -f ${file}: ${(err as Error).message}`);
  }
}

const encoder = new TextEncoder();
const bytesOf = (chunk: Uint8Array | string): Uint8Array => (typeof chunk === "string" ? encoder.encode(chunk) : chunk);

/** All of `stream`'s bytes. */
async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = bytesOf(chunk);
    chunks.push(b);
    size += b.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Publishes each line of `stream` (bytes up to "\n", which is not sent) as it arrives; a last line without "\n" counts. */
async function publishLines(client: Client, stream: AsyncIterable<Uint8Array | string>, topic: string, options: PublishOptions): Promise<void> {
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  const send = async (line: Uint8Array) => {
    const p = client.publish(topic, line, options).catch((err: unknown) => {
      failure ??= err;
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
    // Bound what waits in memory: a long stdin must not fill the offline queue.
    if (pending.size >= 256) await Promise.race(pending);
    if (failure !== undefined) throw failure;
  };
  let rest = new Uint8Array(0);
  for await (const chunk of stream) {
    let data = bytesOf(chunk);
    if (rest.length > 0) {
      const joined = new Uint8Array(rest.length + data.length);
      joined.set(rest);
      joined.set(data, rest.length);
      data = joined;
    }
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
      await send(data.slice(start, nl));
      start = nl + 1;
    }
    rest = data.slice(start);
  }
  if (rest.length > 0) await send(rest);
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
}

/** The MQTT 5 publish options of the command line; a usage error when given without -V mqttv5, or malformed. */
function v5PublishOptions(values: ParsedValues, v5: boolean): PublishOptions {
  const props = values["user-property"] as string[] | undefined;
  const contentType = values["content-type"] as string | undefined;
  const expiry = values["message-expiry"] as string | undefined;
  if (!v5) {
    if (props !== undefined || contentType !== undefined || expiry !== undefined) throw new UsageError("--user-property, --content-type and --message-expiry need -V mqttv5");
    return {};
  }
  const out: PublishOptions = {};
  if (props !== undefined) {
    const userProperties: Record<string, string | string[]> = {};
    for (const kv of props) {
      const at = kv.indexOf("=");
      if (at <= 0) throw new UsageError(`--user-property must be KEY=VALUE, not ${JSON.stringify(kv)}`);
      const [k, v] = [kv.slice(0, at), kv.slice(at + 1)];
      const had = userProperties[k];
      userProperties[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    out.userProperties = userProperties;
  }
  if (contentType !== undefined) out.contentType = contentType;
  if (expiry !== undefined) out.messageExpiryInterval = parseCount(expiry, "--message-expiry", 0, 0xffffffff);
  return out;
}
