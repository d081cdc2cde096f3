/**
 * The browser build's stand-in for tcp.ts (tsup.config.ts swaps it in): a browser has no TCP sockets, so mqtt://
 * and mqtts:// are refused when the client is created, with the way out named.
 */

import { OptionsError } from "../client/errors.js";
import type { Transport } from "./transport.js";

/** Why a TCP transport cannot work here (read by the options check, which refuses the URL up front). */
export const TCP_UNAVAILABLE = "mqtt:// and mqtts:// need a TCP socket, which a browser does not have: use ws:// or wss:// (the broker's WebSocket listener)";

/** Always fails: see TCP_UNAVAILABLE. */
export const tcpTransport: Transport = () => Promise.reject(new OptionsError(TCP_UNAVAILABLE));
