/**
 * MQTT 5.0 control packets as one discriminated union on `type` (all 15 types, AUTH included), with their
 * properties (spec section 2.2.2) and reason codes (section 2.4). Wire order of user properties is kept.
 */

import type { QoS } from "../packets.js";

export type { QoS } from "../packets.js";

/** A user property (0x26) as sent: name and value, in wire order; a name may repeat. */
export type UserProperty = [key: string, value: string];

/** Every property MQTT 5.0 defines (section 2.2.2.2), by its field name. Which may appear where: see properties.ts. */
export interface Properties {
  /** 0x01: 0 unspecified bytes, 1 UTF-8 character data (PUBLISH, will). */
  payloadFormatIndicator?: 0 | 1;
  /** 0x02: lifetime of the message in seconds (PUBLISH, will). */
  messageExpiryInterval?: number;
  /** 0x03: MIME-like description of the payload (PUBLISH, will). */
  contentType?: string;
  /** 0x08: topic name for a response (PUBLISH, will). */
  responseTopic?: string;
  /** 0x09: binary data correlating a response with its request (PUBLISH, will). */
  correlationData?: Uint8Array;
  /** 0x0B on SUBSCRIBE: the identifier given to this subscription, 1..268,435,455. */
  subscriptionIdentifier?: number;
  /** 0x0B on PUBLISH (server to client): identifiers of every matching subscription, in wire order. */
  subscriptionIdentifiers?: number[];
  /** 0x11: seconds the session outlives the connection (CONNECT, CONNACK, DISCONNECT). */
  sessionExpiryInterval?: number;
  /** 0x12: client identifier assigned by the server (CONNACK). */
  assignedClientIdentifier?: string;
  /** 0x13: keep alive the server imposes, in seconds (CONNACK). */
  serverKeepAlive?: number;
  /** 0x15: name of the enhanced authentication method (CONNECT, CONNACK, AUTH). */
  authenticationMethod?: string;
  /** 0x16: authentication data of the method (CONNECT, CONNACK, AUTH). */
  authenticationData?: Uint8Array;
  /** 0x17: 0 asks the server not to send reason strings or user properties on failures (CONNECT). */
  requestProblemInformation?: 0 | 1;
  /** 0x18: seconds the server waits before publishing the will (will). */
  willDelayInterval?: number;
  /** 0x19: 1 asks the server for response information in the CONNACK (CONNECT). */
  requestResponseInformation?: 0 | 1;
  /** 0x1A: basis for response topics (CONNACK). */
  responseInformation?: string;
  /** 0x1C: another server the client should use (CONNACK, DISCONNECT). */
  serverReference?: string;
  /** 0x1F: human-readable reason (CONNACK, acks, SUBACK, UNSUBACK, DISCONNECT, AUTH). */
  reasonString?: string;
  /** 0x21: how many QoS 1/2 publications the sender accepts at once, 1..65535 (CONNECT, CONNACK). */
  receiveMaximum?: number;
  /** 0x22: highest topic alias the sender accepts (CONNECT, CONNACK). */
  topicAliasMaximum?: number;
  /** 0x23: topic alias, 1..65535 (PUBLISH). */
  topicAlias?: number;
  /** 0x24: highest QoS the server supports, 0 or 1 (absent means 2) (CONNACK). */
  maximumQoS?: 0 | 1;
  /** 0x25: whether the server supports retained messages (CONNACK). */
  retainAvailable?: boolean;
  /** 0x26: user properties, in wire order (every packet that has properties, will included). */
  userProperties?: UserProperty[];
  /** 0x27: largest packet the sender accepts, in bytes, at least 1 (CONNECT, CONNACK). */
  maximumPacketSize?: number;
  /** 0x28: whether the server supports wildcard subscriptions (CONNACK). */
  wildcardSubscriptionAvailable?: boolean;
  /** 0x29: whether the server supports subscription identifiers (CONNACK). */
  subscriptionIdentifierAvailable?: boolean;
  /** 0x2A: whether the server supports shared subscriptions (CONNACK). */
  sharedSubscriptionAvailable?: boolean;
}

/** Properties of a CONNECT (section 3.1.2.11). */
export type ConnectProperties = Pick<Properties, "sessionExpiryInterval" | "receiveMaximum" | "maximumPacketSize" |
  "topicAliasMaximum" | "requestResponseInformation" | "requestProblemInformation" | "userProperties" |
  "authenticationMethod" | "authenticationData">;
/** Will properties, in the CONNECT payload (section 3.1.3.2). */
export type WillProperties = Pick<Properties, "willDelayInterval" | "payloadFormatIndicator" | "messageExpiryInterval" |
  "contentType" | "responseTopic" | "correlationData" | "userProperties">;
