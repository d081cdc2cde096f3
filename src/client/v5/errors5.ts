/**
 * The typed errors MQTT 5 reason codes become, with the spec's name of the code and the server's Reason String in
 * the message. Part of the lazily loaded v5 wire: a 3.1.1 application carries none of it.
 */

import type { ConnackPacket, DisconnectPacket, PubackPacket, PubrecPacket, SubackPacket, UnsubackPacket } from "../../mqtt/packets.js";
import { reasonCodeName, type ReasonPacket } from "../../mqtt/v5/reason-codes.js";
import { ConnectError, ConnectionLostError, PublishError, SubscribeError, type ConnectErrorCode } from "../errors.js";

/** CONNACK reason codes that mean what a 3.1.1 return code meant keep its error code. */
const CONNACK_CODES: Record<number, ConnectErrorCode> = {
  0x84: "unacceptable-protocol-version",
  0x85: "identifier-rejected",
  0x86: "bad-username-or-password",
  0x87: "not-authorized",
  0x88: "server-unavailable",
  0x89: "server-unavailable",
};

/** "Name (0xNN): reason string". */
function why(packet: ReasonPacket, code: number, reasonString: string | undefined, prefix = ""): string {
  return `${reasonCodeName(packet, code)} (${prefix}0x${code.toString(16).padStart(2, "0")})${reasonString ? `: ${reasonString}` : ""}`;
}

/** The spec's name of `code` on `packet`. */
export function reasonName(packet: string, code: number): string {
  return reasonCodeName(packet as ReasonPacket, code);
}

/** A refusing CONNACK: its 3.1.1 counterpart's code where there is one, else "connection-refused". */
export function connectError(ack: ConnackPacket): ConnectError {
  const code = ack.returnCode;
  const reasonString = ack.properties?.reasonString;
  const err = new ConnectError(CONNACK_CODES[code] ?? "connection-refused", `connection refused: ${why("connack", code, reasonString, "CONNACK ")}`);
  return Object.assign(err, { reasonCode: code, reasonString, serverReference: ack.properties?.serverReference });
}

/** A server's DISCONNECT: "server-disconnect" with its reason, reason string and server reference. */
export function disconnectError(p: DisconnectPacket): ConnectionLostError {
  const code = p.reasonCode ?? 0;
  const reasonString = p.properties?.reasonString;
  const err = new ConnectionLostError("server-disconnect", `the server disconnected: ${why("disconnect", code, reasonString)}`);
  return Object.assign(err, { reasonCode: code, reasonString, serverReference: p.properties?.serverReference });
}

/** A PUBACK or PUBREC with a failure reason: "publish-refused". */
export function publishRefused(topic: string, ack: PubackPacket | PubrecPacket): PublishError {
  const code = ack.reasonCode!;
  const reasonString = ack.properties?.reasonString;
  const err = new PublishError("publish-refused", `the broker refused the message on ${JSON.stringify(topic)}: ${why(ack.type, code, reasonString)}`);
  return Object.assign(err, { reasonCode: code, reasonString });
}

/** The refusal of a SUBACK or UNSUBACK: the failure reasons by name, and its Reason String. */
function refusal(ack: SubackPacket | UnsubackPacket, refused: string[], what: string): { reasonCodes: number[]; reasonString: string | undefined; message: string } {
  const reasonCodes = ack.reasonCodes ?? [];
  const reasonString = ack.properties?.reasonString;
  const reasons = [...new Set(reasonCodes.filter((c) => c >= 0x80))].map((c) => why(ack.type, c, undefined)).join(", ");
  const message = `the broker refused ${what} ${refused.map((f) => JSON.stringify(f)).join(", ")}: ${reasons}${reasonString ? `: ${reasonString}` : ""}`;
  return { reasonCodes, reasonString, message };
}

/** An UNSUBACK with failure reason codes for `filters` (in request order): "unsubscribe-refused", the codes per filter. */
export function unsubscribeRefused(filters: string[], ack: UnsubackPacket): SubscribeError {
  const refused = filters.filter((_, i) => (ack.reasonCodes?.[i] ?? 0) >= 0x80);
  const { message, ...reasons } = refusal(ack, refused, "to unsubscribe from");
  return Object.assign(new SubscribeError(refused, [], "unsubscribe-refused", message), reasons);
}

/** A SUBACK refusing `refused` filters: "subscribe-refused" with the reason codes per filter. */
export function subscribeRefused(refused: string[], ack: SubackPacket): SubscribeError {
  const { message, ...reasons } = refusal(ack, refused, "the subscription to");
  return Object.assign(new SubscribeError(refused, ack.granted, "subscribe-refused", message), reasons);
}
