/**
 * What the gateway host really has, read for four Edgehog interfaces: SystemStatus, StorageUsage, HardwareInfo and
 * NetworkInterfaceProperties. Values come from `node:os`, `node:fs/promises` (loaded on first use, never at import
 * time) and, on Linux, /proc and /sys. A value the host does not let us read is left out, never guessed.
 * longinteger mappings are `bigint` here, as src/clea/values.ts sends them (int64); integer mappings are `number`.
 */

import { OptionsError } from "../../index.js";

/** io.edgehog.devicemanager.SystemStatus, sent as one object at path "/systemStatus". */
export interface HostSystemStatus {
  /** Available memory in bytes (longinteger): MemAvailable on Linux, else os.freemem(). */
  availMemoryBytes: bigint;
  /** The kernel's boot id (Linux only). */
  bootId?: string;
  /** Number of tasks (threads) the kernel schedules (Linux only). */
  taskCount?: number;
  /** Milliseconds since boot (longinteger). */
  uptimeMillis: bigint;
}

/** One io.edgehog.devicemanager.StorageUsage object, sent at path "/<label>". */
export interface HostStorageUsage {
  /** The path segment the object is sent at. */
  label: string;
  /** Size of the file system in bytes (longinteger). */
  totalBytes: bigint;
  /** Bytes an unprivileged process may still write (longinteger). */
  freeBytes: bigint;
}

/** io.edgehog.devicemanager.HardwareInfo properties (/cpu/..., /mem/totalBytes). */
export interface HostHardwareInfo {
  /** /cpu/architecture, named as the Edgehog reference runtime names it (Rust's target arch: "x86_64", "aarch64", "arm", ...). */
  architecture: string;
  /** /cpu/model: the "model" field of /proc/cpuinfo (Linux only). */
  model?: string;
  /** /cpu/modelName: "model name" of /proc/cpuinfo, else the runtime's CPU model. */
  modelName?: string;
  /** /cpu/vendor: "vendor_id" of /proc/cpuinfo (Linux only). */
  vendor?: string;
  /** /mem/totalBytes: os.totalmem() (longinteger). */
  totalBytes: bigint;
}

/** One interface of io.edgehog.devicemanager.NetworkInterfaceProperties (/<name>/macAddress, /<name>/technologyType). */
export interface HostNetworkInterface {
  /** The interface name, a valid path segment. */
  name: string;
  /** Lower-case MAC address, "00:aa:bb:cc:dd:ee". */
  macAddress: string;
  /** The technology, as the kernel reports it. */
  technologyType: "Ethernet" | "WiFi" | "Cellular" | "Bluetooth";
}

/** The four host readers; replace them (in tests) to feed other values. */
export interface HostReaders {
  /** See readSystemStatus. */
  readSystemStatus: () => Promise<HostSystemStatus>;
  /** See readStorageUsage. */
  readStorageUsage: (paths?: Record<string, string>) => Promise<HostStorageUsage[]>;
  /** See readHardwareInfo. */
  readHardwareInfo: () => Promise<HostHardwareInfo>;
  /** See readNetworkInterfaces. */
  readNetworkInterfaces: () => Promise<HostNetworkInterface[]>;
}

type Os = typeof import("node:os");
type Fs = typeof import("node:fs/promises");

/** True on the kernels that have /proc and /sys as Linux lays them out. */
function isLinux(os: Os): boolean {
  const p = os.platform();
  return p === "linux" || p === "android";
}

/** Reads a text file; undefined when the host does not let us read it (a system error: ENOENT, EACCES, ...). */
async function readText(fs: Fs, path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (err) {
    if (isSystemError(err)) return undefined;
    throw err;
  }
}

/** Whether a path exists; false when the host says it does not or does not let us look. */
async function exists(fs: Fs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch (err) {
    if (isSystemError(err)) return false;
    throw err;
  }
}

function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "string";
}

/** Whether `s` can be one level of an Astarte path: not empty, no "/", no MQTT wildcard, no NUL, well-formed UTF-16. */
function isPathSegment(s: unknown): s is string {
  return (
    typeof s === "string" &&
    s.length > 0 &&
    !/[/#+\u0000]/.test(s) &&
    !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)
  );
}

/**
 * Reads io.edgehog.devicemanager.SystemStatus. On Linux: MemAvailable from /proc/meminfo, the boot id, the task count
 * (the total of /proc/loadavg's "running/total", else the number of process directories in /proc) and /proc/uptime;
 * elsewhere os.freemem() and os.uptime(), without bootId and taskCount.
 */
