/**
 * `npm run -s bench:segments` (issue 15): dynamic segments on one workspace of 20,000 contacts
 * (BENCH_SEGMENTS_CONTACTS; BENCH_QUICK=1: 2,000) and 100 dynamic segments, on a fresh in-memory
 * DynamoDB Local:
 * 1. The recompute of the workspace (`segment_membership`, mode `recompute`, its step driven in-process):
 *    the first one (every membership written), then `BENCH_SEGMENTS_ROUNDS` recomputes with nothing
 *    changed, each beside the raw floor, paging the same gsi3 partition with raw Queries. Budgets: the
 *    recompute ≤ 2× the floor, and a recompute with nothing changed writes 0 items.
 * 2. The stream evaluation (`applyContactChangeToSegments`, the `segments` consumer's work) of one
 *    contact change with the 100 dynamic segments present: its DynamoDB round trips (sequential waves),
 *    p50/p99, and the same commands replayed raw. Budget: ≤ 2 round trips. Apart: one change joining
 *    many segments at once (`stream.manyJoins`), and a last recompute after the stream's changes (0 items).
 * 3. A lead ranking page: a product's leads (one fit item per contact, seeded), the first page of its
 *    pending leads through `listLeads` against a raw Query of the same index page.
 * See README.md ("Segments").
 * One JSON document on stdout and in .bench/segments.json; progress on stderr. Exits 1 when a budget fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createCompany } from '../../domain/companies/companies.service';
import { companySizes } from '../../domain/companies/companies.schemas';
import type { CompanyItem } from '../../domain/companies/company-record';
import { addTags } from '../../domain/contacts/contact-tags.service';
import { toSearchHit, tokensOf, type ContactItem } from '../../domain/contacts/contact-record';
import { createContact, readContact, updateContact } from '../../domain/contacts/contacts.service';
import { createCustomField } from '../../domain/custom-fields/custom-fields.service';
import { createProduct, listLeads, type ContactFitItem } from '../../domain/fit/fit.service';
import { rankOf } from '../../domain/fit/fit-score';
import type { JobControl, JobDeps, RunningJob } from '../../domain/jobs/job-kind';
import { contactPageLimit, readContactPage } from '../../domain/segments/contact-pass';
import { readContactSegments, readWorkspaceSegments, subjectOf } from '../../domain/segments/membership.service';
import { segmentMembershipJob, type SegmentJobResult } from '../../domain/segments/segment-job';
import type { SegmentJobInput } from '../../domain/segments/segment-job-input';
import { ruleMatches, type SegmentRule } from '../../domain/segments/segment-rules';
import { applyContactChangeToSegments, type SegmentChangeOutcome } from '../../domain/segments/segment-stream.service';
import { maxDynamicSegments } from '../../domain/segments/segments.schemas';
import { createSegment } from '../../domain/segments/segments.service';
import { fixedClock, ulidGenerator } from '../../domain/shared/clock';
import type { CallerContext } from '../../domain/shared/context';
import type { CoreDeps } from '../../domain/shared/deps';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { mulberry32, pick, putAll, seededContact, ulidAt } from '../support/seeded-contacts';
import { captureCommands, replayWaves, waves, type Captured } from './dynamo-replay';
import {
  benchMeta,
  percentile,
  processMemory,
  repoRoot,
  progress,
  quick,
  measureInterleaved,
  ratio,
  reserveStdout,
  resourceUsage,
  runConcurrent,
  startBenchStack,
  startMemorySampler,
  startRun,
  summarise,
  writeReport,
  type BenchStack,
} from './harness';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const positiveInt = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
};

const contactCount = positiveInt('BENCH_SEGMENTS_CONTACTS', quick ? 2_000 : 20_000);
/** Recomputes with nothing changed, each beside one floor pass (alternating which goes first). */
const rounds = positiveInt('BENCH_SEGMENTS_ROUNDS', 3);
/** Contact changes evaluated by the stream consumer's function (timed), after `streamWarmup` untimed ones. */
const streamSamples = positiveInt('BENCH_SEGMENTS_STREAM_SAMPLES', quick ? 50 : 250);
const streamWarmup = 10;
/** BENCH_SEGMENTS_CPU_PROFILE=1: one more recompute with nothing changed, under the V8 profiler (its top functions in `profile`). */
const cpuProfile = process.env.BENCH_SEGMENTS_CPU_PROFILE === '1';
const companyCount = Math.max(20, Math.round(contactCount / 100));
/** Contacts written per chunk, chunks at once, BatchWriteItem calls in flight per chunk and entity. */
const seedChunk = 500;
const seedLanes = 4;
const seedConcurrent = 2;

const limits = {
  /** "the recompute of a workspace: time ≤ 2× paging the same contacts with raw Queries" */
  recomputeRatioToFloor: 2,
  /** "a second recompute with nothing changed writes 0 items" */
  secondRecomputeItemsWritten: 0,
  /** "the stream evaluation of one contact change against 100 dynamic segments ≤ 2 DynamoDB round trips" */
  streamRoundTrips: 2,
  /** "a lead ranking page p50 ≤ 1.5× the raw Query floor" */
  leadRankingP50RatioToQuery: 1.5,
};

/**
 * Every date in the run is relative to this instant, and the clock the domain code gets stands still
 * at it: a rule on a relative date (`createdAt in_last 30 days`) gives the same answer in every
 * recompute, so "nothing changed" really means nothing (with a moving clock a contact can cross a
 * boundary between two recomputes, and moving it is then the right thing to write).
 */
const nowIso = '2026-11-30T12:00:00.000Z';
const nowMs = Date.parse(nowIso);
const dayMs = 86_400_000;

// ---------------------------------------------------------------------------------------------
// The data: contacts with varied fields, so that rules match different fractions
// ---------------------------------------------------------------------------------------------

