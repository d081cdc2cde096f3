/**
 * Runs one benchmark as a plain JavaScript bundle (see bench/lib/build.ts): `tsx bench/launch.ts <name>` builds
 * bench/<name>.ts and runs it with this Node, passing stdio through and the exit code back.
 */
import { spawn } from "node:child_process";
import { buildScript } from "./lib/build.ts";
import { root } from "./lib/root.ts";

const [name, ...args] = process.argv.slice(2);
if (!name) {
  console.error("usage: tsx bench/launch.ts <benchmark> [args]");
  process.exit(2);
}
const file = await buildScript(`bench/${name}.ts`);
const child = spawn(process.execPath, [file, ...args], { cwd: root, stdio: "inherit" });
child.once("close", (code) => process.exit(code ?? 1));
