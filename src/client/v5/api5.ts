/** A v5 client's MQTT 5 part, loaded on first use: its options checked, its wires, its publish and subscribe options. */

import type { PacketProperties, QoS } from "../../mqtt/packets.js";
import { PublishError } from "../errors.js";
import type { V5Api } from "../wire.js";
import { connectProperties } from "./properties5.js";
import { publishProperties, resolveV5, subscriptionOptions, type V5Options } from "./options5.js";
import { authenticate } from "./auth5.js";
import { reauthenticate } from "./reauth5.js";
import { Wire5 } from "./wire5.js";

/** Checks `raw` (the client's options; OptionsError names a wrong one) and returns the v5 part built on them. */
export function createV5(raw: Record<string, unknown>): V5Api {
  const v5: V5Options = resolveV5(raw);
  /** The wire of the latest connection: its CONNACK says what the server takes. */
  let current: Wire5 | undefined;
  return {
    wire: (maxPacketSize) => (current = new Wire5({ maxPacketSize, topicAliasMaximum: v5.topicAliasMaximum })),
    connectProperties: (maxPacketSize): PacketProperties => connectProperties(v5, maxPacketSize),
    publishProperties: (options, qos, retain, size) => {
      if (current) refuseBeyondServer(current, qos, retain, size);
      return options ? publishProperties(options as Record<string, unknown>) : undefined;
    },
    subscriptionOptions,
    redirect: (reason, from) => (v5.followServerReference ? serverReferenceUrl(reason, from) : undefined),
    authenticate,
    reauthenticate,
  };
}

/**
 * Where a Server Reference sends the next attempt: a URL as it is, or "host" / "host:port" on the current scheme
 * (MQTT 5 leaves its format open; a list of several is taken by its first entry). Undefined when there is none or it
 * does not parse.
 */
function serverReferenceUrl(reason: Error | undefined, from: string): string | undefined {
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
function refuseBeyondServer(wire: Wire5, qos: QoS, retain: boolean, size: number): void {
  const { maximumQoS, retainAvailable, maximumPacketSize } = wire.server;
  if (maximumQoS !== undefined && qos > maximumQoS) {
    throw new PublishError("qos-not-supported", `the server takes messages up to QoS ${maximumQoS} (its CONNACK's Maximum QoS), not QoS ${qos}`);
  }
  if (retain && retainAvailable === false) throw new PublishError("retain-not-supported", "the server does not take retained messages (its CONNACK's Retain Available is 0)");
  if (maximumPacketSize !== undefined && size > maximumPacketSize) {
    throw new PublishError("payload-too-large", `a PUBLISH of about ${size} bytes exceeds the server's Maximum Packet Size (${maximumPacketSize})`);
  }
}
