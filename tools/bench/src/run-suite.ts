/** Runs the scenarios of one suite; a failing scenario is reported and the others still run. */
import type { BenchContext, Suite } from './suite.js';
import { UsageError } from './cli.js';

export async function runSuite(suite: Suite, ctx: BenchContext, only: ReadonlySet<string> | null): Promise<void> {
  const names = suite.scenarios.map((s) => s.name);
  if (only) {
    const unknown = [...only].filter((n) => !names.includes(n));
    if (unknown.length > 0) {
      throw new UsageError(`suite ${suite.name} has no scenario ${unknown.join(', ')}; its scenarios: ${names.join(', ')}`);
    }
  }
  for (const scenario of suite.scenarios) {
    if (only && !only.has(scenario.name)) continue;
    const t0 = performance.now();
    ctx.log(`── ${scenario.name}: ${scenario.description}`);
    try {
      await scenario.run(ctx);
      ctx.log(`   ${scenario.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      ctx.report.fail(scenario.name, err);
      ctx.log(
        `   ${scenario.name} FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }
}
