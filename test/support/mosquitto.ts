/**
 * Starts a real mosquitto (Debian package) on a free port on 127.0.0.1 with a config of its own, for one test
 * file. Runs on Node, Deno and Bun (node:child_process, node:fs, node:net).
 */

import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** A running broker. */
export interface Mosquitto {
  port: number;
  url: string;
  dir: string;
  /** Stops the broker (SIGTERM, so it saves persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same config. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
  /** The broker's log so far. */
  log(): string;
}

/** Extra settings for the broker. */
export interface MosquittoOptions {
  /** Lines added to the config (after the listener). */
  config?: string[];
  /** Lines added before the default listener (e.g. extra listeners). */
  listenerConfig?: string[];
  persistence?: boolean;
  /** A fixed port; default: a free one. */
  port?: number;
}

/** The mosquitto binary, from PATH or Debian's location. */
export function mosquittoBinary(): string {
  for (const p of ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]) if (fs.existsSync(p)) return p;
  return "mosquitto";
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `n` distinct ports that were free a moment ago (all are held open until every one is known). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts mosquitto. The directory is readable by the `mosquitto` user it drops to when started as root. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-mosq-"));
  fs.chmodSync(dir, 0o777);
  const port = options.port ?? (await freePort());
  const lines = [
    ...(options.listenerConfig ?? []),
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    `log_dest file ${path.join(dir, "mosquitto.log")}`,
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_type information",
    "connection_messages true",
    ...(options.persistence ? ["persistence true", `persistence_location ${dir}/`, "autosave_interval 1"] : ["persistence false"]),
    ...(options.config ?? []),
  ];
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(conf, lines.join("\n") + "\n");
  fs.chmodSync(conf, 0o644);
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(mosquittoBinary(), ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Uint8Array) => {
      stderr += new TextDecoder().decode(d);
    });
    const exited = new Promise<never>((_, reject) =>
      child!.once("exit", (code) => reject(new Error(`mosquitto exited with ${code}: ${stderr}${readLog()}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port), exited]);
  };
  const readLog = () => {
    try {
      return fs.readFileSync(path.join(dir, "mosquitto.log"), "utf8");
    } catch {
      return "";
    }
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGTERM");
    });
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    stop,
    start,
    log: readLog,
    dispose: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
