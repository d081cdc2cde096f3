/** The Edgehog device info properties (SystemInfo, OSInfo, BaseImage, RuntimeInfo) and the runtime defaults they fall back to. */

import { EDGEHOG } from "./interfaces.js";
import { VERSION } from "../version.js";

/** What the device tells Edgehog about itself. Fields left out are filled from the runtime where it knows them. */
export interface DeviceInfo {
  /** SystemInfo serial number. */
  serialNumber?: string;
  /** SystemInfo part number. */
  partNumber?: string;
  /** OSInfo name; defaults to the runtime's OS type. */
  osName?: string;
  /** OSInfo version; defaults to the runtime's OS release. */
  osVersion?: string;
  /** BaseImage name, version, build id and fingerprint. */
  baseImage?: {
    /** Image name. */
    name?: string;
    /** Image version. */
    version?: string;
    /** Build id. */
    buildId?: string;
    /** Image fingerprint. */
    fingerprint?: string;
  };
  /** RuntimeInfo; defaults to this SDK and the JavaScript runtime. */
  runtime?: {
    /** Runtime name; default "edgemq". */
    name?: string;
    /** Runtime URL; default the npm package page. */
    url?: string;
    /** Runtime version; default this SDK's VERSION. */
    version?: string;
    /** Environment; default the JavaScript runtime and its version, e.g. "Node.js v20.11.0". */
    environment?: string;
  };
}

/** The (interface, path, value) properties for `info`, with runtime defaults. */
export function deviceInfoProperties(info: DeviceInfo, host: { osName: string; osVersion: string; environment: string }): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  const put = (iface: string, path: string, value: string | undefined) => {
    if (value !== undefined && value !== "") out.push([iface, path, value]);
  };
  put(EDGEHOG.SystemInfo, "/serialNumber", info.serialNumber);
  put(EDGEHOG.SystemInfo, "/partNumber", info.partNumber);
  put(EDGEHOG.OSInfo, "/osName", info.osName ?? host.osName);
  put(EDGEHOG.OSInfo, "/osVersion", info.osVersion ?? host.osVersion);
  put(EDGEHOG.BaseImage, "/name", info.baseImage?.name);
  put(EDGEHOG.BaseImage, "/version", info.baseImage?.version);
  put(EDGEHOG.BaseImage, "/buildId", info.baseImage?.buildId);
  put(EDGEHOG.BaseImage, "/fingerprint", info.baseImage?.fingerprint);
  put(EDGEHOG.RuntimeInfo, "/name", info.runtime?.name ?? "edgemq");
  put(EDGEHOG.RuntimeInfo, "/url", info.runtime?.url ?? "https://www.npmjs.com/package/edgemq");
  put(EDGEHOG.RuntimeInfo, "/version", info.runtime?.version ?? VERSION);
  put(EDGEHOG.RuntimeInfo, "/environment", info.runtime?.environment ?? host.environment);
  return out;
}

/** What the JavaScript runtime says about the host: OS name and version, and the runtime itself. */
export async function hostInfo(): Promise<{ osName: string; osVersion: string; environment: string }> {
  const os = await import("node:os");
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string }; process?: { version: string } };
  const environment = g.Deno ? `Deno ${g.Deno.version.deno}` : g.Bun ? `Bun ${g.Bun.version}` : `Node.js ${g.process?.version ?? "unknown"}`;
  return { osName: os.type(), osVersion: os.release(), environment };
}
