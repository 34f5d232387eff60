/**
 * `npm run bench:import`: contact imports (CSV and XLSX, two sizes: 20k and 100k rows; BENCH_QUICK=1:
 * 2k and 6k) run through the `import_contacts` job kind's step on DynamoDB Local and the local S3
 * (fauxqs), against a raw replay of the same DynamoDB writes; and a CSV (and XLSX) export of 100k
 * contacts (quick: 10k) against the raw reads of them. Every measured run is a child process
 * (`node --import tsx`), so its peak RSS is its own. One JSON document on stdout and in
 * .bench/import.json; progress on stderr. See README.md ("Import and export at scale").
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BatchWriteItemCommand,
  TransactWriteItemsCommand,
  type AttributeValue,
  type BatchWriteItemCommandInput,
  type TransactWriteItemsCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { systemClock, ulidGenerator } from '../../domain/shared/clock';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { importContactsJob, importJobInput, importUploadKey } from '../../domain/imports/import-job';
import { openImportFile } from '../../domain/imports/import-file';
import { exportContactsJob, exportJobInput } from '../../domain/exports/export-job';
import type { JobControl, JobDeps, RunningJob } from '../../domain/jobs/job-kind';
import { createS3Client } from '../../functions/shared/adapters/aws-clients';
import { createS3BlobStore } from '../../functions/shared/adapters/s3-blob-store';

const self = fileURLToPath(import.meta.url);
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** What the parent tells a child (one JSON argument). */
interface ChildTask {
  mode: 'import' | 'read' | 'replay' | 'export' | 'floorQuery' | 'floorReads';
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

interface ChildResult {
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

// ------------------------------------------------------------------------------------------------
// Child processes: one measurement each, its figures as the last line of stdout
// ------------------------------------------------------------------------------------------------

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

  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const baselineRss = process.memoryUsage().rss;
  const timer = setInterval(sample, 20);
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
  } else {
    rows = await readFloor(doc, task);
  }

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  sample();
  clearInterval(timer);
  if (record !== undefined) closeSync(record);
  raw.destroy();
  s3.destroy();
  const peak = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
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
    peakHeapUsedMb: mb(peakHeap),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
  };
  process.stdout.write(`\n${JSON.stringify(figures)}\n`);
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
  const key = importUploadKey(task.workspaceId, task.jobId, task.format);
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

// ------------------------------------------------------------------------------------------------
// The files: realistic, messy rows
// ------------------------------------------------------------------------------------------------

const firstNames = ['José', 'María', 'Zoë', 'Émilie', 'Jürgen', 'Søren', 'Łukasz', 'François', 'Chloé', 'Björn', 'Ирина', 'Дмитрий', '小龙', 'Nguyễn Văn', 'Çağla', 'Anaïs', 'Sarah', 'John', 'Priya', 'Omar', 'Giulia', 'Małgorzata', 'Seán', 'Ngozi'];
const lastNames = ['Núñez', 'López', 'Müller', "O'Brien", 'Nowak', 'Dubois', 'Åström', 'Петрова', 'Иванов', '李', 'Çelik', 'Kovačević', 'Smith', 'Rossi', 'Schröder', 'Øvergaard', 'Lefèvre', 'Tanaka', 'Okafor', 'Haddad', 'de Vries', 'Ní Bhriain'];
const companies = ['Acme, S.L.', 'Müller & Söhne GmbH', 'Blue River Ltd', 'Crédit Agricole', 'Берлин GmbH', 'Zenith "Labs" Inc.', 'Öko Energie AG', 'Atlas Logistics', '', ''];
const titles = ['Head of Sales', 'Buyer', 'CTO', 'Office Manager', 'Procurement Lead', 'Founder', 'Directeur général', ''];
const cities = ['Paris', 'Lyon', 'München', 'Kraków', 'São Paulo', 'Zürich', 'London', 'Madrid', ''];
const fold = (text: string) => text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '');

