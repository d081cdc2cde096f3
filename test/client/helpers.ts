/** Shared set-up for client tests against the scripted broker on a fake clock. */
import { createClient, type Client, type ClientOptions } from "../../src/index.ts";
import { FakeBroker, type FakeConnection } from "../support/fake-broker.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

export interface Rig {
  broker: FakeBroker;
  clock: FakeClock;
  client: Client;
  conn: FakeConnection;
}

/** A client connected to a fresh scripted broker (CONNACK accepted with `sessionPresent`). */
export async function connected(options: Partial<ClientOptions> = {}, sessionPresent = false): Promise<Rig> {
  const broker = new FakeBroker();
  const clock = new FakeClock();
  const client = createClient({
    url: "mqtt://fake:1883",
    transport: broker.transport,
    clock,
    random: () => 0,
    keepalive: 0,
    reconnect: { initialDelay: 1000, maxDelay: 8000, multiplier: 2, jitter: 0.5 },
    ...options,
  });
  const connecting = client.connect();
  const conn = await broker.nextConnection();
  await conn.accept(sessionPresent);
  await connecting;
  return { broker, clock, client, conn };
}

/** Drops the connection, lets the reconnect delay pass, and accepts the next connection. */
export async function reconnect(rig: Rig, sessionPresent: boolean): Promise<FakeConnection> {
  rig.conn.drop();
  await settle();
  await rig.clock.advance(8_000);
  const conn = await rig.broker.nextConnection();
  await conn.accept(sessionPresent);
  await settle();
  rig.conn = conn;
  return conn;
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
export { settle };
