import { createHash } from 'node:crypto';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import type { EventType } from '../../events/catalogue';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { lostRace, notFound } from '../shared/errors';
import { isConditionFailure, writeTransaction } from '../store/transaction';
import { isTerminal, jobFileNamePattern, type JobKind, type JobStatus } from './job-status';
import { JobCanceled } from './job-kind';
import type { Job, JobError } from './jobs.schemas';

/** The job item as stored (job.entity.ts). */
export interface JobItem {
  workspaceId: string;
  jobId: string;
  kind: string;
  status: JobStatus;
  createdBy: string;
  input: unknown;
  progress: StoredProgress;
  cursor?: unknown;
  dispatchSeq: number;
  /** The delay of step `dispatchSeq`'s message (a continuation that backs off, a delayed first run). */
  dispatchDelaySeconds?: number;
  result?: unknown;
  error?: JobError;
  files: Record<string, string>;
  lastError?: string;
  attempts: number;
  rateFrom?: { at: string; processed: number };
  createdAt: string;
  startedAt?: string;
  updatedAt: string;
  finishedAt?: string;
  /** Who canceled the job (the actor of its end event). */
  canceledBy?: string;
  /**
   * A canceled job whose end event waits for its kind's report of what it wrote (`kindsReportingCancel`):
   * written by the run that stops for the cancel, or the next message, else the dead-letter consumer or the sweep.
   */
  endPending?: boolean;
  /** Re-sends by the `sweep-jobs` schedule in a row, and the version the last of them wrote. */
  redispatches?: number;
  redispatchedVersion?: number;
  /** The active-jobs index keys (gsi4): set by `withActivityKeys`, never by hand. */
  activeShard?: number;
  activeKey?: string;
  version: number;
}

export interface StoredProgress {
  processed: number;
  total?: number;
  ratePerSecond?: number;
  estimatedSecondsLeft?: number;
}

/** What a step reports: units done, and in all when known. Rate and estimate are worked out here. */
export interface ProgressInput {
  processed: number;
  total?: number;
}

/** The longest delay SQS gives a message (DelaySeconds). */
export const maxDispatchDelaySeconds = 900;

/** A delay as SQS takes it: whole seconds, 0 to 900. */
export const dispatchDelay = (seconds: number | undefined) =>
  seconds === undefined || !(seconds > 0) ? 0 : Math.min(maxDispatchDelaySeconds, Math.ceil(seconds));

/** The message the stream sends for a job's step `seq`, and the runner and dead-letter consumer read. */
export interface JobMessage {
  workspaceId: string;
  jobId: string;
  seq: number;
}

export const jobRef = (jobId: string) => ({ type: 'job' as const, id: jobId });

/** The event a job's end appends: the import's and the export's own, `job.finished` for other kinds. */
const endEvents: Partial<Record<JobKind, EventType>> = {
  import_contacts: 'import.finished',
  export_contacts: 'export.finished',
};
export const endEventOf = (kind: string): 'import.finished' | 'export.finished' | 'job.finished' =>
  (endEvents[kind as JobKind] as 'import.finished' | 'export.finished' | undefined) ?? 'job.finished';

