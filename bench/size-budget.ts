/**
 * Size budget of `edgemq`: builds the bundles bench/lib/size-budget.ts guards (the whole core entry and the
 * tree-shaken bundles of typical device applications, min+gz), prints each against its ceiling and the line about
 * issue #7's 8 KB target, and exits 1 when a bundle is over its ceiling. The same check runs in `npm test`
 * (test/size-budget.test.ts); the 8 KB target is reported, not enforced, because the core does not meet it.
 *
 * Run: npm run bench:size-budget
 */
import { budgetReport, measureBudgets } from "./lib/size-budget.ts";

const results = await measureBudgets();
for (const line of budgetReport(results)) console.log(line);
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
