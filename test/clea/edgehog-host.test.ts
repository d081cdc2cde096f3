/**
 * The host readers of src/clea/edgehog/host.ts, checked against what this test reads from the host itself.
 * The Linux-only expectations (/proc, /sys) are skipped elsewhere.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { build } from "esbuild";
import { describe, expect, it, vi } from "vitest";
import { OptionsError } from "../../src/index.ts";
import {
  hostReaders,
  readHardwareInfo,
  readNetworkInterfaces,
  readStorageUsage,
  readSystemStatus,
} from "../../src/clea/edgehog/host.ts";

const linux = os.platform() === "linux";

describe("src/clea/edgehog/host.ts", () => {
  it("loads no node: built-in when imported (node:os and node:fs/promises come with the first read)", async () => {
    const result = await build({
      entryPoints: [path.resolve(import.meta.dirname, "../../src/clea/edgehog/host.ts")],
      bundle: true,
      write: false,
      outfile: "host.js",
      format: "esm",
      target: "es2022",
      platform: "neutral",
      external: ["node:*"],
      metafile: true,
      logLevel: "silent",
    });
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports);
    expect(imports.filter((i) => i.kind !== "dynamic-import")).toEqual([]);
    expect(imports.map((i) => i.path)).toEqual(expect.arrayContaining(["node:os", "node:fs/promises"]));
  });
});

describe("readSystemStatus", () => {
  it("reads longinteger fields as bigint and matches the host", async () => {
    const before = os.uptime();
    const status = await readSystemStatus();
    const after = os.uptime();
    expect(typeof status.availMemoryBytes).toBe("bigint");
    expect(typeof status.uptimeMillis).toBe("bigint");
    expect(status.availMemoryBytes).toBeGreaterThan(0n);
    expect(status.availMemoryBytes).toBeLessThanOrEqual(BigInt(os.totalmem()));
    expect(Number(status.uptimeMillis)).toBeGreaterThanOrEqual(Math.floor(before * 1000) - 2000);
    expect(Number(status.uptimeMillis)).toBeLessThanOrEqual(Math.ceil(after * 1000) + 2000);
  });

  it.runIf(linux)("on Linux: bootId is the kernel's, taskCount loadavg's total, memory MemAvailable", async () => {
    const status = await readSystemStatus();
    expect(status.bootId).toBe(fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    expect(status.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isInteger(status.taskCount)).toBe(true);
    const total = Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[3]!.split("/")[1]);
    // Threads come and go (vitest's workers among them) between the two reads.
    expect(Math.abs(status.taskCount! - total)).toBeLessThanOrEqual(50);
    const kb = Number(/^MemAvailable:\s+(\d+)/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))![1]);
    // Available memory moves while the test runs; 256 MiB is a wide enough window.
    expect(Math.abs(Number(status.availMemoryBytes) - kb * 1024)).toBeLessThan(256 * 1024 * 1024);
    expect(status.availMemoryBytes % 1024n).toBe(0n);
  });
});

describe("readStorageUsage", () => {
  it('reads "/" as label "root" by default, consistent with fs.statfs("/")', async () => {
    const [root, ...rest] = await readStorageUsage();
    expect(rest).toEqual([]);
    const st = await fsp.statfs("/");
    expect(root!.label).toBe("root");
    expect(typeof root!.totalBytes).toBe("bigint");
    expect(typeof root!.freeBytes).toBe("bigint");
    expect(root!.totalBytes).toBe(BigInt(st.bsize) * BigInt(st.blocks));
    // Free space moves while the test runs (other writers): within 1 GiB of what we read.
    const free = BigInt(st.bsize) * BigInt(st.bavail);
    const diff = root!.freeBytes > free ? root!.freeBytes - free : free - root!.freeBytes;
    expect(diff).toBeLessThan(1n << 30n);
    expect(root!.freeBytes).toBeLessThanOrEqual(root!.totalBytes);
  });

  it("reads each labelled directory, in order", async () => {
    const tmp = os.tmpdir();
    const usage = await readStorageUsage({ tmp, root: "/" });
    expect(usage.map((u) => u.label)).toEqual(["tmp", "root"]);
    const st = await fsp.statfs(tmp);
    expect(usage[0]!.totalBytes).toBe(BigInt(st.bsize) * BigInt(st.blocks));
    expect(await readStorageUsage({})).toEqual([]);
  });

  it.each(["", "a/b", "/", "data#1", "sd+card", "nul\u0000"])("throws OptionsError for label %j before reading anything", async (label) => {
    const err = await readStorageUsage({ [label]: "/" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OptionsError);
    expect(err).toMatchObject({ name: "OptionsError", code: "invalid-options" });
  });

  it("throws OptionsError for a directory that is not a string", async () => {
    await expect(readStorageUsage({ data: 42 as unknown as string })).rejects.toBeInstanceOf(OptionsError);
    await expect(readStorageUsage({ data: "" })).rejects.toBeInstanceOf(OptionsError);
  });

  it("rejects with the runtime's ENOENT for a directory that does not exist (a missing mount is reported, not hidden)", async () => {
    const missing = path.join(os.tmpdir(), `edgemq-no-such-dir-${process.pid}-${Date.now()}`);
    await expect(readStorageUsage({ root: "/", sd: missing })).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("readHardwareInfo", () => {
  it("names the architecture as edgehog-device-runtime does and reads os.totalmem() as bigint", async () => {
    const hw = await readHardwareInfo();
    expect(typeof hw.totalBytes).toBe("bigint");
    expect(hw.totalBytes).toBe(BigInt(os.totalmem()));
    const expected: Record<string, string> = { x64: "x86_64", arm64: "aarch64", ia32: "x86", arm: "arm", riscv64: "riscv64" };
    expect(hw.architecture).toBe(expected[os.arch()] ?? hw.architecture);
    expect(hw.architecture.length).toBeGreaterThan(0);
  });

  it.runIf(linux)("on Linux: model, model name and vendor are the first CPU's in /proc/cpuinfo", async () => {
    const hw = await readHardwareInfo();
    const firstOf = (key: string) => {
      for (const line of fs.readFileSync("/proc/cpuinfo", "utf8").split("\n")) {
        const [k, ...v] = line.split(":");
        if (k?.trim() === key) return v.join(":").trim() || undefined;
      }
      return undefined;
    };
    expect(hw.model).toBe(firstOf("model"));
    expect(hw.vendor).toBe(firstOf("vendor_id"));
    expect(hw.modelName).toBe(firstOf("model name") ?? (os.cpus()[0]?.model || undefined));
  });
});

describe("readNetworkInterfaces", () => {
  it("reports external interfaces with their os.networkInterfaces() MAC, lower case, never loopback or all-zero", async () => {
    const ifaces = await readNetworkInterfaces();
    const fromOs = os.networkInterfaces();
    for (const iface of ifaces) {
      expect(iface.name).not.toMatch(/[/#+]/);
      expect(iface.macAddress).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect(iface.macAddress).not.toBe("00:00:00:00:00:00");
      const addrs = fromOs[iface.name]!;
      expect(addrs.some((a) => !a.internal && a.mac.toLowerCase() === iface.macAddress)).toBe(true);
      expect(["Ethernet", "WiFi", "Cellular", "Bluetooth"]).toContain(iface.technologyType);
    }
    expect(ifaces.some((i) => i.name === "lo")).toBe(false);
    if (!linux) expect(ifaces).toEqual([]);
  });

  it.runIf(linux)("on Linux: every hardware-backed Ethernet-type interface with a MAC is there, with the kernel's technology", async () => {
    const ifaces = await readNetworkInterfaces();
    const byName = new Map(ifaces.map((i) => [i.name, i]));
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
      const ext = addrs?.find((a) => !a.internal && a.mac !== "00:00:00:00:00:00");
      const dir = `/sys/class/net/${name}`;
      if (!ext || !fs.existsSync(`${dir}/type`)) continue;
      const type = fs.readFileSync(`${dir}/type`, "utf8").trim();
      const uevent = fs.readFileSync(`${dir}/uevent`, "utf8");
      const wireless = /^DEVTYPE=wlan$/m.test(uevent) || fs.existsSync(`${dir}/wireless`) || fs.existsSync(`${dir}/phy80211`);
      if (type === "1" && wireless) expect(byName.get(name)?.technologyType).toBe("WiFi");
      else if (type === "1" && !/^DEVTYPE=/m.test(uevent) && !name.startsWith("wwan") && fs.existsSync(`${dir}/device`)) {
        expect(byName.get(name)).toEqual({ name, macAddress: ext.mac.toLowerCase(), technologyType: "Ethernet" });
      } else if (type === "1" && !fs.existsSync(`${dir}/device`) && !/^DEVTYPE=(wlan|wwan|bluetooth)$/m.test(uevent) && !name.startsWith("wwan")) {
        expect(byName.has(name)).toBe(false); // virtual (veth, tap, bridge...): left out
      }
    }
  });
});

describe("hostReaders", () => {
  it("holds the four readers, and can be replaced member by member", async () => {
    expect(hostReaders.readSystemStatus).toBe(readSystemStatus);
    expect(hostReaders.readStorageUsage).toBe(readStorageUsage);
    expect(hostReaders.readHardwareInfo).toBe(readHardwareInfo);
    expect(hostReaders.readNetworkInterfaces).toBe(readNetworkInterfaces);
    const saved = hostReaders.readHardwareInfo;
    try {
      hostReaders.readHardwareInfo = async () => ({ architecture: "aarch64", totalBytes: 1n });
      expect(await hostReaders.readHardwareInfo()).toEqual({ architecture: "aarch64", totalBytes: 1n });
    } finally {
      hostReaders.readHardwareInfo = saved;
    }
  });
});

describe("on a host without /proc and /sys (os.platform() mocked to darwin)", () => {
  it("falls back to node:os and leaves out what only Linux tells", async () => {
    vi.resetModules();
    vi.doMock("node:os", async (importOriginal) => {
      const real = await importOriginal<typeof import("node:os")>();
      const fake = { ...real, platform: () => "darwin" as NodeJS.Platform, freemem: () => 123_456_789, uptime: () => 4321.5, cpus: () => [{ ...real.cpus()[0]!, model: "Apple M2" }] };
      return { ...fake, default: fake };
    });
    try {
      const host = await import("../../src/clea/edgehog/host.ts");
      expect(await host.readSystemStatus()).toEqual({ availMemoryBytes: 123_456_789n, uptimeMillis: 4_321_500n });
      const hw = await host.readHardwareInfo();
      expect(hw).toEqual({ architecture: hw.architecture, modelName: "Apple M2", totalBytes: BigInt(os.totalmem()) });
      expect(await host.readNetworkInterfaces()).toEqual([]);
    } finally {
      vi.doUnmock("node:os");
      vi.resetModules();
    }
  });
});