/** Properties of a CONNACK (section 3.2.2.3). */
export type ConnackProperties = Pick<Properties, "sessionExpiryInterval" | "receiveMaximum" | "maximumQoS" |
  "retainAvailable" | "maximumPacketSize" | "assignedClientIdentifier" | "topicAliasMaximum" | "reasonString" |
  "userProperties" | "wildcardSubscriptionAvailable" | "subscriptionIdentifierAvailable" | "sharedSubscriptionAvailable" |
  "serverKeepAlive" | "responseInformation" | "serverReference" | "authenticationMethod" | "authenticationData">;
/** Properties of a PUBLISH (section 3.3.2.3). subscriptionIdentifiers only from server to client. */
export type PublishProperties = Pick<Properties, "payloadFormatIndicator" | "messageExpiryInterval" | "topicAlias" |
  "responseTopic" | "correlationData" | "userProperties" | "subscriptionIdentifiers" | "contentType">;
/** Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK (sections 3.4.2.2 ...). */
export type AckProperties = Pick<Properties, "reasonString" | "userProperties">;
/** Properties of a SUBSCRIBE (section 3.8.2.1). */
export type SubscribeProperties = Pick<Properties, "subscriptionIdentifier" | "userProperties">;
/** Properties of an UNSUBSCRIBE (section 3.10.2.1). */
export type UnsubscribeProperties = Pick<Properties, "userProperties">;
/** Properties of a DISCONNECT (section 3.14.2.2). */
export type DisconnectProperties = Pick<Properties, "sessionExpiryInterval" | "reasonString" | "userProperties" | "serverReference">;
/** Properties of an AUTH (section 3.15.2.2). */
export type AuthProperties = Pick<Properties, "authenticationMethod" | "authenticationData" | "reasonString" | "userProperties">;

/** The will message of a v5 CONNECT. */
export interface Will {
  /** Topic the will message is published to. */
  topic: string;
  /** Will message payload. */
  payload: Uint8Array;
  /** QoS the will message is published with. */
  qos: QoS;
  /** Whether the broker retains the will message. */
  retain: boolean;
  /** Will properties. */
  properties?: WillProperties;
}

/** CONNECT (type 1): client -> server. */
export interface ConnectPacket {
  /** Packet type discriminator. */
  type: "connect";
  /** Client identifier ("" asks the server to assign one). */
  clientId: string;
  /** Clean Start flag: discard any previous session. */
  clean: boolean;
  /** Seconds, 0..65535; 0 disables keepalive. */
  keepalive: number;
  /** User name, if any. */
  username?: string;
  /** Password bytes, if any (allowed without a user name in MQTT 5). */
  password?: Uint8Array;
  /** Will message, if any. */
  will?: Will;
  /** CONNECT properties. */
  properties?: ConnectProperties;
}

/** CONNACK (type 2): server -> client. */
export interface ConnackPacket {
  /** Packet type discriminator. */
  type: "connack";
  /** Whether the server resumed a stored session (always false with a reason code >= 0x80). */
  sessionPresent: boolean;
  /** CONNACK reason code: 0x00 success, >= 0x80 refused. */
  reasonCode: number;
  /** CONNACK properties. */
  properties?: ConnackProperties;
}