/** Row `i`'s phone, in one of several national and international spellings (default country FR). */
function phoneOf(n: number, variant: number): string {
  const digits = String(n).padStart(8, '0');
  const spaced = digits.replace(/(\d\d)(?=\d)/g, '$1 ');
  switch (variant % 6) {
    case 0:
      return `06 ${spaced}`; // French national
    case 1:
      return `+33 6 ${spaced}`;
    case 2:
      return `0033 (0)6-${digits}`;
    case 3:
      return `+44 7911 ${digits.slice(2)}`; // UK mobile
    case 4:
      return `+49 151 ${digits}`; // German mobile
    default:
      return `+34 6${digits}`; // Spanish mobile
  }
}

/**
 * Row `i` of a file (1-based): a new person mostly; every 20th the person of the row before in other
 * case and spelling (merged); every 50th blank; every 40th an invalid email and no phone; every 45th
 * an invalid phone only; every 7th with two emails in one cell (` ::: `); some quoted commas, quotes
 * and line breaks. Columns: the canonical import template's.
 */
export const headers = ['Name', 'Email', 'Phone', 'Company', 'Job Title', 'City', 'Country', 'Tags'];
export function rowOf(i: number): string[] {
  if (i % 50 === 0) return ['', ' ', '', '', '', '', '', ''];
  const n = i % 20 === 0 ? i - 1 : i;
  const first = firstNames[n % firstNames.length]!;
  const last = lastNames[Math.floor(n / firstNames.length) % lastNames.length]!;
  const local = `${fold(first) || 'contact'}.${fold(last) || 'x'}.${n}`;
  let email = `${local}@example-${n % 97}.test`;
  if (i % 20 === 0) email = ` ${email.toUpperCase()} `;
  else if (n % 7 === 0) email = `${email} ::: ${local}@work-${n % 13}.test`;
  let phone = phoneOf(n, i % 20 === 0 ? n + 1 : n);
  if (i % 40 === 0) {
    email = `${local}(at)example.test`;
    phone = '';
  } else if (i % 45 === 0) {
    email = '';
    phone = '06 12';
  }
  const title = n % 31 === 0 ? 'Head of "Growth",\nEMEA' : titles[n % titles.length]!;
  const tags = n % 3 === 0 ? 'lead ::: fair 2026' : n % 5 === 0 ? 'customer' : '';
  return [`${first} ${last}`, email, phone, companies[n % companies.length]!, title, cities[n % cities.length]!, n % 4 === 0 ? 'France' : '', tags];
}

const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** The CSV, with a BOM and CRLF, written in pieces. */
function writeCsv(path: string, rows: number): void {
  const fd = openSync(path, 'w');
  try {
    let buffer = `\ufeff${headers.join(',')}\r\n`;
    for (let i = 1; i <= rows; i += 1) {
      buffer += `${rowOf(i).map(csvField).join(',')}\r\n`;
      if (buffer.length > 1 << 20) {
        writeSync(fd, buffer);
        buffer = '';
      }
    }
    writeSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
}

/** The XLSX, streamed by exceljs with shared strings; the phone of every 9th row a number cell. */
async function writeXlsx(path: string, rows: number): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: false });
  const sheet = workbook.addWorksheet('Contacts');
  sheet.addRow(headers).commit();
  for (let i = 1; i <= rows; i += 1) {
    const row: (string | number | null)[] = rowOf(i).map((value) => (value.trim() === '' ? null : value));
    // A national number typed into Excel loses its leading 0: a number cell (the reader must still read it).
    if (i % 9 === 0 && typeof row[2] === 'string' && /^06 /.test(row[2])) row[2] = Number(row[2].replace(/\D/g, ''));
    sheet.addRow(row).commit();
  }
  sheet.commit();
  await workbook.commit();
}

// ------------------------------------------------------------------------------------------------
// Parent
// ------------------------------------------------------------------------------------------------

/**
 * The measured child's V8 flags: a 128 MB old space, and semi-spaces of 16 MB. The semi-space size
 * must be given: Node 24 sizes it from the machine's memory (64 MB on a 24 GB box, whatever the old
 * space), and a young generation that outgrows the old space's headroom turns every scavenge into a
 * full mark-compact (CPU and RSS then grow with the run's length, not the data kept). Lambda's
 * runtime passes both flags too (a tenth of the memory for the young generation).
 */
