/** Topic names, filters, matching and the dispatch trie (MQTT 3.1.1 section 4.7). */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EdgemqError,
  TopicError,
  TopicTrie,
  assertTopicFilter,
  assertTopicName,
  topicFilterProblem,
  topicMatches,
  topicNameProblem,
} from "../../src/mqtt/index.js";
import { topicNameLength } from "../../src/mqtt/topic.ts";

const VALID_NAMES = ["a", "a/b", "/", "//", "/finance", "sport/tennis/player1", "a b", " ", "$SYS/broker/uptime", "$", "über/€/😀", "a//b", "x".repeat(100)];
const INVALID_NAMES: Array<[string, string]> = [
  ["", "empty"],
  ["+", "wildcard"],
  ["#", "wildcard"],
  ["a/+", "wildcard"],
  ["a/#", "wildcard"],
  ["a+b", "wildcard inside a level"],
  ["sport/tennis#", "wildcard inside a level"],
  ["a\u0000b", "U+0000"],
  ["\uD800", "lone high surrogate"],
  ["a\uDC00", "lone low surrogate"],
  ["\uDE00\uD83D", "surrogates in the wrong order"],
];

const VALID_FILTERS = ["#", "+", "a/#", "/#", "+/+", "/+", "+/", "a/+/b", "+/#", "+/+/#", "sport/tennis/player1/#", "$SYS/#", "$SYS/monitor/+", "a//b", "//", "€/+", "a"];
const INVALID_FILTERS: Array<[string, string]> = [
  ["", "empty"],
  ["a#", "'#' inside a level"],
  ["sport/tennis#", "'#' inside a level (spec example)"],
  ["#/a", "'#' not last"],
  ["a/#/b", "'#' not last"],
  ["sport/tennis/#/ranking", "'#' not last (spec example)"],
  ["a/#/", "'#' not last"],
  ["##", "'#' twice"],
  ["#+", "'#' with '+'"],
  ["a+", "'+' inside a level"],
  ["+a", "'+' inside a level"],
  ["sport+", "'+' inside a level (spec example)"],
  ["a/+b/c", "'+' inside a level"],
  ["++", "'+' twice in a level"],
  ["+/a+", "'+' inside the last level"],
  ["a\u0000", "U+0000"],
  ["+/\uD800", "lone surrogate"],
];

describe("topic names", () => {
  it.each(VALID_NAMES)("%j is a valid topic name", (t) => {
    expect(topicNameProblem(t)).toBeUndefined();
    expect(() => assertTopicName(t)).not.toThrow();
  });

  it.each(INVALID_NAMES)("%j is refused (%s)", (t) => {
    expect(topicNameProblem(t)).toEqual(expect.any(String));
    let err: unknown;
    try {
      assertTopicName(t);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TopicError);
    expect(err).toBeInstanceOf(EdgemqError);
    expect((err as TopicError).code).toBe("invalid-topic");
    expect((err as TopicError).topic).toBe(t);
  });

  it("non-strings are refused", () => {
    expect(topicNameProblem(42 as unknown as string)).toEqual(expect.any(String));
    expect(topicFilterProblem(undefined as unknown as string)).toEqual(expect.any(String));
    expect(() => assertTopicName(null as unknown as string)).toThrow(TopicError);
  });
});

