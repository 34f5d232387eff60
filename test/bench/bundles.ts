/**
 * `npm run bench:bundles`: every Lambda entry bundled as deployed, its size, and its cold import time
 * as a ratio to the floor's (a bundle that only creates the DynamoDB document client), against issue
 * 17's budgets (≤ 300 KB, import ≤ 1.5× the floor). The `bundles` section of `npm run bench`, alone:
 * no DynamoDB Local, about a minute. Prints one JSON document on stdout (progress on stderr) and
 * writes it to .bench/bundles.json. `BENCH_QUICK=1`: 3 import rounds instead of 7.
 */
import { benchMeta, bundleSizes, iterations, progress, reserveStdout, startRun, writeReport } from './harness';

async function main() {
  const stdout = reserveStdout();
  const run = startRun();
  progress('bundling every Lambda entry and the floor');
  const bundles = await bundleSizes({ top: 5, importRuns: iterations(7, 3) });
  const report = { meta: benchMeta(run), bundles };
  writeReport('bundles', report, stdout);
  progress(`done in ${report.meta.durationSeconds} s; written to .bench/bundles.json`);
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