const childArgs = process.env.BENCH_IMPORT_CHILD_ARGS ?? '--max-old-space-size=128 --max-semi-space-size=16';

function runChild(task: ChildTask): Promise<ChildResult> {
  const extra = childArgs.split(' ').filter(Boolean);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...extra, '--import', 'tsx', self, 'child', JSON.stringify(task)], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk) => (out += chunk));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${task.mode} ${task.format} exited with ${code}: ${out.slice(-2000)}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
    });
  });
}

async function parent(): Promise<void> {
  const h = await import('./harness');
  const { startSqsS3Emulator } = await import('../../local/emulators');
  const { createWorkspace } = await import('../../domain/workspaces/workspaces.service');
  const sizes = (process.env.BENCH_IMPORT_SIZES ?? (h.quick ? '200,1000' : '20000,100000')).split(',').filter(Boolean).map(Number);
  const formats = (process.env.BENCH_IMPORT_FORMATS ?? 'csv,xlsx').split(',').filter(Boolean) as ('csv' | 'xlsx')[];
  const exportContacts = Number(process.env.BENCH_EXPORT_CONTACTS ?? (h.quick ? 10_000 : 100_000));
  const exportFormats = (process.env.BENCH_EXPORT_FORMATS ?? 'csv,xlsx').split(',').filter(Boolean) as ('csv' | 'xlsx')[];
  const run = h.startRun();
  const stdout = h.reserveStdout();
  const work = join(h.repoRoot, '.bench', `import-work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const stack = await h.startBenchStack();
  const s3Emulator = await startSqsS3Emulator();
  let s3: S3Client | undefined;
  const loads: Record<string, number[]> = {};
  const markLoad = (label: string) => (loads[label] = loadavg().map((load) => round(load)));
  try {
    s3 = createS3Client({ region: 'us-east-1', awsEndpoint: s3Emulator.endpoint });
    const bucket = stack.tableName;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const blobs = createS3BlobStore({ client: s3, bucket });
    const base = { dynamoEndpoint: stack.endpoint, s3Endpoint: s3Emulator.endpoint, table: stack.tableName, bucket };

    // The reader alone (no writes) at the sizes, in quick mode too: what grows with the file.
    const readerSizes = (process.env.BENCH_READER_SIZES ?? '20000,100000').split(',').filter(Boolean).map(Number);
    const reader: Record<string, unknown> = {};
    for (const format of formats) {
      for (const rows of readerSizes) {
        const name = `${format}${rows}`;
        const path = join(work, `read-${rows}.${format}`);
        h.progress(`reader ${name}: writing the file`);
        if (format === 'csv') writeCsv(path, rows);
        else await writeXlsx(path, rows);
        const jobId = stack.deps.newId('job');
        const bytes = readFileSync(path);
        await blobs.put(importUploadKey('ws_reader', jobId, format), bytes, 'application/octet-stream');
        rmSync(path, { force: true });
        h.progress(`reader ${name}: reading ${mb(bytes.length)} MB`);
        const r = await runChild({ ...base, mode: 'read', workspaceId: 'ws_reader', userId: 'none', jobId, format });
        reader[name] = {
          rows: r.rows,
          fileMb: mb(bytes.length),
          seconds: r.seconds,
          rowsPerSecond: Math.round(r.rows / r.seconds),
          cpuSeconds: r.cpuSeconds,
          s3Gets: r.commands['s3:GetObject'] ?? 0,
          memory: { peakRssMb: r.peakRssMb, baselineRssMb: r.baselineRssMb, addedRssMb: r.addedRssMb, peakHeapUsedMb: r.peakHeapUsedMb },
        };
        await blobs.put(importUploadKey('ws_reader', jobId, format), '', 'application/octet-stream');
      }
    }

    const imports: Record<string, unknown> = {};
    for (const format of formats) {
      for (const rows of sizes) {
        const name = `${format}${rows}`;
        const path = join(work, `contacts-${rows}.${format}`);
        h.progress(`${name}: writing the file`);
        if (format === 'csv') writeCsv(path, rows);
        else await writeXlsx(path, rows);
        const created = await createWorkspace(stack.deps, { name: `Import ${name}`, ownerName: 'Bench Owner', ownerEmail: `owner-${name}@bench.test` });
        const workspaceId = created.workspace.id;
        const jobId = stack.deps.newId('job');
        const bytes = readFileSync(path);
        await blobs.put(importUploadKey(workspaceId, jobId, format), bytes, format === 'csv' ? 'text/csv' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        const recordFile = join(work, `${name}.writes.jsonl`);
        const task: ChildTask = { ...base, mode: 'import', workspaceId, userId: created.owner.id, jobId, format, recordFile };
        h.progress(`${name}: importing ${rows} rows (${mb(bytes.length)} MB)`);
        markLoad(`${name}:start`);
        const imported = await runChild(task);
        h.progress(`${name}: ${imported.seconds} s, ${Math.round(rows / imported.seconds)} rows/s; raw replay`);
        const replayed = await runChild({ ...task, mode: 'replay', prefix: `REPLAY#${name}#`, transactionConcurrency: 16, batchConcurrency: 8 });
        markLoad(`${name}:end`);
        const counts = (imported.result as { counts: Record<string, number> }).counts;
        const contacts = counts.created!;
        const itemsPerSecond = imported.itemsWritten / imported.seconds;
        const rawItemsPerSecond = imported.itemsWritten / replayed.seconds;
        imports[name] = {
          format,
          rows,
          fileMb: mb(bytes.length),
          counts,
          runs: imported.runs,
          seconds: imported.seconds,
          rowsPerSecond: Math.round(rows / imported.seconds),
          itemsWritten: imported.itemsWritten,
          transactionItems: imported.transactionItems,
          batchItems: imported.batchItems,
          itemsPerSecond: Math.round(itemsPerSecond),
          itemsPerContact: round(imported.itemsWritten / contacts, 2),
          writeUnits: imported.writeUnits,
          writeUnitsPerContact: round(imported.writeUnits / contacts, 2),
          commands: imported.commands,
          cpuSeconds: imported.cpuSeconds,
          cpuMsPerRow: round((imported.cpuSeconds * 1000) / rows, 3),
          raw: { seconds: replayed.seconds, itemsPerSecond: Math.round(rawItemsPerSecond), commands: replayed.rows, lockRetries: replayed.lockRetries },
          ratioToRaw: round(itemsPerSecond / rawItemsPerSecond),
          memory: { peakRssMb: imported.peakRssMb, baselineRssMb: imported.baselineRssMb, addedRssMb: imported.addedRssMb, peakHeapUsedMb: imported.peakHeapUsedMb },
        };
        h.progress(`${name}: ratio to raw ${round(itemsPerSecond / rawItemsPerSecond)}, peak RSS ${imported.peakRssMb} MB`);
        if (process.env.BENCH_IMPORT_KEEP !== '1') {
          rmSync(recordFile, { force: true });
          rmSync(path, { force: true });
        }
      }
    }

    // The export: a workspace of `exportContacts` seeded contacts (as export-probe.ts seeds them).
    let exportReport: Record<string, unknown> | undefined;
    if (exportContacts > 0 && exportFormats.length > 0) {
      const { putAll, seededContact } = await import('../support/seeded-contacts');
      const { listEntriesOf } = await import('../../domain/contacts/contact-record');
      const created = await createWorkspace(stack.deps, { name: 'Export', ownerName: 'Bench Owner', ownerEmail: 'owner-export@bench.test' });
      const workspaceId = created.workspace.id;
      h.progress(`export: seeding ${exportContacts} contacts`);
      const seedStart = performance.now();
      for (let from = 0; from < exportContacts; from += 2_000) {
        const items = [];
        for (let i = from; i < Math.min(exportContacts, from + 2_000); i += 1) {
          const { item } = seededContact(workspaceId, created.owner.id, i);
          item.tags = ['lead', `fair ${2020 + (i % 7)}`];
          items.push(item);
        }
        const entries = items.flatMap((item) => listEntriesOf(item).filter((entry) => entry.list === 'active' && entry.sort === 'n'));
        await putAll((batch) => stack.deps.db.entities.contact.put(batch), items, 4);
        await putAll((batch) => stack.deps.db.entities.contactListEntry.put(batch), entries, 4);
      }
      const seedSeconds = (performance.now() - seedStart) / 1000;
      h.progress(`export: seeded in ${Math.round(seedSeconds)} s`);
      markLoad('export:start');
      const task = { ...base, workspaceId, userId: created.owner.id, format: 'csv' as const };
      const floorQuery = await runChild({ ...task, mode: 'floorQuery', jobId: 'none' });
      const floorReads = await runChild({ ...task, mode: 'floorReads', jobId: 'none' });
      const exports: Record<string, ChildResult> = {};
      for (const format of exportFormats) {
        h.progress(`export: ${format}`);
        exports[format] = await runChild({ ...task, mode: 'export', format, jobId: stack.deps.newId('job') });
        if (exports[format].rows !== exportContacts) throw new Error(`the ${format} export wrote ${exports[format].rows} rows of ${exportContacts}`);
      }
      markLoad('export:end');
      const rate = (r: ChildResult) => Math.round(r.rows / r.seconds);
      exportReport = {
        contacts: exportContacts,
        seedSeconds: round(seedSeconds, 1),
        floorQuery: { seconds: floorQuery.seconds, rowsPerSecond: rate(floorQuery), peakRssMb: floorQuery.peakRssMb },
        floorReads: { seconds: floorReads.seconds, rowsPerSecond: rate(floorReads), peakRssMb: floorReads.peakRssMb },
        ...Object.fromEntries(
          Object.entries(exports).map(([format, r]) => [
            format,
            {
              seconds: r.seconds,
              rowsPerSecond: rate(r),
              runs: r.runs,
              bytes: (r.result as { bytes?: number }).bytes,
              commands: r.commands,
              cpuSeconds: r.cpuSeconds,
              ratioToFloorQuery: round(rate(r) / rate(floorQuery)),
              ratioToFloorReads: round(rate(r) / rate(floorReads)),
              memory: { peakRssMb: r.peakRssMb, baselineRssMb: r.baselineRssMb, addedRssMb: r.addedRssMb, peakHeapUsedMb: r.peakHeapUsedMb },
            },
          ]),
        ),
      };
    }

    type ImportFigures = { ratioToRaw: number; memory: { peakRssMb: number; addedRssMb: number } };
    const importList = Object.entries(imports) as [string, ImportFigures][];
    const byFormat = (format: string) => importList.filter(([name]) => name.startsWith(format)).map(([, figures]) => figures);
    const exportList = Object.entries(exportReport ?? {}).filter(([name]) => name === 'csv' || name === 'xlsx') as [string, { memory: { peakRssMb: number } }][];
    const budget = {
      ratioToRawAtLeast07: Object.fromEntries(importList.map(([name, figures]) => [name, figures.ratioToRaw >= 0.7])),
      importPeakRssAtMost256Mb: Object.fromEntries(importList.map(([name, figures]) => [name, figures.memory.peakRssMb <= 256])),
      /** Largest size's peak over the smallest's, per format: ~1 when memory does not grow with the file. */
      importPeakRssGrowth: Object.fromEntries(
        formats.map((format) => {
          const figures = byFormat(format);
          return [format, figures.length > 1 ? round(figures.at(-1)!.memory.peakRssMb / figures[0]!.memory.peakRssMb) : null];
        }),
      ),
      readerPeakRssAtMost256Mb: Object.fromEntries(Object.entries(reader).map(([name, figures]) => [name, (figures as ImportFigures).memory.peakRssMb <= 256])),
      exportPeakRssAtMost256Mb: Object.fromEntries(exportList.map(([name, figures]) => [name, figures.memory.peakRssMb <= 256])),
    };
    h.writeReport(
      process.env.BENCH_IMPORT_REPORT ?? 'import',
      {
        meta: h.benchMeta(run),
        loadAverages: loads,
        childArgs,
        sizes,
        reader,
        imports,
        export: exportReport,
        budget,
        dynamoDbLocal: h.processMemory(stack.emulatorPid),
      },
      stdout,
    );
  } finally {
    s3?.destroy();
    await s3Emulator.stop();
    await stack.stop();
    if (process.env.BENCH_IMPORT_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') await child(JSON.parse(process.argv[3]!) as ChildTask);
else await parent();

