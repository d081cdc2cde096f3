/**
 * Encoding what a server sends: CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP.
 * Only a broker (or a test broker) needs CONNACK, SUBACK, UNSUBACK and PINGRESP; the client imports none of this.
 */

import { ACK_FIRST_BYTE, encodePublish } from "./encode-client.js";
import { ProtocolError } from "./errors.js";
import type { Packet } from "./packets.js";
import { Writer, checkPacketId, encodeAck, wrongType } from "./writer.js";

const SENT_BY_CLIENT_ONLY = ["connect", "subscribe", "unsubscribe", "pingreq", "disconnect"];

/**
 * Encodes a packet a server sends. Throws ProtocolError when the packet cannot be expressed in MQTT 3.1.1, and
 * "unexpected-packet-type" for CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ and DISCONNECT (use encode()).
 */
export function encodeServerPacket(packet: Packet): Uint8Array {
  switch (packet.type) {
    case "publish":
      return encodePublish(packet);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return encodeAck(ACK_FIRST_BYTE[packet.type], packet.packetId);
    case "unsuback":
      return encodeAck(0xb0, packet.packetId);
    case "pingresp":
      return Uint8Array.of(0xd0, 0x00);
    case "connack": {
      if (!Number.isInteger(packet.returnCode) || packet.returnCode < 0 || packet.returnCode > 5) {
        throw new ProtocolError("invalid-return-code", `CONNACK return code ${packet.returnCode} is not 0..5`);
      }
      if (packet.returnCode !== 0 && packet.sessionPresent) {
        throw new ProtocolError("invalid-connack-flags", "a CONNACK refusing the connection must not set session present");
      }
      return Uint8Array.of(0x20, 0x02, packet.sessionPresent ? 1 : 0, packet.returnCode);
    }
    case "suback": {
      checkPacketId(packet.packetId);
      if (packet.granted.length === 0) throw new ProtocolError("empty-list", "SUBACK needs at least one return code");
      const w = new Writer(0x90, 2 + packet.granted.length);
      w.u16(packet.packetId);
      for (const code of packet.granted) {
        if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80) {
          throw new ProtocolError("invalid-suback-code", `SUBACK return code ${code} is not 0, 1, 2 or 0x80`);
        }
        w.u8(code);
      }
      return w.finish();
    }
    default:
      throw wrongType(packet, SENT_BY_CLIENT_ONLY, "server");
  }
}
