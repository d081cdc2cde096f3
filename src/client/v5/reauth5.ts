/**
 * MQTT 5 re-authentication on a live connection (`client.reauthenticate()`): AUTH 0x19 with the handler's first data,
 * each server AUTH "continue" (0x18) answered by the handler, and the server's AUTH "success" (0x00) checked by
 * `done()`. Part of the lazily loaded v5 module.
 */

import { EdgemqError, ProtocolError } from "../../mqtt/errors.js";
import type { AuthPacket, Packet } from "../../mqtt/packets.js";
import type { AuthHandler } from "../auth/auth-handler.js";
import { ConnectError } from "../errors.js";
import { authProperties } from "./auth5.js";

/** A re-authentication under way. */
export interface Reauthentication {
  /** Settles when the server accepted and was verified, or the exchange failed. */
  readonly done: Promise<void>;
  /** An AUTH from the server. */
  receive(p: AuthPacket): void;
  /** Ends it with `err` (the connection was lost). */
  fail(err: Error): void;
}

/** Starts a re-authentication; `send` writes a packet on the connection. */
export function reauthenticate(handler: AuthHandler, send: (p: Packet) => void): Reauthentication {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The handler's own errors (scramAuth()'s AuthError) as they are; anything else as a failed authentication.
  const fail = (err: unknown) => reject(err instanceof EdgemqError ? err : new ConnectError("authentication-failed", `re-authentication failed: ${err instanceof Error ? err.message : String(err)}`, undefined, err));
  const answer = (reasonCode: number, data: Uint8Array | undefined) => send({ type: "auth", reasonCode, properties: authProperties(handler, data) });
  handler.start().then((data) => answer(0x19, data), fail);
  return {
    done,
    fail,
    receive(p: AuthPacket): void {
      const data = p.properties?.authenticationData;
      if (p.properties?.authenticationMethod !== handler.method) {
        fail(new ProtocolError("unexpected-packet-type", `the broker answered the re-authentication with method ${String(p.properties?.authenticationMethod)}, not ${handler.method}`));
      } else if (p.reasonCode === 0x18) {
        handler.next(data).then((reply) => answer(0x18, reply), fail);
      } else if (p.reasonCode === 0x00) {
        (handler.done ? handler.done(data) : Promise.resolve()).then(resolve, fail);
      } else {
        fail(new ProtocolError("invalid-reason-code", `AUTH reason 0x${p.reasonCode.toString(16)} during a re-authentication`));
      }
    },
  };
}
