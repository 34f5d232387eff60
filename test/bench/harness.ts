/**
 * Reusable pieces for benchmark scripts under test/bench/ (see README.md there):
 * timing with percentiles, ratios to the raw DynamoDB Local floors, a bench stack on a DynamoDB Local
 * of its own, Lambda bundle sizes with the deployed esbuild settings, and memory figures.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { systemClock, ulidGenerator } from '../../domain/shared/clock';
import type { CoreDeps } from '../../domain/shared/deps';
import { ensureTable } from '../../domain/store/create-table';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { handlerEntry, handlerGroups } from '../../functions/http/routes';
import { deadLetterConsumer, jobQueues } from '../../functions/jobs/job-queues';
import { schedules } from '../../functions/schedules/schedules';
import { createStaticSecretStore } from '../../functions/shared/adapters/secret-stores';
import { setCoreDeps, setSecretStore } from '../../functions/shared/deps';
import { streamReaders } from '../../functions/streams/stream-consumers';
import { webhooks } from '../../functions/webhooks/webhooks';
import { startDynamoDbLocal } from '../../local/emulators';
import {
  bundleAliases,
  firstUseFilesByPackage,
  firstUseFilesOf,
  firstUseFilesPackageJson,
  firstUseModuleFile,
  firstUseModulePackageJson,
  firstUseModuleSource,
  firstUseModulesOf,
  requireBanner,
} from '../../infra/constructs/first-use-modules';

/** The repository root (this file is test/bench/harness.ts). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `BENCH_QUICK=1`: iteration counts divided by 10 (a smoke run); data set sizes stay the same. */
export const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';

/** An iteration count, cut 10x under BENCH_QUICK=1 (never below `min`). */
export const iterations = (full: number, min = 5) => (quick ? Math.max(min, Math.ceil(full / 10)) : full);

/** Progress goes to stderr: stdout carries only the final JSON document. */
const startedAt = performance.now();
export const progress = (message: string) =>
  process.stderr.write(`[bench +${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);

const round = (value: number, digits = 3) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

export interface MeasureResult {
  name: string;
  iterations: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

export interface MeasureOptions {
  /** Un-timed calls before the timed ones (JIT, connection pool, caches). Default: 10% of iterations, at most 100. */
  warmup?: number;
  /** The clock, in nanoseconds. Default process.hrtime.bigint; tests pass a fake one. */
  now?: () => bigint;
}

/** Nearest-rank percentile of an ascending array: the smallest value with at least p% of values ≤ it. */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) throw new RangeError('percentile of an empty sample');
  if (p <= 0) return sortedAscending[0]!;
  const rank = Math.ceil((p / 100) * sortedAscending.length);
  return sortedAscending[Math.min(sortedAscending.length, rank) - 1]!;
}

/** Summarises durations in milliseconds. */
export function summarise(name: string, durationsMs: readonly number[]): MeasureResult {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    name,
    iterations: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    meanMs: round(total / sorted.length),
    minMs: round(sorted[0]!),
    maxMs: round(sorted[sorted.length - 1]!),
  };
}

/**
 * Runs `fn` `warmup` times untimed, then `iterations` times one after another, timing each call
 * (awaited when it returns a promise). `fn` receives a call counter running over warm-up and timed
 * calls alike (0, 1, 2, ...), handy to make each call's data unique.
 */
export async function measure(
  name: string,
  iterations: number,
  fn: (call: number) => unknown,
  options: MeasureOptions = {},
): Promise<MeasureResult> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`iterations must be a positive integer, got ${iterations}`);
  const now = options.now ?? process.hrtime.bigint;
  const warmup = options.warmup ?? Math.min(100, Math.ceil(iterations / 10));
  let call = 0;
  for (let i = 0; i < warmup; i++) await fn(call++);
  const durationsMs = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = now();
    const result = fn(call++);
    if (result instanceof Promise) await result;
    durationsMs[i] = Number(now() - start) / 1e6;
  }
  return summarise(name, durationsMs);
}

export interface InterleavedCase {
  iterations: number;
  fn: (call: number) => unknown;
  /** Un-timed calls before the first round. Default: 10% of iterations, at most 100. */
  warmup?: number;
}

/**
 * Measures several cases in alternating rounds (a slice of each case's iterations per round) rather
 * than one after the other, so that a burst of load from elsewhere on the machine hits the floors and
 * the API measures alike and their ratios stay meaningful. Returns one result per case.
 */
export async function measureInterleaved<K extends string>(
  cases: Record<K, InterleavedCase>,
  options: { rounds?: number; now?: () => bigint } = {},
): Promise<Record<K, MeasureResult>> {
  const now = options.now ?? process.hrtime.bigint;
  const rounds = options.rounds ?? 10;
  const names = Object.keys(cases) as K[];
  const state = names.map((name) => {
    const { iterations: count, fn, warmup } = cases[name];
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`${name}: iterations must be a positive integer, got ${count}`);
    return { name, count, fn, warmup: warmup ?? Math.min(100, Math.ceil(count / 10)), call: 0, durationsMs: [] as number[] };
  });
  for (const entry of state) {
    for (let i = 0; i < entry.warmup; i++) await entry.fn(entry.call++);
  }
  for (let round = 0; round < rounds; round++) {
    for (const entry of state) {
      // Spread the iterations evenly: round r ends at floor(count * (r + 1) / rounds).
      const target = Math.floor((entry.count * (round + 1)) / rounds);
      while (entry.durationsMs.length < target) {
        const start = now();
        const result = entry.fn(entry.call++);
        if (result instanceof Promise) await result;
        entry.durationsMs.push(Number(now() - start) / 1e6);
      }
    }
  }
  return Object.fromEntries(state.map((entry) => [entry.name, summarise(entry.name, entry.durationsMs)])) as Record<K, MeasureResult>;
}

export type Stat = 'p50Ms' | 'p90Ms' | 'p99Ms' | 'meanMs' | 'minMs' | 'maxMs';

/**
 * `result` over `floor` on one statistic (p50 by default), to 2 decimals: the number budgets are
 * written in ("p50 ≤ 2× the Query floor" holds when `ratio(x, floors.query) <= 2`).
 */
export function ratio(result: MeasureResult | number, floor: MeasureResult | number, stat: Stat = 'p50Ms'): number {
  const value = typeof result === 'number' ? result : result[stat];
  const base = typeof floor === 'number' ? floor : floor[stat];
  if (!(base > 0)) throw new RangeError(`ratio: the floor's ${stat} must be positive, got ${base}`);
  return round(value / base, 2);
}

