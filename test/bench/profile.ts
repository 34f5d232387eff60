/**
 * `npm run -s profile -- <read> [requests]`: where one read's time goes, in process. Starts the bench
 * stack (DynamoDB Local in memory, the real handlers), seeds what the read needs, warms it up, and
 * captures the DynamoDB commands of one request (dynamo-replay.ts). Then, `requests` times each (default
 * 2,000), one at a time: the read and the same commands sent raw, interleaved without the profiler
 * (the read's ratio to its own DynamoDB work), then each under the V8 CPU profiler (node:inspector).
 * Prints one JSON document (also .bench/profile-<read>.json): commands and round trips of a request,
 * the unprofiled timings, and self time per request by function and by package/folder for the read
 * and for its raw commands (the difference is ours: handler, auth, ElectroDB, mapping). The read's
 * whole profile goes to `.bench/profile-<read>.cpuprofile` (Chrome DevTools or speedscope open it).
 * Reads: me, users, feed, counters, timeline, contact, contactList, contactSearch. See README.md ("Request overhead").
 */
import { Session, type Profiler } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContact } from '../../domain/contacts/contacts.service';
import { allParties, counterUpdate, sendTransaction } from '../../domain/metrics/counter-store';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { eventTypes } from '../../events/catalogue';
import { invokeHttp } from '../../local/http-invoke';
import { countDynamoCalls } from '../support/dynamo-call-counter';
import { seedContactEvents, seedFeedEvents } from '../support/seeded-events';
import { captureCommands, replayWaves, waves } from './dynamo-replay';
import { measureInterleaved, packageOf, progress, ratio, repoRoot, reserveStdout, startBenchStack, writeReport, type BenchStack } from './harness';

type Read = () => Promise<void>;

/** Seeds what each read needs on a fresh workspace, and returns the read (one request, status checked). */
const reads: Record<string, (stack: BenchStack) => Promise<Read>> = {
  me: async (stack) => {
    const { token } = await workspace(stack);
    return get('/v1/me', token);
  },
  users: async (stack) => {
    const { token } = await workspace(stack);
    for (let n = 0; n < 100; n++) {
      await expectOk(invokeHttp('POST', '/v1/users', { token, body: { name: `User ${n}`, email: `user-${n}@bench.example` } }), 201);
    }
    return get('/v1/users', token, { limit: 25 });
  },
  feed: async (stack) => {
    const { token, created } = await workspace(stack);
    await seedFeedEvents(stack.deps, created.workspace.id, created.owner.id, 2_000);
    return get('/v1/events/feed', token, { after: '1000', limit: 25 });
  },
  counters: async (stack) => {
    const { token, created } = await workspace(stack);
    const dayMs = 24 * 3600 * 1000;
    const lastDay = Date.parse('2026-06-30T00:00:00Z');
    const days = Array.from({ length: 90 }, (_, i) => new Date(lastDay - i * dayMs).toISOString().slice(0, 10));
    for (const [i, day] of days.entries()) {
      await sendTransaction(stack.deps, [
        counterUpdate(stack.tableName, created.workspace.id, {
          party: allParties,
          day,
          counts: Object.fromEntries(eventTypes.slice(0, 40).map((type, t) => [type, 1 + ((i * 7 + t) % 50)])),
          figures: {},
          firstResponseSeconds: [],
        }),
      ]);
    }
    return get('/v1/metrics/counters', token, { from: days.at(-1)!, to: days[0]!, granularity: 'week' });
  },
  timeline: async (stack) => {
    const { token, caller } = await workspace(stack);
    const contact = await createContact(stack.deps, caller, { name: 'Timeline Person', channels: [] });
    await seedContactEvents(stack.deps, caller, contact.id, 2_000, { startMs: Date.parse('2024-01-01T00:00:00Z'), stepMs: 5 * 60_000 });
    return get(`/v1/contacts/${contact.id}/timeline`, token, { limit: 25 });
  },
  contactList: async (stack) => {
    const { token } = await contactBook(stack);
    return get('/v1/contacts', token, { limit: 25 });
  },
  contactSearch: async (stack) => {
    const { token } = await contactBook(stack);
    return get('/v1/contacts/search', token, { q: 'mar', limit: 25 });
  },
  contact: async (stack) => {
    const { token, caller } = await workspace(stack);
    const contact = await createContact(stack.deps, caller, {
      name: 'Ada Lovelace',
      channels: [
        { kind: 'email', value: 'ada@example.com' },
        { kind: 'phone', value: '+33612345678' },
      ],
    });
    return get(`/v1/contacts/${contact.id}`, token);
  },
};

