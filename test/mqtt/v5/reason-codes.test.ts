/** Reason codes (MQTT 5.0 section 2.4) per packet, and the user property helpers. */

import { describe, expect, it } from "vitest";
import {
  REASON_CODES,
  ReasonCode,
  isFailure,
  isValidReasonCode,
  reasonCodeName,
  userPropertiesFromRecord,
  userPropertiesToRecord,
  type ReasonPacket,
} from "../../../src/mqtt/v5/index.js";

// The reason codes each packet's own section lists.
const PER_PACKET: Record<ReasonPacket, number[]> = {
  // 3.2.2.2 (table 2-6 also lists 0x8c Bad authentication method for CONNACK)
  connack: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99], // 3.4.2.1
  pubrec: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99], // 3.5.2.1
  pubrel: [0x00, 0x92], // 3.6.2.1
  pubcomp: [0x00, 0x92], // 3.7.2.1
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2], // 3.9.3
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91], // 3.11.3
  // 3.14.2.1, plus 0x8c Bad authentication method, which table 2-6 allows in DISCONNECT
  disconnect: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
  auth: [0x00, 0x18, 0x19], // 3.15.2.1
};

describe("v5 reason codes", () => {
  it.each(Object.entries(PER_PACKET))("%s accepts exactly its codes", (packet, codes) => {
    for (let code = 0; code < 256; code++) {
      expect(isValidReasonCode(packet as ReasonPacket, code), `0x${code.toString(16)}`).toBe(codes.includes(code));
    }
  });

  it("lists 43 codes, each with a name and at least one packet", () => {
    expect(REASON_CODES).toHaveLength(43);
    for (const r of REASON_CODES) {
      expect(r.name).not.toBe("");
      expect(r.packets.length).toBeGreaterThan(0);
    }
  });

  it("names codes per packet", () => {
    expect(reasonCodeName("disconnect", 0)).toBe("Normal disconnection");
    expect(reasonCodeName("suback", 0)).toBe("Granted QoS 0");
    expect(reasonCodeName("puback", 0)).toBe("Success");
    expect(reasonCodeName("connack", ReasonCode.BadUserNameOrPassword)).toBe("Bad User Name or Password");
    expect(reasonCodeName("connack", 0x7f)).toBe("unknown 0x7f");
    expect(isFailure(ReasonCode.NoMatchingSubscribers)).toBe(false);
    expect(isFailure(ReasonCode.UnspecifiedError)).toBe(true);
  });
});

describe("user properties", () => {
  it("converts pairs to a record, a repeated name becoming an array in wire order", () => {
    expect(userPropertiesToRecord([["a", "1"], ["b", "2"], ["a", "3"], ["a", "4"]])).toEqual({ a: ["1", "3", "4"], b: "2" });
    expect(userPropertiesToRecord([["__proto__", "x"]])).toEqual(Object.assign(Object.create(null), { ["__proto__"]: "x" }));
  });

  it("converts a record to pairs, an array value giving one pair per element", () => {
    expect(userPropertiesFromRecord({ site: "p7", tag: ["x", "y"] })).toEqual([["site", "p7"], ["tag", "x"], ["tag", "y"]]);
  });
});
