/** Picks the transport for a URL scheme. */

import { TCP_UNAVAILABLE, tcpTransport } from "./tcp.js";
import type { Transport } from "./transport.js";
import { webSocketTransport } from "./websocket.js";

/** URL schemes the built-in transports handle. */
export const SUPPORTED_SCHEMES = ["mqtt:", "mqtts:", "tcp:", "ssl:", "tls:", "ws:", "wss:"] as const;

/** The built-in transport for `url`'s scheme, or undefined when none handles it. */
export function transportFor(url: URL): Transport | undefined {
  switch (url.protocol) {
    case "mqtt:":
    case "tcp:":
    case "mqtts:":
    case "ssl:":
    case "tls:":
      return tcpTransport;
    case "ws:":
    case "wss:":
      return webSocketTransport;
    default:
      return undefined;
  }
}

/** Why no built-in transport can take `url` here (an unknown scheme, or TCP in a browser), or undefined when one can. */
export function unsupportedScheme(url: URL): string | undefined {
  const transport = transportFor(url);
  if (!transport) return `unsupported URL scheme ${url.protocol} (use mqtt:, mqtts:, ws: or wss:)`;
  return transport === tcpTransport ? TCP_UNAVAILABLE : undefined;
}

export { tcpTransport, webSocketTransport };
export type * from "./transport.js";
