/** What `edgemq clea device` and `edgemq clea fleet` share: the connection flags, their help, and stopping on signals. */
import type { ClientOptions } from "edgemq";
import { clientOptions, COMMON_FLAGS, type ParsedValues } from "./options.js";

// A device's client id, session and will are its own (realm/deviceId, the Astarte handshake), and -t/-q do not apply.
const {
  topic: _t,
  qos: _q,
  id: _i,
  "disable-clean-session": _c,
  "will-topic": _wt,
  "will-payload": _wp,
  "will-qos": _wq,
  "will-retain": _wr,
  ...CONNECTION
} = COMMON_FLAGS;

/** The connection flags of the clea commands: the common ones without -t, -q, -i, -c and the will. */
export const CLEA_CONNECTION_FLAGS = CONNECTION;

/** Help text of the connection flags. */
export const CLEA_CONNECTION_HELP = `connection:
  -h HOST                 broker host (default 127.0.0.1); help is --help only
  -p PORT                 broker port (default 1883)
  -u, --url URL           broker URL, overrides -h/-p: mqtt:// mqtts:// ws:// wss://
  -k SECONDS              keepalive (default 30; 0 disables)
  --username NAME, --password SECRET
  --cafile FILE, --cert FILE, --key FILE
                          TLS: CA certificates, client certificate and key (PEM files)
  --insecure              do not verify the broker's certificate
  -d, --debug             report progress on stderr
  --help                  this text`;

/** The client options of the connection flags, without what a device sets itself (client id, clean session). */
export function connectionOptions(values: ParsedValues): Omit<ClientOptions, "clientId" | "clean" | "store"> {
  const { clean: _clean, clientId: _id, ...rest } = clientOptions(values);
  return rest;
}

export { Stopper, STOPPED } from "./signals.js";