export async function readSystemStatus(): Promise<HostSystemStatus> {
  const os = await import("node:os");
  const linux = isLinux(os);
  const fs = linux ? await import("node:fs/promises") : undefined;

  let availMemoryBytes: bigint | undefined;
  let bootId: string | undefined;
  let taskCount: number | undefined;
  let uptimeMillis: bigint | undefined;
  if (fs) {
    const meminfo = await readText(fs, "/proc/meminfo");
    const kb = meminfo?.match(/^MemAvailable:\s+(\d+)\s*kB\s*$/m)?.[1];
    if (kb !== undefined) availMemoryBytes = BigInt(kb) * 1024n;

    const boot = (await readText(fs, "/proc/sys/kernel/random/boot_id"))?.trim();
    if (boot) bootId = boot;

    const total = (await readText(fs, "/proc/loadavg"))?.trim().split(/\s+/)[3]?.match(/^\d+\/(\d+)$/)?.[1];
    if (total !== undefined) taskCount = Number(total);
    else taskCount = await countProcesses(fs);

    const up = (await readText(fs, "/proc/uptime"))?.trim().split(/\s+/)[0]?.match(/^(\d+)(?:\.(\d{1,3}))?/);
    if (up) uptimeMillis = BigInt(up[1]!) * 1000n + BigInt((up[2] ?? "").padEnd(3, "0"));
  }
  availMemoryBytes ??= BigInt(os.freemem());
  uptimeMillis ??= BigInt(Math.floor(os.uptime() * 1000));

  const status: HostSystemStatus = { availMemoryBytes, uptimeMillis };
  if (bootId !== undefined) status.bootId = bootId;
  if (taskCount !== undefined) status.taskCount = taskCount;
  return status;
}

/** The number of numeric directories in /proc (processes); undefined if /proc cannot be listed. */
async function countProcesses(fs: Fs): Promise<number | undefined> {
  try {
    const names = await fs.readdir("/proc");
    const n = names.filter((name) => /^\d+$/.test(name)).length;
    return n > 0 ? n : undefined;
  } catch (err) {
    if (isSystemError(err)) return undefined;
    throw err;
  }
}

/**
 * Reads io.edgehog.devicemanager.StorageUsage with fs.statfs: by default the root file system "/" as label "root";
 * with `paths` ({ label: directory }) each directory, in that order. totalBytes is the block size times the blocks,
 * freeBytes the block size times the blocks available to unprivileged users (the fragment size `frsize` where the
 * runtime gives it, as Deno and Bun do; else `bsize`, as Node does).
 * Throws OptionsError for a label that is not a valid path segment (empty, or holding "/", "#", "+") or a directory
 * that is not a string, before reading anything. A directory that does not exist, or cannot be read, rejects with the
 * runtime's error (its `code`, e.g. "ENOENT"): a configured mount point that is missing is reported, not hidden.
 * A runtime without fs.promises.statfs (Node 20, Bun and Deno 2 all have it) gets [].
 */
export async function readStorageUsage(paths?: Record<string, string>): Promise<HostStorageUsage[]> {
  let entries: Array<[string, string]>;
  if (paths === undefined) {
    entries = [["root", "/"]];
  } else {
    if (paths === null || typeof paths !== "object" || Array.isArray(paths)) {
      throw new OptionsError("readStorageUsage: paths must be an object of { label: directory }");
    }
    entries = Object.entries(paths);
    for (const [label, dir] of entries) {
      if (!isPathSegment(label)) {
        throw new OptionsError(`readStorageUsage: label ${JSON.stringify(label)} is not a valid path segment (it must be non-empty, without "/", "#" or "+")`);
      }
      if (typeof dir !== "string" || dir.length === 0) {
        throw new OptionsError(`readStorageUsage: the directory of label ${JSON.stringify(label)} must be a non-empty string`);
      }
    }
  }
  const fs = await import("node:fs/promises");
  if (typeof fs.statfs !== "function") return [];
  const out: HostStorageUsage[] = [];
  for (const [label, dir] of entries) {
    const st = (await fs.statfs(dir)) as { bsize: number; frsize?: number; blocks: number; bavail: number };
    const unit = BigInt(typeof st.frsize === "number" && st.frsize > 0 ? st.frsize : st.bsize);
    out.push({ label, totalBytes: unit * BigInt(st.blocks), freeBytes: unit * BigInt(st.bavail) });
  }
  return out;
}

/**
 * os.arch() -> the architecture name edgehog-device-runtime sends (Rust's std::env::consts::ARCH). Node, Bun and
 * Deno name the same targets differently ("x64" is "x86_64", "arm64" is "aarch64"); an unknown name is kept as is.
 */
const ARCHITECTURES: Record<string, string> = {
  x64: "x86_64",
  ia32: "x86",
  arm64: "aarch64",
  arm: "arm",
  loong64: "loongarch64",
  mips: "mips",
  mipsel: "mips",
  mips64: "mips64",
  mips64el: "mips64",
  ppc: "powerpc",
  ppc64: "powerpc64",
  riscv32: "riscv32",
  riscv64: "riscv64",
  s390x: "s390x",
};

