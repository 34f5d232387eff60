/**
 * One measured run of `npm run bench:import` (test/bench/import.ts), in a process of its own so that
 * its peak RSS is its own: an import, the reader alone, a raw replay of an import's writes, an export,
 * the export's read floors, or `idle` (the code loaded and the clients made, nothing run: the
 * baseline every other figure includes). The parent bundles this file as the deployed functions are
 * bundled and runs `node <bundle> child '<task JSON>'`; it prints its figures as the last line of
 * stdout. It holds only what a child runs: no emulators, no files to write.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import {
  BatchWriteItemCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type BatchWriteItemCommandInput,
  type TransactWriteItemsCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { systemClock, ulidGenerator } from '../../domain/shared/clock';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { importContactsJob, importJobInput, importUploadKey } from '../../domain/imports/import-job';
import { openImportFile } from '../../domain/imports/import-file';
import { exportContactsJob, exportJobInput } from '../../domain/exports/export-job';
import type { JobControl, JobDeps, RunningJob } from '../../domain/jobs/job-kind';
import { createS3Client } from '../../functions/shared/adapters/aws-clients';
import { createS3BlobStore } from '../../functions/shared/adapters/s3-blob-store';

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** What the parent tells a child (one JSON argument). */
export interface ChildTask {
  /** `idle`: nothing but the load and the clients (the baseline). */
  mode: 'idle' | 'import' | 'read' | 'replay' | 'export' | 'floorQuery' | 'floorReads';
  dynamoEndpoint: string;
  s3Endpoint: string;
  table: string;
  bucket: string;
  workspaceId: string;
  userId: string;
  jobId: string;
  format: 'csv' | 'xlsx';
  /** import: where the DynamoDB writes it sends are recorded (JSON lines); replay: what to send again. */
  recordFile?: string;
  /** replay: the partition-key prefix the items are written under. */
  prefix?: string;
  /** Contact transactions in flight (the import writer's: 16) and BatchWriteItem requests (its 8). */
  transactionConcurrency?: number;
  batchConcurrency?: number;
}

export interface ChildResult {
  mode: string;
  seconds: number;
  rows: number;
  /** DynamoDB items written (transaction entries + batch-written items), by import or replay. */
  itemsWritten: number;
  transactionItems: number;
  batchItems: number;
  /** Write request units on AWS on-demand for those items (transactional writes count twice). */
  writeUnits: number;
  /** Commands sent, by name (DynamoDB and S3). */
  commands: Record<string, number>;
  /** Consistent read units of the import's reads on AWS (approximation: 1 per 4 KB per item read). */
  result?: unknown;
  runs?: number;
  baselineRssMb: number;
  peakRssMb: number;
  addedRssMb: number;
  peakHeapUsedMb: number;
  /** Peaks of memory outside V8's heap: Buffers and other C++ objects tied to JS ones, and of those the ArrayBuffers. */
  peakExternalMb: number;
  peakArrayBuffersMb: number;
  /** `process.memoryUsage()` in the sample of the highest RSS (the sampled peak may sit below maxRSS). */
  atPeakRss?: {
    rssMb: number;
    heapTotalMb: number;
    heapUsedMb: number;
    externalMb: number;
    arrayBuffersMb: number;
    /** Each V8 heap space's size (committed, used or not), e.g. `new_space`, `old_space`. */
    heapSpacesMb: Record<string, number>;
  };
  cpuSeconds: number;
  /** DynamoDB Local refused a transaction that waited for its lock (AWS would not): sent again. */
  lockRetries?: number;
}

// ------------------------------------------------------------------------------------------------
// DynamoDB item sizes (AWS's rules, close enough for write units)
// ------------------------------------------------------------------------------------------------

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-/, '').replace(/^0+/, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((sum, n) => sum + n.length / 2 + 1, 0);
  if (value.L) return 3 + value.L.reduce((sum, item) => sum + 1 + valueSize(item), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((sum, [name, item]) => sum + 1 + Buffer.byteLength(name) + valueSize(item), 0);
  return 0;
}

const itemSize = (item: Record<string, AttributeValue>) =>
  Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueSize(value), 0);

/** Write units of one item: 1 per KB (started), twice in a transaction. Updates and deletes: counted as 1 KB. */
const writeUnitsOf = (item: Record<string, AttributeValue> | undefined, transactional: boolean) =>
  Math.max(1, Math.ceil((item ? itemSize(item) : 1) / 1024)) * (transactional ? 2 : 1);

