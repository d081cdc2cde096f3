/** MQTT 3.1.1 control packets as one discriminated union on `type`. */

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
}

/** CONNACK (type 2): server -> client. */
export interface ConnackPacket {
  /** Packet type discriminator. */
  type: "connack";
  /** Whether the server resumed a stored session. */
  sessionPresent: boolean;
  /** 0 accepted; 1..5 refused (see ConnectReturnCode). */
  returnCode: number;
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
}

/** PUBACK (type 4). */
export interface PubackPacket {
  /** Packet type discriminator. */
  type: "puback";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
}
/** PUBREC (type 5). */
export interface PubrecPacket {
  /** Packet type discriminator. */
  type: "pubrec";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
}
/** PUBREL (type 6). */
export interface PubrelPacket {
  /** Packet type discriminator. */
  type: "pubrel";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
}
/** PUBCOMP (type 7). */
export interface PubcompPacket {
  /** Packet type discriminator. */
  type: "pubcomp";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
}

/** One topic filter with its requested QoS. */
export interface SubscriptionRequest {
  /** Topic filter. */
  topic: string;
  /** Requested maximum QoS. */
  qos: QoS;
}

/** SUBSCRIBE (type 8): client -> server. */
export interface SubscribePacket {
  /** Packet type discriminator. */
  type: "subscribe";
  /** Packet identifier, echoed by the SUBACK. */
  packetId: number;
  /** Topic filters with their requested QoS. */
  subscriptions: SubscriptionRequest[];
}

/** SUBACK return code: granted QoS, or 0x80 for failure. */
export type SubackCode = 0 | 1 | 2 | 0x80;

/** SUBACK (type 9): server -> client. */
export interface SubackPacket {
  /** Packet type discriminator. */
  type: "suback";
  /** Packet identifier of the SUBSCRIBE being acknowledged. */
  packetId: number;
  /** One return code per requested filter, in order. */
  granted: SubackCode[];
}

/** UNSUBSCRIBE (type 10): client -> server. */
export interface UnsubscribePacket {
  /** Packet type discriminator. */
  type: "unsubscribe";
  /** Packet identifier, echoed by the UNSUBACK. */
  packetId: number;
  /** Topic filters to unsubscribe from. */
  topics: string[];
}

/** UNSUBACK (type 11): server -> client. */
export interface UnsubackPacket {
  /** Packet type discriminator. */
  type: "unsuback";
  /** Packet identifier of the packet being acknowledged. */
  packetId: number;
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
/** DISCONNECT (type 14): client -> server. */
export interface DisconnectPacket {
  /** Packet type discriminator. */
  type: "disconnect";
}

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
