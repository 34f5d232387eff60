import { mapLimited } from '../shared/concurrency';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, notFound } from '../shared/errors';
import { dayIn } from '../shared/time-zones';
import type { UserItem } from '../users/users.service';
import { workspaceTimeZones } from '../workspaces/workspaces.service';
import { allParties, readCounterDays, type CounterDay } from './counter-store';
import {
  maxPeriodDays,
  type CountersQuery,
  type EventCounters,
  type Granularity,
  type Performance,
  type PerformanceQuery,
  type UserPerformance,
} from './metrics.schemas';
import { performanceFigures, type PerformanceFigure } from './performance-credits';

const dayMs = 24 * 60 * 60 * 1000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const msOf = (day: string) => Date.parse(`${day}T00:00:00.000Z`);

const invalidPeriod = (field: 'from' | 'to', message: string) =>
  new DomainError('validation_failed', 'The request is invalid', { fields: [{ field: `query.${field}`, message }] });

/** The period asked for, with its defaults (the 30 days up to today in the workspace's time zone), checked. */
async function periodOf(
  deps: CoreDeps,
  caller: CallerContext,
  query: { from?: string; to?: string },
): Promise<{ from: string; to: string; timeZone: string }> {
  const timeZone = (await workspaceTimeZones(deps, [caller.workspaceId])).get(caller.workspaceId)!;
  const to = query.to ?? dayIn(deps.clock.nowMs(), timeZone);
  const from = query.from ?? dayOf(msOf(to) - 29 * dayMs);
  if (from > to) throw invalidPeriod('to', '`to` must not be before `from`');
  if ((msOf(to) - msOf(from)) / dayMs + 1 > maxPeriodDays) {
    throw invalidPeriod('from', `A period covers at most ${maxPeriodDays} days`);
  }
  return { from, to, timeZone };
}

/** The first day of the bucket a day falls in. */
function bucketStart(day: string, granularity: Granularity): string {
  if (granularity === 'day') return day;
  if (granularity === 'month') return `${day.slice(0, 7)}-01`;
  const weekday = (new Date(msOf(day)).getUTCDay() + 6) % 7; // Monday 0 ... Sunday 6 (ISO weeks)
  return dayOf(msOf(day) - weekday * dayMs);
}

async function readUserItem(deps: CoreDeps, workspaceId: string, userId: string): Promise<UserItem> {
  const { data } = await deps.db.entities.user.get({ workspaceId, userId }).go();
  if (!data) throw notFound('User');
  return data as UserItem;
}

/**
 * Seed 001 Event.counters(): the workspace's events by type over a period, per day, ISO week or month,
 * for everyone or one user (the events they caused). Read from the counter items the stream keeps,
 * never from the events: one Query per calendar year the period touches.
 */
export async function readCounters(deps: CoreDeps, caller: CallerContext, query: CountersQuery): Promise<EventCounters> {
  const { from, to, timeZone } = await periodOf(deps, caller, query);
  const [days]: [CounterDay[], unknown] = await Promise.all([
    readCounterDays(deps, caller.workspaceId, query.userId ?? allParties, from, to),
    // Unknown users are a 404, not a period of zeros; read alongside, so it costs no time.
    query.userId ? readUserItem(deps, caller.workspaceId, query.userId) : undefined,
  ]);
  const wanted = query.types ? new Set<string>(query.types) : undefined;
  const zeros = () => Object.fromEntries((query.types ?? []).map((type) => [type, 0])) as Record<string, number>;
  const buckets: EventCounters['buckets'] = [];
  const bucketByStart = new Map<string, EventCounters['buckets'][number]>();
  for (let ms = msOf(from); ms <= msOf(to); ms += dayMs) {
    const day = dayOf(ms);
    const start = bucketStart(day, query.granularity);
    const bucket = bucketByStart.get(start);
    if (bucket) bucket.end = day;
    else {
      const created = { start: day, end: day, counts: zeros() };
      bucketByStart.set(start, created);
      buckets.push(created);
    }
  }
  const totals = zeros();
  for (const { day, counts } of days) {
    const bucket = bucketByStart.get(bucketStart(day, query.granularity))!;
    for (const [type, count] of Object.entries(counts)) {
      if (wanted && !wanted.has(type)) continue;
      bucket.counts[type] = (bucket.counts[type] ?? 0) + count;
      totals[type] = (totals[type] ?? 0) + count;
    }
  }
  const users =
    query.breakdown === 'user'
      ? await mapLimited(query.userId ? [await readUserItem(deps, caller.workspaceId, query.userId)] : await workspaceUsers(deps, caller.workspaceId), userReadConcurrency, async (user) => {
          const own = zeros();
          for (const { counts } of await readCounterDays(deps, caller.workspaceId, user.userId, from, to)) {
            for (const [type, count] of Object.entries(counts)) if (!wanted || wanted.has(type)) own[type] = (own[type] ?? 0) + count;
          }
          return { userId: user.userId, name: user.name, totals: own };
        })
      : null;
  return { from, to, timeZone, granularity: query.granularity, userId: query.userId ?? null, totals, users, buckets };
}

const workspaceUsers = async (deps: CoreDeps, workspaceId: string) =>
  (await deps.db.entities.user.query.byId({ workspaceId }).go({ pages: 'all' })).data as UserItem[];

/** How many users' counters are read at once for a workspace-wide report. */
const userReadConcurrency = 8;

/**
 * Seed 001 Event.performance(): each user's figures over a period (messages sent, replies received,
 * median first-response time, deals created / won / lost and won value, tasks completed, contacts
 * claimed), from the counter items of the user: one Query per user and calendar year.
 */
export async function readPerformance(
  deps: CoreDeps,
  caller: CallerContext,
  query: PerformanceQuery,
): Promise<Performance> {
  const { from, to, timeZone } = await periodOf(deps, caller, query);
  const users = query.userId ? [await readUserItem(deps, caller.workspaceId, query.userId)] : await workspaceUsers(deps, caller.workspaceId);
  const reports = await mapLimited(users, userReadConcurrency, async (user) =>
    summarise(user, await readCounterDays(deps, caller.workspaceId, user.userId, from, to)),
  );
  return { from, to, timeZone, users: reports };
}

function summarise(user: UserItem, days: CounterDay[]): UserPerformance {
  const sums = Object.fromEntries(performanceFigures.map((figure) => [figure, 0])) as Record<PerformanceFigure, number>;
  const wonValue = new Map<string, number>();
  const responseTimes: number[] = [];
  for (const day of days) {
    for (const [figure, amount] of Object.entries(day.figures)) {
      if (figure.startsWith('wonValue:')) {
        const currency = figure.slice('wonValue:'.length);
        wonValue.set(currency, (wonValue.get(currency) ?? 0) + amount);
      } else if (figure in sums) sums[figure as PerformanceFigure] += amount;
    }
    responseTimes.push(...day.firstResponseSeconds);
  }
  return {
    userId: user.userId,
    name: user.name,
    ...sums,
    firstResponses: responseTimes.length,
    medianFirstResponseSeconds: median(responseTimes),
    wonValue: [...wonValue]
      .filter(([, amount]) => amount !== 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, amount]) => ({ currency, amount })),
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