type TransactItem = NonNullable<TransactWriteItemsCommandInput['TransactItems']>[number];

async function child(task: ChildTask): Promise<void> {
  const raw = createDynamoClient({ endpoint: task.dynamoEndpoint, region: 'us-east-1' });
  const doc = createDocumentClient(raw);
  const s3 = createS3Client({ region: 'us-east-1', awsEndpoint: task.s3Endpoint });
  const blobs = createS3BlobStore({ client: s3, bucket: task.bucket });
  const commands: Record<string, number> = {};
  const counter =
    (prefix: string) =>
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown) => {
      const name = `${prefix}${context.commandName ?? 'unknown'}`.replace(/Command$/, '');
      commands[name] = (commands[name] ?? 0) + 1;
      return next(args);
    };
  raw.middlewareStack.add(counter('') as never, { step: 'initialize', name: 'benchCounter' });
  s3.middlewareStack.add(counter('s3:') as never, { step: 'initialize', name: 'benchCounter' });

  // Items written, and (import) every write recorded for the replay: one JSON line per command,
  // written synchronously so that nothing of it stays in this process's memory.
  const written = { transactionItems: 0, batchItems: 0, writeUnits: 0 };
  const record = task.mode === 'import' && task.recordFile ? openSync(task.recordFile, 'w') : undefined;
  raw.middlewareStack.add(
    ((next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: unknown }) => {
      if (context.commandName === 'TransactWriteItemsCommand') {
        const input = args.input as TransactWriteItemsCommandInput;
        for (const item of input.TransactItems ?? []) written.writeUnits += writeUnitsOf(item.Put?.Item, true);
        written.transactionItems += input.TransactItems?.length ?? 0;
        if (record !== undefined) writeSync(record, `${JSON.stringify({ t: input.TransactItems })}\n`);
      } else if (context.commandName === 'BatchWriteItemCommand') {
        const requests = Object.values((args.input as BatchWriteItemCommandInput).RequestItems ?? {}).flat();
        for (const request of requests) written.writeUnits += writeUnitsOf(request.PutRequest?.Item, false);
        written.batchItems += requests.length;
        if (record !== undefined) writeSync(record, `${JSON.stringify({ b: requests })}\n`);
      }
      return next(args);
    }) as never,
    { step: 'build', name: 'benchWriteRecorder' },
  );

  const peaks = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  let atPeakRss: NodeJS.MemoryUsage | undefined;
  let spacesAtPeakRss: Record<string, number> | undefined;
  const sample = () => {
    const usage = process.memoryUsage();
    if (usage.rss > peaks.rss) {
      atPeakRss = usage;
      spacesAtPeakRss = Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, mb(space.space_size)]));
    }
    for (const name of ['rss', 'heapUsed', 'external', 'arrayBuffers'] as const) peaks[name] = Math.max(peaks[name], usage[name]);
  };
  const baselineRss = process.memoryUsage().rss;
  const timer = setInterval(sample, 20);
  const snapshots = heapSnapshotTimers(task);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();

  const deps: JobDeps = { db: createDb(doc, task.table), clock: systemClock, newId: ulidGenerator(systemClock), blobs };
  let rows = 0;
  let result: unknown;
  let runs: number | undefined;
  let lockRetries: number | undefined;
  if (task.mode === 'import' || task.mode === 'export') {
    const outcome = task.mode === 'import' ? await runImport(deps, task) : await runExport(deps, task);
    result = outcome.result;
    runs = outcome.runs;
    rows = outcome.rows;
  } else if (task.mode === 'read') {
    rows = await readOnly(deps, task);
  } else if (task.mode === 'replay') {
    const replayed = await replay(raw, task);
    rows = replayed.commands;
    lockRetries = replayed.lockRetries;
  } else if (task.mode === 'floorQuery' || task.mode === 'floorReads') {
    rows = await readFloor(doc, task);
  }

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  sample();
  clearInterval(timer);
  snapshots.forEach(clearTimeout);
  if (record !== undefined) closeSync(record);
  raw.destroy();
  s3.destroy();
  const peak = Math.max(peaks.rss, process.resourceUsage().maxRSS * 1024);
  const figures: ChildResult = {
    mode: task.mode,
    seconds: round(seconds, 3),
    rows,
    itemsWritten: written.transactionItems + written.batchItems,
    transactionItems: written.transactionItems,
    batchItems: written.batchItems,
    writeUnits: written.writeUnits,
    commands,
    ...(result === undefined ? {} : { result }),
    ...(runs === undefined ? {} : { runs }),
    ...(lockRetries === undefined ? {} : { lockRetries }),
    baselineRssMb: mb(baselineRss),
    peakRssMb: mb(peak),
    addedRssMb: mb(peak - baselineRss),
    peakHeapUsedMb: mb(peaks.heapUsed),
    peakExternalMb: mb(peaks.external),
    peakArrayBuffersMb: mb(peaks.arrayBuffers),
    atPeakRss: atPeakRss && {
      rssMb: mb(atPeakRss.rss),
      heapTotalMb: mb(atPeakRss.heapTotal),
      heapUsedMb: mb(atPeakRss.heapUsed),
      externalMb: mb(atPeakRss.external),
      arrayBuffersMb: mb(atPeakRss.arrayBuffers),
      heapSpacesMb: spacesAtPeakRss!,
    },
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
  };
  process.stdout.write(`\n${JSON.stringify(figures)}\n`);
}

