/** Credentials never appear in errors, events, logs or stats. */
import { afterEach, expect, it, vi } from "vitest";
import { createClient } from "../../src/index.ts";
import { FakeBroker } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

const SECRET = "s3cret-PW-9f8e7d";
const USER_TOKEN = "tok-ABCDEF-123";

afterEach(() => vi.restoreAllMocks());

/** Everything reachable from a value as text: message, stack, cause chain, own properties. */
function dump(value: unknown, seen = new Set<unknown>()): string {
  if (value === null || typeof value !== "object") return String(value);
  if (seen.has(value)) return "";
  seen.add(value);
  const parts: string[] = [];
  if (value instanceof Error) parts.push(value.message, value.stack ?? "", dump(value.cause, seen));
  for (const key of Object.getOwnPropertyNames(value)) parts.push(key, dump((value as Record<string, unknown>)[key], seen));
  return parts.join("\n");
}

it("refusals, drops, reconnects and logs carry no password or token", async () => {
  const logged: string[] = [];
  for (const level of ["log", "warn", "error", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => dump(a)).join(" ")));
  }
  const broker = new FakeBroker();
  const clock = new FakeClock();
  const seen: unknown[] = [];
  const client = createClient({
    url: "mqtt://fake",
    transport: broker.transport,
    clock,
    random: () => 0,
    username: "device-7",
    password: SECRET,
    keepalive: 5,
    beforeConnect: () => ({ password: USER_TOKEN }),
    reconnect: { initialDelay: 100, maxDelay: 1000 },
  });
  for (const ev of ["connect", "disconnect", "reconnecting", "offline", "error", "warning", "drop"] as const) {
    client.on(ev, (payload) => seen.push(payload));
  }
  // 1: refused for bad credentials.
  const first = client.connect();
  let conn = await broker.nextConnection();
  await conn.accept(false, 4);
  seen.push(await first.catch((e: unknown) => e));
  // 2: connected, then a keepalive timeout, a protocol error, and refusals during reconnect.
  const second = client.connect();
  conn = await broker.nextConnection();
  await conn.accept();
  await second;
  await clock.advance(5000);
  await clock.advance(2500); // no PINGRESP: dead
  await clock.advance(1000);
  conn = await broker.nextConnection();
  await conn.accept(false, 5);
  await settle();
  await clock.advance(1000);
  conn = await broker.nextConnection();
  await conn.accept();
  conn.send(Uint8Array.of(0x00, 0x00)); // reserved packet type
  await settle();
  const queued = client.publish("t", "x", { qos: 1 }).catch((e: unknown) => seen.push(e));
  seen.push(client.stats());
  await client.end({ force: true });
  await queued;
  const text = seen.map((s) => dump(s)).join("\n") + logged.join("\n");
  expect(seen.length).toBeGreaterThan(8);
  expect(text).toContain("bad user name or password"); // the errors are there...
  expect(text).not.toContain(SECRET); // ...but never the secrets
  expect(text).not.toContain(USER_TOKEN);
  // The secret did go on the wire in CONNECT, as it must.
  expect(broker.connections.some((c) => c.packets.some((p) => p.type === "connect" && new TextDecoder().decode(p.password) === USER_TOKEN))).toBe(true);
});
