/**
 * `edgemq bench conn|pub|sub`: N clients opened at a given rate, then (pub) each publishes N messages or (sub) each
 * subscribes and counts what arrives. A progress line on a terminal, a final table (or --json) with throughput,
 * connect time and latency percentiles, and the client process's CPU and heap per client.
 */
import { createClient, type Client, type ClientOptions, type QoS } from "edgemq";
import type { Io } from "./io.js";
import { clientOptions, COMMON_FLAGS, parseCount, parseQos, UsageError, type FlagSpec, type ParsedValues } from "./options.js";
import { usageLine } from "./output.js";
import { runCommand } from "./command.js";
import { formatTable, percentiles, progressLine, type BenchResult } from "./bench-report.js";

// -c is the client count here (emqtt-bench's meaning), so the common -c (persistent session) is left out.
const { "disable-clean-session": _persistent, id: _id, ...CONNECTION_FLAGS } = COMMON_FLAGS;
const BENCH_FLAGS = {
  ...CONNECTION_FLAGS,
  clients: { type: "string", short: "c" },
  rate: { type: "string", short: "R" },
  count: { type: "string", short: "n" },
  size: { type: "string", short: "s" },
  interval: { type: "string", short: "I" },
  hold: { type: "string" },
  duration: { type: "string" },
  latency: { type: "boolean" },
  prefix: { type: "string" },
  json: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

/** Help text of `edgemq bench`. */
export const BENCH_HELP = `usage: edgemq bench conn|pub|sub [flags]

  conn   open -c clients at -R per second, hold them --hold seconds, close them
  pub    -c publishers, each sending -n messages of -s bytes at QoS -q to -t (%i: the client number)
  sub    -c subscribers to -t (%i: the client number), counting what arrives until -n messages in all,
         --duration seconds, or Ctrl-C

  -c N            clients (default 1; conn: 100)
  -R N            connections opened per second (default 1000; 0: all at once)
  -n N            pub: messages per client (default 100); sub: stop after N messages in all
  -s BYTES        pub: payload size (default 64)
  -I MS           pub: pause between a client's messages (default 0: as fast as its in-flight window allows)
  -t TOPIC        topic, %i is replaced by the client number (default bench/%i)
  -q 0|1|2        QoS (default 0)
  --latency       pub: also measure publish-to-receipt latency with one subscriber per topic
  --hold S        conn: keep the connections open S seconds (default 0)
  --duration S    sub: stop after S seconds
  --prefix TEXT   client id prefix (default edgemq-bench-XXXX-, random per run)
  --json          print the results as one JSON document instead of the table
  -h -p -u -k --username --password --cafile --cert --key --insecure: as for pub and sub

A progress line is written to stderr when it is a terminal. Exit codes: 0 done, 1 usage error, 2 a client failed.`;

interface Run {
  mode: BenchResult["mode"];
  clients: number;
  rate: number;
  count: number;
  size: number;
  interval: number;
  hold: number;
  duration: number | undefined;
  latency: boolean;
  topic: string;
  qos: QoS;
  prefix: string;
  json: boolean;
  options: ClientOptions;
}

/** Runs `edgemq bench args`; resolves with the exit code. */
export async function bench(args: string[], io: Io): Promise<number> {
  const [mode, ...rest] = args;
  if (mode === "--help" || mode === undefined) {
    io.stdout.write(`${BENCH_HELP}\n`);
    return 0;
  }
  if (mode !== "conn" && mode !== "pub" && mode !== "sub") {
    io.stderr.write(usageLine(new UsageError(`bench needs conn, pub or sub, not ${JSON.stringify(mode)}`), "bench"));
    return 1;
  }
  return runCommand(rest, io, { name: "bench", flags: BENCH_FLAGS, help: BENCH_HELP, phase: "bench failed" }, async ({ values }) => {
    const run = plan(mode, values);
    const result = await execute(run, io);
    io.stdout.write(run.json ? `${JSON.stringify(result)}\n` : formatTable(result));
    return result.errors === 0 && result.connected === result.clients ? 0 : 2;
  });
}

function plan(mode: Run["mode"], values: ParsedValues): Run {
  const str = (name: string) => values[name] as string | undefined;
  const topic = ((values.topic as string[] | undefined) ?? ["bench/%i"])[0]!;
  return {
    mode,
    clients: parseCount(str("clients") ?? (mode === "conn" ? "100" : "1"), "-c", 1, 1_000_000),
    rate: parseCount(str("rate") ?? "1000", "-R", 0, 1_000_000),
    count: parseCount(str("count") ?? (mode === "sub" ? "0" : "100"), "-n", 0, 1_000_000_000),
    size: parseCount(str("size") ?? "64", "-s", 0, 256 << 20),
    interval: parseCount(str("interval") ?? "0", "-I", 0, 3_600_000),
    hold: parseCount(str("hold") ?? "0", "--hold", 0, 86_400),
    duration: str("duration") === undefined ? undefined : parseCount(str("duration")!, "--duration", 1, 86_400),
    latency: values.latency === true,
    topic,
    qos: parseQos(str("qos"), "-q"),
    // Unique per run: two benches (or a pub and a sub bench) must not take over each other's client ids.
    prefix: str("prefix") ?? `edgemq-bench-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0")}-`,
    json: values.json === true,
    options: clientOptions(values),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const topicFor = (pattern: string, i: number) => pattern.replaceAll("%i", String(i));

async function execute(run: Run, io: Io): Promise<BenchResult> {
  const cpu0 = process.cpuUsage();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const counters = { connected: 0, errors: 0, reconnects: 0, sent: 0, received: 0 };
  const connectSamples: number[] = [];
  const latencySamples: number[] = [];
  const clients: Client[] = [];
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let lastSent = 0;
  let lastAt = t0;
  const progress = tty
    ? setInterval(() => {
        const now = performance.now();
        const rate = ((counters.sent + counters.received - lastSent) * 1000) / Math.max(1, now - lastAt);
        lastSent = counters.sent + counters.received;
        lastAt = now;
        io.stderr.write(`\r${progressLine({ ...counters, clients: run.clients, rate })}\x1b[K`);
      }, 500)
    : undefined;
  // One receiver per topic pattern measures publish-to-receipt latency (pub --latency).
  let receiver: Client | undefined;
  try {
    if (run.latency && run.mode === "pub") {
      receiver = createClient({ ...run.options, clientId: `${run.prefix}receiver`, reconnect: false });
      await receiver.connect();
      receiver.on("message", (msg) => {
        counters.received++;
        if (msg.payload.length >= 8) latencySamples.push(performance.now() - new DataView(msg.payload.buffer, msg.payload.byteOffset, 8).getFloat64(0));
      });
      await receiver.subscribe(run.topic.replaceAll("%i", "+"), { qos: run.qos });
    }
    await connectAll(run, clients, counters, connectSamples);
    const connectedAt = performance.now();
    const ready = clients.filter((c) => c.connected);
    if (run.mode === "conn" && run.hold > 0) await sleep(run.hold * 1000);
    if (run.mode === "pub") await publishAll(run, ready, clients, counters, latencySamples);
    if (run.mode === "sub") await subscribeAll(run, ready, clients, counters);
    if (run.latency) await sleep(200); // the last messages' way through the broker
    const elapsedMs = performance.now() - t0;
    const active = performance.now() - connectedAt;
    const heap = Math.max(0, process.memoryUsage().heapUsed - heap0);
    const cpu = process.cpuUsage(cpu0);
    const moved = run.mode === "pub" ? counters.sent : counters.received;
    return {
      mode: run.mode,
      clients: run.clients,
      connected: counters.connected,
      errors: counters.errors,
      reconnects: counters.reconnects,
      elapsedMs,
      connectMs: percentiles(connectSamples),
      ...(run.mode === "conn"
        ? {}
        : { messages: { sent: counters.sent, received: counters.received, payloadBytes: run.size, qos: run.qos, perSecond: (moved * 1000) / Math.max(1, active) } }),
      ...(run.mode === "pub" && (run.qos > 0 || run.latency) ? { latencyMs: percentiles(latencySamples) } : {}),
      cpuMs: (cpu.user + cpu.system) / 1000,
      heapBytes: heap,
      heapPerClientBytes: heap / run.clients,
    };
  } finally {
    if (progress) {
      clearInterval(progress);
      io.stderr.write("\n");
    }
    await Promise.all([...clients, ...(receiver ? [receiver] : [])].map((c) => c.end({ force: true }).catch(() => undefined)));
  }
}

/** Opens every client at the configured rate; resolves once each has connected or failed. */
async function connectAll(run: Run, clients: Client[], counters: { connected: number; errors: number; reconnects: number }, samples: number[]): Promise<void> {
  const start = performance.now();
  const attempts: Array<Promise<void>> = [];
  for (let i = 0; i < run.clients; i++) {
    if (run.rate > 0) {
      const due = start + (i * 1000) / run.rate;
      const wait = due - performance.now();
      if (wait > 4) await sleep(wait);
    }
    const client = createClient({ ...run.options, clientId: `${run.prefix}${i}`, reconnect: false });
    client.on("reconnecting", () => counters.reconnects++);
    client.on("error", () => counters.errors++);
    // A connection lost during the run (end() gives no reason) is a failure of the run.
    client.on("disconnect", ({ reason }) => {
      if (reason) counters.errors++;
    });
    clients.push(client);
    const began = performance.now();
    attempts.push(
      client.connect().then(
        () => {
          counters.connected++;
          samples.push(performance.now() - began);
        },
        () => {
          counters.errors++;
        },
      ),
    );
  }
  await Promise.all(attempts);
}

async function publishAll(run: Run, ready: Client[], all: Client[], counters: { sent: number; errors: number }, latency: number[]): Promise<void> {
  await Promise.all(
    ready.map(async (client) => {
      const topic = topicFor(run.topic, all.indexOf(client));
      const acks: Array<Promise<void>> = [];
      for (let k = 0; k < run.count; k++) {
        const payload = new Uint8Array(Math.max(run.size, run.latency ? 8 : 0));
        // Pipelined: the next message goes as soon as the in-flight window and the queue have room.
        await client.ready();
        const sentAt = performance.now();
        if (run.latency) new DataView(payload.buffer).setFloat64(0, sentAt);
        acks.push(
          client.publish(topic, payload, { qos: run.qos }).then(
            () => {
              if (run.qos > 0 && !run.latency) latency.push(performance.now() - sentAt);
            },
            () => {
              counters.errors++;
            },
          ),
        );
        counters.sent++;
        if (run.interval > 0) await sleep(run.interval);
      }
      await Promise.all(acks);
    }),
  );
}

async function subscribeAll(run: Run, ready: Client[], all: Client[], counters: { received: number; errors: number }): Promise<void> {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const onSignal = () => finish();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const timer = run.duration ? setTimeout(finish, run.duration * 1000) : undefined;
  try {
    await Promise.all(
      ready.map(async (client) => {
        client.on("message", () => {
          counters.received++;
          if (run.count > 0 && counters.received >= run.count) finish();
        });
        await client.subscribe(topicFor(run.topic, all.indexOf(client)), { qos: run.qos }).catch(() => {
          counters.errors++;
        });
      }),
    );
    await done;
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
