/** What AstarteSimulator records when a device does something the Astarte broker would punish. */

import { InterfaceError, PayloadError } from "../errors.js";

/**
 * The rule a device broke, as a stable string:
 * - `data-before-introspection`: data on an interface topic before the device published its introspection;
 * - `interface-not-in-introspection`: data on an interface the introspection does not declare;
 * - `major-mismatch`: the introspection declares a major version other than the interface the simulator knows;
 * - `unknown-interface`: data on an interface the introspection declares but the simulator does not know;
 * - `mapping-not-found`: the path resolves to no mapping (or is not a valid path);
 * - `write-on-server-owned`: the device published on a server-owned interface;
 * - `wrong-qos`: the QoS differs from the mapping's (unreliable 0, guaranteed 1, unique 2; properties 2); the only rule
 *   whose message is still taken into `data` / `properties`;
 * - `message-too-large`: a payload over the broker's 65,535 bytes;
 * - `invalid-bson`: the payload does not decode as a BSON `{v, t?}` document;
 * - `unexpected-value-type`, `non-finite-double`, `integer-out-of-range`, `value-size-exceeded`, `invalid-timestamp`,
 *   `unexpected-object-key`: the PayloadError code of a value that does not fit its mapping;
 * - `missing-object-key`: an object lacks a `required` mapping;
 * - `unset-not-allowed`: an empty payload on a datastream or on a property without `allow_unset`;
 * - `invalid-purge-frame`: a producer purge that does not inflate or parse;
 * - `invalid-capabilities`: a capabilities message that is not a BSON document with a known compression format;
 * - `invalid-introspection`: an introspection entry that is not `name:major:minor`.
 */
export type ViolationRule =
  | "data-before-introspection"
  | "interface-not-in-introspection"
  | "major-mismatch"
  | "unknown-interface"
  | "mapping-not-found"
  | "write-on-server-owned"
  | "wrong-qos"
  | "message-too-large"
  | "invalid-bson"
  | "unexpected-value-type"
  | "non-finite-double"
  | "integer-out-of-range"
  | "value-size-exceeded"
  | "invalid-timestamp"
  | "unexpected-object-key"
  | "missing-object-key"
  | "unset-not-allowed"
  | "invalid-purge-frame"
  | "invalid-capabilities"
  | "invalid-introspection";

/** One rule a device broke. */
export interface Violation {
  /** The device that broke it. */
  deviceId: string;
  /** Which rule (stable). */
  rule: ViolationRule;
  /** The MQTT topic of the offending message. */
  topic: string;
  /** A human-readable explanation. */
  detail: string;
}

/** The violation rule for an error thrown while resolving or decoding a device's data message. */
export function ruleOfError(err: unknown): ViolationRule | undefined {
  if (err instanceof InterfaceError) {
    if (err.code === "mapping-not-found" || err.code === "invalid-path") return "mapping-not-found";
    if (err.code === "write-on-server-owned") return "write-on-server-owned";
    if (err.code === "unset-not-allowed") return "unset-not-allowed";
    if (err.code === "invalid-timestamp") return "invalid-timestamp";
    return undefined;
  }
  if (err instanceof PayloadError) {
    switch (err.code) {
      case "invalid-bson":
      case "invalid-frame":
      case "inflate-limit-exceeded":
        return "invalid-bson";
      case "unexpected-unset":
        return "unset-not-allowed";
      case "message-too-large":
        return "message-too-large";
      default:
        return err.code;
    }
  }
  return undefined;
}
