/**
 * The MQTT 5 options a client takes (CONNECT's, and those of publish() and subscribe()), checked: OptionsError names
 * a wrong one. Part of the lazily loaded v5 module: a 3.1.1 application carries none of it.
 */

import type { PacketProperties } from "../../mqtt/packets.js";
import { checkString } from "../../mqtt/utf8.js";
import type { AuthHandler } from "../auth/auth-handler.js";
import { OptionsError } from "../errors.js";
import { fields, toBytes } from "../checks.js";
import type { V5SubscriptionOptions } from "../subscription.js";

/** The MQTT 5 options, resolved: what goes into CONNECT and what the client enforces. */
export interface V5Options {
  /** Seconds the broker keeps the session after the connection ends. */
  sessionExpiryInterval: number | undefined;
  /** Most QoS 1/2 messages the server may have unacknowledged towards this client. */
  receiveMaximum: number | undefined;
  /** Most topic aliases the server may use towards this client. */
  topicAliasMaximum: number;
  /** User properties of CONNECT, as pairs. */
  userProperties: Array<[string, string]> | undefined;
  /** Whether a Server Reference (CONNACK or DISCONNECT "use another server", "server moved") is followed. */
  followServerReference: boolean;
  /** Enhanced authentication. */
  auth: AuthHandler | undefined;
}

/** Throws OptionsError unless `value` is undefined or an integer in min..max. */
function range(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) throw new OptionsError(`${name} must be an integer in ${min}..${max}`);
  return value as number;
}

/** A boolean option (default false); OptionsError for anything else. */
function flag(name: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw new OptionsError(`${name} must be a boolean`);
  return value;
}

/** User properties as wire pairs; OptionsError unless a record of valid MQTT strings (or arrays of them). */
export function userPropertyPairs(name: string, value: unknown): Array<[string, string]> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw new OptionsError(`${name} must be an object of string (or string array) values`);
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (typeof item !== "string" || checkString(k) || checkString(item)) throw new OptionsError(`${name}.${k} must be a valid MQTT string or an array of them`);
      pairs.push([k, item]);
    }
  }
  return pairs;
}

/** Resolves the v5 options of `o` (protocolVersion 5); OptionsError names what is wrong. */
export function resolveV5(o: Record<string, unknown>): V5Options {
  return {
    sessionExpiryInterval: range("sessionExpiryInterval", o.sessionExpiryInterval, 0, 0xffffffff),
    receiveMaximum: range("receiveMaximum", o.receiveMaximum, 1, 65_535),
    topicAliasMaximum: range("topicAliasMaximum", o.topicAliasMaximum, 0, 65_535) ?? 0,
    userProperties: userPropertyPairs("userProperties", o.userProperties),
    followServerReference: flag("followServerReference", o.followServerReference),
    auth: authHandler(o.auth),
  };
}

/** The auth option: undefined, or an enhanced-authentication handler (OptionsError for anything else). */
function authHandler(value: unknown): AuthHandler | undefined {
  if (value === undefined || value === null) return undefined;
  const h = value as Partial<AuthHandler>;
  if (typeof h !== "object" || typeof h.method !== "string" || typeof h.start !== "function" || typeof h.next !== "function") {
    throw new OptionsError("auth must be an enhanced-authentication handler { method, start(), next(data), done?(data) }, e.g. scramAuth()");
  }
  return h as AuthHandler;
}

/** The PUBLISH properties of v5 publish options; OptionsError names a wrong field. Undefined when there are none. */
export function publishProperties(o: Record<string, unknown>): PacketProperties | undefined {
  const p: PacketProperties = {};
  const expiry = range("messageExpiryInterval", o.messageExpiryInterval, 0, 0xffffffff);
  if (expiry !== undefined) p.messageExpiryInterval = expiry;
  for (const key of ["contentType", "responseTopic"] as const) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string" || checkString(v) || (key === "responseTopic" && (v === "" || /[#+]/.test(v)))) throw new OptionsError(`${key} must be a valid MQTT string${key === "responseTopic" ? " and topic name" : ""}`);
    p[key] = v;
  }
  const format = o.payloadFormatIndicator;
  if (format !== undefined && format !== null) {
    if (format !== 0 && format !== 1) throw new OptionsError("payloadFormatIndicator must be 0 or 1");
    p.payloadFormatIndicator = format;
  }
  if (o.correlationData !== undefined && o.correlationData !== null) {
    const bytes = toBytes(o.correlationData);
    if (!bytes || bytes.length > 0xffff) throw new OptionsError("correlationData must be a string or bytes (at most 65,535)");
    p.correlationData = bytes;
  }
  const user = userPropertyPairs("userProperties", o.userProperties);
  if (user) p.userProperties = user;
  for (const _ in p) return p;
  return undefined;
}

/** The MQTT 5 options of a SUBSCRIBE, checked (OptionsError names a wrong one); undefined when none is set. */
export function subscriptionOptions(options: object | null | undefined): V5SubscriptionOptions | undefined {
  const [noLocal, retainAsPublished, retainHandling, subscriptionIdentifier] = fields("the subscribe options", options, "noLocal", "retainAsPublished", "retainHandling", "subscriptionIdentifier");
  const out: V5SubscriptionOptions = {};
  for (const [name, v] of [["noLocal", noLocal], ["retainAsPublished", retainAsPublished]] as const) {
    if (v === undefined || v === null) continue;
    if (typeof v !== "boolean") throw new OptionsError(`${name} must be a boolean`);
    out[name] = v;
  }
  if (retainHandling !== undefined && retainHandling !== null) {
    if (retainHandling !== 0 && retainHandling !== 1 && retainHandling !== 2) throw new OptionsError("retainHandling must be 0, 1 or 2");
    out.retainHandling = retainHandling;
  }
  const id = range("subscriptionIdentifier", subscriptionIdentifier, 1, 268_435_455);
  if (id !== undefined) out.subscriptionIdentifier = id;
  for (const _ in out) return out;
  return undefined;
}
