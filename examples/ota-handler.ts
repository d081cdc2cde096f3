/**
 * An Edgehog OTA handler a gateway can start from: it downloads the image with fetch (progress from
 * Content-Length), writes it to a file, verifies its SHA-256 when the URL carries one (`#sha256=<hex>`), then
 * "deploys" it by moving it into place. A real gateway replaces deploy() with its updater (RAUC, swupdate, ...)
 * and reboots; here the reboot is simulated so the flow can finish in one process.
 *
 *   import { imageDownloadHandler } from "./ota-handler.ts";
 *   device.onOta(imageDownloadHandler({ workDir: "./var/ota", deploy: async (file) => { ... } }));
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { OtaHandler } from "edgemq/clea";

export interface ImageDownloadOptions {
  /** Where the image is downloaded. */
  workDir: string;
  /** Applies the verified image; default: move it to `<workDir>/installed.bin`. */
  deploy?: (file: string) => Promise<void>;
  /** Called after Rebooting is reported; default: nothing (a real device reboots here). */
  reboot?: () => Promise<void>;
  /** Log lines for the demo. */
  log?: (line: string) => void;
}

/** An OtaHandler that downloads, verifies and deploys an image, reporting each step. */
export function imageDownloadHandler(options: ImageDownloadOptions): OtaHandler {
  const log = options.log ?? (() => undefined);
  return async (request, report) => {
    fs.mkdirSync(options.workDir, { recursive: true });
    const file = path.join(options.workDir, `${request.uuid}.bin`);
    await report("Downloading", { progress: 0 });
    const response = await fetch(request.url, { signal: request.signal });
    if (!response.ok || !response.body) throw new Error(`download failed: HTTP ${response.status}`);
    const total = Number(response.headers.get("content-length") ?? 0);
    const hash = crypto.createHash("sha256");
    const out = fs.openSync(file, "w");
    let received = 0;
    let reported = 0;
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        fs.writeSync(out, value);
        hash.update(value);
        received += value.length;
        const progress = total > 0 ? Math.floor((received * 100) / total) : 0;
        if (progress >= reported + 25 && progress < 100) {
          reported = progress - (progress % 25);
          log(`downloading: ${reported}% of ${total} bytes`);
          await report("Downloading", { progress: reported });
        }
      }
    } finally {
      fs.closeSync(out);
    }
    await report("Downloading", { progress: 100 });
    const expected = new URL(request.url).hash.match(/sha256=([0-9a-f]{64})/i)?.[1];
    const actual = hash.digest("hex");
    if (expected && expected.toLowerCase() !== actual) {
      await report("Failure", { code: "InvalidBaseImage", message: `SHA-256 mismatch: got ${actual}` });
      return;
    }
    log(`image verified (${received} bytes, sha256 ${actual.slice(0, 16)}...)`);
    await report("Deploying", { progress: 0 });
    if (options.deploy) await options.deploy(file);
    else fs.renameSync(file, path.join(options.workDir, "installed.bin"));
    await report("Deploying", { progress: 100 });
    await report("Deployed");
    await report("Rebooting");
    await options.reboot?.();
    // After a real reboot the SDK reports Success on the next start; this simulated device is already back.
    await report("Success");
  };
}
