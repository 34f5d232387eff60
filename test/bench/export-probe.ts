/**
 * `npx tsx test/bench/export-probe.ts`: the contact export (domain/exports) on N seeded contacts
 * (EXPORT_PROBE_CONTACTS, default 20,000), CSV and XLSX, against the raw reads of the same items.
 * Prints one JSON document (also .bench/export-probe.json); progress goes to stderr.
 *
 * The parent starts DynamoDB Local, seeds one workspace and runs every measurement in a fresh child
 * process, in interleaved rounds (EXPORT_PROBE_ROUNDS, default 3), so each peak RSS is that run's own:
 * - `floorQuery`: the raw QueryCommand pages of the list partition (`Limit` 1,000), nothing else;
 * - `floorReads`: those pages and a consistent BatchGetItem of every contact (100 keys, a page's 10
 *   in flight), the reads an export needs, without our code (`bytes`: the contacts read);
 * - `csv`, `xlsx`: `exportContactsStep` to the end, into a blob store that keeps only a byte count
 *   (S3 is not measured: on AWS a part upload overlaps nothing here, so add ~1 PUT per 5 MiB).
 * Contacts are `seededContact(i)` (varied names, one email, one phone, a company, a job title or city
 * on half) plus three custom field values and two tags each; stored are the contact item and its
 * entry in the name-sorted `active` list (all an unfiltered export reads).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { listEntriesOf, type ContactItem } from '../../domain/contacts/contact-record';
import { exportContactsStep } from '../../domain/exports/contact-export.service';
import { exportContactsInput } from '../../domain/exports/exports.schemas';
import { systemClock, ulidGenerator } from '../../domain/shared/clock';
import type { BlobStore } from '../../domain/shared/ports';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';

const self = fileURLToPath(import.meta.url);

interface ChildResult {
  mode: string;
  rows: number;
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  /** RSS once the modules are loaded and the clients built, before the work. */
  baselineRssMb: number;
  peakRssMb: number;
  /** What the work added to the process: peak minus baseline. */
  addedRssMb: number;
  peakHeapUsedMb: number;
}

// ------------------------------------------------------------------------------------------------
// Child: one measurement, its figures as the last line of stdout.
// ------------------------------------------------------------------------------------------------

