/**
 * What a Device does after every CONNACK, before the client sends anything it holds: the full handshake when the
 * broker lost the session (discarding what the handshake replaces or what belongs to interfaces gone since), then the
 * property changes made offline, then retention. Also keeps retention free of messages of removed or changed interfaces.
 */

import type { DeviceOptions } from "./device-types.js";
import type { DeviceWarningCode } from "./errors.js";
import type { Handshake } from "./handshake.js";
import type { Interface } from "./interface.js";
import type { PropertyCache } from "./properties.js";
import type { RetainedMessage } from "./retention.js";
import type { Sender } from "./sender.js";
import type { ResumeContext } from "../index.js";

/** What the resume coordination needs from its Device. */
export interface ResumePort {
  /** `<realm>/<deviceId>`. */
  readonly prefix: string;
  /** The device's interfaces, live (changes at run time are seen). */
  readonly interfaces: ReadonlyMap<string, Interface>;
  /** Device-owned property changes made offline are published from here. */
  readonly properties: PropertyCache;
  /** The Astarte handshake. */
  readonly handshake: Handshake;
  /** What the device hands to the client; ready once resumed. */
  readonly sender: Sender;
  /** A property publish failed (the "error" event). */
  error(err: Error): void;
  /** Emits a DeviceWarning. */
  warn(code: DeviceWarningCode, message: string): void;
}

/** Runs the handshake or resumes after each CONNACK, and publishes device property changes. */
export class ResumeCoordinator {
  private ran = false;

  constructor(private readonly port: ResumePort) {}

  /** Whether the last CONNACK needed the full handshake. */
  get handshakeRan(): boolean {
    return this.ran;
  }

  /**
   * After every CONNACK, before the client sends anything it holds: a session the broker lost first gets the full
   * handshake (what the client still holds that the handshake replaces, or that belongs to interfaces gone since,
   * is discarded), then property changes made offline go out once each, then retention and queued sends.
   */
  async resume(resume: ResumeContext, userHook: DeviceOptions["beforeResume"]): Promise<void> {
    const { prefix, interfaces, properties, handshake, sender } = this.port;
    const full = handshake.needed(resume.sessionPresent);
    this.ran = full;
    const previous = announcedMajors(handshake.announced);
    resume.discard(({ topic }) => {
      const name = this.interfaceOf(topic);
      if (name === undefined) return full; // introspection, capabilities, control: the handshake sends them anew
      const iface = interfaces.get(name);
      if (!iface || (full && previous.has(name) && previous.get(name) !== iface.major)) return true;
      return full && iface.type === "properties" && iface.ownership === "device"; // republished from the cache
    });
    const completed = full ? await handshake.run(resume) : undefined;
    await userHook?.(resume);
    for (const p of properties.pending()) {
      // Held by the client behind what the previous connection left unacknowledged, so the latest value lands last.
      this.publishProperty(`${prefix}/${p.interfaceName}${p.path}`, p.payload).catch((err: Error) => this.port.error(err));
      properties.settle(p);
    }
    sender.ready = true;
    // Only now: a send made when handshakeComplete() resolves goes straight out.
    if (completed !== undefined) handshake.finish(completed);
  }

  /** Publishes a device property change; one the client discarded (a lost session) is republished by the handshake. */
  async publishProperty(topic: string, payload: Uint8Array): Promise<void> {
    try {
      await this.port.sender.publish(topic, payload, 2);
    } catch (err) {
      if ((err as { code?: string }).code !== "message-discarded") throw err;
    }
  }

  /** Drops retained messages of removed or changed interfaces and warns ("data-dropped") if there were any. */
  warnStaleRetention(): void {
    const n = this.dropStaleRetention();
    if (n > 0) this.port.warn("data-dropped", `dropped ${n} retained message(s) of removed or changed interfaces`);
  }

  /** Drops retained messages whose interface was removed or changed its major version; returns how many. */
  private dropStaleRetention(): number {
    const stale = (m: RetainedMessage): boolean => {
      const iface = this.port.interfaces.get(this.interfaceOf(m.topic) ?? "");
      return !iface || (m.major !== undefined && m.major !== iface.major);
    };
    return this.port.sender.dropWhere(stale);
  }

  /** The interface a topic of this device is about, or undefined for the introspection and control topics. */
  private interfaceOf(topic: string): string | undefined {
    const { prefix } = this.port;
    if (!topic.startsWith(`${prefix}/`)) return undefined;
    const name = topic.slice(prefix.length + 1).split("/", 1)[0]!;
    return name === "control" || name === "capabilities" ? undefined : name;
  }
}

/** `name:major:minor;...` as name -> major. */
function announcedMajors(introspection: string): Map<string, number> {
  const majors = new Map<string, number>();
  for (const entry of introspection.split(";")) {
    const [name, major] = entry.split(":");
    if (name && major !== undefined) majors.set(name, Number(major));
  }
  return majors;
}
