/**
 * The control packets as the client handles them: MQTT 3.1.1's, one discriminated union on `type`. Under MQTT 5 the
 * same shapes carry v5's extras in optional fields (`properties`, reason codes, subscription options); the v5 codec
 * (src/mqtt/v5, loaded only when a client asks for protocol version 5) converts at the wire.
 */

import type { Properties } from "./v5/packets.js";

/** MQTT 5 properties of a packet (absent under 3.1.1). */
export type PacketProperties = Properties;

/** MQTT 5 properties of a received message (fields the message did not carry are absent). */
export interface MessageProperties {
  /** Seconds the message has left to live (the broker subtracts the time it waited). */
  messageExpiryInterval?: number;
  /** Content type. */
  contentType?: string;
  /** 1: the payload is UTF-8 text; 0: unspecified bytes. */
  payloadFormatIndicator?: 0 | 1;
  /** Where the publisher expects a reply. */
  responseTopic?: string;
  /** Data to send back with the reply. */
  correlationData?: Uint8Array;
  /** User properties; a repeated key is an array of its values. */
  userProperties?: Record<string, string | string[]>;
  /** Identifiers of the subscriptions that matched. */
  subscriptionIdentifiers?: number[];
}


/** Delivery guarantee: at most once, at least once, exactly once. */
export type QoS = 0 | 1 | 2;

/** The will message the broker publishes when the client vanishes without DISCONNECT. */
export interface Will {
  /** Topic the will message is published to. */
  topic: string;
  /** Will message payload. */
  payload: Uint8Array;
  /** QoS the will message is published with. */
  qos: QoS;
  /** Whether the broker retains the will message. */
  retain: boolean;
  /** MQTT 5 will properties. */
  properties?: PacketProperties;
}

/** CONNECT (type 1): client -> server. */
export interface ConnectPacket {
  /** Packet type discriminator. */
  type: "connect";
  /** Client identifier. */
  clientId: string;
  /** Clean session flag: discard any previous session state. */
  clean: boolean;
  /** Seconds, 0..65535; 0 disables keepalive. */
  keepalive: number;
  /** User name, if any. */
  username?: string;
  /** Password bytes, if any. */
  password?: Uint8Array;
  /** Will message, if any. */
  will?: Will;
  /** MQTT 5 CONNECT properties. */
  properties?: PacketProperties;
}

/** CONNACK (type 2): server -> client. */
export interface ConnackPacket {
  /** Packet type discriminator. */
  type: "connack";
  /** Whether the server resumed a stored session. */
  sessionPresent: boolean;
  /** 0 accepted; 1..5 refused (see ConnectReturnCode); under MQTT 5 the reason code (>= 0x80 refused). */
  returnCode: number;
  /** MQTT 5 CONNACK properties. */
  properties?: PacketProperties;
}

/** PUBLISH (type 3): both directions. */
export interface PublishPacket {
  /** Packet type discriminator. */
  type: "publish";
  /** Topic name. */
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
  /** MQTT 5 PUBLISH properties. */
  properties?: PacketProperties;
  /** MQTT 5, received: the properties as the API gives them (Message.properties). */
  messageProperties?: MessageProperties;
}

/** PUBACK (type 4). */
export interface PubackPacket {
  /** Packet type discriminator. */
  type: "puback";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
  /** MQTT 5 reason code (0 when absent). */
  reasonCode?: number;
  /** MQTT 5 properties (reason string, user properties). */
  properties?: PacketProperties;
  /**
   * MQTT 5, set by the client's wire on a PUBACK (or PUBREC) with a failure reason code: the error that ends the
   * message on `topic` (a refused QoS 2 exchange ends there, without PUBREL).
   */
  refused?: (topic: string) => Error;
}
/** PUBREC (type 5). */
export interface PubrecPacket {
  /** Packet type discriminator. */
  type: "pubrec";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
  /** MQTT 5 reason code (0 when absent). */
  reasonCode?: number;
  /** MQTT 5 properties (reason string, user properties). */
  properties?: PacketProperties;
}
/** PUBREL (type 6). */
export interface PubrelPacket {
  /** Packet type discriminator. */
  type: "pubrel";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
  /** MQTT 5 reason code (0 when absent). */
  reasonCode?: number;
  /** MQTT 5 properties (reason string, user properties). */
  properties?: PacketProperties;
}
/** PUBCOMP (type 7). */
export interface PubcompPacket {
  /** Packet type discriminator. */
  type: "pubcomp";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
  /** MQTT 5 reason code (0 when absent). */
  reasonCode?: number;
  /** MQTT 5 properties (reason string, user properties). */
  properties?: PacketProperties;
}

