/** `edgemq sub`: subscribes and prints one line per message until -C messages arrived or SIGINT/SIGTERM, then ends gracefully. */
import { createClient, type Message } from "edgemq";
import type { Io } from "./io.js";
import { STOPPED } from "./signals.js";
import { COMMON_FLAGS, COMMON_HELP, clientOptions, parseCount, parseQos, topics, type FlagSpec } from "./options.js";
import { formatMessage, reportConnection, type Format } from "./output.js";
import { runCommand } from "./command.js";

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
                          (+ "properties" for an MQTT 5 message that has any)
                          payload is a string when the bytes are valid UTF-8, else {"base64":"..."}
${COMMON_HELP}`;

/** Runs `edgemq sub args`; resolves with the exit code. */
export function sub(args: string[], io: Io): Promise<number> {
  const spec = { name: "sub", flags: { ...COMMON_FLAGS, ...SUB_FLAGS }, help: SUB_HELP, phase: "connection failed" };
  return runCommand(args, io, spec, async (cmd) => {
    const { values } = cmd;
    const stop = cmd.stopOnSignals();
    const filters = topics(values, true);
    const qos = parseQos(values.qos as string | undefined, "-q");
    const count = values.count === undefined ? Infinity : parseCount(values.count as string, "-C", 1, Number.MAX_SAFE_INTEGER);
    const format: Format = values.json === true ? "json" : values.verbose === true ? "verbose" : "plain";
    const skipRetained = values["no-retained"] === true;
    const debug = values.debug === true;
    const options = clientOptions(values);

    // The first connection either works or exits 2; once connected, the client reconnects by itself.
    const client = createClient(options);
    const letGo = cmd.atEnd(() => client.end({ force: true }));
    if (debug) reportConnection(client, options.url, io);
    const connected = client.connect();
    if ((await Promise.race([connected, stop.signalled])) === STOPPED) return 0;
    cmd.phase = "subscribe failed";
    const subscribed = client.subscribe(filters, { qos });
    const subscription = await Promise.race([subscribed, stop.signalled]);
    if (subscription === STOPPED) return 0;
    if (debug) io.stderr.write(`edgemq: subscribed to ${filters.join(", ")} (granted qos ${subscription.granted.join(", ")})\n`);

    cmd.phase = "receive failed";
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
    cmd.phase = "disconnect failed";
    letGo();
    await client.end();
    return 0;
  });
}
