/**
 * `npm run -s bench:webhooks` (issue 16): outbound webhooks under `npm start`, as an integrator meets
 * them. Starts `npm start -- --in-memory` and runs the fan-out twice (test/e2e/webhook-fanout-run.ts:
 * three receivers on loopback, `*`, `contact.*`, and `*` on one that answers 503 for a while after its
 * first request; each run waits until every subscription holds every matching event of the change feed):
 * 1. steady: BENCH_WEBHOOKS_STEADY_CONTACTS contacts (300; BENCH_QUICK=1: 50) created one at a time,
 *    5 a second: the pipeline's own event-to-delivery delay, with no backlog;
 * 2. burst: BENCH_WEBHOOKS_EVENTS events (10,000; BENCH_QUICK=1: 1,000) as fast as the API takes them
 *    (a fifth contacts created, the rest four tags added to each), the third receiver down
 *    BENCH_WEBHOOKS_DOWN_SECONDS (60): the delay then is the backlog's, and the down one catches up.
 *
 * Reports per subscription the event-to-delivery delay (the event's `createdAt` to its first 2xx
 * arrival) p50/p90/p99, split into the fan-out (event to delivery item) and the queue (item to first
 * attempt), and the invariants: 0 lost, each event logged `delivered` exactly once per subscription,
 * every signature valid, the down one refused and caught up. Exits 1 when one fails.
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
// BENCH_WEBHOOKS_CPU_PROFILE=<dir>: npm start's process runs under V8's profiler (a .cpuprofile there when it stops).
const profileDir = process.env.BENCH_WEBHOOKS_CPU_PROFILE;
const stack = await startNpmStart({
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN' },
  ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
});
let failed = false;
try {
  progress(`npm start is up at ${stack.apiBase}`);
  // 1. The pipeline's own latency: contacts created one at a time at a steady rate, far below what
  //    the machine can take, so no backlog builds (BENCH_WEBHOOKS_STEADY_CONTACTS at 5 a second).
  const steadyContacts = Number(process.env.BENCH_WEBHOOKS_STEADY_CONTACTS ?? (quick ? 50 : 300));
  progress(`steady: ${steadyContacts} contacts at 5 a second`);
  const steady = await runWebhookFanout({
    apiBase: stack.apiBase,
    token: stack.ownerToken,
    contacts: steadyContacts,
    tagsPerContact: 0,
    contactsPerSecond: 5,
    downForMs: 10_000,
    log: progress,
  });
  // 2. The burst: as fast as the API takes them, the third receiver down for `downForMs`.
  progress(`burst: ${contacts} contacts and ${contacts * 4} tags, the third receiver down ${downForMs / 1000} s`);
  const report = await runWebhookFanout({
    apiBase: stack.apiBase,
    token: stack.ownerToken,
    contacts,
    tagsPerContact: 4,
    downForMs,
    timeoutMs: Number(process.env.BENCH_WEBHOOKS_TIMEOUT_SECONDS ?? 45 * 60) * 1000,
    log: progress,
  });
  const runs = [steady, report];
  const budget = {
    nothingLost: runs.every((run) => run.subscriptions.every((s) => s.missing === 0)),
    loggedDeliveredOnceEach: runs.every((run) => run.subscriptions.every((s) => s.loggedDelivered === s.expected && s.loggedMoreThanOnce === 0)),
    signaturesValid: runs.every((run) => run.subscriptions.every((s) => s.badSignatures === 0)),
    downOneRefusedThenCaughtUp: runs.every((run) => {
      const down = run.subscriptions.find((s) => s.name === 'down')!;
      return down.refusedWhileDown > 0 && down.received === down.expected;
    }),
  };
  failed = Object.values(budget).some((held) => !held);
  writeReport('webhooks', { meta: benchMeta(run), settings: { events, contacts, tagsPerContact: 4, downForMs, steadyContacts }, steady, burst: report, budget }, stdout);
} catch (error) {
  failed = true;
  stdout.restore();
  console.error(error);
} finally {
  if (profileDir) await stack.stop();
  stack.kill();
  // BENCH_WEBHOOKS_OUTPUT=<file>: what npm start printed (with LOG_LEVEL=DEBUG, each stream batch and its time).
  if (process.env.BENCH_WEBHOOKS_OUTPUT) writeFileSync(process.env.BENCH_WEBHOOKS_OUTPUT, stack.output());
}
process.exit(failed ? 1 : 0);