/** A workspace of 120 contacts, every other one a Mar… (a search page of 25 and more). */
async function contactBook(stack: BenchStack) {
  const book = await workspace(stack);
  const first = ['Marie', 'Martin', 'Marco', 'Léa', 'Hugo', 'Chloé'];
  for (let n = 0; n < 120; n++) {
    await createContact(stack.deps, book.caller, {
      name: `${first[n % first.length]} Dupont ${n}`,
      channels: [{ kind: 'email', value: `person-${n}@example.com` }],
    });
  }
  return book;
}

async function workspace(stack: BenchStack) {
  const created = await createWorkspace(stack.deps, { name: 'Bench', ownerName: 'Bench Owner', ownerEmail: 'owner@bench.example' });
  const caller = { workspaceId: created.workspace.id, userId: created.owner.id, role: 'owner' as const };
  return { created, caller, token: created.token.token };
}

async function expectOk(pending: ReturnType<typeof invokeHttp>, status = 200) {
  const response = await pending;
  if (response.statusCode !== status) throw new Error(`expected ${status}, got ${response.statusCode}: ${String(response.body).slice(0, 300)}`);
}

const get =
  (path: string, token: string, query?: Record<string, string | number>): Read =>
  () =>
    expectOk(invokeHttp('GET', path, { token, query }));

/** Where a profiled function's code lives: an npm package, a project folder, or Node itself. */
function placeOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return '(node)';
  const path = url.replace(/^file:\/\//, '');
  if (path.includes('node_modules/')) return packageOf(path);
  if (path.startsWith(repoRoot)) return packageOf(path.slice(repoRoot.length));
  return path;
}

function summariseProfile(profile: Profiler.Profile, requests: number) {
  const selfUs = new Map<number, number>();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + (timeDeltas[i] ?? 0));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const place = placeOf(url);
    const where = url === '' ? '' : ` ${url.replace(/^file:\/\//, '').replace(repoRoot, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
    const name = `${functionName || '(anonymous)'}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    busyUs += us;
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({ name, msPerRequest: Math.round((us / requests / 1000) * 1000) / 1000, pctOfBusy: Math.round((us / busyUs) * 1000) / 10 }));
  return {
    busyMsPerRequest: Math.round((busyUs / requests / 1000) * 1000) / 1000,
    idleMsPerRequest: Math.round((idleUs / requests / 1000) * 1000) / 1000,
    byPlace: top(byPlace, 20),
    byFunction: top(byFunction, 40),
  };
}

type HttpAnswer = { statusCode: number; reason?: string; headers: Record<string, string>; body: unknown };
type HttpHandlerLike = { handle(request: { headers: Record<string, string>; body?: unknown }, options?: unknown): Promise<{ response: HttpAnswer }> };

/**
 * The client's HTTP exchange with DynamoDB Local taken out: `record` answers as usual and keeps each
 * answer's bytes by request (target and body), `replay` answers a request seen before with its bytes
 * at once (the SDK still serialises, signs, parses and checks the CRC). What a read then costs is CPU:
 * ours, ElectroDB's and the SDK's, with no DynamoDB work and no wait.
 */
function cannedAnswers(client: BenchStack['rawClient']) {
  const handler = client.config.requestHandler as unknown as HttpHandlerLike;
  const live = handler.handle.bind(handler);
  const answers = new Map<string, { statusCode: number; reason?: string; headers: Record<string, string>; body: Uint8Array }>();
  const state = { mode: 'live' as 'live' | 'record' | 'replay' };
  handler.handle = async (request, options) => {
    const body = request.body instanceof Uint8Array ? Buffer.from(request.body).toString('utf8') : String(request.body);
    const key = `${request.headers['x-amz-target']} ${body}`;
    const known = state.mode === 'replay' ? answers.get(key) : undefined;
    if (known) return { response: { ...known, headers: { ...known.headers }, body: known.body } };
    const { response } = await live(request, options);
    if (state.mode === 'live') return { response };
    const chunks: Buffer[] = [];
    for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
    const answer = { statusCode: response.statusCode, reason: response.reason, headers: response.headers, body: new Uint8Array(Buffer.concat(chunks)) };
    answers.set(key, answer);
    return { response: { ...answer, headers: { ...answer.headers } } };
  };
  return state;
}

