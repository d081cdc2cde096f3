/**
 * Half-open links: the fault proxy stops forwarding (sockets stay open, no FIN, no RST, and a close on one side
 * is not passed on), so the only way the client can learn the link is dead is its keepalive. With keepalive K
 * the client must declare the link dead within 1.5 x K of the last packet it received (MQTT 3.1.1 section 3.1.2.10:
 * PINGREQ after K of silence, then a reasonable wait for PINGRESP; edgemq waits K/2), then reconnect, replay
 * what was unacknowledged, and go on publishing.
 *
 * The bound asserted is the protocol deadline plus 1 s of slack for timers on a busy 2-core machine; it is
 * not a performance figure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createClient, type Client, type ClientEvents } from "../../src/index.ts";
import { startFaultProxy, type Direction, type FaultProxy } from "../support/fault-proxy.ts";
import { takeMessage, text } from "../support/messages.ts";
import { startMosquitto, type Mosquitto } from "../support/mosquitto.ts";

const K = 2; // seconds
const DEADLINE_MS = 1.5 * K * 1000 + 1000;

let broker: Mosquitto;
let proxy: FaultProxy;
const clients: Client[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  proxy = await startFaultProxy({ target: broker.port, seed: 11 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ force: true }).catch(() => undefined)));
  await proxy?.close();
  await broker?.dispose();
});

/** Resolves with the next `event` of `client` (and when it came). */
function next<K extends keyof ClientEvents>(client: Client, event: K, timeoutMs = 15_000): Promise<{ at: number; payload: ClientEvents[K] }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${String(event)}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (payload) => {
      clearTimeout(timer);
      off();
      resolve({ at: performance.now(), payload });
    });
  });
}

describe("keepalive on a half-open link (through the fault proxy)", () => {
  const directions: Array<[Direction, string]> = [
    ["both", "nothing forwarded either way"],
    ["up", "the client's packets (PINGREQ included) never reach the broker"],
    ["down", "the broker's packets never reach the client, while the client keeps writing QoS 0"],
  ];

  for (const [direction, what] of directions) {
    it(`stall ${direction} (${what}): dead within 1.5 x keepalive, reconnects, publishing continues`, async () => {
      const id = `ka-${direction}`;
      const watcher = await connect({ url: broker.url, clientId: `${id}-watch`, reconnect: false }); // direct, not proxied
      clients.push(watcher);
      const sub = await watcher.subscribe(["before", "during", "after"].map((t) => `ka/${direction}/${t}`), { qos: 1 });

      const client = createClient({
        url: proxy.url,
        clientId: id,
        clean: false,
        keepalive: K,
        reconnect: { initialDelay: 100, maxDelay: 500, jitter: 0 },
        connectTimeout: 5000,
      });
      clients.push(client);
      const events: string[] = [];
      for (const e of ["connect", "disconnect", "reconnecting"] as const) client.on(e, () => events.push(e));
      await client.connect();
      await client.publish(`ka/${direction}/before`, "before", { qos: 1 });
      expect(text((await takeMessage(sub)).payload)).toBe("before");
      events.length = 0;

      const dead = next(client, "disconnect");
      const reconnecting = next(client, "reconnecting");
      const stalledAt = performance.now();
      expect(proxy.stall(direction)).toBeGreaterThanOrEqual(1);

      // Published into the dead link: it must survive (replayed on the next connection).
      const during = client.publish(`ka/${direction}/during`, "during", { qos: 1 });
      let chatter: ReturnType<typeof setInterval> | undefined;
      if (direction === "down") {
        // A busy writer: bytes keep leaving, so "quiet since the last write" never triggers a PINGREQ. Only
        // silence from the broker can show the link is dead.
        let n = 0;
        chatter = setInterval(() => {
          if (client.connected) void client.publish(`ka/${direction}/chatter`, String(n++), { qos: 0 }).catch(() => undefined);
        }, 100);
      }
      try {
        const { at, payload } = await dead;
        const detectMs = at - stalledAt;
        console.log(`keepalive ${K} s, stall ${direction}: declared dead after ${Math.round(detectMs)} ms (deadline ${1.5 * K * 1000} ms + 1 s slack)`);
        expect(payload.reason).toMatchObject({ code: "keepalive-timeout" });
        expect(detectMs).toBeLessThanOrEqual(DEADLINE_MS);
      } finally {
        clearInterval(chatter);
      }
      const connected = next(client, "connect");
      await reconnecting;
      const { at: backAt, payload: back } = await connected;
      console.log(`  reconnected ${Math.round(backAt - stalledAt)} ms after the stall began (session present: ${back.sessionPresent})`);
      expect(back.sessionPresent).toBe(true);
      expect(events.slice(0, 3)).toEqual(["disconnect", "reconnecting", "connect"]);

      await during; // PUBACK on the new connection
      await client.publish(`ka/${direction}/after`, "after", { qos: 1 });
      // "during" reached the broker only when the stall let the client's packets through ("down"); then the
      // replay is a QoS 1 duplicate. Either way it arrives before "after", which was published once it was acked.
      const seen: string[] = [];
      while (!seen.includes("after")) seen.push(text((await takeMessage(sub)).payload));
      expect([...new Set(seen)]).toEqual(["during", "after"]);
      if (direction !== "down") expect(seen).toEqual(["during", "after"]);
      expect(client.stats()).toMatchObject({ inflight: 0, queued: 0, connected: true });
      await client.end();
      await watcher.end();
    });
  }
});
