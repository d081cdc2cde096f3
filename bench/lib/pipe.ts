/**
 * A byte pipe for the hand-written "raw" MQTT client: node:net for the end-to-end benchmarks, the in-memory broker
 * for bench/inmem.ts. Runs on Node, Deno and Bun.
 */
import * as net from "node:net";

/** What a pipe reports. */
export interface PipeHandlers {
  onData(chunk: Uint8Array): void;
  onDrain(): void;
  onClose(): void;
}

/** One open byte stream. */
export interface Pipe {
  /** Queues bytes; false means wait for onDrain. */
  write(bytes: Uint8Array): boolean;
  /** Buffers the following writes until uncork() (one writev). */
  cork(): void;
  uncork(): void;
  close(): void;
}

/** Opens a pipe. */
export type PipeFactory = (handlers: PipeHandlers) => Promise<Pipe>;

/** A TCP pipe to host:port with Nagle off (as every contender sets it). */
export function netPipe(host: string, port: number): PipeFactory {
  return (h) =>
    new Promise<Pipe>((resolve, reject) => {
      const s = net.connect({ host, port });
      s.setNoDelay(true);
      s.once("connect", () => {
        s.off("error", reject);
        s.on("error", () => undefined);
        resolve({
          write: (b) => s.write(b),
          cork: () => s.cork(),
          uncork: () => s.uncork(),
          close: () => s.destroy(),
        });
      });
      s.once("error", reject);
      s.on("data", (chunk: Uint8Array) => h.onData(chunk));
      s.on("drain", () => h.onDrain());
      s.on("close", () => h.onClose());
    });
}
