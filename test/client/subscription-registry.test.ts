/** SubscriptionRegistry: dispatch through the trie, with a topic cache that follows every change. */
import { describe, expect, it } from "vitest";
import { Subscription, SubscriptionRegistry } from "../../src/client/subscription.ts";

const sub = (...filters: string[]) => new Subscription(filters, 0, 10, { unsubscribed: async () => undefined, overflowed: () => undefined });

describe("SubscriptionRegistry", () => {
  it("a cached match follows subscriptions added and removed later", () => {
    const reg = new SubscriptionRegistry();
    const a = sub("plant/#");
    reg.add(a);
    expect(reg.match("plant/p7/temp")).toEqual([a]);
    const b = sub("plant/+/temp", "plant/p7/#");
    reg.add(b);
    expect(reg.match("plant/p7/temp")).toEqual(expect.arrayContaining([a, b]));
    expect(reg.match("plant/p7/temp")).toHaveLength(2);
    expect(reg.delete(a)).toEqual(["plant/#"]);
    expect(reg.match("plant/p7/temp")).toEqual([b]);
    expect(reg.match("other")).toEqual([]);
  });

  it("keeps answering correctly past the cache's size bound", () => {
    const reg = new SubscriptionRegistry();
    const a = sub("t/+");
    reg.add(a);
    for (let i = 0; i < 3000; i++) expect(reg.match(`t/${i}`)).toEqual([a]);
    expect(reg.match("t/x/y")).toEqual([]);
  });
});
