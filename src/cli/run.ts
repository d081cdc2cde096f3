/** Dispatches `edgemq <command>` to its module; returns the exit code. */
import type { Io } from "./io.js";

/** Usage of the command. */
export const USAGE = `usage: edgemq <command> [flags]

commands:
  pub             publish messages (mosquitto_pub flags)
  sub             subscribe and print messages (mosquitto_sub flags)
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
    default:
      io.stderr.write(`edgemq: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      void rest;
      return 1;
  }
}
