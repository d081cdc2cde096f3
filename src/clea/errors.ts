/** Typed errors of the Clea layer. Each has a stable `code`; names mirror what the Astarte server reports. */

import { EdgemqError } from "../index.js";

/** Codes of PayloadError. */
export type PayloadErrorCode =
  | "unexpected-value-type"
  | "non-finite-double"
  | "integer-out-of-range"
  | "value-size-exceeded"
  | "invalid-timestamp"
  | "invalid-bson"
  | "invalid-frame"
  | "inflate-limit-exceeded"
  | "unexpected-unset"
  | "message-too-large"
  | "unexpected-object-key"
  | "missing-object-key";

/** A value does not fit its mapping type, or bytes from the wire are not a valid payload. Nothing was published. */
export class PayloadError extends EdgemqError {
  /** Always "PayloadError". */
  override readonly name = "PayloadError";
  /** Why the value or payload was refused. */
  declare readonly code: PayloadErrorCode;
  /** Creates a PayloadError; `cause` is the underlying error, if any. */
  constructor(code: PayloadErrorCode, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
  }
}

/** Codes of InterfaceError. */
export type InterfaceErrorCode = "invalid-interface" | "interface-not-found" | "mapping-not-found" | "invalid-path" | "write-on-server-owned" | "unset-not-allowed" | "invalid-timestamp";

/** An interface definition breaks a rule, or a (interface, path) does not resolve to a mapping. */
export class InterfaceError extends EdgemqError {
  /** Always "InterfaceError". */
  override readonly name = "InterfaceError";
  /** Which rule the interface or path broke. */
  declare readonly code: InterfaceErrorCode;
  /** The interface concerned, when known. */
  readonly interfaceName: string | undefined;
  /** Creates an InterfaceError about `interfaceName`, when known. */
  constructor(code: InterfaceErrorCode, message: string, interfaceName?: string) {
    super(code, message);
    this.interfaceName = interfaceName;
  }
}

/** Codes of DeviceWarning. */
export type DeviceWarningCode =
  /** A file in the store directory could not be read (or written) and was replaced or skipped. */
  | "state-unreadable"
  /** Cached properties or retained messages of an interface that was removed or changed its major version. */
  | "data-dropped"
  /** An interface has a field Astarte does not know (kept out of the way; maybe a typo), or a deprecated form. */
  | "interface-warning"
  /** events() is not read fast enough: the oldest event was dropped. */
  | "event-buffer-full"
  /** An OTA request or cancel was ignored, or its state could not be kept. */
  | "ota"
  /** Edgehog telemetry could not be read or sent this time (a provider threw or gave a wrong value); the schedule goes on. */
  | "telemetry-failed"
  /** The application's command handler refused an Edgehog command; the message says which and why. */
  | "command-refused"
  /** An Edgehog request (LED behaviour, remote terminal session) was malformed or not applicable and was ignored. */
  | "invalid-request"
  /** An application handler for an Edgehog request (LED, remote terminal) threw. */
  | "handler-failed";

/** A condition the device handled by itself and reports (the `warning` event), with a stable `code`. */
export class DeviceWarning extends EdgemqError {
  /** Always "DeviceWarning". */
  override readonly name = "DeviceWarning";
  /** What condition is reported. */
  declare readonly code: DeviceWarningCode;
  /** Creates a DeviceWarning with the given `code` and `message`. */
  constructor(code: DeviceWarningCode, message: string) {
    super(code, message);
  }
}
