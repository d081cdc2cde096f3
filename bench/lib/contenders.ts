/**
 * The contenders of the throughput benchmarks: edgemq, MQTT.js and the hand-written raw client, each as a
 * publisher + subscriber pair in this process, over TCP to a broker (bench/e2e) or over the in-memory broker
 * (bench/inmem). All publish the same way (a window of unfinished publishes, the run's end-to-end cap) and count
 * what the subscriber receives through their cheapest receive path ("message" callbacks).
 * A fourth contender, "edgemq-unread", is edgemq used the way MQTT.js is: `client.on("message", ...)` after
 * `await client.subscribe(topic, { qos })` with default options, the returned Subscription never iterated.
 * Runs on Node, Deno and Bun (MQTT.js is loaded lazily, so a runtime where it fails still runs the others).
 */
import { Duplex } from "node:stream";
import { connect as edgemqConnect, type QoS } from "../../src/index.ts";
import { retainedBytes } from "./capture.ts";
import type { MemBroker } from "./membroker.ts";
import { netPipe, type PipeFactory } from "./pipe.ts";
import { RawClient } from "./raw.ts";
import { publishLoop, type Run } from "./run.ts";

/** Where the clients connect. */
export type Target = { kind: "tcp"; host: string; port: number } | { kind: "mem"; broker: MemBroker };

/** A connected publisher + subscriber; the subscriber already holds the subscription. */
export interface Pair {
  /** Publishes run.count messages; resolves when every publish finished (written / PUBACK / PUBCOMP). */
  publish(run: Run, payload: Uint8Array, window: number): Promise<void>;
  close(): Promise<void>;
  /** What the pair observed about itself, read after close() (only contenders that track something). */
  report?(): PairReport;
}

/** Observations of a pair beyond rate and CPU. */
export interface PairReport {
  /** Messages the unread Subscription dropped from its buffer (its `dropped` counter), if it has one. */
  dropped?: number;
  /** Heap + external bytes the pair held at the end of the run and released by close() (after forced GCs). */
  retained?: number;
}

/** A client implementation under test. */
export interface Contender {
  name: string;
  /** Connects a pair; the subscriber calls onMessage() per message received on `topic` at `qos`. */
  open(target: Target, topic: string, qos: QoS, onMessage: () => void, window: number): Promise<Pair>;
}

let ids = 0;
const clientId = (prefix: string) => `${prefix}-${process.pid}-${++ids}`;

/** The MQTT protocol level a contender connects with: 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
export type ProtocolLevel = 4 | 5;

/** The options both edgemq contenders connect with (protocolVersion only when 5: 3.1.1 runs on the defaults). */
const edgemqOptions = (target: Target, window: number, version: ProtocolLevel = 4) => ({
  url: target.kind === "tcp" ? `mqtt://${target.host}:${target.port}` : "mqtt://in-memory:1883",
  transport: target.kind === "mem" ? target.broker.transport() : undefined,
  keepalive: 60,
  reconnect: false as const,
  maxInflight: window,
  ...(version === 5 ? { protocolVersion: 5 as const } : {}),
});

/**
 * edgemq at a protocol level, under `name`: `connect` / `publish` / `subscribe(topic, { qos, maxBuffered: 0 })`,
 * messages counted through `client.on("message")`. With 5 it is the client's defaults for MQTT 5 (so outgoing topic
 * aliases within the server's Topic Alias Maximum), nothing else changed.
 */
export function edgemqAt(name: string, version: ProtocolLevel): Contender {
  return {
    name,
    async open(target, topic, qos, onMessage, window) {
      const options = edgemqOptions(target, window, version);
      const pub = await edgemqConnect({ ...options, clientId: clientId(`em${version}-pub`) });
      const sub = await edgemqConnect({ ...options, clientId: clientId(`em${version}-sub`) });
      sub.on("message", onMessage);
      await sub.subscribe(topic, { qos, maxBuffered: 0 });
      return {
        publish: (run, payload, w) =>
          publishLoop(run, w, (done, fail) => {
            pub.publish(topic, payload, { qos }).then(done, fail);
          }),
        close: async () => {
          await Promise.all([pub.end({ force: true }), sub.end({ force: true })]);
        },
      };
    },
  };
}

