/**
 * A 3-node RabbitMQ cluster (Debian's rabbitmq-server 3.10, MQTT plugin) on 127.0.0.1 for one test file.
 *
 * Everything is private to the fixture: a temp base directory holds HOME (with the Erlang cookie), each node's
 * config, data and logs; an epmd of its own listens on a free port on 127.0.0.1; every node's MQTT, AMQP and
 * distribution ports (and each rabbitmqctl's distribution port) are found free at run time. Nodes are started with
 * /usr/lib/rabbitmq/bin/* (the /usr/sbin wrappers switch to the rabbitmq user and /var/lib/rabbitmq).
 * See TESTING-NOTES.md, "RabbitMQ cluster". Node only (node:child_process, node:fs, node:net).
 */

import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, freePorts, waitForPort } from "./mosquitto.ts";

const BIN = "/usr/lib/rabbitmq/bin";

/** A running cluster. Node indexes are 0-based: node i is `rabbit<i+1>@localhost`. */
export interface RabbitCluster {
  /** mqtt://127.0.0.1:<port> of each node. */
  urls: string[];
  /** The MQTT port of each node. */
  ports: number[];
  /** The Erlang node names. */
  nodes: string[];
  /** The temp base directory. */
  dir: string;
  /** Graceful stop (`rabbitmqctl stop`), then waits until the node's VM is gone. */
  stop(i: number): Promise<void>;
  /** SIGKILLs the node's VM (only the one this fixture started), then waits until it is gone. */
  kill(i: number): Promise<void>;
  /** Starts a stopped or killed node again with the same config and ports; it rejoins the cluster. */
  start(i: number): Promise<void>;
  /** Whether node i is running (started by this fixture and not stopped or killed since). */
  running(i: number): boolean;
  /** Runs rabbitmqctl against node i and returns its stdout. */
  ctl(i: number, args: string[], timeoutMs?: number): Promise<string>;
  /** The tail of node i's log. */
  log(i: number, chars?: number): string;
  /** Stops every node, kills the private epmd and removes the base directory. */
  dispose(): Promise<void>;
}

/** Whether Debian's rabbitmq-server is installed where the fixture looks for it. */
export function rabbitmqInstalled(): boolean {
  return fs.existsSync(path.join(BIN, "rabbitmq-server")) && fs.existsSync(path.join(BIN, "rabbitmqctl"));
}

interface NodeState {
  name: string;
  mqttPort: number;
  amqpPort: number;
  distPort: number;
  dir: string;
  pidFile: string;
  /** The beam.smp pid this fixture started, while it may be alive. */
  pid: number | undefined;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${path.basename(file)} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      } else resolve(stdout);
    });
  });
}

/** The process state letter from `ps` ("" when there is no such process). Zombies ("Z") count as gone. */
function psState(pid: number): Promise<string> {
  return new Promise((resolve) => {
    execFile("ps", ["-o", "stat=", "-p", String(pid)], (err, stdout) => resolve(err ? "" : stdout.trim()));
  });
}

async function isAlive(pid: number): Promise<boolean> {
  const state = await psState(pid);
  return state !== "" && !state.startsWith("Z");
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !(await isAlive(pid));
}

/** True when `pid` is a beam VM started with node n's environment (so it is one this fixture started). */
function isOurs(pid: number, n: NodeState): boolean {
  try {
    if (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("beam")) return false;
    const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return env.includes(`RABBITMQ_MNESIA_BASE=${path.join(n.dir, "mnesia")}`);
  } catch {
    return false;
  }
}

/**
 * Starts a cluster of `size` nodes (default 3) and joins nodes 2.. to node 1. Takes about 30 s on two cores and 450 MiB.
 * Throws a clear error when rabbitmq-server is not installed.
 */