async function child(mode: string): Promise<void> {
  const { PROBE_ENDPOINT: endpoint, PROBE_TABLE: table, PROBE_WS: workspaceId, PROBE_USER: userId } = process.env as Record<string, string>;
  const raw = createDynamoClient({ endpoint: endpoint!, region: 'us-east-1' });
  const doc = createDocumentClient(raw);
  const db = createDb(doc, table!);
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const baselineRss = process.memoryUsage().rss;
  const timer = setInterval(sample, 20);
  const started = process.hrtime.bigint();
  let rows = 0;
  let bytes = 0;
  const pk = `WS#${workspaceId}#CL#active#n`;
  if (mode === 'floorQuery' || mode === 'floorReads') {
    // A page: one Query, then (floorReads) every contact of it by consistent BatchGetItem, all in
    // flight at once; then the next page (nothing else to overlap with: no rows are written).
    const query = (start: Record<string, unknown> | undefined) =>
      doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, Limit: 1000, ExclusiveStartKey: start }));
    const get = async (keys: Record<string, unknown>[]) => {
      while (keys.length > 0) {
        const result = await doc.send(new BatchGetCommand({ RequestItems: { [table!]: { Keys: keys, ConsistentRead: true } } }));
        bytes += (result.Responses?.[table!] ?? []).length;
        keys = (result.UnprocessedKeys?.[table!]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    };
    const read = async (start: Record<string, unknown> | undefined) => {
      const page = await query(start);
      const items = page.Items ?? [];
      if (mode === 'floorReads') {
        const batches: Record<string, unknown>[][] = [];
        for (let i = 0; i < items.length; i += 100) {
          batches.push(items.slice(i, i + 100).map((item) => ({ pk: `WS#${workspaceId}#CONTACT#${item.contactId as string}`, sk: 'CONTACT' })));
        }
        await Promise.all(batches.map(get));
      }
      return { count: items.length, next: page.LastEvaluatedKey };
    };
    let page = await read(undefined);
    for (;;) {
      rows += page.count;
      if (!page.next) break;
      page = await read(page.next);
    }
  } else {
    const blobs = countingBlobStore();
    const deps = { db, clock: systemClock, newId: ulidGenerator(systemClock), blobs };
    const outcome = await exportContactsStep(
      deps,
      { workspaceId: workspaceId!, userId: userId!, role: 'member' },
      exportContactsInput.parse({ format: mode }),
      undefined,
      { deadlineReached: () => false },
      { key: `exports/${workspaceId}/jobs/job_probe/contacts.${mode}` },
    );
    if (outcome.status !== 'done') throw new Error(`export ${outcome.status}: ${JSON.stringify(outcome)}`);
    rows = outcome.result.rows;
    bytes = outcome.result.bytes;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  sample();
  clearInterval(timer);
  raw.destroy();
  const mb = (value: number) => Math.round((value / 1048576) * 10) / 10;
  const result: ChildResult = {
    mode,
    rows,
    bytes,
    seconds: Math.round(seconds * 100) / 100,
    rowsPerSecond: Math.round(rows / seconds),
    baselineRssMb: mb(baselineRss),
    peakRssMb: mb(Math.max(peakRss, process.resourceUsage().maxRSS * 1024)),
    addedRssMb: mb(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) - baselineRss),
    peakHeapUsedMb: mb(peakHeap),
  };
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

/** Multipart uploads that keep nothing but sizes: the engine is measured, not a store. */
function countingBlobStore(): BlobStore {
  const uploads = new Map<string, Map<number, number>>();
  const sizes = new Map<string, number>();
  const refuse = async (): Promise<never> => {
    throw new Error('not used by the export');
  };
  return {
    put: refuse,
    get: refuse,
    read: refuse,
    uploadUrl: refuse,
    downloadUrl: refuse,
    head: async (key) => (sizes.has(key) ? { sizeBytes: sizes.get(key)! } : undefined),
    delete: async (key) => void sizes.delete(key),
    startMultipartUpload: async (key) => {
      uploads.set(key, new Map());
      return { uploadId: key };
    },
    uploadPart: async (_key, uploadId, partNumber, body) => {
      uploads.get(uploadId)!.set(partNumber, body.length);
      return { etag: `"${partNumber}"` };
    },
    completeMultipartUpload: async (key, uploadId, parts) => {
      const stored = uploads.get(uploadId)!;
      sizes.set(key, parts.reduce((sum, part) => sum + stored.get(part.partNumber)!, 0));
      uploads.delete(uploadId);
    },
    abortMultipartUpload: async (_key, uploadId) => void uploads.delete(uploadId),
  };
}

// ------------------------------------------------------------------------------------------------
// Parent: seed, then the measurements in child processes.
// ------------------------------------------------------------------------------------------------

function runChild(mode: string, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const extra = (process.env.EXPORT_PROBE_CHILD_ARGS ?? '').split(' ').filter(Boolean);
    const proc = spawn(process.execPath, [...extra, ...process.execArgv, self, 'child', mode], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => (out += chunk));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} exited with ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

interface Manifest {
  contacts: number;
  tableName: string;
  workspaceId: string;
  ownerId: string;
  seedSeconds: number;
}

async function seed(stack: Awaited<ReturnType<typeof import('./harness')['startBenchStack']>>, contacts: number) {
  const { progress } = await import('./harness');
  const { putAll, seededContact } = await import('../support/seeded-contacts');
  const { createWorkspace } = await import('../../domain/workspaces/workspaces.service');
  const { createCustomField } = await import('../../domain/custom-fields/custom-fields.service');
  const created = await createWorkspace(stack.deps, { name: 'Probe', ownerName: 'Probe Owner', ownerEmail: 'owner@probe.example' });
  const workspaceId = created.workspace.id;
  const ownerId = created.owner.id;
  const caller = { workspaceId, userId: ownerId, role: 'owner' as const };
  await createCustomField(stack.deps, caller, { entityType: 'contact', key: 'notes', label: 'Notes', type: 'text', required: false });
  await createCustomField(stack.deps, caller, { entityType: 'contact', key: 'seats', label: 'Seats', type: 'number', required: false });
  await createCustomField(stack.deps, caller, {
    entityType: 'contact',
    key: 'plan',
    label: 'Plan',
    type: 'select',
    required: false,
    options: [{ value: 'starter', label: 'Starter' }, { value: 'pro', label: 'Pro' }],
  });

  progress(`seeding ${contacts} contacts`);
  const seedStart = Date.now();
  const chunk = 2_000;
  for (let from = 0; from < contacts; from += chunk) {
    const items: ContactItem[] = [];
    for (let i = from; i < Math.min(contacts, from + chunk); i += 1) {
      const { item } = seededContact(workspaceId, ownerId, i);
      item.customFields = { notes: `Met at the fair, "follow up" #${i}`, seats: (i % 500) + 0.5, plan: i % 2 ? 'pro' : 'starter' };
      item.tags = ['lead', `fair ${2020 + (i % 7)}`];
      items.push(item);
    }
    const entries = items.flatMap((item) => listEntriesOf(item).filter((entry) => entry.list === 'active' && entry.sort === 'n'));
    await putAll((batch) => stack.deps.db.entities.contact.put(batch), items, 4);
    await putAll((batch) => stack.deps.db.entities.contactListEntry.put(batch), entries, 4);
    progress(`  ${Math.min(contacts, from + chunk)} seeded`);
  }
  const seedSeconds = (Date.now() - seedStart) / 1000;
  return { workspaceId, ownerId, seedSeconds };
}

async function parent(): Promise<void> {
  const { benchMeta, progress, repoRoot, reserveStdout, startBenchStack, startRun, writeReport } = await import('./harness');
  const contacts = Number(process.env.EXPORT_PROBE_CONTACTS ?? 20_000);
  const rounds = Number(process.env.EXPORT_PROBE_ROUNDS ?? 3);
  const run = startRun();
  const stdout = reserveStdout();
  // EXPORT_PROBE_KEEP=1: the table lives in .bench/export-probe-db and is seeded once per size.
  const keep = process.env.EXPORT_PROBE_KEEP === '1';
  const manifestFile = join(repoRoot, '.bench', 'export-probe-seed.json');
  const manifest = keep && existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest) : undefined;
  const reuse = manifest?.contacts === contacts ? manifest : undefined;
  if (keep && !reuse) rmSync(join(repoRoot, '.bench', 'export-probe-db'), { recursive: true, force: true });
  const stack = await startBenchStack(
    keep ? { dataDir: join(repoRoot, '.bench', 'export-probe-db'), ...(reuse ? { tableName: reuse.tableName } : {}) } : {},
  );
  try {
    const { workspaceId, ownerId, seedSeconds } = reuse ?? (await seed(stack, contacts));
    if (keep && !reuse) writeFileSync(manifestFile, JSON.stringify({ contacts, tableName: stack.tableName, workspaceId, ownerId, seedSeconds } satisfies Manifest));

    const env = { PROBE_ENDPOINT: stack.endpoint, PROBE_TABLE: stack.tableName, PROBE_WS: workspaceId, PROBE_USER: ownerId };
    const modes = ['floorQuery', 'floorReads', 'csv', 'xlsx'] as const;
    const results: Record<string, ChildResult[]> = Object.fromEntries(modes.map((mode) => [mode, []]));
    for (let round = 1; round <= rounds; round += 1) {
      for (const mode of modes) {
        progress(`round ${round}/${rounds}: ${mode}`);
        const result = await runChild(mode, env);
        if (result.rows !== contacts) throw new Error(`${mode} read ${result.rows} rows of ${contacts}`);
        results[mode]!.push(result);
      }
    }
    const summary = Object.fromEntries(
      modes.map((mode) => {
        const runs = results[mode]!;
        return [
          mode,
          {
            rowsPerSecond: median(runs.map((r) => r.rowsPerSecond)),
            seconds: median(runs.map((r) => r.seconds)),
            bytes: runs[0]!.bytes,
            peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
            baselineRssMb: median(runs.map((r) => r.baselineRssMb)),
            addedRssMb: Math.max(...runs.map((r) => r.addedRssMb)),
            peakHeapUsedMb: Math.max(...runs.map((r) => r.peakHeapUsedMb)),
            runs: runs.map((r) => r.rowsPerSecond),
          },
        ];
      }),
    ) as unknown as Record<(typeof modes)[number], { rowsPerSecond: number; seconds: number; bytes: number; peakRssMb: number }>;
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    writeReport(
      'export-probe',
      {
        meta: benchMeta(run),
        contacts,
        rounds,
        seed: { seconds: seedSeconds, contactsPerSecond: Math.round(contacts / seedSeconds), reused: Boolean(reuse) },
        childArgs: process.env.EXPORT_PROBE_CHILD_ARGS ?? '',
        ...summary,
        ratios: {
          csvToFloorQuery: ratio(summary.csv.rowsPerSecond, summary.floorQuery.rowsPerSecond),
          csvToFloorReads: ratio(summary.csv.rowsPerSecond, summary.floorReads.rowsPerSecond),
          xlsxToFloorReads: ratio(summary.xlsx.rowsPerSecond, summary.floorReads.rowsPerSecond),
        },
        xlsxBound: {
          note: 'Contacts an XLSX export writes in one 15-minute Lambda run at the measured rate, less a 60 s margin (also capped at 1,048,575 rows per sheet)',
          contactsIn14Minutes: Math.min(1_048_575, summary.xlsx.rowsPerSecond * 14 * 60),
        },
      },
      stdout,
    );
  } finally {
    await stack.stop();
  }
}

if (process.argv[2] === 'child') await child(process.argv[3]!);
else await parent();
