/**
 * MQTT 5.0 reason codes (section 2.4): each code's spec name and the packets that may carry it. A code's
 * meaning depends on the packet (0x00 is "Success", "Normal disconnection" or "Granted QoS 0"), so names are per
 * packet where they differ.
 */

import type { PacketType } from "./packets.js";

/** Packets that carry reason codes. */
export type ReasonPacket = Extract<PacketType, "connack" | "puback" | "pubrec" | "pubrel" | "pubcomp" | "suback" |
  "unsuback" | "disconnect" | "auth">;

/** One reason code: its value, its spec name, and the packets it may appear in. */
export interface ReasonCodeInfo {
  /** The byte on the wire. */
  readonly code: number;
  /** The spec's name for it (for 0x00, per packet: see reasonCodeName). */
  readonly name: string;
  /** Packets that may carry it. */
  readonly packets: readonly ReasonPacket[];
}

const CA = "connack", PA = "puback", PR = "pubrec", PL = "pubrel", PC = "pubcomp", SA = "suback", UA = "unsuback",
  DC = "disconnect", AU = "auth";

/** Every reason code of section 2.4, table 2-6, in order. */
export const REASON_CODES: readonly ReasonCodeInfo[] = [
  { code: 0x00, name: "Success", packets: [CA, PA, PR, PL, PC, UA, AU, DC, SA] },
  { code: 0x01, name: "Granted QoS 1", packets: [SA] },
  { code: 0x02, name: "Granted QoS 2", packets: [SA] },
  { code: 0x04, name: "Disconnect with Will Message", packets: [DC] },
  { code: 0x10, name: "No matching subscribers", packets: [PA, PR] },
  { code: 0x11, name: "No subscription existed", packets: [UA] },
  { code: 0x18, name: "Continue authentication", packets: [AU] },
  { code: 0x19, name: "Re-authenticate", packets: [AU] },
  { code: 0x80, name: "Unspecified error", packets: [CA, PA, PR, SA, UA, DC] },
  { code: 0x81, name: "Malformed Packet", packets: [CA, DC] },
  { code: 0x82, name: "Protocol Error", packets: [CA, DC] },
  { code: 0x83, name: "Implementation specific error", packets: [CA, PA, PR, SA, UA, DC] },
  { code: 0x84, name: "Unsupported Protocol Version", packets: [CA] },
  { code: 0x85, name: "Client Identifier not valid", packets: [CA] },
  { code: 0x86, name: "Bad User Name or Password", packets: [CA] },
  { code: 0x87, name: "Not authorized", packets: [CA, PA, PR, SA, UA, DC] },
  { code: 0x88, name: "Server unavailable", packets: [CA] },
  { code: 0x89, name: "Server busy", packets: [CA, DC] },
  { code: 0x8a, name: "Banned", packets: [CA] },
  { code: 0x8b, name: "Server shutting down", packets: [DC] },
  { code: 0x8c, name: "Bad authentication method", packets: [CA, DC] },
  { code: 0x8d, name: "Keep Alive timeout", packets: [DC] },
  { code: 0x8e, name: "Session taken over", packets: [DC] },
  { code: 0x8f, name: "Topic Filter invalid", packets: [SA, UA, DC] },
  { code: 0x90, name: "Topic Name invalid", packets: [CA, PA, PR, DC] },
  { code: 0x91, name: "Packet Identifier in use", packets: [PA, PR, SA, UA] },
  { code: 0x92, name: "Packet Identifier not found", packets: [PL, PC] },
  { code: 0x93, name: "Receive Maximum exceeded", packets: [DC] },
  { code: 0x94, name: "Topic Alias invalid", packets: [DC] },
  { code: 0x95, name: "Packet too large", packets: [CA, DC] },
  { code: 0x96, name: "Message rate too high", packets: [DC] },
  { code: 0x97, name: "Quota exceeded", packets: [CA, PA, PR, SA, DC] },
  { code: 0x98, name: "Administrative action", packets: [DC] },
  { code: 0x99, name: "Payload format invalid", packets: [CA, PA, PR, DC] },
  { code: 0x9a, name: "Retain not supported", packets: [CA, DC] },
  { code: 0x9b, name: "QoS not supported", packets: [CA, DC] },
  { code: 0x9c, name: "Use another server", packets: [CA, DC] },
  { code: 0x9d, name: "Server moved", packets: [CA, DC] },
  { code: 0x9e, name: "Shared Subscriptions not supported", packets: [SA, DC] },
  { code: 0x9f, name: "Connection rate exceeded", packets: [CA, DC] },
  { code: 0xa0, name: "Maximum connect time", packets: [DC] },
  { code: 0xa1, name: "Subscription Identifiers not supported", packets: [SA, DC] },
  { code: 0xa2, name: "Wildcard Subscriptions not supported", packets: [SA, DC] },
];

/** Reason code constants by name (section 2.4). */
export const ReasonCode = {
  Success: 0x00, NormalDisconnection: 0x00, GrantedQoS0: 0x00, GrantedQoS1: 0x01, GrantedQoS2: 0x02,
  DisconnectWithWillMessage: 0x04, NoMatchingSubscribers: 0x10, NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18, ReAuthenticate: 0x19, UnspecifiedError: 0x80, MalformedPacket: 0x81,
  ProtocolError: 0x82, ImplementationSpecificError: 0x83, UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85, BadUserNameOrPassword: 0x86, NotAuthorized: 0x87, ServerUnavailable: 0x88,
  ServerBusy: 0x89, Banned: 0x8a, ServerShuttingDown: 0x8b, BadAuthenticationMethod: 0x8c, KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e, TopicFilterInvalid: 0x8f, TopicNameInvalid: 0x90, PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92, ReceiveMaximumExceeded: 0x93, TopicAliasInvalid: 0x94, PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96, QuotaExceeded: 0x97, AdministrativeAction: 0x98, PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a, QoSNotSupported: 0x9b, UseAnotherServer: 0x9c, ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e, ConnectionRateExceeded: 0x9f, MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1, WildcardSubscriptionsNotSupported: 0xa2,
} as const;

const BY_CODE = new Map<number, ReasonCodeInfo>(REASON_CODES.map((r) => [r.code, r]));

/** What the spec says of `code`, or undefined when it is not a reason code. */
export function reasonCodeInfo(code: number): ReasonCodeInfo | undefined {
  return BY_CODE.get(code);
}

/** Whether `code` may appear in a `packet` (section 2.4, table 2-6). */
export function isValidReasonCode(packet: ReasonPacket, code: number): boolean {
  return BY_CODE.get(code)?.packets.includes(packet) ?? false;
}

/** The spec name of `code` in `packet` ("Normal disconnection" for DISCONNECT 0x00, ...); "unknown 0x.." if none. */
export function reasonCodeName(packet: ReasonPacket, code: number): string {
  if (code === 0) return packet === "disconnect" ? "Normal disconnection" : packet === "suback" ? "Granted QoS 0" : "Success";
  return BY_CODE.get(code)?.name ?? `unknown 0x${code.toString(16).padStart(2, "0")}`;
}

/** Whether `code` reports a failure (0x80 and above). */
export function isFailure(code: number): boolean {
  return code >= 0x80;
}
