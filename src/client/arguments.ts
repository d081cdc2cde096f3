/** The arguments of publish() and subscribe() as plain JavaScript may give them, checked: each refusal is a typed error. */

import { EdgemqError } from "../mqtt/errors.js";
import type { QoS } from "../mqtt/packets.js";
import { packetSize } from "../mqtt/encode.js";
import { show } from "../mqtt/show.js";
import { assertTopicFilter, topicNameLength } from "../mqtt/topic.js";
import type { PublishOptions } from "./client-types.js";
import { OptionsError, PublishError, SubscribeError } from "./errors.js";
import { ofType, toBytes } from "./checks.js";
import type { Payload } from "./options.js";

/** A publish's arguments, checked. */
export interface CheckedPublish {
  /** The payload's bytes. */
  bytes: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** The topic's length in UTF-8 bytes. */
  topicBytes: number;
}

/** The arguments of a publish, checked (throws the typed error that refuses it). */
export function checkPublish(topic: string, payload: Payload, options: PublishOptions | null | undefined, maxOutgoingPacketSize: number): CheckedPublish {
  try {
    const topicBytes = topicNameLength(topic);
    ofType("the publish options", options, "object");
    const qos: unknown = options?.qos ?? 0; // read here, not through fields(): no array for the common call
    const retain: unknown = options?.retain;
    ofType("retain", retain, "boolean");
    if (!isQos(qos)) throw new PublishError("invalid-qos", `QoS ${show(qos)} is not 0, 1 or 2`);
    const bytes = toBytes(payload);
    if (!bytes) throw new PublishError("invalid-payload", `a payload is a string, a Uint8Array, an ArrayBuffer or an ArrayBufferView, not ${show(payload)}`);
    const size = packetSize(2 + topicBytes + (qos > 0 ? 2 : 0) + bytes.length);
    if (size > maxOutgoingPacketSize) {
      throw new PublishError("payload-too-large", `a PUBLISH of ${size} bytes exceeds maxOutgoingPacketSize (${maxOutgoingPacketSize})`);
    }
    return { bytes, qos, retain: retain === true, topicBytes };
  } catch (err) {
    // Only reading the options can throw something untyped here (a getter, a Proxy).
    throw err instanceof EdgemqError ? err : new OptionsError("the publish options could not be read", err);
  }
}

/** Whether `qos` is 0, 1 or 2. */
export const isQos = (qos: unknown): qos is QoS => qos === 0 || qos === 1 || qos === 2;

/** subscribe()'s filters as a list of valid filters, or the TopicError / SubscribeError "no-filters" that refuses them. */
export function filterList(filters: unknown): string[] {
  let list = [filters]; // one filter, or a value that is no list: refused as a filter below
  if (Array.isArray(filters)) {
    try {
      list = [...(filters as unknown[])];
    } catch {
      // an array whose reading throws (a Proxy): refused as a filter below
    }
  }
  if (list.length === 0) throw new SubscribeError([], [], "no-filters", "subscribe() needs at least one topic filter");
  for (const f of list) assertTopicFilter(f as string);
  return list as string[];
}

