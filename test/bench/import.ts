/**
 * `npm run bench:import`: contact imports (CSV and XLSX, two sizes: 20k and 100k rows; BENCH_QUICK=1:
 * 200 and 1,000) run through the `import_contacts` job kind's step on DynamoDB Local and the local S3
 * (fauxqs), against a raw replay of the same DynamoDB writes; and a CSV (and XLSX) export of 100k
 * contacts (quick: 10k) against the raw reads of them. Every measured run is a child process
 * (import-child.ts, bundled as the deployed functions are), so its peak RSS is its own and holds what
 * a deployed function would. One JSON document on stdout and in
 * .bench/import.json; progress on stderr. See README.md ("Import and export at scale").
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import ExcelJS from 'exceljs';
import { importUploadKey } from '../../domain/imports/import-job';
import { createS3Client } from '../../functions/shared/adapters/aws-clients';
import { createS3BlobStore } from '../../functions/shared/adapters/s3-blob-store';
import type { ChildResult, ChildTask } from './import-child';

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

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

/** A child's memory figures, as the report gives them. */
const memoryOf = (r: ChildResult) => ({
  peakRssMb: r.peakRssMb,
  baselineRssMb: r.baselineRssMb,
  addedRssMb: r.addedRssMb,
  peakHeapUsedMb: r.peakHeapUsedMb,
  peakExternalMb: r.peakExternalMb,
  peakArrayBuffersMb: r.peakArrayBuffersMb,
  atPeakRss: r.atPeakRss,
});

/** The child's entry: bundled once per run as the deployed functions are, or run through tsx (`BENCH_CHILD_TSX=1`). */
const childEntry = 'test/bench/import-child.ts';
/**
 * The measured child's V8 flags: a 128 MB old space, and semi-spaces of 16 MB. The semi-space size
 * must be given: Node 24 sizes it from the machine's memory (64 MB on a 24 GB box, whatever the old
 * space), and a young generation that outgrows the old space's headroom turns every scavenge into a
 * full mark-compact (CPU and RSS then grow with the run's length, not the data kept). Lambda's
 * runtime passes both flags too (a tenth of the memory for the young generation).
 */
const childArgs = () => (process.env.BENCH_IMPORT_CHILD_ARGS ?? '--max-old-space-size=128 --max-semi-space-size=16').split(' ').filter(Boolean);
const childUsesTsx = process.env.BENCH_CHILD_TSX === '1';
/**
 * The deployed functions set no NODE_OPTIONS: their stacks are mapped only when one is formatted
 * (the logger, functions/shared/source-mapped-stacks.ts). BENCH_CHILD_EAGER_SOURCE_MAPS=1
 * adds Node's `--enable-source-maps`, which parses the bundle's whole map when it loads, to compare.
 */
const childNodeOptions = process.env.BENCH_CHILD_EAGER_SOURCE_MAPS === '1' ? ['--enable-source-maps'] : [];

interface ChildCommand {
  /** Node's arguments before `child <task>`. */
  args: string[];
  /** A bundle's without the deployed NODE_OPTIONS (the idle baseline is measured both ways). */
  argsWithoutNodeOptions?: string[];
  describe: Record<string, unknown>;
}

/**
 * How children start: `node <bundle>`, the child entry bundled with the deployed esbuild settings into
 * the run's work folder, with the deployed NODE_OPTIONS; or, with BENCH_CHILD_TSX=1 (debugging:
 * readable stacks, no build), `node --import tsx <entry>`, whose ~35 MB of compiler and on-the-fly
 * compiled sources are then in every figure.
 */
async function childCommand(work: string): Promise<ChildCommand> {
  const h = await import('./harness');
  if (childUsesTsx) {
    const args = [...childArgs(), '--import', 'tsx', join(h.repoRoot, childEntry)];
    return { args, describe: { runner: 'tsx', entry: childEntry } };
  }
  const outfile = join(work, 'child', 'index.mjs');
  const metafile = await h.buildLambdaBundle(childEntry, outfile);
  const inputs = Object.keys(metafile.inputs);
  // The bundle holds a child's code only: the parent's emulators and test stacks stay out.
  const strays = inputs.filter((path) => /^(local|test\/support)\/|fauxqs/.test(path));
  if (strays.length > 0) throw new Error(`the child bundle takes in ${strays.join(', ')}`);
  const nodeOptions = childNodeOptions;
  return {
    args: [...childArgs(), ...nodeOptions, outfile],
    argsWithoutNodeOptions: [...childArgs(), outfile],
    describe: {
      runner: 'bundle',
      entry: childEntry,
      bundleKb: Math.round(statSync(outfile).size / 1024),
      sourceMapKb: Math.round(statSync(`${outfile}.map`).size / 1024),
      inputs: inputs.length,
      nodeOptions,
    },
  };
}

