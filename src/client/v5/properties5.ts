/** MQTT 5 properties between the client's options and the wire: CONNECT's from the options, a message's for the API. Lazily loaded. */

import type { PacketProperties } from "../../mqtt/packets.js";
import { userPropertiesToRecord } from "../../mqtt/v5/packets.js";
import type { MessageProperties } from "../client-types.js";
import type { V5Options } from "./options5.js";

/** The CONNECT properties of a v5 client. */
export function connectProperties(v5: V5Options, maxPacketSize: number): PacketProperties {
  const p: PacketProperties = {};
  if (v5.sessionExpiryInterval !== undefined) p.sessionExpiryInterval = v5.sessionExpiryInterval;
  if (v5.receiveMaximum !== undefined) p.receiveMaximum = v5.receiveMaximum;
  if (v5.topicAliasMaximum > 0) p.topicAliasMaximum = v5.topicAliasMaximum;
  p.maximumPacketSize = maxPacketSize;
  if (v5.userProperties) p.userProperties = v5.userProperties;
  return p;
}

/** A received PUBLISH's properties as the API gives them (user properties as a record); undefined when none apply. */
export function messageProperties(p: PacketProperties): MessageProperties | undefined {
  const out: MessageProperties = {};
  if (p.messageExpiryInterval !== undefined) out.messageExpiryInterval = p.messageExpiryInterval;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) out.correlationData = p.correlationData;
  if (p.subscriptionIdentifiers !== undefined) out.subscriptionIdentifiers = p.subscriptionIdentifiers;
  else if (p.subscriptionIdentifier !== undefined) out.subscriptionIdentifiers = [p.subscriptionIdentifier];
  if (p.userProperties) out.userProperties = userPropertiesToRecord(p.userProperties);
  for (const _ in out) return out;
  return undefined;
}