/** Tags (as spelled on contacts; rules name them in lower case: tags match by key) and the share of contacts carrying each. */
const tagShares: [string, number][] = [
  ['VIP', 0.08], ['Newsletter', 0.45], ['Customer', 0.3], ['Prospect', 0.35], ['Partner', 0.05], ['Event-2025', 0.12],
  ['Webinar', 0.18], ['Trial', 0.1], ['Churn-Risk', 0.04], ['Enterprise', 0.07], ['SMB', 0.22], ['Referral', 0.06],
  ['Beta', 0.03], ['Support', 0.15], ['Hot', 0.09], ['Cold', 0.2], ['LinkedIn', 0.25], ['Conference', 0.11],
  ['Reseller', 0.02], ['Investor', 0.01],
];
/** seededContact's cities (half the contacts have one), and the country each implies. */
const countryOfCity: Record<string, string> = {
  London: 'GB', Madrid: 'ES', München: 'DE', Paris: 'FR', Kraków: 'PL', 'São Paulo': 'BR', Zürich: 'CH', Göteborg: 'SE', 'New York': 'US',
};
const countries = ['GB', 'ES', 'DE', 'FR', 'US', 'PL', 'BR', 'CH', 'SE'] as const;
const plans = ['free', 'starter', 'pro', 'enterprise'] as const;
const industries = ['Software', 'Fintech', 'Healthcare', 'Retail', 'Manufacturing', 'Edtech', 'Logistics', 'Media'] as const;
const companyCities = ['Paris', 'Berlin', 'London', 'Madrid', 'New York', 'Austin', 'Stockholm'] as const;

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The contact custom fields the rules read (created through the domain service). */
const customFieldDefinitions = [
  { key: 'plan', label: 'Plan', type: 'select' as const, options: plans.map((value) => ({ value, label: value })) },
  { key: 'seats', label: 'Seats', type: 'number' as const },
  { key: 'renewal', label: 'Renewal', type: 'date' as const },
  { key: 'newsletter', label: 'Newsletter', type: 'boolean' as const },
  { key: 'industry', label: 'Industry', type: 'text' as const },
];

/**
 * Contact `i`: seededContact(i) (names, email and phone normalised, job title and city on half, every
 * 3rd owned, every 50th suppressed), then spread over the two years before `nowIso`, with tags,
 * custom field values, a score on 40%, a country, a company on 35%, 4% archived. Deterministic.
 */
function benchContact(workspaceId: string, ownerUserId: string, i: number, companies: readonly CompanyItem[]) {
  const { item: base, guards } = seededContact(workspaceId, ownerUserId, i);
  const random = mulberry32(0x5e6e0000 ^ i);
  const createdMs = nowMs - Math.floor(((contactCount - 1 - i) / contactCount) * 730 * dayMs) - Math.floor(random() * 3_600_000);
  const updatedMs = createdMs + Math.floor(random() * (nowMs - createdMs));
  const contactId = `ct_${ulidAt(createdMs, random)}`;
  const tags = tagShares.filter(([, share]) => random() < share).map(([tag]) => tag);
  const customFields: Record<string, unknown> = {};
  if (random() < 0.85) {
    const r = random();
    customFields.plan = r < 0.5 ? 'free' : r < 0.75 ? 'starter' : r < 0.93 ? 'pro' : 'enterprise';
  }
  if (random() < 0.8) customFields.seats = Math.max(1, Math.round(Math.exp(random() * Math.log(500))));
  if (random() < 0.4) customFields.renewal = isoDay(nowMs + Math.floor((random() * 730 - 365) * dayMs));
  if (random() < 0.6) customFields.newsletter = random() < 0.5;
  if (random() < 0.5) customFields.industry = pick(random, industries);
  const company = random() < 0.35 ? pick(random, companies) : undefined;
  const country = base.city ? countryOfCity[base.city] : random() < 0.6 ? pick(random, countries) : undefined;
  const item: ContactItem = {
    ...base,
    contactId,
    tags,
    customFields,
    createdAt: new Date(createdMs).toISOString(),
    updatedAt: new Date(updatedMs).toISOString(),
    ...(country ? { country } : {}),
    ...(company ? { companyId: company.companyId, companyName: company.name } : {}),
    ...(random() < 0.4
      ? { score: { id: `scr_${ulidAt(updatedMs, random)}`, value: Math.floor(random() * 101), source: 'manual', userId: ownerUserId, at: new Date(updatedMs).toISOString() } }
      : {}),
  };
  if (item.suppressed && item.suppressedAt) item.suppressedAt = item.updatedAt;
  if (random() < 0.04) Object.assign(item, { status: 'archived', archivedAt: item.updatedAt });
  item.searchTokens = tokensOf(item);
  return { item, guards: guards.map((guard) => ({ ...guard, ownerId: contactId, createdAt: item.createdAt })) };
}

// ---------------------------------------------------------------------------------------------
// The 100 rules
// ---------------------------------------------------------------------------------------------

type Rule = SegmentRule;
const c = (field: string, op: string, value?: unknown): Rule => ({ field, op, ...(value === undefined ? {} : { value }) }) as Rule;
const all = (...rules: Rule[]): Rule => ({ all: rules });
const any = (...rules: Rule[]): Rule => ({ any: rules });
const not = (rule: Rule): Rule => ({ not: rule });
const days = (amount: number) => ({ amount, unit: 'days' });
const largeCompany = ['501-1000', '1001-5000', '5001-10000', '10001+'];

