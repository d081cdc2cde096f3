/** Small state files of the Clea layer, written so a crash leaves the old or the new content, never half of one. */

import * as fs from "node:fs";

/** Writes `text` to a temporary file and renames it over `file`; `fsync` flushes it to disk first, `mode` sets its permissions. */
export function writeFileAtomic(file: string, text: string, options: { mode?: number; fsync?: boolean } = {}): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text, options.mode === undefined ? undefined : { mode: options.mode });
  if (options.mode !== undefined) fs.chmodSync(tmp, options.mode); // the umask may have narrowed the mode
  if (options.fsync) {
    const fd = fs.openSync(tmp, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  fs.renameSync(tmp, file);
}
