/**
 * The Device's own events (connect, disconnect, handshake, command, warning, error): warnings raised while nobody
 * listens are kept for the first "warning" listener, errors nobody listens to are printed once per code, and a
 * listener that throws becomes a ListenerError.
 */

import { Emitter, ListenerError } from "../index.js";
import { DeviceWarning, type DeviceWarningCode } from "./errors.js";
import type { DeviceEvents } from "./device-types.js";

/** Emits a Device's events (Device.on() adds the listeners). */
export class DeviceEmitter {
  private readonly emitter = new Emitter<DeviceEvents>();
  /** What was printed for lack of an "error" listener: one line per distinct condition, never one per occurrence. */
  private printed: Set<string> | undefined;
  /** Warnings raised while nobody listened, for the first "warning" listener. */
  private readonly unheard: Array<DeviceEvents["warning"]> = [];

  /** Adds a listener; returns the function that removes it. Warnings kept so far go to a first "warning" listener, a microtask later. */
  on<K extends keyof DeviceEvents>(event: K, listener: (payload: DeviceEvents[K]) => void): () => void {
    const off = this.emitter.on(event, listener);
    const early = event === "warning" ? this.unheard.splice(0) : [];
    if (early.length > 0) queueMicrotask(() => early.forEach((w) => this.emit("warning", w)));
    return off;
  }

  /** Emits a DeviceWarning on the "warning" event. */
  warn(code: DeviceWarningCode, message: string): void {
    this.emit("warning", new DeviceWarning(code, message));
  }

  /** Emits `event`; warnings nobody listens to are kept (up to 100) for the first listener, unheard errors are printed, and a throwing listener becomes a ListenerError. */
  emit<K extends keyof DeviceEvents>(event: K, payload: DeviceEvents[K]): void {
    if (event === "warning" && !this.emitter.has("warning")) {
      // Kept for the first listener (bounded: a device nobody listens to does not grow).
      if (this.unheard.length < 100) this.unheard.push(payload as DeviceEvents["warning"]);
      return;
    }
    if (event === "error" && !this.emitter.has("error")) {
      this.print(payload as Error);
      return;
    }
    for (const err of this.emitter.emit(event, payload) ?? []) {
      if (event === "error") this.print(new ListenerError(event, err));
      else this.emit("error", new ListenerError(event, err));
    }
  }

  /** Prints `err` with console.warn, once per distinct code. */
  private print(err: Error): void {
    const code = (err as { code?: string }).code ?? err.name;
    if ((this.printed ??= new Set()).has(code)) return;
    this.printed.add(code);
    console.warn(`edgemq/clea error [${code}]: ${err.message}; add an "error" listener to handle these (further ones are not printed)`);
  }
}
