/** A v5 client's MQTT 5 part, loaded on first use: its options checked, its wires, its publish and subscribe options. */

import type { PacketProperties } from "../../mqtt/packets.js";
import type { V5Api } from "../wire.js";
import { connectProperties } from "./properties5.js";
import { publishProperties, resolveV5, subscriptionOptions, type V5Options } from "./options5.js";
import { Wire5 } from "./wire5.js";

/** Checks `raw` (the client's options; OptionsError names a wrong one) and returns the v5 part built on them. */
export function createV5(raw: Record<string, unknown>): V5Api {
  const v5: V5Options = resolveV5(raw);
  return {
    wire: (maxPacketSize) => new Wire5({ maxPacketSize, topicAliasMaximum: v5.topicAliasMaximum }),
    connectProperties: (maxPacketSize): PacketProperties => connectProperties(v5, maxPacketSize),
    publishProperties: (options) => publishProperties(options as Record<string, unknown>),
    subscriptionOptions,
  };
}
