/**
 * A runtime-neutral test harness for the Deno and Bun suites: `test(name, fn)` registers, `run()` executes
 * in order and prints the plain closing line "N passed, N failed". Each test gets a time limit.
 */

type TestFn = () => void | Promise<void>;
const tests: Array<{ name: string; fn: TestFn; timeoutMs: number }> = [];

/** Registers a test. */
export function test(name: string, fn: TestFn, timeoutMs = 30_000): void {
  tests.push({ name, fn, timeoutMs });
}

/** Throws with `message` unless `cond` holds. */
export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Deep equality via JSON with Uint8Array and bigint support. */
export function assertEqual(actual: unknown, expected: unknown, message = "values differ"): void {
  const a = stable(actual);
  const e = stable(expected);
  if (a !== e) throw new Error(`assertion failed: ${message}\n  actual:   ${a}\n  expected: ${e}`);
}

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x instanceof Uint8Array ? `bytes:${Array.from(x).join(",")}` : typeof x === "bigint" ? `${x}n` : x,
  );
}

/** Runs every registered test and returns the process exit code. */
export async function run(runtime: string): Promise<number> {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    try {
      await Promise.race([
        Promise.resolve().then(t.fn),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
        }),
      ]);
      passed++;
      console.log(`ok   ${runtime}: ${t.name} (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${runtime}: ${t.name}\n     ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}
