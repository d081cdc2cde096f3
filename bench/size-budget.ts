/**
 * Size budget of the `edgemq` core: bundled and minified as an application ships it (the same build as
 * `npm run bench:size`), gzipped, it must stay within 8 KB. Exits 1 when over budget.
 * Not yet part of `npm test`: the core is over budget (see BENCHMARKS.md); it moves into the test suite once it fits.
 */
import { coreSize } from "./lib/bundle.ts";

const BUDGET = 8 * 1024;
const size = await coreSize();
const over = size.gzipped > BUDGET;
console.log(`edgemq core: ${size.minified} bytes minified, ${size.gzipped} bytes min+gz (budget ${BUDGET})${over ? " - OVER BUDGET" : ""}`);
process.exitCode = over ? 1 : 0;