/** The job's end event, about the job alone (no contact: it lands in the job's own log). */
export function endEvent(
  deps: Pick<CoreDeps, 'clock' | 'newId'>,
  actor: CallerContext,
  item: JobItem,
): EventRecord {
  return newEvent(deps, actor, endEventOf(item.kind), jobRef(item.jobId), {
    jobId: item.jobId,
    kind: item.kind,
    status: item.status as 'succeeded' | 'failed' | 'canceled',
    result: (item.result as Record<string, unknown> | undefined) ?? null,
    error: item.error ?? null,
  });
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function toJob(item: JobItem): Job {
  const { processed, total, ratePerSecond, estimatedSecondsLeft } = item.progress;
  return {
    id: item.jobId,
    kind: item.kind as JobKind,
    status: item.status,
    createdBy: item.createdBy,
    input: isRecord(item.input) ? item.input : {},
    progress: {
      processed,
      total: total ?? null,
      ratePerSecond: ratePerSecond ?? null,
      estimatedSecondsLeft: estimatedSecondsLeft ?? null,
    },
    result: item.result === undefined ? null : isRecord(item.result) ? item.result : { value: item.result },
    error: item.error ?? null,
    files: Object.keys(item.files).sort(),
    attempts: item.attempts,
    createdAt: item.createdAt,
    startedAt: item.startedAt ?? null,
    updatedAt: item.updatedAt,
    finishedAt: item.finishedAt ?? null,
  };
}

export async function findJob(
  deps: CoreDeps,
  workspaceId: string,
  jobId: string,
  consistent = false,
): Promise<JobItem | undefined> {
  const { data } = await deps.db.entities.job.get({ workspaceId, jobId }).go({ consistent });
  return (data as JobItem | null) ?? undefined;
}

export async function readJob(deps: CoreDeps, workspaceId: string, jobId: string, consistent = false) {
  const item = await findJob(deps, workspaceId, jobId, consistent);
  if (!item) throw notFound('Job');
  return item;
}

/**
 * The progress to store: the step's counts, and the rate since the job last went from queued to
 * running (so a retried job's rate is not diluted by the time it lay failed), and the time left at it.
 */
export function progressAt(item: Pick<JobItem, 'rateFrom' | 'progress'>, input: ProgressInput, nowMs: number): StoredProgress {
  const total = input.total ?? item.progress.total;
  const progress: StoredProgress = { processed: input.processed, ...(total !== undefined ? { total } : {}) };
  if (!item.rateFrom) return progress;
  const seconds = (nowMs - Date.parse(item.rateFrom.at)) / 1000;
  const done = input.processed - item.rateFrom.processed;
  if (seconds <= 0 || done <= 0) return progress;
  const rate = done / seconds;
  return {
    ...progress,
    ratePerSecond: Math.round(rate * 100) / 100,
    ...(total !== undefined ? { estimatedSecondsLeft: Math.ceil(Math.max(0, total - input.processed) / rate) } : {}),
  };
}

/**
 * Checks the names of files given to a job: each must be addressable as `GET /v1/jobs/{id}/files/{name}`
 * (a name that is not is a bug of the kind, not a user's error).
 */
export function checkedFiles(files: Record<string, string> | undefined): Record<string, string> {
  for (const name of Object.keys(files ?? {})) {
    if (!jobFileNamePattern.test(name)) throw new Error(`Not a job file name (letters, digits, . - _, up to 128, no leading dot): "${name}"`);
  }
  return files ?? {};
}

/** Partitions of the active-jobs index (gsi4): jobs spread over them by a hash of their id. */
export const activityShards = 16;

/** The job's active-jobs partition, 0 to `activityShards` - 1: the same for a jobId wherever it is computed. */
export function activityShardOf(jobId: string): number {
  return createHash('sha256').update(jobId).digest().readUInt32BE(0) % activityShards;
}

/**
 * The item with its active-jobs index keys as its status calls for: a queued or running job (or a canceled
 * one whose end event is pending) is listed under its shard, by the time it was last written
 * (`<updatedAt>#<workspaceId>#<jobId>`); an ended job has no keys, so ElectroDB writes no gsi4 entry for
 * it. Every write of a job goes through here.
 */
export function withActivityKeys(item: JobItem): JobItem {
  const { activeShard: _shard, activeKey: _key, ...rest } = item;
  // A canceled job whose end event is pending stays listed: the sweep ends it should no run ever come.
  if (isTerminal(item.status) && !item.endPending) return rest;
  return {
    ...rest,
    activeShard: activityShardOf(item.jobId),
    activeKey: `${item.updatedAt}#${item.workspaceId}#${item.jobId}`,
  };
}

/** The item without the attributes an update clears (ElectroDB's put writes the whole item). */
export function without<K extends keyof JobItem>(item: JobItem, ...keys: K[]): JobItem {
  const copy = { ...item };
  for (const key of keys) delete copy[key];
  return copy;
}

/**
 * Writes the job (put, conditional on the version `before` had), with its events in one transaction
 * when there are any (a lone put otherwise: progress saves are the frequent write). A failed condition
 * is a `LostRace`: the caller reads the job again. The active-jobs index keys follow `after`'s status
 * and `updatedAt` (`withActivityKeys`): no writer sets them.
 */
export async function commitJob(
  deps: CoreDeps,
  before: JobItem,
  after: JobItem,
  events: EventRecord[] = [],
): Promise<void> {
  const item = withActivityKeys(after);
  if (events.length === 0) {
    try {
      await deps.db.entities.job
        .put(item)
        .where((attr, { eq }) => eq(attr.version, before.version))
        .go();
      return;
    } catch (error) {
      if (isConditionFailure(error)) throw lostRace('The job');
      throw error;
    }
  }
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.job
        .put(item)
        .where((attr, { eq }) => eq(attr.version, before.version))
        .commit(),
      ...events.map((event) => appendEvent(tx, event)),
    ],
    () => lostRace('The job'),
  );
}

/** What a job that ended before its step was done reports it did: its result, files and final counts. */
export interface JobReport {
  result: Record<string, unknown>;
  files?: Record<string, string>;
  progress?: ProgressInput;
}

/**
 * Ends a canceled job whose end event was pending: its report (when there is one) on the job, which stays
 * `canceled`, and the end event, in one write conditional on the version read (a `LostRace`: someone
 * else ended it meanwhile, or is about to). The actor is who canceled it.
 */
export async function endCanceledJob(deps: CoreDeps, item: JobItem, report?: JobReport): Promise<JobItem> {
  const ended: JobItem = {
    ...without(item, 'endPending'),
    ...(report
      ? {
          result: report.result,
          files: { ...item.files, ...checkedFiles(report.files) },
          ...(report.progress ? { progress: progressAt(item, report.progress, deps.clock.nowMs()) } : {}),
        }
      : {}),
    updatedAt: deps.clock.nowIso(),
    version: item.version + 1,
  };
  // Only the actor's id goes into an event.
  const actor: CallerContext = { workspaceId: item.workspaceId, userId: item.canceledBy ?? 'system', role: 'member' };
  await commitJob(deps, item, ended, [endEvent(deps, actor, ended)]);
  return ended;
}

/**
 * For a step that works long between its saves: one consistent read of the job, and `JobCanceled` when
 * a user has canceled it (the runner then stops the run as it would at a save). A job not in the table
 * (a step run directly, by a benchmark) is not canceled.
 */
export async function throwIfCanceled(deps: CoreDeps, workspaceId: string, jobId: string): Promise<void> {
  const item = await findJob(deps, workspaceId, jobId, true);
  if (item?.status === 'canceled') throw new JobCanceled(jobId);
}
