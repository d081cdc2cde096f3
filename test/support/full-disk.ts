/**
 * A real full disk for store-fault tests: a 256 KB tmpfs mounted by the test (root only; .ci/run runs as root), filled
 * to ENOSPC with a filler file and freed again by deleting it. Where mounting is not possible the test fails with
 * that reason: store faults must be exercised, not skipped.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A mounted small filesystem. */
export interface FullDisk {
  /** Where to put stores. */
  dir: string;
  /** Fills the filesystem until writes fail with ENOSPC. */
  fill(): void;
  /** Frees what fill() took. */
  free(): void;
  /** Unmounts and removes the mount point. */
  dispose(): void;
}

/** Mounts a `sizeKb` tmpfs (as root) under the system temp dir. */
export function mountSmallDisk(sizeKb = 256): FullDisk {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-fulldisk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a ${sizeKb} KB tmpfs (store-fault tests need root): ${(err as Error).message}`);
  }
  const filler = path.join(dir, "filler");
  return {
    dir,
    fill() {
      const chunk = new Uint8Array(4096).fill(0x5a);
      const fd = fs.openSync(filler, "a");
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOSPC") throw err;
      } finally {
        fs.closeSync(fd);
      }
      // the last partial block too: a write of even one byte must fail now
      const fd1 = fs.openSync(filler, "a");
      try {
        for (;;) fs.writeSync(fd1, new Uint8Array(1));
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOSPC") throw err;
      } finally {
        fs.closeSync(fd1);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    dispose() {
      try {
        execFileSync("umount", [dir], { stdio: "pipe" });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