/** One topic filter with its requested QoS. */
export interface SubscriptionRequest {
  /** Topic filter. */
  topic: string;
  /** Requested maximum QoS. */
  qos: QoS;
  /** MQTT 5: do not receive this client's own publishes. */
  noLocal?: boolean;
  /** MQTT 5: keep the RETAIN flag as published. */
  retainAsPublished?: boolean;
  /** MQTT 5: 0 send retained messages, 1 only for a new subscription, 2 never. */
  retainHandling?: 0 | 1 | 2;
  /** MQTT 5: the subscription identifier (a SUBSCRIBE carries one for all its filters: the v5 wire lifts it). */
  subscriptionIdentifier?: number;
}

/** SUBSCRIBE (type 8): client -> server. */
export interface SubscribePacket {
  /** Packet type discriminator. */
  type: "subscribe";
  /** Packet identifier, echoed by the SUBACK. */
  packetId: number;
  /** Topic filters with their requested QoS. */
  subscriptions: SubscriptionRequest[];
  /** MQTT 5 SUBSCRIBE properties (subscription identifier, user properties). */
  properties?: PacketProperties;
}

/** SUBACK return code: granted QoS, or 0x80 for failure. */
export type SubackCode = 0 | 1 | 2 | 0x80;

/** SUBACK (type 9): server -> client. */
export interface SubackPacket {
  /** Packet type discriminator. */
  type: "suback";
  /** Packet identifier of the SUBSCRIBE being acknowledged. */
  packetId: number;
  /** One return code per requested filter, in order (under MQTT 5 any failure is 0x80 here; see reasonCodes). */
  granted: SubackCode[];
  /** MQTT 5 reason codes, one per filter. */
  reasonCodes?: number[];
  /** MQTT 5 SUBACK properties. */
  properties?: PacketProperties;
}

/** UNSUBSCRIBE (type 10): client -> server. */
export interface UnsubscribePacket {
  /** Packet type discriminator. */
  type: "unsubscribe";
  /** Packet identifier, echoed by the UNSUBACK. */
  packetId: number;
  /** Topic filters to unsubscribe from. */
  topics: string[];
  /** MQTT 5 UNSUBSCRIBE properties. */
  properties?: PacketProperties;
}

/** UNSUBACK (type 11): server -> client. */
export interface UnsubackPacket {
  /** Packet type discriminator. */
  type: "unsuback";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
  /** MQTT 5 reason codes, one per filter. */
  reasonCodes?: number[];
  /** MQTT 5 properties (reason string, user properties). */
  properties?: PacketProperties;
  /** MQTT 5, set by the client's wire when a reason code is a failure: the error for the request's `filters`. */
  refused?: (filters: string[]) => Error;
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
/** DISCONNECT (type 14): client -> server (under MQTT 5 also server -> client). */
export interface DisconnectPacket {
  /** Packet type discriminator. */
  type: "disconnect";
  /** MQTT 5 reason code (0 when absent). */
  reasonCode?: number;
  /** MQTT 5 DISCONNECT properties. */
  properties?: PacketProperties;
}

/** AUTH (type 15, MQTT 5 only): an enhanced authentication step, either direction. */
export interface AuthPacket {
  /** Packet type discriminator. */
  type: "auth";
  /** 0x00 success, 0x18 continue authentication, 0x19 re-authenticate. */
  reasonCode: number;
  /** Authentication method and data, reason string, user properties. */
  properties?: PacketProperties;
}

/** Any control packet (MQTT 3.1.1's, plus AUTH under MQTT 5). */
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

/** Wire type number (the high nibble of the first byte) for each MQTT 3.1.1 packet type. */
export const PACKET_TYPE_CODES: { readonly [K in Exclude<PacketType, "auth">]: number } = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
};

/** CONNACK return codes (MQTT 3.1.1 section 3.2.2.3). */
export const ConnectReturnCode = {
  /** 0: connection accepted. */
  Accepted: 0,
  /** 1: the broker does not support MQTT 3.1.1. */
  UnacceptableProtocolVersion: 1,
  /** 2: the client identifier is not allowed. */
  IdentifierRejected: 2,
  /** 3: the MQTT service is unavailable. */
  ServerUnavailable: 3,
  /** 4: the user name or password is malformed or wrong. */
  BadUsernameOrPassword: 4,
  /** 5: the client is not authorized to connect. */
  NotAuthorized: 5,
} as const;

/** The largest remaining length MQTT can express (4 bytes of varint). */
export const MAX_REMAINING_LENGTH = 268_435_455;
