/**
 * The beforeResume gate: after a CONNACK the session holds back its replay and its queue while the application's
 * hook runs (an Astarte device announces its interfaces this way before any data), and releases them when the hook
 * settles. A hook that outlives its connection releases nothing: the next connection runs the hook again.
 */

import type { QoS } from "../mqtt/packets.js";
import { show } from "../mqtt/show.js";
import type { ResumeContext, PublishOptions } from "./client-types.js";
import { ConnectionLostError } from "./errors.js";
import type { Payload } from "./options.js";

/** What the gate needs from its client. */
export interface ResumeHost {
  /** Whether the connection the hook was started for is still the current, established one. */
  current(): boolean;
  /** A publish for this connection only (checked like client.publish). */
  publishScoped(topic: string, payload: Payload, options: PublishOptions | null | undefined): Promise<void>;
  /** Removes waiting messages (see ResumeContext.discard). */
  discard(match: (message: { topic: string; payload: Uint8Array; qos: QoS }) => boolean): number;
  /** The hook is done: send what waited. */
  release(): void;
  /** The hook failed: report it and drop the connection (the reconnect runs the hook again). */
  fail(err: Error): void;
}

/** Runs `hook` for the connection just established; settles it through `host`. */
export function runBeforeResume(hook: (resume: ResumeContext) => void | Promise<void>, sessionPresent: boolean, host: ResumeHost): void {
  let settled = false;
  const context: ResumeContext = {
    sessionPresent,
    publish(topic, payload, options) {
      if (!host.current()) return Promise.reject(new ConnectionLostError("connection-lost", "the connection this hook ran for has ended"));
      return host.publishScoped(topic, payload, options);
    },
    discard(match) {
      // Once released, what waited has been sent on this connection: nothing is the hook's to remove any more.
      return settled || !host.current() ? 0 : host.discard(match);
    },
  };
  const finish = (err: Error | undefined): void => {
    settled = true;
    if (!host.current()) return;
    if (err) host.fail(err);
    else host.release();
  };
  let result: void | Promise<void>;
  try {
    result = hook(context);
  } catch (err) {
    finish(asError(err));
    return;
  }
  if (result && typeof (result as Promise<void>).then === "function") {
    (result as Promise<void>).then(
      () => finish(undefined),
      (err: unknown) => finish(asError(err)),
    );
  } else finish(undefined);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`beforeResume threw ${show(err)}`);
}
