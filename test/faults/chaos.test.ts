/**
 * Chaos, CI-sized: 10,000 QoS 1 and 2,000 QoS 2 messages from a persistent-session publisher (FileStore) to a
 * persistent-session subscriber, each connected through its own fault proxy that cuts connections at random
 * points (at least 20 cuts on the publisher's link, 8 on the subscriber's), while mosquitto (persistence on)
 * is restarted twice. The scenario is in chaos-scenario.ts; scripts/soak.ts runs it long. Set CHAOS_SEED to
 * replay another seed.
 *
 * Why both clients go through a proxy: the publisher's link exercises outgoing replay (PUBLISH with DUP,
 * PUBREL) and the broker's duplicate detection; the subscriber's link exercises the client's incoming QoS 2
 * exactly-once state (a redelivered PUBLISH before PUBREL must not reach the application twice) and
 * session resume.
 *
 * What is asserted, and why (MQTT 3.1.1):
 * - QoS 1: every message arrives at least once (4.3.2). Duplicates are allowed and counted.
 * - QoS 2: every message arrives exactly once (4.3.3). On the publisher's wire the scenario also checks that no
 *   PUBLISH is sent again after its PUBREL (MQTT-4.3.3-1) and that resends carry DUP; on the subscriber's wire, that
 *   the broker never re-sends a PUBLISH it has released with PUBREL. (mosquitto 2.0.11 does, after a restart, when
 *   its in-flight window is unlimited: the receiver must then treat it as new, MQTT-4.3.3-2, and exactly-once is
 *   lost through no fault of the client. The broker's window is set to avoid that; see RELIABILITY.md.)
 * - Order: section 4.6 makes every topic an Ordered Topic by default and requires resends in the original
 *   order, PUBACKs/PUBRECs in the order of the PUBLISHes. It does NOT promise that every copy arrives in order:
 *   its own non-normative example is "1,2,3,2,3,4" for a window > 1, where a resend of 2 and 3 lands after 3.
 *   Only with an in-flight window of 1 would no QoS 1 message arrive after a later one. This run uses the
 *   client's default window of 20, so for QoS 1 we assert the order of FIRST arrivals per sequence number: TCP
 *   keeps order within a connection, and on every reconnect the unacknowledged messages are resent oldest first
 *   before anything new, so a message can never arrive for the first time after a newer one. Duplicates behind
 *   newer messages are counted, not failed. For QoS 2 the first arrivals are asserted in order the same way. QoS 1
 *   and QoS 2 use different topics: no order is promised between them. mosquitto's own window towards the
 *   subscriber is 65,534 here: with its default of 20, mosquitto 2.0.11 sends a live subscriber QoS 1 messages
 *   out of order on one connection, without any cut, once QoS 1 and QoS 2 traffic fill that window (MQTT-4.6.0-6;
 *   see RELIABILITY.md and scripts/repro-mosquitto-order.ts).
 *
 * The figures are printed (console.log) and recorded in RELIABILITY.md.
 */
import { expect, it } from "vitest";
import { checkChaos, defaultChaosConfig, describeChaos, runChaos } from "./chaos-scenario.ts";

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : defaultChaosConfig.seed;

it("10,000 QoS 1 + 2,000 QoS 2 through >= 20 random cuts and 2 broker restarts: at least once, exactly once, in order", async () => {
  const result = await runChaos({ ...defaultChaosConfig, seed, deadlineMs: 100_000 });
  for (const line of describeChaos(result)) console.log(line);
  expect(checkChaos(result)).toEqual([]);
  // The faults were real: many connections on both links, both restarts recovered, and resends happened.
  expect(result.pubConnects).toBeGreaterThan(20);
  expect(result.subConnects).toBeGreaterThan(8);
  expect(result.restarts).toHaveLength(2);
  expect(result.dupFlagged[1] + result.dupFlagged[2]).toBeGreaterThan(0);
  expect(result.duplicates[2]).toBe(0);
}, 150_000);

it("cuts only, no restart (another seed): QoS 1 at least once, QoS 2 exactly once, in order", async () => {
  const result = await runChaos({ ...defaultChaosConfig, seed: seed + 1000, restarts: 0, deadlineMs: 100_000 });
  for (const line of describeChaos(result)) console.log(line);
  expect(checkChaos(result)).toEqual([]);
  expect(result.pubConnects).toBeGreaterThan(20);
  expect(result.subConnects).toBeGreaterThan(8);
}, 150_000);