export async function startRabbitCluster(options: { size?: number } = {}): Promise<RabbitCluster> {
  if (!rabbitmqInstalled()) {
    throw new Error(
      `rabbitmq-server is not installed (${BIN}/rabbitmq-server not found): the RabbitMQ cluster tests need Debian's ` +
        "package. Install it with `apt-get install -y rabbitmq-server` (.ci/run does this).",
    );
  }
  const size = options.size ?? 3;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-rabbit-"));
  const home = path.join(base, "home");
  fs.mkdirSync(home);
  const cookie = path.join(home, ".erlang.cookie");
  fs.writeFileSync(cookie, `EDGEMQ${Math.random().toString(36).slice(2).toUpperCase()}${Date.now()}`);
  fs.chmodSync(cookie, 0o400);
  const confEnv = path.join(base, "rabbitmq-env.conf");
  fs.writeFileSync(confEnv, "");
  const pluginsFile = path.join(base, "enabled_plugins");

  const ports = await freePorts(1 + size * 3);
  const epmdPort = ports[0]!;
  const nodes: NodeState[] = [];
  for (let i = 0; i < size; i++) {
    const dir = path.join(base, `node${i + 1}`);
    fs.mkdirSync(path.join(dir, "log"), { recursive: true });
    fs.mkdirSync(path.join(dir, "mnesia"), { recursive: true });
    const n: NodeState = {
      name: `rabbit${i + 1}@localhost`,
      mqttPort: ports[1 + i * 3]!,
      amqpPort: ports[2 + i * 3]!,
      distPort: ports[3 + i * 3]!,
      dir,
      pidFile: path.join(dir, "rabbit.pid"),
      pid: undefined,
    };
    fs.writeFileSync(
      path.join(dir, "rabbitmq.conf"),
      [
        `mqtt.listeners.tcp.default = 127.0.0.1:${n.mqttPort}`,
        "mqtt.allow_anonymous = true",
        "mqtt.durable_queue_type = quorum",
        "loopback_users = none",
        "log.console = false",
        "log.file.level = info",
        "",
      ].join("\n"),
    );
    nodes.push(n);
  }

  const commonEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    HOME: home,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_CONF_ENV_FILE: confEnv,
    RABBITMQ_ENABLED_PLUGINS_FILE: pluginsFile,
    // Never let a CLI tool start an epmd daemon of its own: the only epmd is the one this fixture starts and stops.
    RABBITMQ_CTL_ERL_ARGS: "-start_epmd false",
  };
  const nodeEnv = (n: NodeState): NodeJS.ProcessEnv => ({
    ...commonEnv,
    RABBITMQ_NODENAME: n.name,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(n.amqpPort),
    RABBITMQ_DIST_PORT: String(n.distPort),
    RABBITMQ_MNESIA_BASE: path.join(n.dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(n.dir, "log"),
    RABBITMQ_PID_FILE: n.pidFile,
    RABBITMQ_CONFIG_FILE: path.join(n.dir, "rabbitmq.conf"),
    // Distribution on 127.0.0.1 only, and no epmd daemon started behind our back.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false",
  });
  /** rabbitmqctl (or another CLI tool) against node n, with a distribution port of its own found free now. */
  const cli = async (tool: string, n: NodeState, args: string[], timeoutMs = 60_000): Promise<string> => {
    const ctlPort = String(await freePort());
    return run(
      path.join(BIN, tool),
      ["-n", n.name, ...args],
      { ...nodeEnv(n), RABBITMQ_CTL_DIST_PORT_MIN: ctlPort, RABBITMQ_CTL_DIST_PORT_MAX: ctlPort },
      timeoutMs,
    );
  };
  const readLog = (n: NodeState, chars = 4000): string => {
    try {
      const text = fs.readFileSync(path.join(n.dir, "log", `${n.name}.log`), "utf8");
      return text.slice(-chars);
    } catch {
      return "(no log)";
    }
  };

  let epmd: ChildProcess | undefined;
  let epmdGone: Promise<void> = Promise.resolve();
  const killAllSync = () => {
    for (const n of nodes) {
      if (n.pid !== undefined && isOurs(n.pid, n)) {
        try {
          process.kill(n.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    if (epmd && epmd.exitCode === null && epmd.signalCode === null) epmd.kill("SIGKILL");
  };
  // A safety net: a test process that dies without dispose() leaves no VM or epmd of ours behind.
  process.once("exit", killAllSync);

  const startNode = async (n: NodeState): Promise<void> => {
    if (n.pid !== undefined && (await isAlive(n.pid))) throw new Error(`${n.name} is already running`);
    fs.rmSync(n.pidFile, { force: true });
    n.pid = undefined;
    // -detached: the script returns once the VM has forked away; the VM writes its pid file soon after.
    await run(path.join(BIN, "rabbitmq-server"), ["-detached"], nodeEnv(n), 30_000);
    // The node is up when its MQTT listener accepts (the plugin starts last). Polled here rather than with
    // `rabbitmqctl wait`, whose own Erlang VM would compete with the booting nodes for the two cores.
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (n.pid === undefined && fs.existsSync(n.pidFile)) {
        const pid = Number(fs.readFileSync(n.pidFile, "utf8").trim());
        if (Number.isInteger(pid) && pid > 0) n.pid = pid;
      }
      if (n.pid !== undefined) {
        if (!(await isAlive(n.pid))) {
          n.pid = undefined;
          throw new Error(`${n.name} exited while starting:\n${readLog(n)}`);
        }
        if (await portOpen(n.mqttPort)) break;
      }
      if (Date.now() > deadline) throw new Error(`${n.name} did not open its MQTT port in 120 s:\n${readLog(n)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const stopNode = async (n: NodeState): Promise<void> => {
    const pid = n.pid;
    if (pid === undefined || !(await isAlive(pid))) {
      n.pid = undefined;
      return;
    }
    // `rabbitmqctl stop` returns before the VM exits: wait for the pid (as `ps` reports it; zombies linger).
    await cli("rabbitmqctl", n, ["stop"], 90_000);
    if (!(await waitGone(pid, 60_000))) throw new Error(`${n.name} (pid ${pid}) still runs 60 s after rabbitmqctl stop`);
    n.pid = undefined;
  };

  const killNode = async (n: NodeState): Promise<void> => {
    const pid = n.pid;
    if (pid === undefined) return;
    if (!isOurs(pid, n)) {
      // Not (or no longer) the VM we started: leave it alone.
      n.pid = undefined;
      return;
    }
    process.kill(pid, "SIGKILL");
    if (!(await waitGone(pid, 20_000))) throw new Error(`${n.name} (pid ${pid}) survived SIGKILL`);
    n.pid = undefined;
  };

  const dispose = async (): Promise<void> => {
    // Stop in parallel; a node that will not stop gracefully is killed.
    await Promise.all(nodes.map((n) => stopNode(n).catch(() => killNode(n).catch(() => undefined))));
    if (epmd) {
      const e = epmd;
      if (e.exitCode === null && e.signalCode === null && e.pid !== undefined) {
        await run("epmd", ["-port", String(epmdPort), "-kill"], commonEnv, 10_000).catch(() => undefined);
        // It refuses while nodes are registered: then our own child gets a SIGKILL.
        const timer = setTimeout(() => e.kill("SIGKILL"), 3000);
        await epmdGone;
        clearTimeout(timer);
      }
    }
    process.removeListener("exit", killAllSync);
    fs.rmSync(base, { recursive: true, force: true });
  };

  try {
    // The private epmd, started by us so the nodes do not start a daemon we could lose track of.
    const e = spawn("epmd", ["-port", String(epmdPort), "-address", "127.0.0.1"], { env: commonEnv, stdio: "ignore" });
    epmd = e;
    const epmdFailed = new Promise<never>((_, reject) => {
      e.once("error", (err) => reject(new Error(`cannot run epmd: ${err.message}`)));
      e.once("exit", (code, signal) => reject(new Error(`epmd exited (${code ?? signal})`)));
    });
    epmdGone = epmdFailed.catch(() => undefined);
    await Promise.race([waitForPort(epmdPort, 10_000), epmdFailed]);
    await cli("rabbitmq-plugins", nodes[0]!, ["--offline", "enable", "rabbitmq_mqtt"], 60_000);
    await Promise.all(nodes.map((n) => startNode(n)));
    for (const n of nodes.slice(1)) {
      await cli("rabbitmqctl", n, ["stop_app"]);
      await cli("rabbitmqctl", n, ["join_cluster", nodes[0]!.name]);
      await cli("rabbitmqctl", n, ["start_app"]);
      await waitForPort(n.mqttPort, 30_000);
    }
    await cli("rabbitmqctl", nodes[0]!, ["await_online_nodes", String(size)], 60_000);
  } catch (err) {
    const logs = nodes.map((n) => `--- ${n.name} log tail ---\n${readLog(n, 1500)}`).join("\n");
    await dispose().catch(() => undefined);
    throw new Error(`could not start the RabbitMQ cluster: ${(err as Error).message}\n${logs}`);
  }

  const node = (i: number): NodeState => {
    const n = nodes[i];
    if (!n) throw new Error(`no node ${i} (the cluster has ${size})`);
    return n;
  };
  return {
    urls: nodes.map((n) => `mqtt://127.0.0.1:${n.mqttPort}`),
    ports: nodes.map((n) => n.mqttPort),
    nodes: nodes.map((n) => n.name),
    dir: base,
    stop: (i) => stopNode(node(i)),
    kill: (i) => killNode(node(i)),
    start: async (i) => {
      const n = node(i);
      await startNode(n);
      // The node rejoins by itself (its data names the cluster); wait until every node sees every other.
      await cli("rabbitmqctl", n, ["await_online_nodes", String(size)], 60_000);
    },
    running: (i) => node(i).pid !== undefined,
    ctl: (i, args, timeoutMs) => cli("rabbitmqctl", node(i), args, timeoutMs),
    log: (i, chars) => readLog(node(i), chars),
    dispose,
  };
}