/**
 * BENCH_CHILD_HEAP_SNAPSHOTS=20,60: V8 heap snapshots that many seconds into a measured run (not an
 * idle one), into `.bench/` as `<mode>-<format>-<seconds>s.heapsnapshot`, to see what holds the memory
 * (Chrome DevTools' Memory tab opens them). Writing one stops the run for seconds and takes memory of
 * its own: the run's time and peak are not to be read then.
 */
function heapSnapshotTimers(task: ChildTask): NodeJS.Timeout[] {
  const seconds = (process.env.BENCH_CHILD_HEAP_SNAPSHOTS ?? '').split(',').filter(Boolean).map(Number);
  if (task.mode === 'idle') return [];
  return seconds.map((at) =>
    setTimeout(() => {
      const file = writeHeapSnapshot(join('.bench', `${task.mode}-${task.format}-${at}s.heapsnapshot`));
      process.stderr.write(`heap snapshot: ${file}\n`);
    }, at * 1000),
  );
}

/**
 * A job's steps until done, as the runner calls them, with a stand-in for its control: the deadline
 * never comes (one run does the file, BENCH_IMPORT_RUN_ROWS aside), saveProgress keeps the cursor.
 */
async function runSteps<Input, Cursor>(
  kind: { step: (deps: JobDeps, job: RunningJob<Input, Cursor>, control: JobControl<Cursor>) => Promise<unknown> },
  deps: JobDeps,
  task: ChildTask,
  input: Input,
  deadline: () => boolean = () => false,
) {
  let cursor: Cursor | undefined;
  let runs = 0;
  for (;;) {
    runs += 1;
    const job: RunningJob<Input, Cursor> = {
      workspaceId: task.workspaceId,
      jobId: task.jobId,
      kind: 'bench',
      createdBy: task.userId,
      input,
      cursor,
      progress: { processed: 0 },
      files: {},
      attempts: 0,
      dispatchSeq: runs,
    };
    const control: JobControl<Cursor> = {
      deadlineReached: deadline,
      saveProgress: async (saved) => {
        cursor = saved;
      },
      reportProgress: async () => undefined,
    };
    const outcome = (await kind.step(deps, job, control)) as { done: boolean; cursor?: Cursor; result?: unknown };
    if (outcome.done) return { result: outcome.result, runs };
    cursor = outcome.cursor;
  }
}

async function runImport(deps: JobDeps, task: ChildTask) {
  const input = importJobInput.parse({ format: task.format, defaultCountry: 'FR', role: 'owner', options: { tags: ['Imported'] } });
  // BENCH_IMPORT_RUN_ROWS=n: a run hands over to a continuation after ~n rows (the resume path measured too).
  const perRun = Number(process.env.BENCH_IMPORT_RUN_ROWS ?? 0);
  let chunks = 0;
  const deadline = perRun > 0 ? () => ++chunks % Math.max(1, Math.round(perRun / 500)) === 0 : undefined;
  const { result, runs } = await runSteps(importContactsJob, deps, task, input, deadline);
  const counts = (result as { counts: { rowsRead: number } }).counts;
  return { result, runs, rows: counts.rowsRead };
}

async function runExport(deps: JobDeps, task: ChildTask) {
  const input = exportJobInput.parse({ format: task.format, role: 'owner' });
  const { result, runs } = await runSteps(exportContactsJob, deps, task, input);
  return { result, runs, rows: (result as { rows: number }).rows };
}

