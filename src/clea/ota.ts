/**
 * Edgehog OTA: an OTARequest goes to the application's handler with a reporter, and the SDK enforces the flow:
 * a request with an invalid uuid fails with InvalidRequest, a second request while one runs fails with
 * UpdateAlreadyInProgress, a repeated uuid is ignored, a Cancel before Deploying aborts the handler (through its
 * AbortSignal) and reports Failure/Canceled, a handler that throws reports Failure/InternalError, and a handler that
 * returns without a final status reports Success: an update ends when its handler does, so none blocks later requests.
 * The SDK flashes nothing itself. The update in progress is persisted: after a restart, one that had reached
 * Rebooting is reported as Success (the reboot was the last step); any other is reported as Failure/InternalError.
 */

import { writeFileAtomic } from "./files.js";
import * as fs from "node:fs";
import { EdgemqError } from "../index.js";

/** OTAEvent status values. Success and Failure are final. */
export type OtaStatus = "Acknowledged" | "Downloading" | "Deploying" | "Deployed" | "Rebooting" | "Success" | "Error" | "Failure";
/** OTAEvent status codes ("" when none applies). */
export type OtaStatusCode =
  | ""
  | "InvalidRequest"
  | "UpdateAlreadyInProgress"
  | "NetworkError"
  | "IOError"
  | "InternalError"
  | "InvalidBaseImage"
  | "SystemRollback"
  | "Canceled"
  | "RequestTimeout";

const STATUSES: readonly OtaStatus[] = ["Acknowledged", "Downloading", "Deploying", "Deployed", "Rebooting", "Success", "Error", "Failure"];
const CODES: readonly OtaStatusCode[] = ["", "InvalidRequest", "UpdateAlreadyInProgress", "NetworkError", "IOError", "InternalError", "InvalidBaseImage", "SystemRollback", "Canceled", "RequestTimeout"];
const FINAL = new Set<OtaStatus>(["Success", "Failure"]);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REMEMBERED = 100;

/** An update request as the handler sees it. */
export interface OtaRequest {
  /** The request's UUID. */
  uuid: string;
  /** The image URL. */
  url: string;
  /** The requested operation (always "Update"). */
  operation: "Update";
  /** Aborted when Edgehog cancels the update before it reaches Deploying. */
  signal: AbortSignal;
}

/** Details of a report. */
export interface OtaReportDetails {
  /** 0..100, the progress within the status. Default 0. */
  progress?: number;
  /** Status code. Default "". */
  code?: OtaStatusCode;
  /** Human-readable message. Default "". */
  message?: string;
}

/** Publishes an OTAEvent for the running request. Resolves when acknowledged (or queued while offline). */
export type OtaReport = (status: OtaStatus, details?: OtaReportDetails) => Promise<void>;

/** The application's OTA handler: download, verify and apply the image, reporting as it goes. */
export type OtaHandler = (request: OtaRequest, report: OtaReport) => Promise<void>;

/** A report the SDK refused (bad status, code or progress, or a report after the update ended). */
export class OtaError extends EdgemqError {
  /** Always "OtaError". */
  override readonly name = "OtaError";
  /** "update-finished" for a report after the update ended, else "invalid-report". */
  declare readonly code: "invalid-report" | "update-finished";
  /** Creates an OtaError with the given `code` and `message`. */
  constructor(code: "invalid-report" | "update-finished", message: string) {
    super(code, message);
  }
}

/** One OTAEvent's fields. */
export interface OtaEventFields {
  /** UUID of the OTA request this event is about. */
  requestUUID: string;
  /** Current status. */
  status: OtaStatus;
  /** 0..100, the progress within the status. */
  statusProgress: number;
  /** Status code ("" for none). */
  statusCode: OtaStatusCode;
  /** Human-readable message ("" for none). */
  message: string;
}

/** What the OTA flow needs from the device. */
export interface OtaHost {
  /** Publishes an OTAEvent (queued durably while offline). */
  publish(event: OtaEventFields): Promise<void>;
  warn(message: string): void;
}

interface Running {
  uuid: string;
  url: string;
  status: OtaStatus;
  abort: AbortController;
  finished: boolean;
}

interface Persisted {
  current?: { uuid: string; url: string; status: OtaStatus };
  seen: string[];
}

export class OtaManager {
  private handler: OtaHandler | undefined;
  private running: Running | undefined;
  private seen: string[] = [];
  private interrupted: { uuid: string; status: OtaStatus } | undefined;

  constructor(private readonly host: OtaHost, private readonly file: string | undefined) {
    if (!file || !fs.existsSync(file)) return;
    try {
      const state = JSON.parse(fs.readFileSync(file, "utf8")) as Persisted;
      this.seen = Array.isArray(state.seen) ? state.seen.slice(-REMEMBERED) : [];
      if (state.current) this.interrupted = { uuid: state.current.uuid, status: state.current.status };
    } catch (err) {
      host.warn(`OTA state ${file} is unreadable (${(err as Error).message}); starting without it`);
    }
  }

