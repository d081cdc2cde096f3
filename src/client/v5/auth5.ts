/**
 * The enhanced-authentication exchange of a connection attempt (MQTT 5): the handler's first data for CONNECT, its
 * answers to the server's challenges, and its verdict on the CONNACK's data. Part of the lazily loaded v5 module.
 */

import { ProtocolError } from "../../mqtt/errors.js";
import type { AuthPacket, Packet, PacketProperties } from "../../mqtt/packets.js";
import { show } from "../../mqtt/show.js";
import type { AuthHandler } from "../auth/auth-handler.js";
import { ConnectError } from "../errors.js";
import type { Authentication } from "../wire.js";

/** Runs a step of the handler; what it throws becomes ConnectError "authentication-failed" (its cause). */
async function step<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new ConnectError("authentication-failed", `authentication failed: ${err instanceof Error ? err.message : show(err)}`, undefined, err);
  }
}

/** The Authentication Method and Data of a CONNECT or AUTH. */
function properties(handler: AuthHandler, data: Uint8Array | undefined): PacketProperties {
  return data ? { authenticationMethod: handler.method, authenticationData: data } : { authenticationMethod: handler.method };
}

/** Starts the exchange of one attempt: the CONNECT properties come from the handler's start(). */
export async function authenticate(handler: AuthHandler): Promise<Authentication> {
  const first = await step(() => handler.start());
  return {
    connectProperties: properties(handler, first),
    challenge(p: AuthPacket, send: (p: Packet) => void, fail: (err: Error) => void): void {
      if (p.reasonCode !== 0x18 || p.properties?.authenticationMethod !== handler.method) {
        fail(new ProtocolError("unexpected-packet-type", `the broker sent AUTH 0x${p.reasonCode.toString(16)} for method ${show(p.properties?.authenticationMethod)} while authenticating with ${handler.method}`));
        return;
      }
      step(() => handler.next(p.properties?.authenticationData)).then((data) => send({ type: "auth", reasonCode: 0x18, properties: properties(handler, data) }), fail);
    },
    verify: (data) => step(async () => handler.done?.(data)),
  };
}
