import { it } from "vitest";
import { fuzzClient5, clientSummary } from "./fuzz-client-v5.ts";
it.each([[false, false], [true, true]])("x %s %s", async (persistent, reconnect) => {
  const t = performance.now();
  const s = await fuzzClient5({ seed: 0x5eed_2024, count: 2000, persistent, reconnect });
  console.log(clientSummary(s, performance.now() - t), JSON.stringify(s.serverDisconnects), JSON.stringify(s.publishes));
  for (const f of s.failures.slice(0, 20)) console.log(f);
});
