/** `edgemq clea validate`: checks Astarte interface files, printing one line per problem and per warning. */
import { readdir, readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { parseInterface } from "edgemq/clea";
import type { Io } from "./io.js";
import { UsageError } from "./options.js";
import { parseCommand } from "./command.js";

/** Help text of `edgemq clea validate`. */
export const VALIDATE_HELP = `usage: edgemq clea validate PATH...

Checks Astarte interface files: a PATH is a .json file or a directory (its .json files, not recursive).
Prints, on stdout, one line per problem ("PATH: message", naming the rule broken) and per warning
("PATH: warning: message", e.g. an unknown field, maybe a typo), then "N interfaces valid" when all are.
Exit codes: 0 all valid (warnings allowed), 1 a problem or a usage error.`;

/** The files a path names: itself, or a directory's .json files in name order. */
async function filesOf(p: string): Promise<string[]> {
  if (!(await stat(p)).isDirectory()) return [p];
  return (await readdir(p)).filter((n) => n.endsWith(".json")).sort().map((n) => path.join(p, n));
}

/** `text` on one line: line breaks (e.g. quoted file content in a JSON error) become spaces. */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ");

/** At least one PATH. */
function atLeastOne(paths: string[]): void {
  if (paths.length === 0) throw new UsageError("give at least one interface file or directory");
}

/** Runs `edgemq clea validate args`; resolves with the exit code. */
export async function validate(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, { name: "clea validate", flags: { help: { type: "boolean" } }, help: VALIDATE_HELP, positionals: atLeastOne });
  if (typeof parsed === "number") return parsed;
  const paths = parsed.positionals;

  let problems = 0;
  let warnings = 0;
  let valid = 0;
  let files = 0;
  const defined = new Map<string, string>();
  for (const p of paths) {
    let list: string[];
    try {
      list = await filesOf(p);
    } catch (err) {
      io.stdout.write(`${p}: cannot read: ${oneLine((err as Error).message)}\n`);
      problems++;
      continue;
    }
    for (const file of list) {
      files++;
      try {
        const iface = parseInterface(await readFile(file, "utf8"));
        for (const w of iface.warnings ?? []) {
          io.stdout.write(`${file}: warning: ${w}\n`);
          warnings++;
        }
        const first = defined.get(iface.name);
        if (first !== undefined) {
          io.stdout.write(`${file}: interface ${iface.name} is already defined in ${first}\n`);
          problems++;
          continue;
        }
        defined.set(iface.name, file);
        valid++;
      } catch (err) {
        io.stdout.write(`${file}: ${oneLine((err as Error).message)}\n`);
        problems++;
      }
    }
  }
  const warned = warnings > 0 ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : "";
  if (problems > 0) {
    io.stderr.write(`edgemq: ${problems} problem${problems === 1 ? "" : "s"}; ${valid} of ${files} interface${files === 1 ? "" : "s"} valid${warned}\n`);
    return 1;
  }
  io.stdout.write(`${valid} interface${valid === 1 ? "" : "s"} valid${warned}\n`);
  return 0;
}