function runChild(command: string[], task: ChildTask): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...command, 'child', JSON.stringify(task)], {
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
  h.progress(childUsesTsx ? 'children run through tsx (BENCH_CHILD_TSX=1)' : 'bundling the child as the deployed functions are bundled');
  const command = await childCommand(work);
  const inChild = (task: ChildTask) => runChild(command.args, task);
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

    // The baseline in every figure below: a child that loads, makes its clients and exits (median of
    // 3 by peak RSS); with and without the deployed NODE_OPTIONS, to show what those cost.
    const idleOf = async (args: string[]) => {
      const runs: ChildResult[] = [];
      for (let i = 0; i < 3; i += 1) runs.push(await runChild(args, { ...base, mode: 'idle', workspaceId: 'none', userId: 'none', jobId: 'none', format: 'csv' }));
      const { baselineRssMb, peakRssMb, peakHeapUsedMb } = runs.sort((a, b) => a.peakRssMb - b.peakRssMb)[1]!;
      return { baselineRssMb, peakRssMb, peakHeapUsedMb };
    };
    const idle = {
      asRun: await idleOf(command.args),
      ...(command.argsWithoutNodeOptions ? { withoutNodeOptions: await idleOf(command.argsWithoutNodeOptions) } : {}),
    };
    h.progress(`idle child: ${idle.asRun.baselineRssMb} MB RSS after loading (${idle.withoutNodeOptions?.baselineRssMb ?? '-'} MB without NODE_OPTIONS)`);

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
        await blobs.put(importUploadKey('ws_reader', jobId, format, 'none'), bytes, 'application/octet-stream');
        rmSync(path, { force: true });
        h.progress(`reader ${name}: reading ${mb(bytes.length)} MB`);
        const r = await inChild({ ...base, mode: 'read', workspaceId: 'ws_reader', userId: 'none', jobId, format });
        reader[name] = {
          rows: r.rows,
          fileMb: mb(bytes.length),
          seconds: r.seconds,
          rowsPerSecond: Math.round(r.rows / r.seconds),
          cpuSeconds: r.cpuSeconds,
          s3Gets: r.commands['s3:GetObject'] ?? 0,
          memory: memoryOf(r),
        };
        await blobs.put(importUploadKey('ws_reader', jobId, format, 'none'), '', 'application/octet-stream');
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
        await blobs.put(importUploadKey(workspaceId, jobId, format, created.owner.id), bytes, format === 'csv' ? 'text/csv' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        const recordFile = join(work, `${name}.writes.jsonl`);
        const task: ChildTask = { ...base, mode: 'import', workspaceId, userId: created.owner.id, jobId, format, recordFile };
        h.progress(`${name}: importing ${rows} rows (${mb(bytes.length)} MB)`);
        markLoad(`${name}:start`);
        const imported = await inChild(task);
        h.progress(`${name}: ${imported.seconds} s, ${Math.round(rows / imported.seconds)} rows/s; raw replay`);
        const replayed = await inChild({ ...task, mode: 'replay', prefix: `REPLAY#${name}#`, transactionConcurrency: 16, batchConcurrency: 8 });
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
          memory: memoryOf(imported),
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
      const floorQuery = await inChild({ ...task, mode: 'floorQuery', jobId: 'none' });
      const floorReads = await inChild({ ...task, mode: 'floorReads', jobId: 'none' });
      const exports: Record<string, ChildResult> = {};
      for (const format of exportFormats) {
        h.progress(`export: ${format}`);
        exports[format] = await inChild({ ...task, mode: 'export', format, jobId: stack.deps.newId('job') });
        if (exports[format].rows !== exportContacts) throw new Error(`the ${format} export wrote ${exports[format].rows} rows of ${exportContacts}`);
      }
      markLoad('export:end');
      const rate = (r: ChildResult) => Math.round(r.rows / r.seconds);
      exportReport = {
        contacts: exportContacts,
        seedSeconds: round(seedSeconds, 1),
        floorQuery: { seconds: floorQuery.seconds, rowsPerSecond: rate(floorQuery), memory: memoryOf(floorQuery) },
        floorReads: { seconds: floorReads.seconds, rowsPerSecond: rate(floorReads), memory: memoryOf(floorReads) },
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
              memory: memoryOf(r),
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
        childArgs: childArgs().join(' '),
        child: { ...command.describe, args: command.args, idle },
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

await parent();