/** 100 rules (the cap of dynamic segments): single conditions on every kind of field, and nested groups. */
function benchRules(): { name: string; rule: Rule }[] {
  const rules: { name: string; rule: Rule }[] = [];
  const add = (name: string, rule: Rule) => rules.push({ name, rule });
  for (const [tag] of tagShares) add(`Tag ${tag}`, c('tags', 'has', tag.toLowerCase()));
  for (const city of Object.keys(countryOfCity)) add(`City ${city}`, c('city', 'eq', city.toUpperCase()));
  add('Big three cities', c('city', 'in', ['London', 'Paris', 'Madrid']));
  add('No city', c('city', 'is_not_set'));
  add('UK', c('country', 'eq', 'GB'));
  add('Germany', c('country', 'eq', 'DE'));
  add('Spain or France', c('country', 'in', ['ES', 'FR']));
  add('Not US', c('country', 'neq', 'US'));
  for (const amount of [7, 30, 90, 180, 365]) add(`New in ${amount} days`, c('createdAt', 'in_last', days(amount)));
  add('Older than a year', c('createdAt', 'not_in_last', days(365)));
  add('Created in 2026', c('createdAt', 'after', '2026-01-01'));
  add('Created before mid-2025', c('createdAt', 'before', '2025-06-01'));
  add('Touched in 30 days', c('updatedAt', 'in_last', days(30)));
  for (const plan of plans) add(`Plan ${plan}`, c('customFields.plan', 'eq', plan));
  add('Paid high tiers', c('customFields.plan', 'in', ['pro', 'enterprise']));
  add('Over 100 seats', c('customFields.seats', 'gt', 100));
  add('10-50 seats', c('customFields.seats', 'between', [10, 50]));
  add('Under 5 seats', c('customFields.seats', 'lt', 5));
  add('Seats known', c('customFields.seats', 'is_set'));
  add('Renewed in 30 days', c('customFields.renewal', 'in_last', days(30)));
  add('Renewal ahead', c('customFields.renewal', 'after', isoDay(nowMs)));
  add('No renewal', c('customFields.renewal', 'is_not_set'));
  add('Newsletter opt-in', c('customFields.newsletter', 'eq', true));
  add('Industry *tech*', c('customFields.industry', 'contains', 'tech'));
  add('Software or fintech', c('customFields.industry', 'in', ['Software', 'Fintech']));
  add('Score 80+', c('score', 'gte', 80));
  add('Score 40-60', c('score', 'between', [40, 60]));
  add('Unscored', c('score', 'is_not_set'));
  add('Company in software', c('company.industry', 'eq', 'Software'));
  add('Large companies', c('company.size', 'in', largeCompany));
  add('German companies', c('company.country', 'eq', 'DE'));
  add('Companies A*', c('company.name', 'starts_with', 'a'));
  add('Companies in Paris', c('company.city', 'eq', 'Paris'));
  add('Reachable by phone', c('channels', 'has', 'phone'));
  add('No WhatsApp', c('channels', 'lacks', 'whatsapp'));
  add('Owned', c('ownerId', 'is_set'));
  add('Suppressed', c('suppressed', 'eq', true));
  add('Archived', c('status', 'eq', 'archived'));
  add('Heads of', c('jobTitle', 'contains', 'head'));
  add('CTOs and founders', c('jobTitle', 'in', ['CTO', 'Founder']));
  add('Names Ma*', c('name', 'starts_with', 'ma'));
  add('VIPs in London or Paris', all(c('tags', 'has', 'vip'), any(c('city', 'eq', 'London'), c('city', 'eq', 'Paris'))));
  add('Healthy high tiers', all(c('customFields.plan', 'in', ['pro', 'enterprise']), not(c('tags', 'has_any', ['churn-risk', 'cold']))));
  add('Engaged', any(c('tags', 'has_all', ['customer', 'newsletter']), all(c('tags', 'has', 'prospect'), c('createdAt', 'in_last', days(90)))));
  add('Not cold, not suppressed', not(any(c('tags', 'has', 'cold'), c('suppressed', 'eq', true))));
  add('Big accounts, no trial', all(c('customFields.seats', 'gte', 50), c('company.size', 'in', largeCompany), c('tags', 'has_none', ['trial'])));
  add('German pros', all(c('country', 'eq', 'DE'), c('customFields.plan', 'eq', 'pro')));
  add('Hot or high score', any(c('score', 'gte', 90), c('tags', 'has', 'hot')));
  add('Mailable', all(c('channels', 'has', 'email'), c('customFields.newsletter', 'eq', true), not(c('suppressed', 'eq', true)), c('status', 'eq', 'active')));
  add('Fresh trials', all(c('tags', 'has', 'trial'), c('createdAt', 'in_last', days(30))));
  add('Iberian free tiers', all(any(c('city', 'eq', 'Madrid'), c('city', 'eq', 'São Paulo')), any(c('customFields.plan', 'eq', 'free'), c('customFields.plan', 'eq', 'starter'))));
  add('Owned warm customers', all(c('ownerId', 'is_set'), c('score', 'between', [50, 100]), c('tags', 'has', 'customer')));
  add('Not planned customers', not(all(c('tags', 'has', 'customer'), c('customFields.plan', 'is_set'))));
  add('Event people this year', all(c('tags', 'has_any', ['webinar', 'conference', 'event-2025']), c('createdAt', 'in_last', days(365))));
  add('Fintech-ish', any(all(c('customFields.industry', 'contains', 'fin'), c('customFields.seats', 'gt', 20)), c('company.industry', 'eq', 'Fintech')));
  add('Paying churn risks', all(c('status', 'eq', 'active'), c('tags', 'has', 'churn-risk'), any(c('customFields.plan', 'eq', 'pro'), c('customFields.plan', 'eq', 'enterprise'))));
  add('Names with "an", located', all(c('name', 'contains', 'an'), c('city', 'is_set')));
  add('LinkedIn with a title', all(c('tags', 'has', 'linkedin'), c('jobTitle', 'is_set'), not(c('tags', 'has', 'cold'))));
  add('Nordic or Swiss', any(c('country', 'in', ['SE', 'CH']), c('city', 'in', ['Göteborg', 'Zürich'])));
  add('Paid renewals before March', all(c('customFields.renewal', 'is_set'), c('customFields.renewal', 'before', '2027-03-01'), c('customFields.plan', 'neq', 'free')));
  add('Small direct SMB', all(not(any(c('tags', 'has', 'reseller'), c('tags', 'has', 'partner'))), c('tags', 'has', 'smb'), c('customFields.seats', 'lt', 20)));
  add('Old but active', all(c('createdAt', 'not_in_last', days(180)), c('updatedAt', 'in_last', days(90))));
  add('Insiders', any(c('tags', 'has', 'investor'), c('tags', 'has', 'beta'), c('tags', 'has', 'referral')));
  add('US enterprise', all(c('company.country', 'eq', 'US'), c('tags', 'has', 'enterprise')));
  add('Recent scored 30+', all(c('score', 'is_set'), not(c('score', 'lt', 30)), c('createdAt', 'in_last', days(180))));
  add(
    'Key accounts',
    all(any(all(c('tags', 'has', 'vip'), c('customFields.plan', 'eq', 'enterprise')), c('customFields.seats', 'gt', 200)), not(c('status', 'eq', 'archived'))),
  );
  if (rules.length !== maxDynamicSegments) throw new Error(`benchRules: ${rules.length} rules, expected ${maxDynamicSegments}`);
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Measuring DynamoDB: commands, items written, time with a command in flight
// ---------------------------------------------------------------------------------------------

const elapsedSeconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

/** Counts the commands the client sends, the items they write, and the time some command is in flight. */
function dynamoMeter(client: BenchStack['rawClient']) {
  const state = { commands: {} as Record<string, number>, commandNs: {} as Record<string, bigint>, itemsWritten: 0, inFlight: 0, busySince: 0n, busyNs: 0n };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      state.commands[name] = (state.commands[name] ?? 0) + 1;
      const input = args.input as Record<string, unknown>;
      if (name === 'TransactWriteItems') state.itemsWritten += (input.TransactItems as unknown[]).length;
      else if (name === 'BatchWriteItem') {
        for (const requests of Object.values(input.RequestItems as Record<string, unknown[]>)) state.itemsWritten += requests.length;
      } else if (name === 'PutItem' || name === 'UpdateItem' || name === 'DeleteItem') state.itemsWritten += 1;
      const start = process.hrtime.bigint();
      if (state.inFlight++ === 0) state.busySince = start;
      try {
        return await next(args);
      } finally {
        const end = process.hrtime.bigint();
        state.commandNs[name] = (state.commandNs[name] ?? 0n) + (end - start);
        if (--state.inFlight === 0) state.busyNs += end - state.busySince;
      }
    },
    { step: 'initialize', name: 'segmentsBenchMeter' },
  );
  return {
    reset() {
      state.commands = {};
      state.commandNs = {};
      state.itemsWritten = 0;
      state.busyNs = 0n;
    },
    snapshot() {
      return {
        commands: { ...state.commands },
        /** Seconds each kind of command was in flight, summed (commands at once count each). */
        commandSeconds: Object.fromEntries(Object.entries(state.commandNs).map(([name, ns]) => [name, round(Number(ns) / 1e9)])),
        itemsWritten: state.itemsWritten,
        dynamoBusySeconds: Number(state.busyNs) / 1e9,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The recompute, driven in-process (as import-child.ts `runSteps` drives a job kind)
// ---------------------------------------------------------------------------------------------

async function runRecompute(deps: JobDeps, workspaceId: string, userId: string, jobId: string) {
  type Cursor = NonNullable<Parameters<typeof segmentMembershipJob.step>[1]['cursor']>;
  let cursor: Cursor | undefined;
  let runs = 0;
  let pages = 0;
  for (;;) {
    runs += 1;
    const job: RunningJob<SegmentJobInput, Cursor> = {
      workspaceId,
      jobId,
      kind: segmentMembershipJob.kind,
      createdBy: userId,
      input: { mode: 'recompute' },
      cursor,
      progress: { processed: 0 },
      files: {},
      attempts: 0,
      dispatchSeq: runs,
    };
    // One Lambda run to the end: the deadline never comes; saveProgress keeps the cursor (the job record is not written).
    const control: JobControl<Cursor> = {
      deadlineReached: () => false,
      saveProgress: async (saved) => {
        cursor = saved;
        pages += 1;
      },
      reportProgress: async () => undefined,
    };
    const outcome = await segmentMembershipJob.step(deps, job, control);
    if (outcome.done) return { result: outcome.result as SegmentJobResult, runs, pages: pages + 1 };
    cursor = outcome.cursor;
  }
}

/** The floor: every page of the gsi3 partition the recompute reads, with raw Queries of the same Limit. */
async function floorPass(stack: BenchStack, workspaceId: string) {
  let startKey: Record<string, unknown> | undefined;
  let pages = 0;
  let items = 0;
  do {
    const page = await stack.docClient.send(
      new QueryCommand({
        TableName: stack.tableName,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :pk',
        ExpressionAttributeValues: { ':pk': `WS#${workspaceId}#CONTACTS` },
        Limit: contactPageLimit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    pages += 1;
    items += page.Items?.length ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { pages, items };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * Runs `fn` under the V8 CPU profiler; writes the profile to .bench/segments-recompute.cpuprofile (Chrome
 * DevTools opens it) and returns the functions with the most self time, and the share of idle time
 * (waiting for DynamoDB Local).
 */
async function profiled(fn: () => Promise<unknown>) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  await fn();
  const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[] } };
  session.disconnect();
  mkdirSync(join(repoRoot, '.bench'), { recursive: true });
  writeFileSync(join(repoRoot, '.bench', 'segments-recompute.cpuprofile'), JSON.stringify(profile));
  const projectUrl = pathToFileURL(repoRoot).href;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)!.callFrame;
    // Project files by their path in the repository (tsx's compiled lines say little), packages from node_modules/ on.
    const where = frame.url.startsWith(projectUrl)
      ? frame.url.slice(projectUrl.length)
      : frame.url.includes('/node_modules/')
        ? `${frame.url.slice(frame.url.lastIndexOf('/node_modules/') + '/node_modules/'.length)}:${frame.lineNumber + 1}`
        : frame.url;
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return {
    samples: total,
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([name, hits]) => ({ name, selfShare: round(hits / total, 3) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const stdout = reserveStdout();
const run = startRun();

async function main() {
  process.env.LOG_LEVEL ??= 'WARN';
  startMemorySampler();
  const stack = await startBenchStack();
  const meter = dynamoMeter(stack.rawClient);
  const capture = captureCommands(stack.rawClient);
  const clock = fixedClock(nowIso);
  const deps: CoreDeps = { ...stack.deps, clock, newId: ulidGenerator(clock) };
  const jobDeps: JobDeps = { ...deps, blobs: undefined as never };
  try {
    // -------------------------------------------------------------------------------------------
    // Seed
    const seedStart = process.hrtime.bigint();
    const created = await createWorkspace(deps, { name: 'Bench segments', ownerName: 'Bench Owner', ownerEmail: 'owner@bench.example' });
    const workspaceId = created.workspace.id;
    const ownerUserId = created.owner.id;
    const owner: CallerContext = { workspaceId, userId: ownerUserId, role: 'owner' };
    for (const definition of customFieldDefinitions) {
      await createCustomField(deps, owner, { entityType: 'contact', required: false, ...definition });
    }
    progress(`seed: ${companyCount} companies (createCompany)`);
    const companies: CompanyItem[] = new Array(companyCount);
    await runConcurrent(companyCount, 4, async (n) => {
      const random = mulberry32(0xc0c0 ^ n);
      const company = await createCompany(deps, owner, {
        name: `${pick(random, ['Acme', 'Atlas', 'Helios', 'Nordic', 'Orion', 'Zenith', 'Blue River', 'Kestrel'])} ${pick(random, ['Labs', 'Foods', 'Energy', 'Systems', 'Health'])} ${n}`,
        domains: [],
        industry: pick(random, industries),
        size: pick(random, companySizes),
        city: pick(random, companyCities),
        country: pick(random, countries),
      });
      companies[n] = (await deps.db.entities.company.get({ workspaceId, companyId: company.id }).go()).data as CompanyItem;
    });

    progress(`seed: ${contactCount} contacts (contact item with its gsi3 keys and channel guards, ElectroDB batch put), chunks of ${seedChunk}`);
    const contacts: ContactItem[] = new Array(contactCount);
    let seedItems = 0;
    let lastReport = performance.now();
    const chunks = Math.ceil(contactCount / seedChunk);
    await runConcurrent(chunks, seedLanes, async (chunk) => {
      const items: ContactItem[] = [];
      const guards: unknown[] = [];
      for (let i = chunk * seedChunk; i < Math.min(contactCount, (chunk + 1) * seedChunk); i++) {
        const built = benchContact(workspaceId, ownerUserId, i, companies);
        contacts[i] = built.item;
        items.push(built.item);
        guards.push(...built.guards);
      }
      await Promise.all([
        putAll((batch) => deps.db.entities.contact.put(batch), items, seedConcurrent),
        putAll((batch) => deps.db.entities.uniqueGuard.put(batch), guards, seedConcurrent),
      ]);
      seedItems += items.length + guards.length;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`seed: ${seedItems} items`);
      }
    });
    const seedContactsSeconds = elapsedSeconds(seedStart);

    progress(`seed: ${maxDynamicSegments} dynamic segments (createSegment)`);
    const rules = benchRules();
    for (const { name, rule } of rules) {
      await createSegment(deps, owner, { name, kind: 'dynamic', rule }).catch((error: Error & { details?: unknown }) => {
        throw new Error(`segment ${JSON.stringify(name)}: ${error.message} ${JSON.stringify(error.details ?? '')}`);
      });
    }
    const segments = await readWorkspaceSegments(deps, workspaceId);
    // What every rule should match, evaluated here on the seeded items: the recompute's memberCounts must say the same.
    const companyById = new Map(companies.map((company) => [company.companyId, company]));
    const expected = new Map<string, number>();
    let expectedMemberships = 0;
    const evaluationStart = process.hrtime.bigint();
    const perContact: number[] = [];
    for (const contact of contacts) {
      const subject = subjectOf(contact, contact.companyId ? companyById.get(contact.companyId) : null);
      if (!subject) continue;
      let count = 0;
      for (const segment of segments) {
        if (ruleMatches(segment.rule!, subject, nowMs)) {
          expected.set(segment.segmentId, (expected.get(segment.segmentId) ?? 0) + 1);
          count += 1;
        }
      }
      perContact.push(count);
      expectedMemberships += count;
    }
    perContact.sort((a, b) => a - b);
    const evaluationSeconds = elapsedSeconds(evaluationStart);
    const fractions = segments.map((segment) => (expected.get(segment.segmentId) ?? 0) / contactCount).sort((a, b) => a - b);
    const seed = {
      contacts: contactCount,
      companies: companyCount,
      customFields: customFieldDefinitions.map((definition) => definition.key),
      dynamicSegments: segments.length,
      itemsWritten: seedItems,
      contactsSeconds: round(seedContactsSeconds, 1),
      itemsPerSecond: Math.round(seedItems / seedContactsSeconds),
      seconds: round(elapsedSeconds(seedStart), 1),
      expectedMemberships,
      membershipsPerContact: round(expectedMemberships / contactCount, 2),
      membershipsPerContactDistribution: {
        p50: percentile(perContact, 50),
        p90: percentile(perContact, 90),
        p99: percentile(perContact, 99),
        max: perContact.at(-1)!,
        /** Contacts whose joining all their segments at once would not fit one transaction (1 + 3 items a join > 100). */
        over33: perContact.filter((count) => count > 33).length,
      },
      /** Every rule on every contact, in-process (ruleMatches alone: no DynamoDB, no planning): the CPU floor of a recompute's evaluation. */
      evaluateAllSeconds: round(evaluationSeconds),
      microsecondsPerRuleEvaluation: round((evaluationSeconds * 1e6) / (contactCount * segments.length), 2),
      matchFraction: {
        min: round(fractions[0]!, 4),
        p25: round(percentile(fractions, 25), 4),
        median: round(percentile(fractions, 50), 4),
        p75: round(percentile(fractions, 75), 4),
        max: round(fractions.at(-1)!, 4),
      },
      /** Each segment's members by the in-process evaluation, in creation order. */
      segments: segments.map((segment) => ({ name: segment.name, members: expected.get(segment.segmentId) ?? 0 })),
    };
    progress(`seed: ${JSON.stringify({ ...seed, segments: undefined })}`);

    // -------------------------------------------------------------------------------------------
    // 1. Recomputes
    const recompute = async (label: string) => {
      meter.reset();
      const start = process.hrtime.bigint();
      const { result, runs, pages } = await runRecompute(jobDeps, workspaceId, ownerUserId, deps.newId('job'));
      const seconds = elapsedSeconds(start);
      const metered = meter.snapshot();
      const figures = {
        seconds: round(seconds),
        contacts: result.contacts,
        contactsPerSecond: Math.round(result.contacts / seconds),
        joined: result.joined,
        left: result.left,
        transactions: result.transactions,
        itemsWritten: metered.itemsWritten,
        pages,
        runs,
        commands: metered.commands,
        commandSeconds: metered.commandSeconds,
        dynamoBusySeconds: round(metered.dynamoBusySeconds),
        outsideDynamoSeconds: round(seconds - metered.dynamoBusySeconds),
      };
      progress(`${label}: ${JSON.stringify(figures)}`);
      return figures;
    };
    const floor = async () => {
      meter.reset();
      const start = process.hrtime.bigint();
      const { pages, items } = await floorPass(stack, workspaceId);
      const seconds = elapsedSeconds(start);
      const metered = meter.snapshot();
      const figures = { seconds: round(seconds), pages, items, commands: metered.commands, commandSeconds: metered.commandSeconds };
      progress(`floor: ${JSON.stringify(figures)}`);
      return figures;
    };

    progress('recompute 1: every membership to write');
    const first = await recompute('first recompute');
    const countsAfterFirst = await readWorkspaceSegments(deps, workspaceId);
    const countMismatches = countsAfterFirst
      .filter((segment) => segment.memberCount !== (expected.get(segment.segmentId) ?? 0))
      .map((segment) => ({ name: segment.name, memberCount: segment.memberCount, expected: expected.get(segment.segmentId) ?? 0 }));

    const again: Awaited<ReturnType<typeof recompute>>[] = [];
    const floors: Awaited<ReturnType<typeof floor>>[] = [];
    for (let r = 0; r < rounds; r++) {
      progress(`round ${r + 1}/${rounds}: a recompute with nothing changed, and the raw floor`);
      if (r % 2 === 0) {
        floors.push(await floor());
        again.push(await recompute(`recompute ${r + 2} (nothing changed)`));
      } else {
        again.push(await recompute(`recompute ${r + 2} (nothing changed)`));
        floors.push(await floor());
      }
    }
    let profile: Awaited<ReturnType<typeof profiled>> | undefined;
    if (cpuProfile) {
      progress('a recompute with nothing changed, under the CPU profiler (not counted in the rounds)');
      profile = await profiled(() => recompute('profiled recompute'));
    }
    const againMedian = median(again.map((figures) => figures.seconds));
    const floorMedian = median(floors.map((figures) => figures.seconds));

    // -------------------------------------------------------------------------------------------
    // 2. The stream evaluation of one contact change
    const kinds = ['city', 'plan', 'tag', 'rename', 'create'] as const;
    type Kind = (typeof kinds)[number];
    const random = mulberry32(0x57e4);
    const candidates = contacts.filter((contact) => contact.status === 'active');
    const change = async (kind: Kind, n: number): Promise<{ before: ContactItem | undefined; after: ContactItem }> => {
      if (kind === 'create') {
        const contact = await createContact(deps, owner, {
          name: `Stream Person ${n}`,
          channels: [{ kind: 'email', value: `stream.person.${n}@example.org` }],
          ...(random() < 0.5 ? { city: pick(random, Object.keys(countryOfCity)) } : {}),
          customFields: { plan: pick(random, plans), seats: 1 + Math.floor(random() * 300), newsletter: random() < 0.5 },
        });
        return { before: undefined, after: await readContact(deps, workspaceId, contact.id, true) };
      }
      const { contactId } = pick(random, candidates);
      const before = await readContact(deps, workspaceId, contactId, true);
      if (kind === 'city') {
        const cities = Object.keys(countryOfCity).filter((city) => city !== before.city);
        await updateContact(deps, owner, contactId, { city: pick(random, cities) });
      } else if (kind === 'plan') {
        const current = before.customFields?.plan;
        await updateContact(deps, owner, contactId, { customFields: { plan: pick(random, plans.filter((plan) => plan !== current)) } });
      } else if (kind === 'tag') {
        const absent = tagShares.map(([tag]) => tag).filter((tag) => !(before.tags ?? []).some((has) => has.toLowerCase() === tag.toLowerCase()));
        await addTags(deps, owner, contactId, [pick(random, absent)]);
      } else {
        await updateContact(deps, owner, contactId, { name: `${before.name} ${n}` });
      }
      return { before, after: await readContact(deps, workspaceId, contactId, true) };
    };

    interface Sample {
      kind: Kind;
      ms: number;
      rawMs: number;
      outcome: SegmentChangeOutcome;
      roundTrips: number;
      waves: string[][];
      transactItems: number;
    }
    const samples: Sample[] = [];
    progress(`stream: ${streamWarmup} untimed + ${streamSamples} timed contact changes (${kinds.join(', ')} in turn), each evaluated, then its commands replayed raw`);
    for (let n = 0; n < streamWarmup + streamSamples; n++) {
      const kind = kinds[n % kinds.length]!;
      const images = await change(kind, n);
      const start = process.hrtime.bigint();
      const { result: outcome, commands } = await capture.during(() => applyContactChangeToSegments(deps, images));
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const grouped = waves(commands);
      const replay = replayWaves(stack, grouped, () => `BENCHSEG#${n}#`);
      const rawStart = process.hrtime.bigint();
      await replay();
      const rawMs = Number(process.hrtime.bigint() - rawStart) / 1e6;
      if (n < streamWarmup) continue;
      samples.push({
        kind,
        ms,
        rawMs,
        outcome,
        roundTrips: grouped.length,
        waves: grouped.map((wave) => wave.map((command) => command.name.replace(/Command$/, ''))),
        transactItems: commands
          .filter((command: Captured) => command.name === 'TransactWriteItemsCommand')
          .reduce((sum, command) => sum + (command.input.TransactItems as unknown[]).length, 0),
      });
    }
    const histogram = (values: (number | string)[]) =>
      values.reduce<Record<string, number>>((counts, value) => {
        counts[value] = (counts[value] ?? 0) + 1;
        return counts;
      }, {});
    const describe = (list: Sample[]) => {
      const latency = summarise('applyContactChangeToSegments', list.map((sample) => sample.ms));
      const raw = summarise('rawReplay', list.map((sample) => sample.rawMs));
      const wavesSeen = histogram(list.map((sample) => sample.roundTrips));
      return {
        samples: list.length,
        roundTrips: { max: Math.max(...list.map((sample) => sample.roundTrips)), histogram: wavesSeen },
        outcomes: list.reduce<Record<string, number>>((counts, sample) => ({ ...counts, [sample.outcome]: (counts[sample.outcome] ?? 0) + 1 }), {}),
        wavePatterns: histogram(list.map((sample) => sample.waves.map((wave) => [...wave].sort().join(' ∥ ')).join(' → '))),
        transactItems: { median: median(list.map((sample) => sample.transactItems)), max: Math.max(...list.map((sample) => sample.transactItems)) },
        latency,
        raw,
        ratioToRawP50: ratio(latency, raw),
        ratioToRawP99: ratio(latency, raw, 'p99Ms'),
      };
    };
    const stream: Record<string, unknown> & ReturnType<typeof describe> = {
      dynamicSegments: segments.length,
      ...describe(samples),
      byKind: Object.fromEntries(kinds.map((kind) => [kind, describe(samples.filter((sample) => sample.kind === kind))])),
    };
    progress(`stream: ${JSON.stringify({ roundTrips: stream.roundTrips, latency: stream.latency, outcomes: stream.outcomes })}`);

    // One change that joins many segments at once (what a merge bringing another contact's tags and
    // fields can do): past ~33 joins its writes pass a transaction's 100 items (a member item, an event
    // and a counter each) and are written in parts, one transaction after another. Not in the samples.
    const bare = candidates.find((contact) => (contact.tags ?? []).length === 0 && !contact.city && !contact.companyId && !contact.suppressed)!;
    const manyBefore = await readContact(deps, workspaceId, bare.contactId, true);
    const membershipsBefore = Object.keys((await readContactSegments(deps, workspaceId, bare.contactId))?.segments ?? {}).length;
    const manyAfter: ContactItem = {
      ...manyBefore,
      name: 'Mark Anderson',
      city: 'London',
      country: 'GB',
      jobTitle: 'Head of Sales',
      ownerId: ownerUserId,
      tags: tagShares.map(([tag]) => tag).filter((tag) => !['Cold', 'Churn-Risk', 'Trial'].includes(tag)),
      customFields: { plan: 'enterprise', seats: 300, newsletter: true, industry: 'Fintech', renewal: isoDay(nowMs + 30 * dayMs) },
      score: { id: `scr_${ulidAt(nowMs, random)}`, value: 95, source: 'manual', userId: ownerUserId, at: nowIso },
      version: manyBefore.version + 1,
      updatedAt: nowIso,
    };
    manyAfter.searchTokens = tokensOf(manyAfter);
    await deps.db.entities.contact.put(manyAfter).go();
    const manyStart = process.hrtime.bigint();
    const many = await capture.during(() => applyContactChangeToSegments(deps, { before: manyBefore, after: manyAfter }));
    const manyMs = Number(process.hrtime.bigint() - manyStart) / 1e6;
    const membershipsAfter = Object.keys((await readContactSegments(deps, workspaceId, bare.contactId))?.segments ?? {}).length;
    const manyWaves = waves(many.commands);
    const manyJoins = {
      outcome: many.result,
      membershipsBefore,
      membershipsAfter,
      roundTrips: manyWaves.length,
      waves: manyWaves.map((wave) => wave.map((command) => command.name.replace(/Command$/, ''))),
      transactionSizes: many.commands
        .filter((command: Captured) => command.name === 'TransactWriteItemsCommand')
        .map((command) => (command.input.TransactItems as unknown[]).length),
      ms: round(manyMs),
    };
    progress(`stream, one change joining many segments: ${JSON.stringify(manyJoins)}`);

    // -------------------------------------------------------------------------------------------
    // A last recompute: the stream kept every membership true, so it writes nothing either.
    progress('recompute after the stream changes');
    const afterStream = await recompute('recompute after the stream');

    // -------------------------------------------------------------------------------------------
    // Leads: a product with one fit item per contact (seeded as the assessments would write them),
    // the first page of its pending leads, best fit first, against the raw Query of the same page.
    progress('leads: a product and one fit item per contact');
    const product = await createProduct(deps, owner, { name: 'Bench product', criteria: [{ id: 'budget', name: 'Budget', weight: 1, kind: 'manual' }] });
    const fitItems: ContactFitItem[] = [];
    for (let startKey: Record<string, unknown> | undefined, first = true; first || startKey; first = false) {
      const page = await readContactPage(deps, workspaceId, startKey);
      for (const { contact } of page.entries) {
        const leadRandom = mulberry32(0x1ead ^ fitItems.length);
        const score = Math.floor(leadRandom() * 101);
        const reviewStatus = leadRandom() < 0.8 ? 'pending' : leadRandom() < 0.5 ? 'accepted' : 'rejected';
        fitItems.push({
          workspaceId,
          contactId: contact.contactId,
          productId: product.id,
          latest: { budget: { assessmentId: `fa_${ulidAt(nowMs, leadRandom)}`, value: 1 + Math.round(score / 25), source: 'user', userId: ownerUserId, at: nowIso } },
          score,
          coverage: 1,
          rank: rankOf(score),
          reviewStatus,
          summary: toSearchHit(contact),
          version: 1,
          updatedAt: nowIso,
        });
      }
      startKey = page.nextStartKey;
    }
    await runConcurrent(Math.ceil(fitItems.length / 25), 4, async (batch) => {
      await deps.db.entities.contactFit.put(fitItems.slice(batch * 25, batch * 25 + 25)).go();
    });
    const leadIterations = quick ? 60 : 300;
    const pendingPartition = `WS#${workspaceId}#LEADS#${product.id}#pending`;
    const leadCases = await measureInterleaved({
      listLeads: { iterations: leadIterations, fn: () => listLeads(deps, owner, product.id, { limit: 25, reviewStatus: 'pending' }) },
      rawQuery: {
        iterations: leadIterations,
        fn: () =>
          stack.rawClient.send(
            new QueryCommand({
              TableName: stack.tableName,
              IndexName: 'gsi1',
              KeyConditionExpression: 'gsi1pk = :pk',
              ExpressionAttributeValues: { ':pk': pendingPartition },
              Limit: 25,
            }),
          ),
      },
    });
    const firstLeads = await listLeads(deps, owner, product.id, { limit: 25, reviewStatus: 'pending' });
    const leads = {
      fitItems: fitItems.length,
      pending: fitItems.filter((item) => item.reviewStatus === 'pending').length,
      pageSize: 25,
      bestFirst: firstLeads.items.every((lead, index, page) => index === 0 || page[index - 1]!.score >= lead.score),
      listLeads: leadCases.listLeads,
      rawQuery: leadCases.rawQuery,
      ratioToQueryP50: ratio(leadCases.listLeads, leadCases.rawQuery),
      ratioToQueryP99: ratio(leadCases.listLeads, leadCases.rawQuery, 'p99Ms'),
    };
    progress(`leads: ${JSON.stringify({ p50: leadCases.listLeads.p50Ms, floor: leadCases.rawQuery.p50Ms, ratio: leads.ratioToQueryP50 })}`);

    const recomputeRatio = round(againMedian / floorMedian, 2);
    const secondItems = Math.max(...again.map((figures) => figures.itemsWritten));
    const budget = {
      recomputeWithin2xFloor: recomputeRatio <= limits.recomputeRatioToFloor,
      secondRecomputeWritesNothing: secondItems === limits.secondRecomputeItemsWritten,
      streamWithin2RoundTrips: stream.roundTrips.max <= limits.streamRoundTrips,
      leadRankingWithinBudget: leads.ratioToQueryP50 <= limits.leadRankingP50RatioToQuery,
    };
    const checks = {
      firstRecomputeCountsMatchRules: countMismatches.length === 0,
      firstRecomputeJoinedExpected: first.joined === expectedMemberships,
      recomputeAfterStreamWritesNothing: afterStream.itemsWritten === 0,
      leadsBestFirst: leads.bestFirst,
    };
    writeReport(
      'segments',
      {
        meta: benchMeta(run),
        settings: { contacts: contactCount, rounds, streamSamples, streamWarmup, contactPageLimit, frozenNow: nowIso },
        limits,
        budget,
        checks,
        seed,
        recompute: {
          first: { ...first, countMismatches: countMismatches.slice(0, 10) },
          nothingChanged: again,
          floor: floors,
          medianSeconds: round(againMedian),
          floorMedianSeconds: round(floorMedian),
          ratioToFloor: recomputeRatio,
          /** Each round's recompute over its own floor. */
          roundRatios: again.map((figures, r) => round(figures.seconds / floors[r]!.seconds, 2)),
          itemsWritten: secondItems,
          afterStream,
        },
        stream: { ...stream, manyJoins },
        ...(profile ? { profile } : {}),
        leads,
        memory: { benchProcess: resourceUsage(), dynamoDbLocal: processMemory(stack.emulatorPid) },
      },
      stdout,
    );
    if (!Object.values(budget).every((held) => held !== false) || !Object.values(checks).every(Boolean)) process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}

main().catch((error: Error) => {
  progress(error.stack ?? String(error));
  process.exit(1);
});
