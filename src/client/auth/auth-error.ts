/**
 * The error of enhanced authentication (MQTT 5 AUTH) on the client's side. A file of its own: only the lazily loaded
 * MQTT 5 part and scramAuth() use it, so a 3.1.1 application does not carry it.
 */

import { EdgemqError } from "../../mqtt/errors.js";

/** Codes of AuthError. */
export type AuthErrorCode =
  | "auth-malformed"
  | "auth-nonce-mismatch"
  | "auth-iteration-count"
  | "auth-server-signature"
  | "auth-server-error"
  | "auth-state"
  | "auth-unsupported";

/**
 * Enhanced authentication (MQTT 5 AUTH) failed on the client's side: a server message that breaks the mechanism's
 * grammar ("auth-malformed"), a server nonce that does not extend the client's ("auth-nonce-mismatch"), an iteration
 * count above the client's cap ("auth-iteration-count"), a server signature that does not verify or is missing
 * ("auth-server-signature"), a server that reported an error such as `e=invalid-proof` ("auth-server-error", see
 * `serverError`), handler steps called out of order ("auth-state"), or a runtime without WebCrypto ("auth-unsupported").
 */
export class AuthError extends EdgemqError {
  /** Always "AuthError". */
  override readonly name = "AuthError";
  /** Why authentication failed. */
  declare readonly code: AuthErrorCode;
  /** The server's error value (the text after "e=") for "auth-server-error", else undefined. */
  readonly serverError: string | undefined;
  /** Creates an AuthError; `serverError` is the server's reported error, `cause` the underlying error, if any. */
  constructor(code: AuthErrorCode, message: string, serverError?: string, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.serverError = serverError;
  }
}
