/**
 * `npm run -s bench:webhooks` (issue 16): outbound webhooks under `npm start`, as an integrator meets
 * them. Starts `npm start -- --in-memory`, subscribes three receivers on loopback (`*`, `contact.*`,
 * and `*` on one that answers 503 for the first BENCH_WEBHOOKS_DOWN_SECONDS, 60 by default), writes
 * BENCH_WEBHOOKS_EVENTS events (10,000 by default; BENCH_QUICK=1: 1,000) through the API, and waits
 * until every subscription holds every matching event of the change feed.
 *
 * Reports the event-to-delivery delay (the event's `createdAt` to its first 2xx arrival) p50/p90/p99
 * per subscription, how long the down one took to catch up, and the invariants: 0 lost, each event
 * logged `delivered` exactly once per subscription, every signature valid. Exits 1 when one fails.
 * One JSON document on stdout and in .bench/webhooks.json; progress on stderr. See README.md ("Webhooks").
 */
import { writeFileSync } from 'node:fs';
import { runWebhookFanout } from '../e2e/webhook-fanout-run';
import { startNpmStart } from '../e2e/npm-start-process';
import { benchMeta, progress, quick, reserveStdout, startRun, writeReport } from './harness';

const run = startRun();
const stdout = reserveStdout();
const events = Number(process.env.BENCH_WEBHOOKS_EVENTS ?? (quick ? 1_000 : 10_000));
const downForMs = Number(process.env.BENCH_WEBHOOKS_DOWN_SECONDS ?? 60) * 1000;
// A fifth of the events are contacts created, the rest four tags added to each.
const contacts = Math.max(1, Math.round(events / 5));

progress('starting npm start');
const stack = await startNpmStart({ env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN' } });
let failed = false;
try {
  progress(`npm start is up at ${stack.apiBase}; ${contacts} contacts and ${contacts * 4} tags, the third receiver down ${downForMs / 1000} s`);
  const report = await runWebhookFanout({
    apiBase: stack.apiBase,
    token: stack.ownerToken,
    contacts,
    tagsPerContact: 4,
    downForMs,
    timeoutMs: Number(process.env.BENCH_WEBHOOKS_TIMEOUT_SECONDS ?? 45 * 60) * 1000,
    log: progress,
  });
  const budget = {
    nothingLost: report.subscriptions.every((s) => s.missing === 0),
    loggedDeliveredOnceEach: report.subscriptions.every((s) => s.loggedDelivered === s.expected && s.loggedMoreThanOnce === 0),
    signaturesValid: report.subscriptions.every((s) => s.badSignatures === 0),
    downOneRefusedThenCaughtUp: (() => {
      const down = report.subscriptions.find((s) => s.name === 'down')!;
      return down.refusedWhileDown > 0 && down.received === down.expected;
    })(),
  };
  failed = Object.values(budget).some((held) => !held);
  writeReport('webhooks', { meta: benchMeta(run), settings: { events, contacts, tagsPerContact: 4, downForMs }, ...report, budget }, stdout);
} catch (error) {
  failed = true;
  stdout.restore();
  console.error(error);
} finally {
  stack.kill();
  // BENCH_WEBHOOKS_OUTPUT=<file>: what npm start printed (with LOG_LEVEL=DEBUG, each stream batch and its time).
  if (process.env.BENCH_WEBHOOKS_OUTPUT) writeFileSync(process.env.BENCH_WEBHOOKS_OUTPUT, stack.output());
}
process.exit(failed ? 1 : 0);