/**
 * Reads io.edgehog.devicemanager.HardwareInfo: the architecture (os.arch() named as edgehog-device-runtime names it),
 * on Linux "model", "model name" and "vendor_id" of the first CPU in /proc/cpuinfo, the runtime's CPU model as the
 * model name where /proc/cpuinfo has none, and os.totalmem().
 */
export async function readHardwareInfo(): Promise<HostHardwareInfo> {
  const os = await import("node:os");
  const arch = os.arch();
  const info: HostHardwareInfo = { architecture: ARCHITECTURES[arch] ?? arch, totalBytes: BigInt(os.totalmem()) };
  if (isLinux(os)) {
    const fs = await import("node:fs/promises");
    const fields = parseCpuinfo((await readText(fs, "/proc/cpuinfo")) ?? "");
    const model = fields.get("model");
    const modelName = fields.get("model name");
    const vendor = fields.get("vendor_id");
    if (model) info.model = model;
    if (modelName) info.modelName = modelName;
    if (vendor) info.vendor = vendor;
  }
  if (info.modelName === undefined) {
    const fromRuntime = os.cpus()[0]?.model.trim();
    // libuv says "unknown" when it found no model: that is not a model name.
    if (fromRuntime && fromRuntime !== "unknown") info.modelName = fromRuntime;
  }
  return info;
}

/** The first value of each "key : value" line of /proc/cpuinfo (the first CPU's, for per-CPU keys). */
function parseCpuinfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key && !fields.has(key)) fields.set(key, value);
  }
  return fields;
}

/** ARPHRD_* values of /sys/class/net/<name>/type. */
const ARPHRD_ETHER = "1";
const ARPHRD_PPP = "512";
const ARPHRD_RAWIP = "519";

/**
 * Reads io.edgehog.devicemanager.NetworkInterfaceProperties: the interfaces of os.networkInterfaces() that are not
 * internal, have a MAC address that is not all zeros, and a name that is a valid path segment. The technology comes
 * from Linux's /sys/class/net/<name>: type 1 (Ethernet framing) is WiFi for a wireless device (DEVTYPE=wlan,
 * wireless/ or phy80211), Cellular for DEVTYPE=wwan or a "wwan*" name, Bluetooth for DEVTYPE=bluetooth, and Ethernet
 * for a device backed by hardware (a `device` link); bridges and virtual interfaces (veth, tap, bond, vlan, ...) are
 * left out, as edgehog-device-runtime leaves them out. Types 512 (PPP) and 519 (raw IP) are Cellular (such links
 * rarely have a MAC, so they rarely pass the MAC rule). Without /sys (macOS, Windows) nothing tells the technology,
 * so every interface is left out and the result is [].
 */
export async function readNetworkInterfaces(): Promise<HostNetworkInterface[]> {
  const os = await import("node:os");
  if (!isLinux(os)) return [];
  const fs = await import("node:fs/promises");
  const out: HostNetworkInterface[] = [];
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    if (!isPathSegment(name) || name === "." || name === ".." || !addresses) continue;
    const external = addresses.filter((a) => !a.internal);
    if (external.length === 0) continue;
    const macAddress = external.map((a) => a.mac.toLowerCase()).find((mac) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) && mac !== "00:00:00:00:00:00");
    if (macAddress === undefined) continue;
    const technologyType = await technologyOf(fs, name);
    if (technologyType !== undefined) out.push({ name, macAddress, technologyType });
  }
  return out;
}

/** The technology of a Linux network interface from /sys/class/net; undefined when the kernel does not say. */
async function technologyOf(fs: Fs, name: string): Promise<HostNetworkInterface["technologyType"] | undefined> {
  const dir = `/sys/class/net/${name}`;
  const type = (await readText(fs, `${dir}/type`))?.trim();
  if (type === ARPHRD_PPP || type === ARPHRD_RAWIP) return "Cellular";
  if (type !== ARPHRD_ETHER) return undefined;
  const devtype = (await readText(fs, `${dir}/uevent`))?.match(/^DEVTYPE=(.*)$/m)?.[1]?.trim();
  if (devtype === "wlan" || (await exists(fs, `${dir}/wireless`)) || (await exists(fs, `${dir}/phy80211`))) return "WiFi";
  if (devtype === "wwan" || name.startsWith("wwan")) return "Cellular";
  if (devtype === "bluetooth") return "Bluetooth";
  if (devtype === "bridge") return undefined;
  return (await exists(fs, `${dir}/device`)) ? "Ethernet" : undefined;
}

/** The host readers as one replaceable object: code that reports host facts calls through it, tests swap its members. */
export const hostReaders: HostReaders = { readSystemStatus, readStorageUsage, readHardwareInfo, readNetworkInterfaces };
