/**
 * The pieces of MQTT 5 enhanced authentication shared by a connection attempt (v5/wire5.ts answers the challenges
 * and verifies the server) and a re-authentication (v5/reauth5.ts). Part of the lazily loaded v5 module.
 */

import type { PacketProperties } from "../../mqtt/packets.js";
import { show } from "../../mqtt/show.js";
import type { AuthHandler } from "../auth/auth-handler.js";
import { ConnectError } from "../errors.js";

/** Runs a step of the handler; what it throws becomes ConnectError "authentication-failed" (its cause). */
export async function step<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new ConnectError("authentication-failed", `authentication failed: ${err instanceof Error ? err.message : show(err)}`, undefined, err);
  }
}

/** The Authentication Method and Data of a CONNECT or AUTH. */
export function authProperties(handler: AuthHandler, data: Uint8Array | undefined): PacketProperties {
  return data ? { authenticationMethod: handler.method, authenticationData: data } : { authenticationMethod: handler.method };
}