export const edgemq: Contender = {
  name: "edgemq",
  async open(target, topic, qos, onMessage, window) {
    const options = edgemqOptions(target, window);
    const pub = await edgemqConnect({ ...options, clientId: clientId("em-pub") });
    const sub = await edgemqConnect({ ...options, clientId: clientId("em-sub") });
    sub.on("message", onMessage);
    await sub.subscribe(topic, { qos, maxBuffered: 0 });
    return {
      publish: (run, payload, w) =>
        publishLoop(run, w, (done, fail) => {
          pub.publish(topic, payload, { qos }).then(done, fail);
        }),
      close: async () => {
        await Promise.all([pub.end({ force: true }), sub.end({ force: true })]);
      },
    };
  },
};

/**
 * edgemq received the MQTT.js way: `const sub = await client.subscribe(topic, { qos })` (default options, so the
 * Subscription buffers for an iterator) and `client.on("message", handler)`; `sub` is never iterated. The publisher
 * is the "edgemq" contender's. Reports the Subscription's `dropped` counter and the memory the pair still held at the
 * end of the run. It attaches no "error" / "warning" listener (neither does the pattern it stands for), so whatever
 * the client reports through the console is counted by the run's console capture (bench/lib/capture.ts).
 */
export const edgemqUnread: Contender = {
  name: "edgemq-unread",
  async open(target, topic, qos, onMessage, window) {
    const options = edgemqOptions(target, window);
    // `let`: close() clears them so that the retained-memory measurement sees them collected.
    let pub: Awaited<ReturnType<typeof edgemqConnect>> | undefined = await edgemqConnect({ ...options, clientId: clientId("emu-pub") });
    let sub: Awaited<ReturnType<typeof edgemqConnect>> | undefined = await edgemqConnect({ ...options, clientId: clientId("emu-sub") });
    let subscription: { dropped?: unknown } | undefined = await sub.subscribe(topic, { qos });
    sub.on("message", () => onMessage());
    const report: PairReport = {};
    return {
      publish: (run, payload, w) =>
        publishLoop(run, w, (done, fail) => {
          pub!.publish(topic, payload, { qos }).then(done, fail);
        }),
      close: async () => {
        const before = await retainedBytes();
        const dropped = subscription?.dropped;
        if (typeof dropped === "number") report.dropped = dropped;
        await Promise.all([pub!.end({ force: true }), sub!.end({ force: true })]);
        pub = sub = subscription = undefined; // no local may keep them: this frame lives on while it measures
        const after = await retainedBytes();
        if (before !== undefined && after !== undefined) report.retained = Math.max(0, before - after);
      },
      report: () => report,
    };
  },
};

type MqttModule = typeof import("mqtt");
let mqttModule: Promise<MqttModule> | undefined;
/** MQTT.js, loaded on first use. */
export function loadMqttJs(): Promise<MqttModule> {
  mqttModule ??= import("mqtt");
  return mqttModule;
}

type MqttClientT = import("mqtt").MqttClient;

/** A Duplex onto the in-memory broker for MQTT.js's streamBuilder. */
function memStream(broker: MemBroker): Duplex {
  let conn: { write(b: Uint8Array): void; close(): void } | undefined;
  const d = new Duplex({
    read() {},
    write(chunk: Uint8Array, _enc, cb) {
      conn!.write(chunk);
      cb();
    },
    final(cb) {
      conn!.close();
      cb();
    },
    destroy(err, cb) {
      conn?.close();
      cb(err);
    },
  });
  conn = broker.open(
    (chunk) => d.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    () => d.push(null),
  );
  return d;
}

