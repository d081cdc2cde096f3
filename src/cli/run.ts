/** Dispatches `edgemq <command>` to its module; returns the exit code. */
import type { Io } from "./io.js";
import { pub } from "./pub.js";
import { sub } from "./sub.js";
import { validate } from "./validate.js";
import { bench } from "./bench.js";

/** Usage of the command. */
export const USAGE = `usage: edgemq <command> [flags]

commands:
  pub             publish messages (mosquitto_pub flags)
  sub             subscribe and print messages (mosquitto_sub flags)
  bench           load-test a broker: bench conn|pub|sub (emqtt-bench style)
  clea validate   check Astarte interface files

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
      if (rest[0] === "validate") return validate(rest.slice(1), io);
      if (rest[0] === "--help" || rest[0] === "-h") {
        io.stdout.write("usage: edgemq clea validate PATH...\n");
        return 0;
      }
      io.stderr.write(`edgemq: unknown clea command ${JSON.stringify(rest[0] ?? "")} (try "edgemq clea validate --help")\n`);
      return 1;
    default:
      io.stderr.write(`edgemq: unknown command ${JSON.stringify(command)} (run "edgemq --help")\n`);
      return 1;
  }
}
