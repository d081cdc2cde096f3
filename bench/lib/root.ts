/** The repository root, found from this module's location (works from bench/ and from a bundle under .tmp/). */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "edgemq") return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find the edgemq repository root");
    dir = up;
  }
}

/** Absolute path of the repository root. */
export const root = findRoot();