/** Runs `worker(index)` for index 0..total-1 with at most `concurrency` in flight. */
export async function runConcurrent(total: number, concurrency: number, worker: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, async () => {
    while (next < total) await worker(next++);
  });
  await Promise.all(lanes);
}

// ---------------------------------------------------------------------------------------------
// The bench stack: DynamoDB Local in memory, a fresh table, the handlers wired to it
// ---------------------------------------------------------------------------------------------

export interface BenchStack {
  endpoint: string;
  tableName: string;
  /** What the handlers use too (setCoreDeps): invokeHttp runs the real handlers against this table. */
  deps: CoreDeps;
  rawClient: DynamoDBClient;
  /** The document client ElectroDB uses: floors measured with it share the same HTTP connections. */
  docClient: DynamoDBDocumentClient;
  /** The Java process of DynamoDB Local, for its memory figures. */
  emulatorPid: number | undefined;
  /** Stops DynamoDB Local and forgets the handler dependencies. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * DynamoDB Local (in memory, or on `dataDir` to keep a seeded data set between runs), a table, and the
 * handlers wired to it. The Java process never outlives this one: stopped on SIGINT/SIGTERM and killed on exit.
 */
export async function startBenchStack(options: { tableName?: string; dataDir?: string } = {}): Promise<BenchStack> {
  const dynamo = await startDynamoDbLocal(options.dataDir ? { dataDir: options.dataDir } : {});
  const tableName = options.tableName ?? `crm-bench-${Date.now().toString(36)}`;
  const rawClient = createDynamoClient({ endpoint: dynamo.endpoint, region: 'us-east-1' });

  let stopped: Promise<void> | undefined;
  const killNow = () => {
    if (dynamo.process.exitCode === null && dynamo.process.signalCode === null) dynamo.process.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping DynamoDB Local`);
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  const stop = () => {
    stopped ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      setCoreDeps(undefined);
      setSecretStore(undefined);
      rawClient.destroy();
      await dynamo.stop();
      process.off('exit', killNow);
    })();
    return stopped;
  };
  // Whatever happens to this process, the Java process must not outlive it.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', killNow);

  try {
    await ensureTable(rawClient, tableName, {
      onIndexAdded: (index, items) =>
        progress(
          `the table ${tableName} lacks index ${index}: DynamoDB Local is building it from its ${items ?? 'existing'} items ` +
            '(once; minutes on a large data set)',
        ),
    });
    const docClient = createDocumentClient(rawClient);
    const deps: CoreDeps = { db: createDb(docClient, tableName), clock: systemClock, newId: ulidGenerator(systemClock) };
    setCoreDeps(deps);
    // List cursors are sealed: a throwaway key, as `npm start -- --in-memory` uses.
    setSecretStore(createStaticSecretStore({ 'cursor-key': randomBytes(32) }));
    // For anything that reads its configuration from the environment instead of the deps.
    process.env.TABLE_NAME = tableName;
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.AWS_REGION ??= 'us-east-1';
    return { endpoint: dynamo.endpoint, tableName, deps, rawClient, docClient, emulatorPid: dynamo.process.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Lambda bundles
// ---------------------------------------------------------------------------------------------

/**
 * The esbuild settings of the deployed functions: a mirror of the `bundling` block of the CDK app's
 * NodejsFunction (infra/constructs/lambda-function.ts; keep them in step). ESM, minified, Node 24, the
 * SDK left to the Lambda runtime, the source map in a separate file, and a `require` for the CommonJS
 * dependencies (electrodb requires `@aws-sdk/lib-dynamodb`: without it the init fails with
 * "Dynamic require of ... is not supported").
 */
export const lambdaBuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: ['@aws-sdk/*'],
  alias: { ...bundleAliases },
  banner: { js: requireBanner },
} as const satisfies BuildOptions;

export interface LambdaEntry {
  /** `http-<group>`, `stream-<reader>`, `job-<name>`, `schedule-<name>`, `webhook-<name>`. */
  name: string;
  kind: 'http' | 'stream' | 'job' | 'schedule' | 'webhook';
  /** Relative to the repository root. */
  entry: string;
}

/** Every Lambda entry of the app, from the same definition tables the CDK app reads. */
export function lambdaEntries(): LambdaEntry[] {
  return [
    ...handlerGroups.map((group) => ({ name: `http-${group}`, kind: 'http' as const, entry: handlerEntry(group) })),
    // The stream readers, as deployed: one function per event source mapping (each runs its consumers).
    ...streamReaders.map((reader) => ({ name: `stream-${reader.name}`, kind: 'stream' as const, entry: reader.entry })),
    ...jobQueues.map((q) => ({ name: `job-${q.name}`, kind: 'job' as const, entry: q.entry })),
    // One consumer of every dead-letter queue, deployed once there are queues (infra/constructs/jobs.ts).
    ...(jobQueues.length > 0 ? [{ name: deadLetterConsumer.name, kind: 'job' as const, entry: deadLetterConsumer.entry }] : []),
    ...schedules.map((s) => ({ name: `schedule-${s.name}`, kind: 'schedule' as const, entry: s.entry })),
    ...webhooks.map((w) => ({ name: `webhook-${w.name}`, kind: 'webhook' as const, entry: w.entry })),
  ];
}

/**
 * Bundles one entry (relative to the repository root) as the CDK app bundles a function, with
 * {@link lambdaBuildOptions}: `outfile` (an `.mjs`) and its source map beside it, and its first-use
 * packages (infra/constructs/first-use-modules.ts) beside it in `node_modules/<name>/index.mjs`, as
 * deployed, and its first-use data files in `node_modules/<package>/`. It imports `@aws-sdk/*` at run time, resolved from the `node_modules` above `outfile`
 * (Lambda: its runtime's). The metafile is the function's own bundle's.
 */
export async function buildLambdaBundle(entry: string, outfile: string, options: { banner?: string } = {}): Promise<Metafile> {
  const firstUse = firstUseModulesOf(entry);
  const banner = { js: options.banner ?? lambdaBuildOptions.banner.js };
  const result = await build({
    ...lambdaBuildOptions,
    mainFields: [...lambdaBuildOptions.mainFields],
    external: [...lambdaBuildOptions.external, ...firstUse],
    entryPoints: [resolve(repoRoot, entry)],
    absWorkingDir: repoRoot,
    outfile,
    banner,
    metafile: true,
    logLevel: 'silent',
    write: true,
  });
  for (const name of firstUse) {
    const file = join(dirname(outfile), firstUseModuleFile(name));
    await build({
      ...lambdaBuildOptions,
      mainFields: [...lambdaBuildOptions.mainFields],
      external: [...lambdaBuildOptions.external],
      stdin: { contents: firstUseModuleSource(name), resolveDir: repoRoot, sourcefile: `first-use-${name}.mjs` },
      absWorkingDir: repoRoot,
      outfile: file,
      banner,
      sourcemap: false,
      logLevel: 'silent',
      write: true,
    });
    writeFileSync(join(dirname(file), 'package.json'), firstUseModulePackageJson(name));
  }
  for (const { name, files } of firstUseFilesByPackage(firstUseFilesOf(entry))) {
    const dir = join(dirname(outfile), 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    for (const file of files) copyFileSync(join(repoRoot, 'node_modules', name, file), join(dir, file));
    writeFileSync(join(dir, 'package.json'), firstUseFilesPackageJson(name, files));
  }
  return result.metafile;
}

export interface BundleInput {
  path: string;
  /** Bytes this input contributes to the minified output (esbuild's bytesInOutput). */
  bytes: number;
  kb: number;
}

export interface BundleReport {
  entry: string;
  /** Size of the bundled .mjs (the source map is not counted). */
  bytes: number;
  kb: number;
  inputCount: number;
  topInputs: BundleInput[];
  /** The same bytes summed per npm package (or per top-level project folder). */
  topPackages: BundleInput[];
  /** Median time to `import()` the bundle in a fresh Node process (SDK from node_modules), when asked. */
  importMs?: number;
  /** RSS of that fresh process after the import, in MB. */
  importRssMb?: number;
  importError?: string;
}

export interface BundleFailure {
  entry: string;
  error: string;
}

export interface BundleSizeOptions {
  /** How many inputs and packages to list per bundle. Default 5. */
  top?: number;
  /**
   * Also time a cold `import()` of each bundle (and of the floor) in a fresh Node process, this many
   * rounds (median). A round imports every function, one at a time, and the floor between them. Default 0.
   */
  importRuns?: number;
  /** Keep the temporary directory (its path is logged) instead of removing it. */
  keep?: boolean;
  /** Replaces the esbuild `banner.js` of {@link lambdaBuildOptions} ('' for none), to try another setting. */
  banner?: string;
}

/** Issue 17's cold-start budgets: each function's bundle and its import time against the floor's. */
export const bundleBudget = { maxKb: 300, maxImportRatio: 1.5 } as const;

/** The floor entry: a bundle that only creates the DynamoDB document client (test/bench/bundle-floor.ts). */
export const floorEntry: LambdaEntry = { name: 'floor', kind: 'http', entry: 'test/bench/bundle-floor.ts' };

/**
 * The stack floor: the floor plus ElectroDB with one entity and zod with one schema
 * (test/bench/bundle-stack-floor.ts), what the prescribed stack costs before a function's own code.
 */
export const stackFloorEntry: LambdaEntry = { name: 'stack-floor', kind: 'http', entry: 'test/bench/bundle-stack-floor.ts' };
const referenceEntries = new Set([floorEntry.name, stackFloorEntry.name]);

export interface FunctionBundleReport extends BundleReport {
  /** importMs / the floor's importMs (same rounds). */
  importRatio?: number;
  /** importMs / the stack floor's importMs: how much the function's own code adds to the stack's least. */
  importRatioToStackFloor?: number;
  /** importRatioToStackFloor within the same 1.5× (reported beside the budget, not part of it). */
  withinStackFloorRatio?: boolean;
  withinKb: boolean;
  /** Undefined when imports were not timed. */
  withinImportRatio?: boolean;
  /** Both budgets met (only the size when imports were not timed). */
  withinBudget: boolean;
}

export interface BundleSizes {
  budget: typeof bundleBudget;
  /** How many import rounds the medians come from. */
  importRuns: number;
  floor: BundleReport | BundleFailure;
  /** ElectroDB (one entity) and zod (one schema) on top of the floor; `importRatio` to the floor. */
  stackFloor: (BundleReport & { importRatio?: number }) | BundleFailure;
  functions: Record<string, FunctionBundleReport | BundleFailure>;
  summary: {
    functions: number;
    withinBudget: number;
    withinKb: number;
    withinImportRatio: number;
    largestKb: number;
    failed: string[];
    largestImportRatio?: number;
    medianImportRatio?: number;
    medianImportRatioToStackFloor?: number;
    withinStackFloorRatio?: number;
  };
}

const kb = (bytes: number) => round(bytes / 1024, 1);

/** The npm package an input path belongs to, or its top-level project folder. */
export function packageOf(inputPath: string): string {
  const marker = 'node_modules/';
  const at = inputPath.lastIndexOf(marker);
  if (at < 0) return `(project) ${inputPath.split('/')[0]}`;
  const parts = inputPath.slice(at + marker.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function topByBytes(entries: Iterable<[string, number]>, top: number): BundleInput[] {
  return [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([path, bytes]) => ({ path, bytes, kb: kb(bytes) }));
}

/**
 * Bundles every Lambda entry, and the floor, with {@link lambdaBuildOptions} into a temporary
 * directory and reports the size of each bundle, which inputs (and packages) make up most of it, and
 * (with `importRuns`) its cold import time as a ratio to the floor's, against {@link bundleBudget}.
 * A missing entry file or a failed build is reported for that function instead of failing the run.
 */
export async function bundleSizes(options: BundleSizeOptions = {}): Promise<BundleSizes> {
  const top = options.top ?? 5;
  const runs = options.importRuns ?? 0;
  const dir = mkdtempSync(join(tmpdir(), 'crm-bench-bundles-'));
  // Bundles import `@aws-sdk/*` at run time: let them resolve it from the project, as Lambda does from its runtime.
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const reports = new Map<string, BundleReport | BundleFailure>();
  try {
    const results = await Promise.all(
      [floorEntry, stackFloorEntry, ...lambdaEntries()].map(async ({ name, entry }) => {
        if (!existsSync(resolve(repoRoot, entry))) return [name, { entry, error: 'entry file not found' }] as const;
        const outfile = join(dir, name, 'index.mjs');
        try {
          const metafile = await buildLambdaBundle(entry, outfile, { banner: options.banner });
          return [name, describeBundle(entry, outfile, metafile, top)] as const;
        } catch (error) {
          return [name, { entry, error: (error as Error).message.split('\n').slice(0, 5).join('\n') }] as const;
        }
      }),
    );
    for (const [name, report] of results) reports.set(name, report);
    if (runs > 0) timeImports(dir, reports, runs);
  } finally {
    if (options.keep) progress(`bundles kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return judgeBundles(reports, runs);
}

/** A round imports the floor again after this many functions, so load that drifts during a round hits both. */
const functionsPerFloorImport = 8;

/**
 * Times cold imports in rounds, one at a time (concurrent cold starts would slow each other down):
 * each round imports every function, and the floor before each run of
 * {@link functionsPerFloorImport} of them, so a burst of load elsewhere hits the floor and the
 * functions alike. Sets each report's median importMs and importRssMb (the floor's over all its imports).
 */
function timeImports(dir: string, reports: Map<string, BundleReport | BundleFailure>, runs: number) {
  const samples = new Map<string, { ms: number; rssMb: number }[]>();
  const time = (name: string) => {
    const report = reports.get(name);
    if (!report || 'error' in report || report.importError) return;
    try {
      const sample = timeColdImport(join(dir, name, 'index.mjs'));
      samples.set(name, [...(samples.get(name) ?? []), sample]);
    } catch (error) {
      report.importError = (error as Error).message.slice(0, 500);
    }
  };
  const functions = [...reports.keys()].filter((name) => !referenceEntries.has(name));
  for (let round = 0; round < runs; round++) {
    progress(`timing cold imports, round ${round + 1} of ${runs}`);
    functions.forEach((name, index) => {
      if (index % functionsPerFloorImport === 0) {
        time(floorEntry.name);
        time(stackFloorEntry.name);
      }
      time(name);
    });
  }
  for (const [name, list] of samples) {
    const report = reports.get(name) as BundleReport;
    if (report.importError) continue;
    list.sort((a, b) => a.ms - b.ms);
    const median = list[Math.floor(list.length / 2)]!;
    report.importMs = round(median.ms, 1);
    report.importRssMb = round(median.rssMb, 1);
  }
}

function judgeBundles(reports: Map<string, BundleReport | BundleFailure>, runs: number): BundleSizes {
  const floor = reports.get(floorEntry.name)!;
  const floorMs = 'error' in floor ? undefined : floor.importMs;
  const stackFloor = reports.get(stackFloorEntry.name)!;
  const stackFloorMs = 'error' in stackFloor ? undefined : stackFloor.importMs;
  const ratioTo = (ms: number | undefined, to: number | undefined) => (to && ms !== undefined ? round(ms / to, 2) : undefined);
  const functions: Record<string, FunctionBundleReport | BundleFailure> = {};
  for (const [name, report] of reports) {
    if (referenceEntries.has(name)) continue;
    if ('error' in report) {
      functions[name] = report;
      continue;
    }
    const importRatio = ratioTo(report.importMs, floorMs);
    const importRatioToStackFloor = ratioTo(report.importMs, stackFloorMs);
    const withinKb = report.kb <= bundleBudget.maxKb;
    const withinImportRatio = importRatio === undefined ? undefined : importRatio <= bundleBudget.maxImportRatio;
    functions[name] = {
      ...report,
      ...(importRatio === undefined ? {} : { importRatio }),
      ...(importRatioToStackFloor === undefined
        ? {}
        : { importRatioToStackFloor, withinStackFloorRatio: importRatioToStackFloor <= bundleBudget.maxImportRatio }),
      withinKb,
      ...(withinImportRatio === undefined ? {} : { withinImportRatio }),
      withinBudget: withinKb && withinImportRatio !== false && !report.importError,
    };
  }
  const judged = Object.values(functions).filter((r): r is FunctionBundleReport => !('error' in r));
  const ratios = judged.flatMap((r) => (r.importRatio === undefined ? [] : [r.importRatio]));
  const stackRatios = judged.flatMap((r) => (r.importRatioToStackFloor === undefined ? [] : [r.importRatioToStackFloor]));
  const median = (values: number[]) => (values.length ? [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] : undefined);
  const stackFloorRatio = 'error' in stackFloor ? undefined : ratioTo(stackFloor.importMs, floorMs);
  return {
    budget: bundleBudget,
    importRuns: runs,
    floor,
    stackFloor: stackFloorRatio === undefined ? stackFloor : { ...stackFloor, importRatio: stackFloorRatio },
    functions,
    summary: {
      functions: Object.keys(functions).length,
      withinBudget: judged.filter((r) => r.withinBudget).length,
      withinKb: judged.filter((r) => r.withinKb).length,
      withinImportRatio: judged.filter((r) => r.withinImportRatio).length,
      largestKb: Math.max(0, ...judged.map((r) => r.kb)),
      // A bundle that failed to build or to import (a floor included) is named here, not only in its entry.
      failed: [...reports].filter(([, r]) => 'error' in r || r.importError).map(([name]) => name),
      ...(ratios.length ? { largestImportRatio: Math.max(...ratios), medianImportRatio: median(ratios) } : {}),
      ...(stackRatios.length
        ? {
            medianImportRatioToStackFloor: median(stackRatios),
            withinStackFloorRatio: judged.filter((r) => r.withinStackFloorRatio).length,
          }
        : {}),
    },
  };
}

function describeBundle(entry: string, outfile: string, metafile: Metafile, top: number): BundleReport {
  const bytes = statSync(outfile).size;
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith('.mjs'))?.[1];
  const inputs = Object.entries(output?.inputs ?? {}).map(([path, { bytesInOutput }]) => [path, bytesInOutput] as [string, number]);
  const perPackage = new Map<string, number>();
  for (const [path, size] of inputs) perPackage.set(packageOf(path), (perPackage.get(packageOf(path)) ?? 0) + size);
  return {
    entry,
    bytes,
    kb: kb(bytes),
    inputCount: inputs.length,
    topInputs: topByBytes(inputs, top),
    topPackages: topByBytes(perPackage, top),
  };
}

/** Imports a bundle in a fresh Node process (the Lambda init phase, minus the runtime) and times it. */
function timeColdImport(file: string): { ms: number; rssMb: number } {
  const script = [
    `const start = performance.now();`,
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    `const ms = performance.now() - start;`,
    `process.stdout.write(JSON.stringify({ ms, rssMb: process.memoryUsage.rss() / 1048576 }));`,
  ].join('\n');
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      // As on Lambda: the functions build their clients and the table's entities during init (deps.ts).
      AWS_LAMBDA_FUNCTION_NAME: 'crm-bench-import',
      TABLE_NAME: 'crm-bench-import',
      LOG_LEVEL: 'SILENT',
      NODE_ENV: 'production',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.error) throw child.error;
  if (child.status !== 0) {
    // Node prints the failing (minified) source line first: keep the error line itself.
    const lines = child.stderr.trim().split('\n');
    const message = lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.find((line) => line.length < 300) ?? '';
    throw new Error(`import exited ${child.status}: ${message.trim()}`);
  }
  try {
    return JSON.parse(child.stdout) as { ms: number; rssMb: number };
  } catch {
    throw new Error(`unexpected output: ${child.stdout.slice(0, 200)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

const mb = (bytes: number) => round(bytes / 1048576, 1);
let peakHeapUsed = 0;
let peakRss = 0;
let sampler: NodeJS.Timeout | undefined;

const sample = () => {
  const usage = process.memoryUsage();
  peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
  peakRss = Math.max(peakRss, usage.rss);
  return usage;
};

/** Samples the heap every `intervalMs` so {@link resourceUsage} can report its peak. Returns a stop function. */
export function startMemorySampler(intervalMs = 25): () => void {
  if (!sampler) {
    sample();
    sampler = setInterval(sample, intervalMs);
    sampler.unref();
  }
  return () => {
    if (sampler) clearInterval(sampler);
    sampler = undefined;
  };
}

export interface ResourceUsage {
  /** Peak resident set of this process, from the OS (getrusage maxrss). */
  peakRssMb: number;
  rssMb: number;
  heapUsedMb: number;
  /** Highest heapUsed seen by the sampler (or now, if the sampler never ran). */
  peakHeapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  userCpuSeconds: number;
  systemCpuSeconds: number;
}

/** This process's memory (current and peak) and CPU time so far. */
export function resourceUsage(): ResourceUsage {
  const usage = sample();
  const os = process.resourceUsage();
  return {
    peakRssMb: mb(Math.max(os.maxRSS * 1024, peakRss)),
    rssMb: mb(usage.rss),
    heapUsedMb: mb(usage.heapUsed),
    peakHeapUsedMb: mb(peakHeapUsed),
    heapTotalMb: mb(usage.heapTotal),
    externalMb: mb(usage.external),
    userCpuSeconds: round(os.userCPUTime / 1e6, 2),
    systemCpuSeconds: round(os.systemCPUTime / 1e6, 2),
  };
}

/** Current and peak RSS of another process (Linux /proc), e.g. DynamoDB Local's JVM; null elsewhere. */
export function processMemory(pid: number | undefined): { rssMb: number; peakRssMb: number } | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    const rss = field('VmRSS');
    const hwm = field('VmHWM');
    if (Number.isNaN(rss) || Number.isNaN(hwm)) return null;
    return { rssMb: round(rss / 1024, 1), peakRssMb: round(hwm / 1024, 1) };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/**
 * Sends everything written to stdout to stderr instead (loggers of the code under test included),
 * so stdout carries only the JSON document. Returns the original writer, to print that document.
 */
export function reserveStdout(): { write(text: string): void; restore(): void } {
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return {
    write: (text) => void original(text),
    restore: () => {
      process.stdout.write = original as typeof process.stdout.write;
    },
  };
}

export interface RunStart {
  startedAt: Date;
  startNs: bigint;
  loadAverageAtStart: number[];
}

const loads = () => loadavg().map((load) => round(load, 2));

/** Call at the start of a bench script; pass to {@link benchMeta} at the end. */
export function startRun(): RunStart {
  return { startedAt: new Date(), startNs: process.hrtime.bigint(), loadAverageAtStart: loads() };
}

/** The `meta` block of every bench report: when, where, and how busy the machine was. */
export function benchMeta(run: RunStart) {
  return {
    date: run.startedAt.toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: `${process.platform}-${process.arch}`,
    totalMemoryMb: Math.round(totalmem() / 1048576),
    quick,
    /** 1/5/15-minute load averages: well above `cpus`, other work competed with the bench. */
    loadAverageAtStart: run.loadAverageAtStart,
    loadAverageAtEnd: loads(),
    durationSeconds: round(Number(process.hrtime.bigint() - run.startNs) / 1e9, 2),
  };
}

/**
 * Writes a report to `.bench/<name>.json` (git-ignored) and prints it, as the one JSON document on
 * stdout, through the writer {@link reserveStdout} returned (which it then restores).
 */
export function writeReport(name: string, report: unknown, stdout: ReturnType<typeof reserveStdout>): string {
  const json = JSON.stringify(report, null, 2);
  const dir = join(repoRoot, '.bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${json}\n`);
  stdout.write(`${json}\n`);
  stdout.restore();
  return file;
}
