/**
 * The built package (dist/), for tests that run a program on `import "edgemq"` as a user's program would.
 * ensureBuilt() runs the package build (tsup, as `npm run build`) only when dist/ is missing or older than
 * its sources; the build takes about 25 s, so a test that calls it needs a hook timeout to match.
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
/** The built files a program importing "edgemq" or "edgemq/clea" loads. */
const outputs = ["dist/index.js", "dist/index.cjs", "dist/clea/index.js", "dist/clea/index.cjs", "dist/browser/index.js", "dist/cli.js"].map((f) => path.join(root, f));
const lock = path.join(root, ".tmp", "build.lock");

function newestSource(): number {
  let newest = 0;
  const visit = (p: string) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ["src", "tsup.config.ts", "package.json"]) visit(path.join(root, p));
  return newest;
}

/** Whether dist/ is missing or older than a source file. */
export function isStale(): boolean {
  let oldest = Number.POSITIVE_INFINITY;
  for (const f of outputs) {
    if (!fs.existsSync(f)) return true;
    oldest = Math.min(oldest, fs.statSync(f).mtimeMs);
  }
  return oldest < newestSource();
}

/**
 * Builds dist/ if it is stale. Two test files calling this at once build once: the other waits for the lock
 * (a directory, so that taking it is atomic) and then finds dist/ fresh.
 */
export async function ensureBuilt(): Promise<void> {
  if (!isStale()) return;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      // A lock older than the longest build is left over from a killed run.
      const held = fs.statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 180_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${lock} held for 3 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (!isStale()) return;
    const build = spawnSync(process.execPath, [path.join(root, "node_modules/tsup/dist/cli-default.js")], {
      cwd: root,
      encoding: "utf8",
      timeout: 170_000,
    });
    // A failure in the declaration step (src/ caught mid-edit by a type error) still leaves fresh JavaScript,
    // which is all a running program loads; anything else is a broken build.
    if (build.status !== 0 && isStale()) {
      throw new Error(`the build (tsup) failed (${build.status ?? build.signal}):\n${build.stdout.slice(-4000)}\n${build.stderr.slice(-4000)}`);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
