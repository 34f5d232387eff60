/**
 * `npx tsx test/bench/bulk-contacts.ts`: `POST /v1/contacts/bulk` on 500 real contacts through the real
 * handler, against its own DynamoDB Local, next to the latency of the single operation it repeats.
 * Prints one JSON document (also written to .bench/bulk-contacts.json); progress goes to stderr.
 *
 * Read `effectiveParallelism` (single-operation p50 × 500 / bulk wall time): on AWS the 8 lanes overlap
 * their round trips; DynamoDB Local applies one transaction at a time, so it stays near 1 there, and
 * the local wall time is about 500 × the single operation's latency.
 */
import { createContact } from '../../domain/contacts/contacts.service';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { invokeHttp } from '../../local/http-invoke';
import {
  benchMeta,
  measure,
  progress,
  reserveStdout,
  runConcurrent,
  startBenchStack,
  startRun,
  writeReport,
} from './harness';

const contacts = 500;

const call = async (method: string, path: string, token: string, body?: unknown) => {
  const result = await invokeHttp(method, path, { token, ...(body === undefined ? {} : { body }) });
  if ((result.statusCode ?? 200) >= 300)
    throw new Error(`${method} ${path}: ${result.statusCode} ${result.body}`);
  return JSON.parse(result.body ?? '{}');
};

async function main() {
  const run = startRun();
  const stdout = reserveStdout();
  const stack = await startBenchStack();
  try {
    const created = await createWorkspace(stack.deps, {
      name: 'Bench',
      ownerName: 'Bench Owner',
      ownerEmail: 'owner@bench.example',
    });
    const ownerToken = created.token.token;
    const owner = { workspaceId: created.workspace.id, userId: created.owner.id, role: 'owner' as const };
    const member = await call('POST', '/v1/users', ownerToken, {
      name: 'Bench Member',
      email: 'member@bench.example',
      role: 'member',
    });
    const memberToken = (await call('POST', '/v1/tokens', ownerToken, { userId: member.id, name: 'bench' }))
      .token as string;

    progress(`seeding ${contacts} contacts`);
    const ids: string[] = new Array(contacts);
    await runConcurrent(contacts, 8, async (index) => {
      ids[index] = (
        await createContact(stack.deps, owner, { name: `Bench Person ${index}`, channels: [] })
      ).id;
    });

    progress('single operation: archive / unarchive, one at a time');
    // calls 0-39 archive contacts 0-39, calls 40-79 bring them back: every call changes its contact
    const single = await measure(
      'singleArchiveOrUnarchive',
      80,
      (index) =>
        call('POST', `/v1/contacts/${ids[index % 40]}/${index < 40 ? 'archive' : 'unarchive'}`, ownerToken),
      { warmup: 0 },
    );

    const bulkRuns: Record<string, unknown> = {};
    const steps: [string, string, Record<string, unknown>][] = [
      ['claimByMember', memberToken, { action: 'claim' }],
      ['releaseByMember', memberToken, { action: 'release' }],
      ['tagOne', ownerToken, { action: 'tag', tags: ['bench'] }],
      ['untagOne', ownerToken, { action: 'untag', tags: ['bench'] }],
      ['archive', ownerToken, { action: 'archive' }],
      ['unarchive', ownerToken, { action: 'unarchive' }],
      ['unarchiveAgainUnchanged', ownerToken, { action: 'unarchive' }],
    ];
    for (const [name, token, body] of steps) {
      progress(`bulk ${name}`);
      const started = process.hrtime.bigint();
      const result = await call('POST', '/v1/contacts/bulk', token, { ...body, contactIds: ids });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      bulkRuns[name] = {
        items: contacts,
        ms: Math.round(ms),
        msPerItem: Math.round((ms / contacts) * 10) / 10,
        counts: result.counts,
        effectiveParallelism: Math.round(((single.p50Ms * contacts) / ms) * 100) / 100,
      };
    }
    writeReport('bulk-contacts', { meta: benchMeta(run), single, bulk: bulkRuns }, stdout);
  } finally {
    await stack.stop();
  }
}

await main();