/** PUBLISH (type 3): both directions. */
export interface PublishPacket {
  /** Packet type discriminator. */
  type: "publish";
  /** Topic name; may be "" only when properties.topicAlias is set (the alias then names the topic). */
  topic: string;
  /** Application message. */
  payload: Uint8Array;
  /** Delivery QoS. */
  qos: QoS;
  /** RETAIN flag. */
  retain: boolean;
  /** DUP flag: this is a redelivery of an earlier attempt. */
  dup: boolean;
  /** Present (1..65535) when qos > 0. */
  packetId?: number;
  /** PUBLISH properties. */
  properties?: PublishProperties;
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP: packet id, reason code (0 when omitted on the wire), properties. */
export interface PubAckLike<T extends "puback" | "pubrec" | "pubrel" | "pubcomp"> {
  /** Packet type discriminator. */
  type: T;
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
  /** Reason code; 0x00 (success) when omitted. */
  reasonCode: number;
  /** Ack properties. */
  properties?: AckProperties;
}
/** PUBACK (type 4). */
export type PubackPacket = PubAckLike<"puback">;
/** PUBREC (type 5). */
export type PubrecPacket = PubAckLike<"pubrec">;
/** PUBREL (type 6). */
export type PubrelPacket = PubAckLike<"pubrel">;
/** PUBCOMP (type 7). */
export type PubcompPacket = PubAckLike<"pubcomp">;

/** Retain Handling: 0 send retained at subscribe, 1 only for a new subscription, 2 never. */
export type RetainHandling = 0 | 1 | 2;

/** One topic filter with its subscription options (section 3.8.3.1). */
export interface SubscriptionRequest {
  /** Topic filter. */
  topic: string;
  /** Requested maximum QoS. */
  qos: QoS;
  /** No Local: do not receive this client's own publications. Defaults to false. */
  noLocal?: boolean;
  /** Retain As Published: keep the RETAIN flag as published. Defaults to false. */
  retainAsPublished?: boolean;
  /** Retain Handling. Defaults to 0. */
  retainHandling?: RetainHandling;
}

/** SUBSCRIBE (type 8): client -> server. */
export interface SubscribePacket {
  /** Packet type discriminator. */
  type: "subscribe";
  /** Packet identifier, echoed by the SUBACK. */
  packetId: number;
  /** Topic filters with their options; at least one. */
  subscriptions: SubscriptionRequest[];
  /** SUBSCRIBE properties. */
  properties?: SubscribeProperties;
}

/** SUBACK (type 9): server -> client. */
export interface SubackPacket {
  /** Packet type discriminator. */
  type: "suback";
  /** Packet identifier of the SUBSCRIBE being acknowledged. */
  packetId: number;
  /** One reason code per requested filter, in order (0, 1, 2: granted QoS; >= 0x80 refused). */
  reasonCodes: number[];
  /** SUBACK properties. */
  properties?: AckProperties;
}

/** UNSUBSCRIBE (type 10): client -> server. */
export interface UnsubscribePacket {
  /** Packet type discriminator. */
  type: "unsubscribe";
  /** Packet identifier, echoed by the UNSUBACK. */
  packetId: number;
  /** Topic filters to unsubscribe from; at least one. */
  topics: string[];
  /** UNSUBSCRIBE properties. */
  properties?: UnsubscribeProperties;
}

/** UNSUBACK (type 11): server -> client. */
export interface UnsubackPacket {
  /** Packet type discriminator. */
  type: "unsuback";
  /** Packet identifier of the UNSUBSCRIBE being acknowledged. */
  packetId: number;
  /** One reason code per filter, in order. */
  reasonCodes: number[];
  /** UNSUBACK properties. */
  properties?: AckProperties;
}

/** PINGREQ (type 12): client -> server. */
export interface PingreqPacket {
  /** Packet type discriminator. */
  type: "pingreq";
}
/** PINGRESP (type 13): server -> client. */
export interface PingrespPacket {
  /** Packet type discriminator. */
  type: "pingresp";
}

/** DISCONNECT (type 14): both directions in MQTT 5. */
export interface DisconnectPacket {
  /** Packet type discriminator. */
  type: "disconnect";
  /** Reason code; 0x00 (normal disconnection) when omitted. */
  reasonCode: number;
  /** DISCONNECT properties (a server never sends sessionExpiryInterval). */
  properties?: DisconnectProperties;
}

/** AUTH (type 15): both directions, enhanced authentication. */
export interface AuthPacket {
  /** Packet type discriminator. */
  type: "auth";
  /** 0x00 success, 0x18 continue authentication, 0x19 re-authenticate; 0x00 when omitted. */
  reasonCode: number;
  /** AUTH properties (authenticationMethod is required unless the packet is empty). */
  properties?: AuthProperties;
}

/** Any MQTT 5.0 control packet. */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

/** The packet type names. */
export type PacketType = Packet["type"];

/** Wire type number (the high nibble of the first byte) for each v5 packet type. */
export const PACKET_TYPE_CODES: { readonly [K in PacketType]: number } = {
  connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7, subscribe: 8,
  suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12, pingresp: 13, disconnect: 14, auth: 15,
};

/** Where a property section occurs: each packet type that has one, plus the will properties of a CONNECT. */
export type PropertyContext = Exclude<PacketType, "pingreq" | "pingresp"> | "will";

/** User properties as a record: a name sent more than once maps to an array of its values, in wire order. */
export function userPropertiesToRecord(pairs: readonly UserProperty[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of pairs) {
    const seen = out[k];
    if (seen === undefined) out[k] = v;
    else if (typeof seen === "string") out[k] = [seen, v];
    else seen.push(v);
  }
  return out;
}

/** User properties from a record: an array value becomes one pair per element, in order. */
export function userPropertiesFromRecord(record: Readonly<Record<string, string | readonly string[]>>): UserProperty[] {
  const out: UserProperty[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (typeof v === "string") out.push([k, v]);
    else for (const one of v) out.push([k, one]);
  }
  return out;
}
