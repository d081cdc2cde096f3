/**
 * What every `edgemq` command does around its own work: parse its flags, answer --help, check its positional
 * arguments, report a failure as one stderr line with its exit code, and release what it holds when it ends.
 */
import type { Io } from "./io.js";
import { parseFlags, UsageError, type FlagSpec, type ParsedValues } from "./options.js";
import { report, usageLine } from "./output.js";
import { Stopper } from "./signals.js";

/** How a command's command line is read. */
export interface CommandSpec {
  /** The command as typed after "edgemq" ("pub", "clea device"): a usage error points to its --help. */
  name: string;
  /** All its flags (parseArgs declarations), `help` among them. */
  flags: Record<string, FlagSpec>;
  /** Its --help text, printed on stdout (exit 0). */
  help: string;
  /** Checks the positional arguments, throwing UsageError; default: none allowed. */
  positionals?: (list: string[]) => void;
}

/** A parsed command line. */
export interface Parsed {
  /** The flags' values. */
  values: ParsedValues;
  /** The positional arguments (already checked). */
  positionals: string[];
}

/** A positionals check that allows none; `hint` follows the "unexpected argument" message. */
export function noPositionals(hint = ""): (list: string[]) => void {
  return (list) => {
    if (list.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(list[0])}${hint}`);
  };
}

/** Parses `args` per `spec`; --help prints the help (exit code 0) and a usage error its stderr line (1): then the exit code. */
export function parseCommand(args: string[], io: Io, spec: CommandSpec): Parsed | number {
  try {
    const { values, positionals } = parseFlags(args, spec.flags);
    if (values.help === true) {
      io.stdout.write(`${spec.help}\n`);
      return 0;
    }
    (spec.positionals ?? noPositionals())(positionals);
    return { values, positionals };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(usageLine(err, spec.name));
    return 1;
  }
}

/** What a running command sees of the runner. */
export interface Command extends Parsed {
  /** What a failure now is called on its stderr line ("connection failed", "publish failed"); the command moves it on. */
  phase: string;
  /** A Stopper for SIGINT/SIGTERM from now on; its handlers go when the command ends. */
  stopOnSignals(): Stopper;
  /**
   * Runs `release` when the command ends (after its failure line, in the order given; a rejection of it is ignored),
   * unless the function returned is called first: the command let go of it in a graceful end of its own.
   */
  atEnd(release: () => Promise<unknown> | void): () => void;
}

/** What runCommand needs besides the command line: the phase a failure is called before the command names another. */
export interface RunSpec extends CommandSpec {
  /** The first phase ("connection failed", "bench failed"). */
  phase: string;
}

/**
 * Runs a command: parses `args` per `spec` (--help, usage errors), then `body`, which resolves with the exit code.
 * Anything `body` throws is reported by report(): a usage error exits 1, any other failure 2, named by the phase.
 */
export async function runCommand(args: string[], io: Io, spec: RunSpec, body: (command: Command) => Promise<number>): Promise<number> {
  const releases = new Set<() => Promise<unknown> | void>();
  const command: Command = {
    values: {},
    positionals: [],
    phase: spec.phase,
    stopOnSignals() {
      const stop = new Stopper();
      releases.add(() => stop.dispose());
      return stop;
    },
    atEnd(release) {
      const entry = () => release(); // one entry per call, even for the same function
      releases.add(entry);
      return () => releases.delete(entry);
    },
  };
  try {
    const parsed = parseCommand(args, io, spec);
    if (typeof parsed === "number") return parsed;
    Object.assign(command, parsed);
    return await body(command);
  } catch (err) {
    const { code, line } = report(err, spec.name, command.phase);
    io.stderr.write(line);
    return code;
  } finally {
    for (const release of releases) await Promise.resolve(release()).catch(() => undefined);
  }
}
