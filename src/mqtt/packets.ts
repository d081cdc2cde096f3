/** MQTT 3.1.1 control packets as one discriminated union on `type`. */

/** Delivery guarantee: at most once, at least once, exactly once. */
export type QoS = 0 | 1 | 2;

/** The will message the broker publishes when the client vanishes without DISCONNECT. */
export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

/** CONNECT (type 1): client -> server. */
export interface ConnectPacket {
  type: "connect";
  clientId: string;
  clean: boolean;
  /** Seconds, 0..65535; 0 disables keepalive. */
  keepalive: number;
  username?: string;
  password?: Uint8Array;
  will?: Will;
}

/** CONNACK (type 2): server -> client. */
export interface ConnackPacket {
  type: "connack";
  sessionPresent: boolean;
  /** 0 accepted; 1..5 refused (see ConnectReturnCode). */
  returnCode: number;
}

/** PUBLISH (type 3): both directions. */
export interface PublishPacket {
  type: "publish";
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present (1..65535) when qos > 0. */
  packetId?: number;
}

/** PUBACK (type 4). */
export interface PubackPacket { type: "puback"; packetId: number }
/** PUBREC (type 5). */
export interface PubrecPacket { type: "pubrec"; packetId: number }
/** PUBREL (type 6). */
export interface PubrelPacket { type: "pubrel"; packetId: number }
/** PUBCOMP (type 7). */
export interface PubcompPacket { type: "pubcomp"; packetId: number }

/** One topic filter with its requested QoS. */
export interface SubscriptionRequest {
  topic: string;
  qos: QoS;
}

/** SUBSCRIBE (type 8): client -> server. */
export interface SubscribePacket {
  type: "subscribe";
  packetId: number;
  subscriptions: SubscriptionRequest[];
}

/** SUBACK return code: granted QoS, or 0x80 for failure. */
export type SubackCode = 0 | 1 | 2 | 0x80;

/** SUBACK (type 9): server -> client. */
export interface SubackPacket {
  type: "suback";
  packetId: number;
  granted: SubackCode[];
}

/** UNSUBSCRIBE (type 10): client -> server. */
export interface UnsubscribePacket {
  type: "unsubscribe";
  packetId: number;
  topics: string[];
}

/** UNSUBACK (type 11): server -> client. */
export interface UnsubackPacket { type: "unsuback"; packetId: number }
/** PINGREQ (type 12): client -> server. */
export interface PingreqPacket { type: "pingreq" }
/** PINGRESP (type 13): server -> client. */
export interface PingrespPacket { type: "pingresp" }
/** DISCONNECT (type 14): client -> server. */
export interface DisconnectPacket { type: "disconnect" }

/** Any MQTT 3.1.1 control packet. */
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
  | DisconnectPacket;

/** The packet type names. */
export type PacketType = Packet["type"];

/** Wire type number (the high nibble of the first byte) for each packet type. */
export const PACKET_TYPE_CODES: { readonly [K in PacketType]: number } = {
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
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUsernameOrPassword: 4,
  NotAuthorized: 5,
} as const;

/** The largest remaining length MQTT can express (4 bytes of varint). */
export const MAX_REMAINING_LENGTH = 268_435_455;
