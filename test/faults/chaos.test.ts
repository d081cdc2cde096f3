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
 * - QoS 2: every message arrives exactly once (4.3.3), checked without exception in the run with cuts only. Across
 *   broker restarts, mosquitto 2.0.11 re-sends a message that was awaiting PUBCOMP as a PUBLISH (DUP=1) instead of
 *   a PUBREL, breaking MQTT-4.3.3-1; a receiver that already answered the PUBREL MUST treat it as a new
 *   publication (MQTT-4.3.3-2), so that message reaches the application twice. The scenario sees those resends on
 *   the subscriber's wire; a QoS 2 duplicate fails the test unless it is one of them (see RELIABILITY.md).
 *   On the publisher's wire it checks that no PUBLISH is sent again after its PUBREL and that resends carry DUP.
 * - Order: section 4.6 makes every topic an Ordered Topic by default and requires resends in the original
 *   order, PUBACKs/PUBRECs in the order of the PUBLISHes. It does NOT promise that every copy arrives in order:
 *   its own non-normative example is "1,2,3,2,3,4" for a window > 1, where a resend of 2 and 3 lands after 3.
 *   Only with an in-flight window of 1 would no QoS 1 message arrive after a later one. This run uses the
 *   client's default window of 20, so for QoS 1 we assert the order of FIRST arrivals per sequence number: TCP
 *   keeps order within a connection, and on every reconnect the unacknowledged messages are resent oldest first
 *   before anything new, so a message can never arrive for the first time after a newer one. Duplicates behind
 *   newer messages are counted, not failed. For QoS 2 the first arrivals are asserted in order the same way. QoS 1
 *   and QoS 2 use different topics: no order is promised between them. mosquitto's own window towards the
 *   subscriber is unbounded here (max_inflight_messages 0): with its default of 20, mosquitto 2.0.11 was seen
 *   sending a live subscriber QoS 1 messages out of order on one connection, without any cut, when that link
 *   was merely slow (see RELIABILITY.md).
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
}, 150_000);

it("cuts only, no restart: QoS 2 strictly exactly once (no broker resend to excuse), QoS 1 at least once, in order", async () => {
  const result = await runChaos({ ...defaultChaosConfig, seed: seed + 1000, restarts: 0, deadlineMs: 100_000 });
  for (const line of describeChaos(result)) console.log(line);
  expect(checkChaos(result)).toEqual([]);
  expect(result.brokerResentAfterPubrel).toEqual([]);
  expect(result.duplicates[2]).toBe(0);
  expect(result.pubConnects).toBeGreaterThan(20);
}, 150_000);
