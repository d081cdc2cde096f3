import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/index.ts";
import { rec, storeContract } from "./contract.ts";

storeContract("MemoryStore", { create: () => new MemoryStore(), reopen: (previous) => previous });

describe("MemoryStore", () => {
  it("a reused instance resumes what it held; a new instance starts empty", async () => {
    const s = new MemoryStore();
    await s.open("c1");
    s.putOutgoing(rec(1, { packetId: 3 }));
    s.putIncoming(9);
    await s.close();
    expect(await s.open("c1")).toEqual({ outgoing: [rec(1, { packetId: 3 })], incoming: [9], warnings: [] });
    expect(await new MemoryStore().open("c1")).toEqual({ outgoing: [], incoming: [], warnings: [] });
  });
});
