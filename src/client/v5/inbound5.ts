/**
 * The client's side of MQTT 5 flow control and error handling on one connection: its Receive Maximum watched on the
 * server (QoS 1/2 PUBLISHes received and not yet finally answered: PUBACK, PUBCOMP, or a PUBREC refusing the message),
 * and the DISCONNECT reason code that tells the server why the client drops a connection for a protocol error
 * (section 4.13: the client SHOULD send it before closing). Part of the lazily loaded v5 module.
 *
 * A server beyond the Receive Maximum is reported, not disconnected from (the spec's 0x93): mosquitto 2.0.11 sends one
 * more than the client's Receive Maximum after acks come back (eclipse-mosquitto/mosquitto#2301), and the same
 * messages would come again after every reconnect, so a strict client would flap forever and deliver nothing.
 */

import type { ProtocolError, ProtocolErrorCode } from "../../mqtt/errors.js";
import type { Packet } from "../../mqtt/packets.js";
import type { Link } from "../link.js";

/** QoS 1/2 messages from the server that this client has not finally answered yet, against its Receive Maximum. */
export class InboundQuota {
  private readonly open = new Set<number>();
  private reported = false;

  constructor(
    private readonly receiveMaximum: number,
    /** The server went beyond the Receive Maximum (called once per connection). */
    private readonly exceeded: (message: string) => void,
  ) {}

  /** A PUBLISH arrived. */
  received(qos: 0 | 1 | 2, packetId: number | undefined): void {
    if (qos === 0) return;
    this.open.add(packetId!); // a redelivery of one still open counts once
    if (this.open.size > this.receiveMaximum && !this.reported) {
      this.reported = true;
      this.exceeded(`the server has ${this.open.size} QoS 1/2 messages unanswered, beyond this client's Receive Maximum (${this.receiveMaximum}); they are taken all the same (reported once per connection)`);
    }
  }

  /** A packet this client sent: a final answer frees its message's place. */
  sent(p: Packet): void {
    if (p.type === "puback" || p.type === "pubcomp" || (p.type === "pubrec" && (p.reasonCode ?? 0) >= 0x80)) this.open.delete(p.packetId);
  }
}

/**
 * Reason codes by fault, as the spec words them: what parses but the protocol does not allow (a property twice, a value
 * out of range, a missing one, a reason code the packet may not carry, a packet out of turn) is a Protocol Error
 * (0x82); a few faults have codes of their own; everything that does not parse as specified is a Malformed Packet (0x81).
 */
const REASONS: Partial<Record<ProtocolErrorCode, number>> = {
  "duplicate-property": 0x82,
  "invalid-property-value": 0x82,
  "missing-property": 0x82,
  "invalid-reason-code": 0x82,
  "unexpected-packet-type": 0x82,
  "invalid-topic-alias": 0x94,
  "packet-too-large": 0x95,
};

/**
 * Tells the server why this client drops the connection for `err`, a protocol error of the server's: DISCONNECT with
 * its reason code, written now (the connection is closed right after; what was queued before goes out ahead of it).
 */
export function sendDisconnectFor(link: Link, err: ProtocolError): void {
  link.send({ type: "disconnect", reasonCode: REASONS[err.code] ?? 0x81 });
  link.flush();
}