/** The file read as the job reads it (count pass, then every row normalised), nothing written: the reader's own memory. */
async function readOnly(deps: JobDeps, task: ChildTask): Promise<number> {
  const key = importUploadKey(task.workspaceId, task.jobId, task.format, task.userId);
  const options = { claimedFormat: task.format, defaultCountry: 'FR' as const };
  const counting = await openImportFile(deps.blobs, key, options);
  const { rows: total } = await counting.count();
  const file = await openImportFile(deps.blobs, key, options);
  let rows = 0;
  try {
    for await (const _ of file.rows()) rows += 1;
  } finally {
    await file.close();
  }
  // count() stops at the last non-blank row; rows() yields trailing blank records too.
  if (rows < total) throw new Error(`read ${rows} rows, counted ${total}`);
  return rows;
}

/** The list partition's Query pages (Limit 1,000); `floorReads`: and a consistent BatchGetItem of every contact. */
async function readFloor(doc: ReturnType<typeof createDocumentClient>, task: ChildTask): Promise<number> {
  const table = task.table;
  const pk = `WS#${task.workspaceId}#CL#active#n`;
  const get = async (keys: Record<string, unknown>[]) => {
    while (keys.length > 0) {
      const result = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
      keys = (result.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
  };
  let rows = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, Limit: 1000, ExclusiveStartKey: start }),
    );
    const items = page.Items ?? [];
    if (task.mode === 'floorReads') {
      const batches: Record<string, unknown>[][] = [];
      for (let i = 0; i < items.length; i += 100) {
        batches.push(items.slice(i, i + 100).map((item) => ({ pk: `WS#${task.workspaceId}#CONTACT#${item.contactId as string}`, sk: 'CONTACT' })));
      }
      await Promise.all(batches.map(get));
    }
    rows += items.length;
    start = page.LastEvaluatedKey;
  } while (start);
  return rows;
}

/**
 * The import's recorded writes sent again without our code: every TransactWriteItems with the same
 * entries (conditions kept: on fresh keys they hold, as they held for the import) under a key prefix
 * of its own, `transactionConcurrency` in flight; every BatchWriteItem the same, `batchConcurrency`
 * in flight; in the recorded order, streamed from the file.
 */
async function replay(raw: ReturnType<typeof createDynamoClient>, task: ChildTask) {
  const prefix = task.prefix!;
  const table = task.table;
  const prefixed = (item: Record<string, AttributeValue>) => ({ ...item, pk: { S: `${prefix}${item.pk!.S}` } });
  const retarget = (item: TransactItem): TransactItem => {
    if (item.Put) return { Put: { ...item.Put, TableName: table, Item: prefixed(item.Put.Item!) } };
    if (item.Delete) return { Delete: { ...item.Delete, TableName: table, Key: prefixed(item.Delete.Key!) } };
    if (item.Update) return { Update: { ...item.Update, TableName: table, Key: prefixed(item.Update.Key!) } };
    return { ConditionCheck: { ...item.ConditionCheck!, TableName: table, Key: prefixed(item.ConditionCheck!.Key!) } };
  };
  let lockRetries = 0;
  const transact = async (items: TransactItem[]) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await raw.send(new TransactWriteItemsCommand({ TransactItems: items.map(retarget) }));
      } catch (error) {
        if (attempt >= 10 || !/lock/i.test(String((error as Error).message))) throw error;
        lockRetries += 1;
      }
    }
  };
  const batch = async (requests: WriteRequest[]) => {
    let pending = requests.map((request) => ({ PutRequest: { Item: prefixed(request.PutRequest!.Item!) } }));
    while (pending.length > 0) {
      const result = await raw.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = (result.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  };
  const lanes = { t: { limit: task.transactionConcurrency ?? 16, busy: 0 }, b: { limit: task.batchConcurrency ?? 8, busy: 0 } };
  const inFlight = new Set<Promise<unknown>>();
  let failure: unknown;
  let commands = 0;
  const lines = createInterface({ input: createReadStream(task.recordFile!), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const entry = JSON.parse(line) as { t?: TransactItem[]; b?: WriteRequest[] };
    const lane = entry.t ? lanes.t : lanes.b;
    while (lane.busy >= lane.limit) await Promise.race(inFlight);
    if (failure) throw failure;
    lane.busy += 1;
    commands += 1;
    const sent: Promise<unknown> = (entry.t ? transact(entry.t) : batch(entry.b!))
      .catch((error: unknown) => void (failure ??= error))
      .finally(() => {
        lane.busy -= 1;
        inFlight.delete(sent);
      });
    inFlight.add(sent);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  return { commands, lockRetries };
}

if (process.argv[2] === 'child') await child(JSON.parse(process.argv[3]!) as ChildTask);
