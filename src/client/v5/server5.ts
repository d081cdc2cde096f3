/**
 * What an MQTT 5 server says a client may do, applied on the client's side: its CONNACK's Maximum QoS, Retain
 * Available and Maximum Packet Size refuse a publish before anything is sent, and a Server Reference (with
 * followServerReference) names where the next attempt goes. Part of the lazily loaded v5 module.
 */

import type { QoS } from "../../mqtt/packets.js";
import { PublishError } from "../errors.js";
import type { Wire5 } from "./wire5.js";

/**
 * Where a Server Reference sends the next attempt: a URL as it is, or "host" / "host:port" on the current scheme
 * (MQTT 5 leaves its format open; a list of several is taken by its first entry). Undefined when there is none or it
 * does not parse.
 */
export function serverReferenceUrl(reason: Error | undefined, from: string): string | undefined {
  const ref = (reason as { serverReference?: unknown } | undefined)?.serverReference;
  if (typeof ref !== "string" || ref.trim() === "") return undefined;
  const first = ref.trim().split(/[\s,]+/)[0]!;
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(first)) return new URL(first).href;
    const base = new URL(from);
    const target = new URL(`${base.protocol}//${first}`);
    if (target.port === "" && base.port !== "" && !first.includes(":")) target.port = base.port;
    return target.href;
  } catch {
    return undefined;
  }
}

/**
 * Refuses, before anything is sent, a publish the server said it does not take in its CONNACK (Maximum QoS,
 * Retain Available, Maximum Packet Size): sending it would make the server close the connection.
 */
export function refuseBeyondServer(wire: Wire5, qos: QoS, retain: boolean, size: number): void {
  const { maximumQoS, retainAvailable, maximumPacketSize } = wire.server;
  if (maximumQoS !== undefined && qos > maximumQoS) {
    throw new PublishError("qos-not-supported", `the server takes messages up to QoS ${maximumQoS} (its CONNACK's Maximum QoS), not QoS ${qos}`);
  }
  if (retain && retainAvailable === false) throw new PublishError("retain-not-supported", "the server does not take retained messages (its CONNACK's Retain Available is 0)");
  if (maximumPacketSize !== undefined && size > maximumPacketSize) {
    throw new PublishError("payload-too-large", `a PUBLISH of about ${size} bytes exceeds the server's Maximum Packet Size (${maximumPacketSize})`);
  }
}
