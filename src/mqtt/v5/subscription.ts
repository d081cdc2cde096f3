/** Topic filters and Subscription Options of MQTT 5.0 (sections 3.8.3.1 and 4.8.2, shared subscriptions). */

import { ProtocolError } from "../errors.js";
import { show } from "../show.js";
import { topicFilterProblem } from "../topic.js";
import type { SubscriptionRequest } from "./packets.js";

/** Why `filter` is not a valid v5 topic filter (a "$share/{ShareName}/{filter}" included), or undefined. */
export function filterProblem(filter: string): string | undefined {
  const problem = topicFilterProblem(filter);
  if (problem || !filter.startsWith("$share/")) return problem;
  const slash = filter.indexOf("/", 7);
  const shareName = filter.slice(7, slash < 0 ? undefined : slash);
  if (shareName === "" || shareName.includes("+") || shareName.includes("#")) {
    return "a shared subscription needs a ShareName without wildcards [MQTT-4.8.2-2]";
  }
  if (slash < 0 || slash === filter.length - 1) return "a shared subscription needs a topic filter after the ShareName [MQTT-4.8.2-2]";
  return undefined;
}

/** The Subscription Options byte of `s`; throws on QoS 3, Retain Handling 3, or No Local on a shared subscription. */
export function subscriptionOptions(s: SubscriptionRequest): number {
  const { qos } = s;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new ProtocolError("invalid-qos", `QoS ${show(qos)} is not 0, 1 or 2`);
  const rh = s.retainHandling ?? 0;
  if (rh !== 0 && rh !== 1 && rh !== 2) throw new ProtocolError("invalid-subscription-options", `retainHandling ${show(rh)} is not 0, 1 or 2`);
  if (s.noLocal && s.topic.startsWith("$share/")) {
    throw new ProtocolError("invalid-subscription-options", "No Local on a shared subscription [MQTT-3.8.3-4]");
  }
  return qos | (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | (rh << 4);
}
