/**
 * Edgehog remote terminal: a ForwarderSessionRequest (`/request`: session_token, host, port, secure) goes to the
 * application's hook, and the session's state is kept in ForwarderSessionState (`/<token>/status`): "Connecting"
 * as the hook starts, "Connected" when it says so, unset when the session ends. The terminal itself is the
 * application's. A restart ends every session, so states left in the cache by the previous run are unset at start
 * (a stale "Connected" would show a session that no longer exists).
 */

import { EDGEHOG } from "./interfaces.js";
import { background, type EdgehogPort } from "./port.js";

/** A session Edgehog asks the device to open to its forwarder. */
export interface ForwarderRequest {
  /** The token the device authenticates with; also the session's key in ForwarderSessionState. */
  sessionToken: string;
  /** Host name or address of the forwarder. */
  host: string;
  /** TCP port of the forwarder. */
  port: number;
  /** Whether to connect with TLS (wss rather than ws). */
  secure: boolean;
}

/** Reports a session's state; each resolves once the property is acknowledged (or cached while offline). */
export interface ForwarderSession {
  /** The session is open. */
  connected(): Promise<void>;
  /** The session ended (or could not be opened); further reports are ignored. */
  disconnected(): Promise<void>;
}

/** Opens the session Edgehog asks for, reporting through `session`. A hook that throws ends the session. */
export type ForwarderHandler = (request: ForwarderRequest, session: ForwarderSession) => void | Promise<void>;

type State = "Connecting" | "Connected" | "Disconnected";

/** Keeps the state of each forwarder session and runs the hook for new requests. */
export class Forwarder {
  private readonly sessions = new Map<string, State>();

  constructor(
    private readonly port: EdgehogPort,
    private readonly handler: ForwarderHandler,
  ) {}

  /** Unsets the session states a previous run left (none of its sessions survived it). */
  async clearStale(): Promise<void> {
    const stale = this.port.propertyPaths(EDGEHOG.ForwarderSessionState).filter((p) => !this.sessions.has(p.split("/")[1]!));
    await Promise.all(stale.map((p) => this.port.unsetProperty(EDGEHOG.ForwarderSessionState, p)));
  }

  /** States of the sessions this run knows, by token. */
  states(): Record<string, State> {
    return Object.fromEntries(this.sessions);
  }

  /** Handles a ForwarderSessionRequest object. */
  onRequest(fields: Record<string, unknown>): void {
    const request = parse(fields);
    if (typeof request === "string") return this.port.warn("invalid-request", `ForwarderSessionRequest: ${request}`);
    const { sessionToken } = request;
    const current = this.sessions.get(sessionToken);
    if (current === "Connecting" || current === "Connected") {
      return this.port.warn("invalid-request", `ForwarderSessionRequest: session ${sessionToken} is already ${current}`);
    }
    this.sessions.set(sessionToken, "Connecting");
    const session: ForwarderSession = {
      connected: () => this.move(sessionToken, "Connected"),
      disconnected: () => this.move(sessionToken, "Disconnected"),
    };
    void background(this.port, "handler-failed", `forwarder session ${sessionToken}`, async () => {
      await this.report(sessionToken, "Connecting");
      try {
        await this.handler({ ...request }, session);
      } catch (err) {
        await session.disconnected();
        throw err;
      }
    });
  }

  /** Ends every session this run opened (the device is ending). */
  async end(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((token) => this.move(token, "Disconnected")));
  }

  private async move(token: string, next: State): Promise<void> {
    const current = this.sessions.get(token);
    if (current === undefined || current === "Disconnected" || current === next) return;
    this.sessions.set(token, next);
    await this.report(token, next);
  }

  private async report(token: string, state: State): Promise<void> {
    const path = `/${token}/status`;
    if (state === "Disconnected") await this.port.unsetProperty(EDGEHOG.ForwarderSessionState, path);
    else await this.port.setProperty(EDGEHOG.ForwarderSessionState, path, state);
  }
}

/** The request in `fields`, or what is wrong with it. */
function parse(fields: Record<string, unknown>): ForwarderRequest | string {
  const { session_token: token, host, port, secure } = fields;
  if (typeof token !== "string" || !/^[^/#+]+$/.test(token)) return `session_token ${JSON.stringify(token)} is not one path segment`;
  if (typeof host !== "string" || host === "") return `host ${JSON.stringify(host)} is not a host name or address`;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) return `port ${String(port)} is not a TCP port`;
  if (typeof secure !== "boolean") return `secure ${JSON.stringify(secure)} is not a boolean`;
  return { sessionToken: token, host, port, secure };
}
