/** Flags shared by `pub` and `sub` (mosquitto_pub/mosquitto_sub names), parsed with node:util parseArgs, and the client options they make. */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { topicFilterProblem, topicNameProblem, type ClientOptions, type QoS } from "edgemq";

/** A mistake in the command line: exit code 1, one line on stderr. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** One parseArgs option declaration. */
export type FlagSpec = { type: "string" | "boolean"; short?: string; multiple?: boolean };

/** The flags both `pub` and `sub` take. */
export const COMMON_FLAGS = {
  host: { type: "string", short: "h" },
  port: { type: "string", short: "p" },
  url: { type: "string", short: "u" },
  topic: { type: "string", short: "t", multiple: true },
  qos: { type: "string", short: "q" },
  id: { type: "string", short: "i" },
  keepalive: { type: "string", short: "k" },
  username: { type: "string" },
  password: { type: "string" },
  cafile: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  insecure: { type: "boolean" },
  "will-topic": { type: "string" },
  "will-payload": { type: "string" },
  "will-qos": { type: "string" },
  "will-retain": { type: "boolean" },
  "disable-clean-session": { type: "boolean", short: "c" },
  "protocol-version": { type: "string", short: "V" },
  debug: { type: "boolean", short: "d" },
  help: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

/** Help text of the common flags. */
export const COMMON_HELP = `connection:
  -h HOST                 broker host (default 127.0.0.1); help is --help only
  -p PORT                 broker port (default 1883)
  -u, --url URL           broker URL, overrides -h/-p: mqtt:// mqtts:// ws:// wss://
  -i ID                   client id (default: random)
  -k SECONDS              keepalive (default 30; 0 disables)
  -c, --disable-clean-session
                          persistent session (clean false; needs -i)
  -V mqttv311|mqttv5      MQTT protocol version (default mqttv311; also 311 or 5)
  --username NAME, --password SECRET
  --cafile FILE, --cert FILE, --key FILE
                          TLS: CA certificates, client certificate and key (PEM files)
  --insecure              do not verify the broker's certificate
  --will-topic TOPIC, --will-payload TEXT, --will-qos 0|1|2, --will-retain
                          the will message
  -d, --debug             report progress (connected, subscribed) on stderr
  --help                  this text

exit codes: 0 done, 1 usage error, 2 connection or protocol failure`;

/** Values parsed from a command line with a command's flags. */
export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

/** Parses `args` with the command's flags (all of them: `{ ...COMMON_FLAGS, ...own }` for pub and sub); throws UsageError on unknown flags or missing values. */
export function parseFlags(args: string[], options: Record<string, FlagSpec>): { values: ParsedValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) throw new UsageError(firstSentence((err as Error).message));
    throw err;
  }
}

function firstSentence(message: string): string {
  const dot = message.indexOf(". ");
  return (dot >= 0 ? message.slice(0, dot) : message).replace(/\.$/, "");
}

/** Parses a QoS flag value ("0", "1" or "2"); `flag` names it in the error. */
export function parseQos(text: string | undefined, flag: string): QoS {
  if (text === undefined) return 0;
  if (text !== "0" && text !== "1" && text !== "2") throw new UsageError(`${flag} must be 0, 1 or 2, not ${JSON.stringify(text)}`);
  return Number(text) as QoS;
}

/** Parses a whole number flag value within [min, max]. */
export function parseCount(text: string, flag: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

/** The topics given with -t; at least one is required. `filters`: sub's topics are filters (wildcards allowed). */
export function topics(values: ParsedValues, filters: boolean): string[] {
  const list = (values.topic as string[] | undefined) ?? [];
  if (list.length === 0) throw new UsageError("missing -t topic");
  for (const t of list) {
    const problem = filters ? topicFilterProblem(t) : topicNameProblem(t);
    if (problem) throw new UsageError(`invalid topic ${JSON.stringify(t)}: ${problem}`);
  }
  return list;
}

function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(err as Error).message}`);
  }
}

/** The client options the common flags describe (without `reconnect`, which each command sets). */
export function clientOptions(values: ParsedValues): ClientOptions {
  const str = (name: string) => values[name] as string | undefined;
  let url = str("url");
  if (url === undefined) {
    const port = parseCount(str("port") ?? "1883", "-p", 1, 65535);
    const host = str("host") ?? "127.0.0.1";
    url = `mqtt://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
  } else if (!/^(mqtt|mqtts|ws|wss):\/\//i.test(url)) {
    throw new UsageError(`-u must be an mqtt://, mqtts://, ws:// or wss:// URL, not ${JSON.stringify(url)}`);
  }
  const clean = values["disable-clean-session"] !== true;
  const clientId = str("id");
  if (!clean && !clientId) throw new UsageError("-c needs a client id (-i)");
  const options: ClientOptions = { url, clean };
  const version = str("protocol-version");
  if (version !== undefined) {
    if (/^(mqttv5|5)$/i.test(version)) options.protocolVersion = 5;
    else if (!/^(mqttv311|311|4)$/i.test(version)) throw new UsageError(`-V must be mqttv311 or mqttv5, not ${JSON.stringify(version)}`);
  }
  if (clientId !== undefined) options.clientId = clientId;
  if (str("keepalive") !== undefined) options.keepalive = parseCount(str("keepalive")!, "-k", 0, 65535);
  if (str("password") !== undefined && str("username") === undefined) throw new UsageError("--password needs --username");
  if (str("username") !== undefined) options.username = str("username");
  if (str("password") !== undefined) options.password = str("password");
  const willTopic = str("will-topic");
  if (willTopic !== undefined) {
    const problem = topicNameProblem(willTopic);
    if (problem) throw new UsageError(`invalid --will-topic ${JSON.stringify(willTopic)}: ${problem}`);
    options.will = { topic: willTopic, payload: str("will-payload") ?? "", qos: parseQos(str("will-qos"), "--will-qos"), retain: values["will-retain"] === true };
  } else if (str("will-payload") !== undefined || str("will-qos") !== undefined || values["will-retain"] === true) {
    throw new UsageError("--will-payload, --will-qos and --will-retain need --will-topic");
  }
  const tls: NonNullable<ClientOptions["tls"]> = {};
  if (str("cafile") !== undefined) tls.ca = readPem(str("cafile")!, "--cafile");
  if (str("cert") !== undefined) tls.cert = readPem(str("cert")!, "--cert");
  if (str("key") !== undefined) tls.key = readPem(str("key")!, "--key");
  if (values.insecure === true) tls.rejectUnauthorized = false;
  if (Object.keys(tls).length > 0) options.tls = tls;
  return options;
}
