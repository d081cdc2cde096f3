import { it } from "vitest";
import { fuzzDecoder5, summary } from "./fuzz-decoder-v5.ts";
it("x", () => {
  const t = performance.now();
  const s = fuzzDecoder5(0x5eed_2024, 0, 100_000);
  console.log(summary(s, performance.now() - t));
  for (const f of s.failures.slice(0, 10)) console.log(f);
});
