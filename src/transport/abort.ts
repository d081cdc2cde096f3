/** What an abandoned connection attempt rejects with. */

/** The signal's reason when it is an Error (an AbortError DOMException by default); else an Error carrying it as `cause`. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error("connection attempt aborted", { cause: reason });
}
