/** Reading messages from a Subscription in tests, with a deadline so a missing message fails instead of hanging. */

import type { Message, Subscription } from "../../src/index.ts";

/** The next `count` messages of `sub`, in arrival order; rejects if they do not all arrive within `timeoutMs`. */
export async function takeMessages(sub: Subscription, count: number, timeoutMs = 10_000): Promise<Message[]> {
  // Not `for await`: leaving that loop early would unsubscribe.
  const it = sub[Symbol.asyncIterator]();
  const out: Message[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`received ${out.length} of ${count} messages on ${sub.filters.join(", ")} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    while (out.length < count) {
      const r = await Promise.race([it.next(), deadline]);
      if (r.done) throw new Error(`subscription ${sub.filters.join(", ")} ended after ${out.length} of ${count} messages`);
      out.push(r.value);
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** The next message of `sub`. */
export async function takeMessage(sub: Subscription, timeoutMs = 10_000): Promise<Message> {
  const [msg] = await takeMessages(sub, 1, timeoutMs);
  return msg!;
}

/** The rejection of `promise` (fails if it resolves), for asserting on typed errors. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the promise to reject, but it resolved");
}

/** The text of a payload. */
export function text(payload: Uint8Array): string {
  return new TextDecoder().decode(payload);
}