async function main() {
  const stdout = reserveStdout();
  process.env.LOG_LEVEL ??= 'WARN';
  const [readName = 'me', count = '2000'] = process.argv.slice(2);
  const seed = reads[readName];
  if (!seed) throw new Error(`Unknown read ${readName}: one of ${Object.keys(reads).join(', ')}`);
  const requests = Number(count);
  const stack = await startBenchStack();
  try {
    progress(`seeding for ${readName}`);
    const read = await seed(stack);
    const calls = countDynamoCalls(stack.rawClient);
    const capture = captureCommands(stack.rawClient);
    const canned = cannedAnswers(stack.rawClient);
    for (let i = 0; i < 300; i++) await read(); // JIT, the connection pool, the token in the auth cache
    calls.reset();
    const { commands } = await capture.during(read);
    const commandsOfOne = { ...calls.counts };
    const ownRaw = replayWaves(stack, waves(commands), (n) => `profile#${n}#`);
    for (let i = 0; i < 300; i++) await ownRaw();

    // Without the profiler: the read against the same DynamoDB commands sent raw (its own floor).
    progress(`measuring ${requests} requests of the read and of its own raw commands, interleaved`);
    const timed = await measureInterleaved({ read: { iterations: requests, fn: read }, ownRaw: { iterations: requests, fn: ownRaw } }, { rounds: 5 });

    const profileOf = async (fn: Read) => {
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
      const started = performance.now();
      for (let i = 0; i < requests; i++) await fn();
      const wallMs = performance.now() - started;
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return { profile, wallMsPerRequest: Math.round((wallMs / requests) * 1000) / 1000 };
    };
    progress(`profiling ${requests} requests, then ${requests} of its raw commands`);
    const profiled = await profileOf(read);
    const profiledRaw = await profileOf(ownRaw);

    // The same, with DynamoDB's answers replayed from memory: CPU only (no DynamoDB work, no wait).
    progress('recording the answers, then the read and its raw commands on them (CPU only), and a profile of the read');
    canned.mode = 'record';
    await read();
    await ownRaw();
    canned.mode = 'replay';
    for (let i = 0; i < 300; i++) await read();
    for (let i = 0; i < 300; i++) await ownRaw();
    const cpuOnly = await measureInterleaved({ read: { iterations: requests, fn: read }, ownRaw: { iterations: requests, fn: ownRaw } }, { rounds: 5 });
    const profiledCpuOnly = await profileOf(read);
    canned.mode = 'live';

    const file = join(repoRoot, '.bench', `profile-${readName}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profiled.profile));
    writeReport(
      `profile-${readName}`,
      {
        read: readName,
        requests,
        dynamoCommandsPerRequest: commandsOfOne,
        roundTrips: waves(commands).map((wave) => wave.map((command) => command.name)),
        unprofiled: { read: timed.read, ownRaw: timed.ownRaw, ratioP50: ratio(timed.read, timed.ownRaw), ratioP99: ratio(timed.read, timed.ownRaw, 'p99Ms') },
        cpuprofile: file,
        profiled: { wallMsPerRequest: profiled.wallMsPerRequest, ...summariseProfile(profiled.profile, requests) },
        ownRawProfiled: { wallMsPerRequest: profiledRaw.wallMsPerRequest, ...summariseProfile(profiledRaw.profile, requests) },
        cpuOnly: {
          read: cpuOnly.read,
          ownRaw: cpuOnly.ownRaw,
          /** p50 of the read minus p50 of its raw commands: what the handler path adds to the SDK's own work. */
          addedMsP50: Math.round((cpuOnly.read.p50Ms - cpuOnly.ownRaw.p50Ms) * 1000) / 1000,
          profiled: { wallMsPerRequest: profiledCpuOnly.wallMsPerRequest, ...summariseProfile(profiledCpuOnly.profile, requests) },
        },
      },
      stdout,
    );
  } finally {
    await stack.stop();
  }
}

main().then(
  () => setTimeout(() => process.exit(0), 2000).unref(),
  (error: unknown) => {
    process.stderr.write(`[profile] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
