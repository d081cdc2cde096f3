/** The error of the pairing layer, in a module of its own so pairing-api.ts and certificates.ts share it without a cycle. */

import { EdgemqError } from "../index.js";

/** Codes of PairingError. */
export type PairingErrorCode = "http-error" | "network-error" | "invalid-response" | "missing-dependency" | "registration-failed";

/** The pairing API refused or failed a request, answered something unusable, or a needed package is missing. */
export class PairingError extends EdgemqError {
  /** Always "PairingError". */
  override readonly name = "PairingError";
  /** Why pairing failed. */
  declare readonly code: PairingErrorCode;
  /** The HTTP status, when the API answered one. */
  readonly status: number | undefined;
  /** Creates a PairingError; `status` is the HTTP status, `cause` the underlying error, if any. */
  constructor(code: PairingErrorCode, message: string, status?: number, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.status = status;
  }
}

/** The API could not be reached or failed on its side (5xx): worth trying again later. */
export function unavailable(err: unknown): boolean {
  return err instanceof PairingError && (err.code === "network-error" || (err.code === "http-error" && (err.status ?? 0) >= 500));
}