  /** Sets the handler; returns a function that removes it. */
  setHandler(handler: OtaHandler): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  /** Reports the outcome of an update a restart interrupted (call once connected). */
  async resume(): Promise<void> {
    const was = this.interrupted;
    if (!was) return;
    this.interrupted = undefined;
    this.save(undefined);
    if (was.status === "Rebooting") await this.send(was.uuid, "Success", {});
    else await this.send(was.uuid, "Failure", { code: "InternalError", message: `the device restarted during the update (last status ${was.status})` });
  }

  /** Handles an OTARequest object from the server. */
  onRequest(value: Record<string, unknown>): void {
    const operation = value.operation;
    const uuid = typeof value.uuid === "string" ? value.uuid : "";
    const url = typeof value.url === "string" ? value.url : "";
    if (operation === "Cancel") return this.cancel(uuid);
    if (operation !== "Update") {
      void this.send(uuid, "Failure", { code: "InvalidRequest", message: `unknown operation ${JSON.stringify(operation)}` });
      return;
    }
    if (!UUID_RE.test(uuid)) {
      void this.send(uuid, "Failure", { code: "InvalidRequest", message: "the request uuid is not a UUID" });
      return;
    }
    if (this.seen.includes(uuid) || this.running?.uuid === uuid) return; // a repeat: already handled or handling
    this.remember(uuid);
    if (!url) {
      void this.send(uuid, "Failure", { code: "InvalidRequest", message: "the request has no image URL" });
      return;
    }
    if (this.running && !this.running.finished) {
      void this.send(uuid, "Failure", { code: "UpdateAlreadyInProgress", message: `update ${this.running.uuid} is in progress` });
      return;
    }
    if (!this.handler) {
      void this.send(uuid, "Failure", { code: "InternalError", message: "no OTA handler is registered on this device" });
      return;
    }
    void this.run(this.handler, uuid, url);
  }

  private async run(handler: OtaHandler, uuid: string, url: string): Promise<void> {
    const running: Running = { uuid, url, status: "Acknowledged", abort: new AbortController(), finished: false };
    this.running = running;
    this.save(running);
    await this.send(uuid, "Acknowledged", {});
    const report: OtaReport = async (status, details = {}) => {
      if (running.finished) throw new OtaError("update-finished", `update ${uuid} has already ended (${running.status})`);
      check(status, details);
      running.status = status;
      if (FINAL.has(status)) this.finish(running);
      else this.save(running);
      await this.send(uuid, status, details);
    };
    try {
      await handler({ uuid, url, operation: "Update", signal: running.abort.signal }, report);
      if (running.finished) return;
      // Returning without a final status ends the update with Success, whatever was reported before (a gateway
      // reboots a sub-device, not itself, and returns). A process that dies after Rebooting reports Success on the next start.
      await report("Success");
    } catch (err) {
      if (running.finished) return;
      if (running.abort.signal.aborted) return; // the cancel already reported Failure/Canceled
      if (err instanceof OtaError) this.host.warn(err.message);
      await report("Failure", { code: "InternalError", message: err instanceof Error ? err.message : String(err) });
    }
  }

  private cancel(uuid: string): void {
    const r = this.running;
    if (!r || r.finished || r.uuid !== uuid) return this.host.warn(`OTA cancel for ${uuid || "(no uuid)"} ignored: no such update is running`);
    if (r.status === "Deploying" || r.status === "Deployed" || r.status === "Rebooting") {
      return this.host.warn(`OTA cancel for ${uuid} ignored: the update is already ${r.status}`);
    }
    r.status = "Failure";
    this.finish(r);
    r.abort.abort(new OtaError("update-finished", "the update was canceled"));
    void this.send(uuid, "Failure", { code: "Canceled", message: "canceled by the server" });
  }

  private finish(r: Running): void {
    r.finished = true;
    this.save(undefined);
  }

  private remember(uuid: string): void {
    this.seen.push(uuid);
    if (this.seen.length > REMEMBERED) this.seen.shift();
    this.save(this.running && !this.running.finished ? this.running : undefined);
  }

  private async send(uuid: string, status: OtaStatus, details: OtaReportDetails): Promise<void> {
    try {
      await this.host.publish({
        requestUUID: uuid,
        status,
        statusProgress: details.progress ?? 0,
        statusCode: details.code ?? "",
        message: details.message ?? "",
      });
    } catch (err) {
      this.host.warn(`OTA event ${status} for ${uuid} not delivered: ${(err as Error).message}`);
    }
  }

  private save(current: Running | undefined): void {
    if (!this.file) return;
    const state: Persisted = { seen: this.seen, current: current ? { uuid: current.uuid, url: current.url, status: current.status } : undefined };
    try {
      writeFileAtomic(this.file, JSON.stringify(state));
    } catch (err) {
      // Not fatal: the update goes on (and ends) in memory; only its outcome after a restart is lost.
      this.host.warn(`OTA state ${this.file} not saved: ${(err as Error).message}`);
    }
  }
}

function check(status: OtaStatus, details: OtaReportDetails): void {
  if (!STATUSES.includes(status)) throw new OtaError("invalid-report", `unknown OTA status ${JSON.stringify(status)}`);
  if (details.code !== undefined && !CODES.includes(details.code)) throw new OtaError("invalid-report", `unknown OTA status code ${JSON.stringify(details.code)}`);
  const p = details.progress;
  if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 100)) throw new OtaError("invalid-report", `progress ${p} is not an integer in 0..100`);
}
