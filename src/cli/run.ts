/** Dispatches `edgemq <command>` to its module; returns the exit code. */
import type { Io } from "./io.js";
import { pub } from "./pub.js";
import { sub } from "./sub.js";
import { clea } from "./clea.js";
import { bench } from "./bench.js";

/** Usage of the command. */
export const USAGE = `usage: edgemq <command> [flags]

commands:
  pub             publish messages (mosquitto_pub flags)
  sub             subscribe and print messages (mosquitto_sub flags)
  bench           load-test a broker: bench conn|pub|sub (emqtt-bench style)
  clea            Clea (Astarte) devices: clea validate|device|fleet|server

run "edgemq <command> --help" for its flags`;

/** Runs the command line `args` (without the program name); resolves with the exit code. */
export async function run(args: string[], io: Io): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case "-h":
    case "--help":
      io.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    case "pub":
      return pub(rest, io);
    case "sub":
      return sub(rest, io);
    case "bench":
      return bench(rest, io);
    case "clea":
      return clea(rest, io);
    default:
      io.stderr.write(`edgemq: unknown command ${JSON.stringify(command)} (run "edgemq --help")\n`);
      return 1;
  }
}
