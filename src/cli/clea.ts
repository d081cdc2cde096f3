/** `edgemq clea <validate|device|fleet|server>`: the Clea (Astarte MQTT v1) commands. */
import type { Io } from "./io.js";
import { cleaDevice } from "./clea-device.js";
import { cleaFleet } from "./clea-fleet.js";
import { cleaServer } from "./clea-server.js";
import { validate } from "./validate.js";

/** Usage of `edgemq clea`. */
export const CLEA_USAGE = `usage: edgemq clea <command> [flags]

commands:
  validate PATH...   check Astarte interface files
  device             run a device: send values or generated data, print what it receives
  fleet -n N         run N simulated devices in one process
  server             play the Astarte side: watch devices, send them data, properties, purges, OTA requests

run "edgemq clea <command> --help" for its flags`;

/** Runs `edgemq clea args`; resolves with the exit code. */
export async function clea(args: string[], io: Io): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "validate":
      return validate(rest, io);
    case "device":
      return cleaDevice(rest, io);
    case "fleet":
      return cleaFleet(rest, io);
    case "server":
      return cleaServer(rest, io);
    case "--help":
    case "-h":
      io.stdout.write(`${CLEA_USAGE}\n`);
      return 0;
    default:
      io.stderr.write(`edgemq: unknown clea command ${JSON.stringify(command ?? "")} (run "edgemq clea --help")\n`);
      return 1;
  }
}
