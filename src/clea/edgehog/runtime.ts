/**
 * The Edgehog device runtime inside a Device (`device.edgehog`): it fills in the capabilities it can read from the
 * host (SystemStatus, StorageUsage, HardwareInfo, NetworkInterfaceProperties), sends the application's telemetry on
 * the schedule the server controls, and routes Edgehog's requests (commands, LEDs, remote terminal, telemetry
 * config) to the application's handlers. OTA has its own manager (../ota.ts).
 */

import type { DeviceEvent } from "../receive.js";
import { edgehogCapabilities, type EdgehogCapability } from "./capabilities.js";
import { runCommand } from "./commands.js";
import { Forwarder } from "./forwarder.js";
import { hostReaders } from "./host.js";
import { EDGEHOG } from "./interfaces.js";
import { ledRequest } from "./leds.js";
import type { EdgehogConfig, TelemetryInterface } from "./options.js";
import { background, type EdgehogPort } from "./port.js";
import { pick, sendBattery, sendCellular, sendGeolocation, sendWifi } from "./providers.js";
import { TelemetryScheduler, type TelemetrySource, type TelemetryState } from "./telemetry.js";

/** How often the host's properties (HardwareInfo, NetworkInterfaceProperties) are read again; only changes are published. */
const PROPERTIES_REFRESH_MS = 60_000;

/** Edgehog's side of a device: `device.edgehog`. */
export class EdgehogRuntime {
  private readonly telemetryScheduler: TelemetryScheduler;
  private readonly forwarder: Forwarder | undefined;
  private refreshTimer: unknown;
  private started = false;

  /** @internal Built by the Device. */
  constructor(
    private readonly port: EdgehogPort,
    private readonly config: EdgehogConfig | undefined,
  ) {
    this.telemetryScheduler = new TelemetryScheduler(port, config?.telemetry ?? {}, this.sources());
    this.forwarder = config?.forwarder ? new Forwarder(port, config.forwarder) : undefined;
  }

  /**
   * The Edgehog capabilities this device has now, by Edgehog's rule: each interface a capability needs is declared
   * with the same major version and at least the required minor.
   * @returns Capability names as Edgehog shows them (e.g. "system_status", "telemetry_config"), sorted.
   * @example
   * ```ts
   * console.log(device.edgehog.capabilities()); // ["base_image", "commands", ..., "telemetry_config"]
   * ```
   */
  capabilities(): EdgehogCapability[] {
    return edgehogCapabilities(this.port.interfaces());
  }

  /**
   * The telemetry schedules: for each telemetry interface the device sends, whether it is on, its period, and
   * whether the server's config.Telemetry or the device's own setting decides.
   * @returns A snapshot by interface name.
   */
  telemetry(): Partial<Record<TelemetryInterface, TelemetryState>> {
    return this.telemetryScheduler.states();
  }

  /** The remote terminal sessions this run knows, by session token ("Connecting", "Connected", "Disconnected"). */
  forwarderSessions(): Record<string, string> {
    return this.forwarder?.states() ?? {};
  }

  /** @internal After connectDevice(): clears stale forwarder states, publishes host properties, starts telemetry. */
  async start(): Promise<void> {
    if (!this.config || this.started) return;
    this.started = true;
    await this.forwarder?.clearStale();
    await this.refreshProperties();
    this.telemetryScheduler.start();
    const again = (): void => {
      this.refreshTimer = this.port.clock.setTimeout(() => {
        void this.refreshProperties().then(again);
      }, PROPERTIES_REFRESH_MS, false);
    };
    again();
  }

  /** @internal The device is ending: timers stop; gracefully, open remote sessions are reported ended. */
  async stop(graceful: boolean): Promise<void> {
    this.started = false;
    this.telemetryScheduler.stop();
    this.port.clock.clearTimeout(this.refreshTimer);
    if (graceful) await this.forwarder?.end().catch(() => undefined);
  }