describe("topic filters", () => {
  it.each(VALID_FILTERS)("%j is a valid topic filter", (f) => {
    expect(topicFilterProblem(f)).toBeUndefined();
    expect(() => assertTopicFilter(f)).not.toThrow();
  });

  it.each(INVALID_FILTERS)("%j is refused (%s)", (f) => {
    expect(topicFilterProblem(f)).toEqual(expect.any(String));
    let err: unknown;
    try {
      assertTopicFilter(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TopicError);
    expect((err as TopicError).code).toBe("invalid-topic-filter");
    expect((err as TopicError).topic).toBe(f);
  });

  it("every valid topic name is also a valid topic filter", () => {
    for (const t of VALID_NAMES) expect(topicFilterProblem(t)).toBeUndefined();
  });
});

describe("65,535-byte limit (1.5.3), counted in UTF-8 bytes", () => {
  const cases: Array<[string, string, boolean]> = [
    ["65,535 ASCII bytes", "a".repeat(65_535), true],
    ["65,536 ASCII bytes", "a".repeat(65_536), false],
    ["32,767 x 'é' (2 bytes) + 'a' = 65,535 bytes", "é".repeat(32_767) + "a", true],
    ["32,768 x 'é' = 65,536 bytes", "é".repeat(32_768), false],
    ["21,845 x '€' (3 bytes) = 65,535 bytes", "€".repeat(21_845), true],
    ["21,845 x '€' + 'a' = 65,536 bytes", "€".repeat(21_845) + "a", false],
    ["16,383 x '😀' (4 bytes) + 'aaa' = 65,535 bytes", "😀".repeat(16_383) + "aaa", true],
    ["16,384 x '😀' = 65,536 bytes", "😀".repeat(16_384), false],
  ];

  it.each(cases)("%s", (_name, s, ok) => {
    expect(new TextEncoder().encode(s).length).toBe(ok ? 65_535 : 65_536);
    expect(topicNameProblem(s) === undefined).toBe(ok);
    expect(topicFilterProblem(s) === undefined).toBe(ok);
    if (ok) {
      expect(() => assertTopicName(s)).not.toThrow();
    } else {
      expect(() => assertTopicName(s)).toThrow(expect.objectContaining({ code: "invalid-topic" }));
      expect(() => assertTopicFilter(s)).toThrow(expect.objectContaining({ code: "invalid-topic-filter" }));
    }
  });

  it.each<[string, string, boolean]>([
    ["65,533 x 'a' + '/#' = 65,535 bytes", "a".repeat(65_533) + "/#", true],
    ["65,534 x 'a' + '/#' = 65,536 bytes", "a".repeat(65_534) + "/#", false],
    ["'+/' + 21,844 x '€' + 'a' = 65,535 bytes", "+/" + "€".repeat(21_844) + "a", true],
    ["'+/' + 21,844 x '€' + 'ab' = 65,536 bytes", "+/" + "€".repeat(21_844) + "ab", false],
  ])("filter with wildcards: %s", (_name, f, ok) => {
    expect(new TextEncoder().encode(f).length).toBe(ok ? 65_535 : 65_536);
    expect(topicFilterProblem(f) === undefined).toBe(ok);
  });
});

// [filter, topic, matches] — examples from MQTT 3.1.1 section 4.7 and their obvious neighbours.
const MATCHES: Array<[string, string, boolean]> = [
  // 4.7.1.2 multi-level wildcard
  ["sport/tennis/player1/#", "sport/tennis/player1", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
  ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
  ["sport/tennis/player1/#", "sport/tennis/player2", false],
  ["sport/tennis/player1/#", "sport/tennis", false],
  ["sport/#", "sport", true],
  ["sport/#", "sport/", true],
  ["sport/#", "sports", false],
  ["#", "sport", true],
  ["#", "sport/tennis/player1", true],
  ["#", "/", true],
  ["#", "/finance", true],
  // 4.7.1.3 single-level wildcard
  ["sport/tennis/+", "sport/tennis/player1", true],
  ["sport/tennis/+", "sport/tennis/player2", true],
  ["sport/tennis/+", "sport/tennis/player1/ranking", false],
  ["sport/tennis/+", "sport/tennis", false],
  ["sport/+", "sport", false],
  ["sport/+", "sport/", true],
  ["+", "sport", true],
  ["+", "/finance", false],
  ["+/+", "/finance", true],
  ["/+", "/finance", true],
  ["/+", "finance", false],
  ["+/tennis/#", "sport/tennis/player1", true],
  ["+/tennis/#", "sport/tennis", true],
  ["+/tennis/#", "sport/golf", false],
  ["a/+/c", "a//c", true],
  ["a/+/c", "a/b/c", true],
  ["a/+/c", "a/b/d", false],
  ["+/+", "/", true],
  ["+", "/", false],
  ["+/+/+", "a/b", false],
  // 4.7.2 topics beginning with $
  ["#", "$SYS", false],
  ["#", "$SYS/monitor/Clients", false],
  ["+/monitor/Clients", "$SYS/monitor/Clients", false],
  ["+", "$SYS", false],
  ["+/#", "$SYS/x", false],
  ["$SYS/#", "$SYS/monitor/Clients", true],
  ["$SYS/#", "$SYS", true],
  ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
  ["$SYS/+/Clients", "$SYS/monitor/Clients", true],
  ["a/#", "a/$SYS", true],
  ["+/$x", "a/$x", true],
  // exact and case-sensitive (4.7.3)
  ["ACCOUNTS", "Accounts", false],
  ["Accounts payable", "Accounts payable", true],
  ["a/b", "a/b/c", false],
  ["a/b/c", "a/b", false],
  ["a/b", "a/b", true],
  ["/", "/", true],
  ["a/", "a", false],
];

describe("topicMatches", () => {
  it.each(MATCHES)("filter %j vs topic %j -> %s", (filter, topic, expected) => {
    expect(topicFilterProblem(filter)).toBeUndefined();
    expect(topicNameProblem(topic)).toBeUndefined();
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it("the trie agrees with every row of the table", () => {
    for (const [filter, topic, expected] of MATCHES) {
      const trie = new TopicTrie<string>();
      trie.add(filter, "v");
      expect(trie.match(topic), `${filter} vs ${topic}`).toEqual(expected ? ["v"] : []);
    }
  });
});

/** The trie's root node: only used to check that remove() prunes empty branches. */
function rootChildren(trie: TopicTrie<unknown>): Map<string, unknown> {
  return (trie as unknown as { root: { children: Map<string, unknown> } }).root.children;
}

describe("TopicTrie", () => {
  it("returns each value once across overlapping filters", () => {
    const trie = new TopicTrie<string>();
    for (const f of ["a/b", "a/+", "a/#", "#", "+/b", "+/+", "a/b/#"]) trie.add(f, "x");
    trie.add("a/b", "y");
    trie.add("a/c", "z");
    expect(trie.size).toBe(9);
    expect(trie.match("a/b").sort()).toEqual(["x", "y"]);
    expect(trie.match("a/c").sort()).toEqual(["x", "z"]);
    expect(trie.match("q")).toEqual(["x"]);
    expect(trie.match("$SYS/b")).toEqual([]);
  });

  it("adding the same (filter, value) twice counts once", () => {
    const trie = new TopicTrie<number>();
    trie.add("a/+", 1);
    trie.add("a/+", 1);
    expect(trie.size).toBe(1);
    expect(trie.remove("a/+", 1)).toBe(true);
    expect(trie.size).toBe(0);
    expect(trie.match("a/b")).toEqual([]);
  });

  it("remove returns false for what is not there", () => {
    const trie = new TopicTrie<number>();
    trie.add("a/b", 1);
    expect(trie.remove("a/b", 2)).toBe(false);
    expect(trie.remove("a/c", 1)).toBe(false);
    expect(trie.remove("a", 1)).toBe(false);
    expect(trie.remove("a/b/c", 1)).toBe(false);
    expect(trie.size).toBe(1);
    expect(trie.match("a/b")).toEqual([1]);
  });

  it("remove keeps other values and sibling or child filters", () => {
    const trie = new TopicTrie<string>();
    trie.add("a/b", "1");
    trie.add("a/b", "2");
    trie.add("a/b/c", "3");
    trie.add("a/#", "4");
    expect(trie.remove("a/b", "1")).toBe(true);
    expect(trie.match("a/b").sort()).toEqual(["2", "4"]);
    expect(trie.remove("a/b", "2")).toBe(true);
    expect(trie.match("a/b")).toEqual(["4"]);
    expect(trie.match("a/b/c").sort()).toEqual(["3", "4"]);
    expect(trie.size).toBe(2);
  });

  it("prunes empty branches after remove", () => {
    const trie = new TopicTrie<string>();
    trie.add("a/b/c/d", "deep");
    trie.add("a/+/#", "wild");
    trie.add("x", "x");
    expect(rootChildren(trie).size).toBe(2);
    trie.remove("x", "x");
    expect(rootChildren(trie).size).toBe(1);
    trie.remove("a/b/c/d", "deep");
    expect(rootChildren(trie).size).toBe(1); // "a" still holds "+/#"
    trie.remove("a/+/#", "wild");
    expect(trie.size).toBe(0);
    expect(rootChildren(trie).size).toBe(0);
  });

  it("applies the $ rule only at the first level", () => {
    const trie = new TopicTrie<string>();
    trie.add("#", "all");
    trie.add("+/monitor/Clients", "plus");
    trie.add("$SYS/#", "sys");
    trie.add("$SYS/monitor/+", "sysplus");
    trie.add("a/#", "a");
    expect(trie.match("$SYS/monitor/Clients").sort()).toEqual(["sys", "sysplus"]);
    expect(trie.match("$SYS")).toEqual(["sys"]);
    expect(trie.match("a/$b").sort()).toEqual(["a", "all"]);
    expect(trie.match("x/monitor/Clients").sort()).toEqual(["all", "plus"]);
  });

  it("agrees with topicMatches on random filters and topics", () => {
    const level = fc.constantFrom("a", "b", "", "$x", "c d");
    const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((ls) => ls.join("/")).filter((t) => topicNameProblem(t) === undefined);
    const filterArb = fc
      .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([ls, hash]) => (hash ? [...ls, "#"] : ls).join("/"))
      .filter((f) => topicFilterProblem(f) === undefined);
    fc.assert(
      fc.property(fc.array(filterArb, { maxLength: 12 }), fc.array(topicArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 11 }), (filters, topics, drop) => {
        const trie = new TopicTrie<number>();
        filters.forEach((f, i) => trie.add(f, i));
        const removed = filters.length > 0 ? drop % filters.length : -1;
        if (removed >= 0) expect(trie.remove(filters[removed]!, removed)).toBe(true);
        expect(trie.size).toBe(filters.length - (removed >= 0 ? 1 : 0));
        for (const t of topics) {
          const expected = filters.flatMap((f, i) => (i !== removed && topicMatches(f, t) ? [i] : []));
          expect(trie.match(t).sort((x, y) => x - y)).toEqual(expected);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("topic name validation with its cache of recent valid names", () => {
  it("never accepts an invalid name, however valid names and invalid ones interleave", () => {
    const invalid = ["", "a/+", "#", "a\u0000b", "x/#", "\ud800", "+"];
    const valid = ["a", "plant/press-7/temp", "$SYS/x", "a//b", "/", "ü/€"];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...invalid), fc.constantFrom(...valid)), { maxLength: 40 }), (names) => {
        for (const n of names) expect(topicNameProblem(n) === undefined).toBe(valid.includes(n));
      }),
    );
  });

  it("reports each valid name's own UTF-8 length, however names come and go from the cache", () => {
    const names = ["a", "ü/€", "plant/press-7/temp", "😀/x", "$SYS/broker", "a//b", "日本/語"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...names), { maxLength: 60 }), (seq) => {
        for (const n of seq) expect(topicNameLength(n)).toBe(new TextEncoder().encode(n).length);
      }),
    );
    expect(() => topicNameLength("a/+")).toThrow(TopicError);
  });
});
