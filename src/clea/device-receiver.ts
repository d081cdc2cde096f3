/**
 * The Device's receive path: what the server sends on the device's topics becomes a consumer purge of the server
 * properties cache, an Edgehog OTA request, a command, a property cache update, and an event for the Edgehog runtime
 * or the events() stream. Failures count as errors and go to the "error" event.
 */

import { EDGEHOG } from "./edgehog/interfaces.js";
import type { Interface } from "./interface.js";
import type { PropertyCache } from "./properties.js";
import { decodeIncoming, type DeviceEvent } from "./receive.js";

/** What the receive path needs from its Device. */
export interface ReceiverPort {
  /** `<realm>/<deviceId>`. */
  readonly prefix: string;
  /** The device's interfaces, live (changes at run time are seen). */
  readonly interfaces: ReadonlyMap<string, Interface>;
  /** Server-owned properties are cached here (and purged from here). */
  readonly properties: PropertyCache;
  /** Cap on inflating deflate frames from the server. */
  readonly maxInflatedSize: number;
  /** Whether the consumer purge list comes as plain text (the capabilities asked for it). */
  readonly plaintextPurge: boolean;
  /** An Edgehog OTARequest's fields (OtaManager.onRequest). */
  otaRequest(fields: Record<string, unknown>): void;
  /** An Edgehog command (the "command" event). */
  command(name: string): void;
  /** Offers the event to the Edgehog runtime; true when it took it. */
  edgehog(event: DeviceEvent): boolean;
  /** Pushes the event to the events() stream; `taken` is called once a reader took it. */
  push(event: DeviceEvent, taken?: () => void): void;
  /** A message that could not be decoded or handled (the "error" event). */
  error(err: Error): void;
}

/** Turns the server's messages into cache updates and events, and counts them. */
export class DeviceReceiver {
  /** Valid server messages turned into events. */
  received = 0;
  /** Server messages refused. */
  errors = 0;

  constructor(private readonly port: ReceiverPort) {}

  /** Handles a message from the server: a purge, an OTA request, a command, property updates and data events; failures count as errors and go to the "error" event. */
  receive(topic: string, payload: Uint8Array, ack: () => void): void {
    const { port } = this;
    let held = false;
    try {
      const incoming = decodeIncoming(port.prefix, port.interfaces, topic, payload, port.maxInflatedSize, port.plaintextPurge);
      if (incoming.kind === "purge") {
        for (const p of port.properties.list("server")) {
          if (incoming.keep.has(`${p.interfaceName}${p.path}`)) continue;
          port.properties.unset(p.interfaceName, p.path);
          this.deliver({ interface: p.interfaceName, path: p.path, value: undefined });
        }
        return;
      }
      const { event, iface } = incoming;
      if (iface.name === EDGEHOG.OTARequest && event.value && typeof event.value === "object") {
        this.received++;
        port.otaRequest(event.value as Record<string, unknown>);
        return;
      }
      if (iface.name === EDGEHOG.Commands && typeof event.value === "string") port.command(event.value);
      if (iface.type === "properties") {
        if (event.value === undefined) port.properties.unset(iface.name, event.path);
        else port.properties.set("server", iface.name, iface.major, event.path, payload);
      }
      this.deliver(event, ack);
      held = true;
    } catch (err) {
      this.errors++;
      port.error(err instanceof Error ? err : new Error(String(err)));
    } finally {
      // Handled here (a purge, an OTA request, an error): nothing waits for a reader.
      if (!held) ack();
    }
  }

  /** Counts a received event and pushes it to the events() stream, unless Edgehog handles it. */
  private deliver(event: DeviceEvent, taken?: () => void): void {
    this.received++;
    if (this.port.edgehog(event)) taken?.();
    else this.port.push(event, taken);
  }
}