  /**
   * @internal An event from the server: returns true when it is Edgehog's to handle (it then does not reach
   * events()). Commands still reach events() and the "command" event, as before the handler existed.
   */
  handle(event: DeviceEvent): boolean {
    const config = this.config;
    if (!config) return false;
    switch (event.interface) {
      case EDGEHOG.TelemetryConfig:
        this.telemetryScheduler.configChanged(event.path);
        return true;
      case EDGEHOG.LedBehavior: {
        if (!config.leds) return false;
        const request = ledRequest(event.path, event.value);
        if (typeof request === "string") this.port.warn("invalid-request", request);
        else void background(this.port, "handler-failed", `LED ${request.ledId}`, async () => config.leds!(request));
        return true;
      }
      case EDGEHOG.ForwarderSessionRequest:
        if (!this.forwarder) return false;
        if (event.value && typeof event.value === "object") this.forwarder.onRequest(event.value as Record<string, unknown>);
        return true;
      case EDGEHOG.Commands:
        if (config.commands && typeof event.value === "string") void runCommand(this.port, config.commands, event.value);
        return false;
      default:
        return false;
    }
  }

  /** The telemetry interfaces this device sends, each with what it sends. */
  private sources(): Map<TelemetryInterface, TelemetrySource> {
    const c = this.config;
    const sources = new Map<TelemetryInterface, TelemetrySource>();
    if (!c) return sources;
    const { port } = this;
    const declared = (name: string) => c.interfaces.has(name);
    if (declared(EDGEHOG.SystemStatus)) {
      sources.set(EDGEHOG.SystemStatus, async (stamp) => {
        const status = await hostReaders.readSystemStatus();
        await port.sendObject(EDGEHOG.SystemStatus, "/systemStatus", pick(status, ["availMemoryBytes", "bootId", "taskCount", "uptimeMillis"]), stamp());
      });
    }
    if (declared(EDGEHOG.StorageUsage)) {
      sources.set(EDGEHOG.StorageUsage, async (stamp) => {
        const disks = await hostReaders.readStorageUsage(c.storagePaths);
        const at = stamp();
        await Promise.all(disks.map((d) => port.sendObject(EDGEHOG.StorageUsage, `/${d.label}`, { totalBytes: d.totalBytes, freeBytes: d.freeBytes }, at)));
      });
    }
    if (c.battery) sources.set(EDGEHOG.BatteryStatus, async (stamp) => sendBattery(port, await c.battery!(), stamp()));
    if (c.geolocation) sources.set(EDGEHOG.Geolocation, async (stamp) => sendGeolocation(port, await c.geolocation!(), stamp()));
    if (c.wifi) sources.set(EDGEHOG.WiFiScanResults, async (stamp) => sendWifi(port, await c.wifi!(), stamp()));
    if (c.cellular) sources.set(EDGEHOG.CellularConnectionStatus, async (stamp) => sendCellular(port, await c.cellular!(), stamp()));
    return sources;
  }

  /** Reads HardwareInfo and NetworkInterfaceProperties again; setProperty publishes only what changed. */
  private async refreshProperties(): Promise<void> {
    const c = this.config!;
    const { port } = this;
    const work: Array<Promise<void>> = [];
    if (c.interfaces.has(EDGEHOG.HardwareInfo)) {
      work.push(background(port, "telemetry-failed", EDGEHOG.HardwareInfo, async () => {
        const hw = await hostReaders.readHardwareInfo();
        const values: Array<[string, string | bigint | undefined]> = [
          ["/cpu/architecture", hw.architecture],
          ["/cpu/model", hw.model],
          ["/cpu/modelName", hw.modelName],
          ["/cpu/vendor", hw.vendor],
          ["/mem/totalBytes", hw.totalBytes],
        ];
        await Promise.all(values.filter(([, v]) => v !== undefined).map(([path, v]) => port.setProperty(EDGEHOG.HardwareInfo, path, v!)));
      }));
    }
    if (c.interfaces.has(EDGEHOG.NetworkInterfaceProperties)) {
      work.push(background(port, "telemetry-failed", EDGEHOG.NetworkInterfaceProperties, async () => {
        const nics = await hostReaders.readNetworkInterfaces();
        const present = new Set<string>();
        const sets: Array<Promise<void>> = [];
        for (const nic of nics) {
          for (const [key, value] of [["macAddress", nic.macAddress], ["technologyType", nic.technologyType]] as const) {
            present.add(`/${nic.name}/${key}`);
            sets.push(port.setProperty(EDGEHOG.NetworkInterfaceProperties, `/${nic.name}/${key}`, value));
          }
        }
        // Interfaces that went away are unset (the mappings allow it).
        for (const path of port.propertyPaths(EDGEHOG.NetworkInterfaceProperties)) {
          if (!present.has(path)) sets.push(port.unsetProperty(EDGEHOG.NetworkInterfaceProperties, path));
        }
        await Promise.all(sets);
      }));
    }
    await Promise.all(work);
  }
}
