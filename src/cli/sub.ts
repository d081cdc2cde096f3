/** `edgemq sub`: subscribes and prints one line per message until -C messages arrived or SIGINT/SIGTERM, then ends gracefully. */
import { createClient, type Client, type Message } from "edgemq";
import type { Io } from "./io.js";
import { Stopper, STOPPED } from "./signals.js";
import { COMMON_HELP, clientOptions, parseCount, parseFlags, parseQos, topics, UsageError, type FlagSpec } from "./options.js";
import { formatMessage, report, type Format } from "./output.js";

const SUB_FLAGS = {
  verbose: { type: "boolean", short: "v" },
  count: { type: "string", short: "C" },
  json: { type: "boolean" },
  "no-retained": { type: "boolean", short: "R" },
} as const satisfies Record<string, FlagSpec>;

/** Help text of `edgemq sub`. */
export const SUB_HELP = `usage: edgemq sub -t FILTER [-t FILTER ...] [flags]

Subscribes and prints one line per message, until -C messages arrived or SIGINT/SIGTERM.
After the first connection it reconnects by itself; a first connection that fails exits 2.

subscribe:
  -t FILTER               topic filter (repeatable; + and # allowed)
  -q 0|1|2                requested QoS (default 0)
  -C COUNT                exit after COUNT messages
  -R                      do not print retained messages (stale ones); they do not count for -C
output (one line per message):
  (default)               the payload as UTF-8 text
  -v                      "TOPIC PAYLOAD"
  --json                  {"topic":"a/b","qos":1,"retain":false,"dup":false,"payload":"text"}
                          payload is a string when the bytes are valid UTF-8, else {"base64":"..."}
${COMMON_HELP}`;

/** Runs `edgemq sub args`; resolves with the exit code. */
export async function sub(args: string[], io: Io): Promise<number> {
  let client: Client | undefined;
  let phase = "connection failed";
  const stop = new Stopper();
  try {
    const { values, positionals } = parseFlags(args, SUB_FLAGS);
    if (values.help === true) {
      io.stdout.write(`${SUB_HELP}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const filters = topics(values, true);
    const qos = parseQos(values.qos as string | undefined, "-q");
    const count = values.count === undefined ? Infinity : parseCount(values.count as string, "-C", 1, Number.MAX_SAFE_INTEGER);
    const format: Format = values.json === true ? "json" : values.verbose === true ? "verbose" : "plain";
    const skipRetained = values["no-retained"] === true;
    const debug = values.debug === true;
    const options = clientOptions(values);

    // The first connection either works or exits 2; once connected, the client reconnects by itself.
    client = createClient(options);
    if (debug) {
      client.on("reconnecting", ({ attempt, delay }) => io.stderr.write(`edgemq: reconnecting (attempt ${attempt}) in ${delay} ms\n`));
      client.on("connect", () => io.stderr.write(`edgemq: connected to ${options.url}\n`));
    }
    const connected = client.connect();
    if ((await Promise.race([connected, stop.signalled])) === STOPPED) return 0;
    phase = "subscribe failed";
    const subscribed = client.subscribe(filters, { qos });
    const subscription = await Promise.race([subscribed, stop.signalled]);
    if (subscription === STOPPED) return 0;
    if (debug) io.stderr.write(`edgemq: subscribed to ${filters.join(", ")} (granted qos ${subscription.granted.join(", ")})\n`);

    phase = "receive failed";
    let printed = 0;
    const messages = subscription[Symbol.asyncIterator]();
    while (printed < count) {
      const next = await Promise.race([messages.next(), stop.signalled]);
      if (next === STOPPED || next.done) break;
      const msg: Message = next.value;
      if (skipRetained && msg.retain) continue;
      io.stdout.write(formatMessage(msg, format));
      printed++;
    }
    await messages.return?.();
    phase = "disconnect failed";
    const c = client;
    client = undefined;
    await c.end();
    return 0;
  } catch (err) {
    const { code, line } = report(err, "sub", phase);
    io.stderr.write(line);
    return code;
  } finally {
    stop.dispose();
    await client?.end({ force: true }).catch(() => undefined);
  }
}
