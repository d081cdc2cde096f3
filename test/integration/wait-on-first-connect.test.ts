/**
 * A gateway that boots before its broker: with waitOnFirstConnect, connect() keeps trying with the reconnect
 * backoff until a real mosquitto comes up on the port, reporting each attempt; without it, connect() rejects.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConnectError, createClient, type Client } from "../../src/index.ts";
import { freePort, startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const cleanup: Array<Client | Mosquitto> = [];
afterEach(async () => {
  for (const x of cleanup.splice(0)) await ("dispose" in x ? x.dispose() : x.end({ force: true }));
});

describe("waitOnFirstConnect against a broker that is not up yet", () => {
  it("connect() resolves once mosquitto starts; every failed attempt was a reconnecting event", async () => {
    const port = await freePort();
    const client = createClient({
      url: `mqtt://127.0.0.1:${port}`,
      waitOnFirstConnect: true,
      reconnect: { initialDelay: 100, maxDelay: 400, jitter: 0 },
    });
    cleanup.push(client);
    const attempts: number[] = [];
    client.on("reconnecting", (r) => attempts.push(r.attempt));
    let connected = false;
    const connecting = client.connect().then(() => (connected = true));
    await new Promise((r) => setTimeout(r, 1000));
    expect(connected).toBe(false);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    const broker = await startMosquitto({ port });
    cleanup.push(broker);
    await connecting;
    expect(client.connected).toBe(true);
    // and it is a working connection
    const sub = await client.subscribe("boot/t", { qos: 1 });
    await client.publish("boot/t", "up", { qos: 1 });
    const it = sub[Symbol.asyncIterator]();
    expect(new TextDecoder().decode((await it.next()).value.payload)).toBe("up");
  });

  it("without it, connect() rejects with connection-failed after one try", async () => {
    const port = await freePort();
    const client = createClient({ url: `mqtt://127.0.0.1:${port}` });
    cleanup.push(client);
    const err = await client.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe("connection-failed");
  });
});