async function mqttJsClient(m: MqttModule, target: Target, id: string, version: ProtocolLevel = 4, extra: import("mqtt").IClientOptions = {}): Promise<MqttClientT> {
  const options = { clientId: id, keepalive: 60, reconnectPeriod: 0, clean: true, protocolVersion: version, ...extra };
  const client =
    target.kind === "tcp"
      ? m.connect(`mqtt://${target.host}:${target.port}`, options)
      : new m.MqttClient(() => memStream(target.broker), { ...options, protocol: "mqtt" });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

export const mqttjs: Contender = {
  name: "MQTT.js",
  async open(target, topic, qos, onMessage) {
    const m = await loadMqttJs();
    const pub = await mqttJsClient(m, target, clientId("mj-pub"));
    const sub = await mqttJsClient(m, target, clientId("mj-sub"));
    sub.on("message", () => onMessage());
    await sub.subscribeAsync(topic, { qos });
    return {
      publish: (run, payload, w) => {
        const buf = Buffer.from(payload); // once, outside the timed loop: MQTT.js wants a Buffer
        return publishLoop(run, w, (done, fail) => {
          pub.publish(topic, buf, { qos }, (err) => (err ? fail(err) : done()));
        });
      },
      close: async () => {
        await Promise.all([pub.endAsync(true), sub.endAsync(true)]);
      },
    };
  },
};

/**
 * MQTT.js at a protocol level, under `name`, used exactly like the "MQTT.js" contender. `extra` goes into both
 * clients' options (e.g. `{ autoAssignTopicAlias: true }`; MQTT.js assigns no topic alias by default).
 */
export function mqttjsAt(name: string, version: ProtocolLevel, extra: import("mqtt").IClientOptions = {}): Contender {
  return {
    name,
    async open(target, topic, qos, onMessage) {
      const m = await loadMqttJs();
      const pub = await mqttJsClient(m, target, clientId(`mj${version}-pub`), version, extra);
      const sub = await mqttJsClient(m, target, clientId(`mj${version}-sub`), version, extra);
      sub.on("message", () => onMessage());
      await sub.subscribeAsync(topic, { qos });
      return {
        publish: (run, payload, w) => {
          const buf = Buffer.from(payload); // once, outside the timed loop: MQTT.js wants a Buffer
          return publishLoop(run, w, (done, fail) => {
            pub.publish(topic, buf, { qos }, (err) => (err ? fail(err) : done()));
          });
        },
        close: async () => {
          await Promise.all([pub.endAsync(true), sub.endAsync(true)]);
        },
      };
    },
  };
}

export const raw: Contender = {
  name: "raw",
  async open(target, topic, qos, onMessage) {
    const pipe: PipeFactory = target.kind === "tcp" ? netPipe(target.host, target.port) : target.broker.pipe();
    const pub = await RawClient.connect(pipe, clientId("raw-pub"));
    const sub = await RawClient.connect(pipe, clientId("raw-sub"));
    sub.onMessage = () => onMessage();
    await sub.subscribe(topic, qos);
    return {
      publish: (run, payload, w) => pub.publishAll(run, topic, payload, qos, w),
      close: async () => {
        pub.close();
        sub.close();
      },
    };
  },
};

/** Every contender, by name. */
export const CONTENDERS: Contender[] = [edgemq, mqttjs, raw, edgemqUnread];

/** The contenders named in BENCH_CONTENDERS (comma list), or all of them; unknown names are reported on stderr. */
export function selectContenders(list: string | undefined): Contender[] {
  if (!list) return CONTENDERS;
  const wanted = list.split(",").map((n) => n.trim());
  const unknown = wanted.filter((n) => n && !CONTENDERS.some((c) => c.name === n));
  if (unknown.length > 0) console.error(`BENCH_CONTENDERS: ignoring ${unknown.join(", ")} (known: ${CONTENDERS.map((c) => c.name).join(", ")})`);
  return CONTENDERS.filter((c) => wanted.includes(c.name));
}
