import { newEvent } from '../../events/event-log';
import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, invalidCursor, lostRace, notFound } from '../shared/errors';
import type { Page } from '../shared/pagination';
import type { BlobStore } from '../shared/ports';
import type { TxEntities } from '../store/db';
import { decodeListCursor, electroCursor, encodeListCursor } from '../store/index-cursor';
import { writeTransaction } from '../store/transaction';
import {
  checkedFiles,
  commitJob,
  dispatchDelay,
  endEvent,
  jobRef,
  readJob,
  toJob,
  withActivityKeys,
  without,
  type JobItem,
} from './job-record';
import { isTerminal, jobFileLinkSeconds, kindsReportingCancel } from './job-status';
import type {
  Job,
  JobFileLink,
  JobKind,
  ListJobsQuery,
} from './jobs.schemas';

/** Where a job's files live in the bucket: `uploads/` (what users send) or `exports/` (what jobs produce). */
export type JobFileArea = 'uploads' | 'exports';

/** `uploads/<ws>/jobs/<jobId>/<name>` or `exports/<ws>/jobs/<jobId>/<name>`: the S3 grants follow the area. */
export const jobFileKey = (area: JobFileArea, workspaceId: string, jobId: string, name: string) =>
  `${area}/${workspaceId}/jobs/${jobId}/${name}`;

/** A new job id, for a caller that needs it before `createJob` (to name the job's files). */
export const newJobId = (deps: Pick<CoreDeps, 'newId'>) => deps.newId('job');

export interface CreateJobInput {
  kind: JobKind;
  /** What the job is to do: kind-specific JSON (its definition's `inputSchema` checks it on every run). */
  input: Record<string, unknown>;
  /** Units in all, when known up front (progress shows it). */
  total?: number;
  /** The job's files, name -> object key (see `jobFileKey`). */
  files?: Record<string, string>;
  /** The id, when the caller took one already (`newJobId`); a new one otherwise. */
  jobId?: string;
  /** Seconds before its first run (SQS DelaySeconds, at most 900). */
  delaySeconds?: number;
}

/**
 * Creates a queued job: writes the Job item, in one transaction with the caller's own items (`extraOps`,
 * e.g. a record the job works on and its event). That write is the enqueue: the `job-dispatch` stream
 * consumer sends its first message to the kind's queue, so a job is never written without being run,
 * nor run without being written. When a condition of the caller's items fails, `explain` gets their
 * indexes (in `extraOps`' own numbering) and says what to throw (default: a lost race, run again).
 */
export async function createJob(
  deps: CoreDeps,
  caller: CallerContext,
  input: CreateJobInput,
  // ElectroDB's transaction items are too generic to restate.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  extraOps?: (tx: TxEntities) => any[],
  explain: (failedExtraOps: number[]) => Error = () => lostRace('A record the job writes'),
): Promise<Job> {
  const item = newJobItem(deps, caller, input);
  await writeTransaction(
    deps.db,
    (tx) => [createJobOp(tx, item), ...(extraOps?.(tx) ?? [])],
    (failed) =>
      failed.includes(0)
        ? conflict('already_exists', 'A job with this id already exists')
        : explain(failed.map((index) => index - 1)),
  );
  return toJob(item);
}

/** A queued job's item, not yet written: for a caller that writes it in its own transaction (`createJobOp`). */
export function newJobItem(deps: Pick<CoreDeps, 'clock' | 'newId'>, caller: CallerContext, input: CreateJobInput): JobItem {
  const at = deps.clock.nowIso();
  const delay = dispatchDelay(input.delaySeconds);
  return {
    workspaceId: caller.workspaceId,
    jobId: input.jobId ?? newJobId(deps),
    kind: input.kind,
    status: 'queued',
    createdBy: caller.userId,
    input: input.input,
    progress: { processed: 0, ...(input.total !== undefined ? { total: input.total } : {}) },
    dispatchSeq: 1,
    ...(delay > 0 ? { dispatchDelaySeconds: delay } : {}),
    files: checkedFiles(input.files),
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

/** The write that creates (and so enqueues) a job item from `newJobItem`, for a transaction. */
export const createJobOp = (tx: TxEntities, item: JobItem) => tx.job.create(withActivityKeys(item)).commit();

/** A member sees the jobs they started; owner/admin see every job of the workspace. */
const canSee = (caller: CallerContext, item: JobItem) => isManager(caller) || item.createdBy === caller.userId;

/** The job, if the caller may see it: another member's job, like another workspace's, is a 404. */
export async function visibleJob(deps: CoreDeps, caller: CallerContext, jobId: string, consistent = false) {
  const item = await readJob(deps, caller.workspaceId, jobId, consistent);
  if (!canSee(caller, item)) throw notFound('Job');
  return item;
}

export async function getJob(deps: CoreDeps, caller: CallerContext, jobId: string): Promise<Job> {
  return toJob(await visibleJob(deps, caller, jobId));
}

/**
 * Cancels a queued or running job (`canceled` at once). A run under way stops at its next save (its
 * writes are conditional on the job's version), or sooner when its step looks (`throwIfCanceled`),
 * keeping what it committed. The end event is appended now, unless the job is of a kind that reports
 * what it wrote (`kindsReportingCancel`) and has begun writing: then it waits for that report, which the
 * runner writes once the run under way has stopped (`endPending`). A job that has ended is a 409
 * `invalid_transition`.
 */
export async function cancelJob(deps: CoreDeps, caller: CallerContext, jobId: string): Promise<Job> {
  const before = await visibleJob(deps, caller, jobId, true);
  if (isTerminal(before.status)) {
    throw conflict('invalid_transition', `The job is ${before.status}: only a queued or running job can be canceled`, {
      jobStatus: before.status,
    });
  }
  const at = deps.clock.nowIso();
  // Running, or queued again after a failed run that wrote (a retry keeps its cursor).
  const reports = kindsReportingCancel.includes(before.kind as JobKind) && (before.status === 'running' || before.cursor !== undefined);
  const after: JobItem = {
    ...before,
    status: 'canceled',
    canceledBy: caller.userId,
    ...(reports ? { endPending: true } : {}),
    finishedAt: at,
    updatedAt: at,
    version: before.version + 1,
  };
  await commitJob(deps, before, after, reports ? [] : [endEvent(deps, caller, after)]);
  return toJob(after);
}

/**
 * Queues a failed job again: its error cleared, its attempts reset, its cursor kept, so it resumes where
 * it stopped. `dispatchSeq + 1` sends it (through the stream). Any other status is a 409 `invalid_transition`.
 */
export async function retryJob(deps: CoreDeps, caller: CallerContext, jobId: string): Promise<Job> {
  const before = await visibleJob(deps, caller, jobId, true);
  if (before.status !== 'failed') {
    throw conflict('invalid_transition', `The job is ${before.status}: only a failed job can be retried`, {
      jobStatus: before.status,
    });
  }
  const at = deps.clock.nowIso();
  const after: JobItem = {
    // A failed import's result (what it wrote before it stopped) is the next end's to give.
    ...without(before, 'error', 'result', 'lastError', 'finishedAt', 'rateFrom', 'redispatches', 'redispatchedVersion', 'dispatchDelaySeconds'),
    status: 'queued',
    dispatchSeq: before.dispatchSeq + 1,
    attempts: 0,
    updatedAt: at,
    version: before.version + 1,
  };
  const event = newEvent(deps, caller, 'job.retried', jobRef(jobId), { jobId, kind: before.kind });
  await commitJob(deps, before, after, [event]);
  return toJob(after);
}

/**
 * A fresh download link (presigned GET, 5 minutes) for one of the job's files. A name the job does not
 * list, or a file no longer (or not yet) in the bucket, is a 404.
 */
export async function getJobFileLink(
  deps: CoreDeps & { blobs: BlobStore },
  caller: CallerContext,
  jobId: string,
  name: string,
): Promise<JobFileLink> {
  const item = await visibleJob(deps, caller, jobId);
  const key = Object.hasOwn(item.files, name) ? item.files[name] : undefined;
  if (!key || !(await deps.blobs.head(key))) throw notFound('File');
  const url = await deps.blobs.downloadUrl(key, jobFileLinkSeconds, { fileName: name });
  return { name, url, expiresAt: new Date(deps.clock.nowMs() + jobFileLinkSeconds * 1000).toISOString() };
}

/**
 * Reads for one page when a filter narrows the list that serves it: a page not full after this many
 * reads comes back short, with a cursor to go on.
 */
const maxReads = 3;

/**
 * Jobs, newest first: owner/admin the workspace's (with `kind`, that kind's list), a member their own.
 * One Query a page for the list's own filter; a status (and a member's kind) narrows the entries read,
 * with at most `maxReads` Queries of `max(2 × limit, 50)` entries, so a page may come back short with a
 * cursor.
 */
export async function listJobs(deps: CoreDeps, caller: CallerContext, query: ListJobsQuery): Promise<Page<Job>> {
  const { workspaceId } = caller;
  const { kind } = query;
  const entity = deps.db.entities.job.query;
  type Read = (options: { order: 'desc'; limit: number; cursor: string | null }) => Promise<{ data: unknown[]; cursor: string | null }>;
  const table = (jobId: string) => ({ pk: `WS#${workspaceId}#JOB#${jobId}`, sk: 'JOB' });
  const list = !isManager(caller)
    ? {
        scope: `user:${caller.userId}`,
        read: ((options) => entity.byCreator({ workspaceId, createdBy: caller.userId }).go(options)) as Read,
        key: (jobId: string) => ({ gsi2pk: `WS#${workspaceId}#JOBS#USER#${caller.userId}`, gsi2sk: jobId }),
        byKind: false,
      }
    : kind
      ? {
          scope: `kind:${kind}`,
          read: ((options) => entity.byKind({ workspaceId, kind }).go(options)) as Read,
          key: (jobId: string) => ({ gsi3pk: `WS#${workspaceId}#JOBS#KIND#${kind}`, gsi3sk: jobId }),
          byKind: true,
        }
      : {
          scope: 'all',
          read: ((options) => entity.byWorkspace({ workspaceId }).go(options)) as Read,
          key: (jobId: string) => ({ gsi1pk: `WS#${workspaceId}#JOBS`, gsi1sk: jobId }),
          byKind: false,
        };
  const matches = (item: JobItem) =>
    (query.status === undefined || item.status === query.status) &&
    (query.kind === undefined || list.byKind || item.kind === query.kind);
  const narrowed = query.status !== undefined || (query.kind !== undefined && !list.byKind);
  const fingerprint = `jobs|${list.scope}|${query.kind ?? ''}|${query.status ?? ''}`;
  const after = decodeListCursor(query.cursor, fingerprint);
  if (after && !/^job_[0-9A-Z]{26}$/.test(after.id)) throw invalidCursor();
  const readSize = narrowed ? Math.max(query.limit * 2, 50) : query.limit + 1;

  const items: JobItem[] = [];
  let position = after?.id;
  let more = false;
  for (let reads = 0; reads < maxReads && items.length < query.limit; reads += 1) {
    const result = await list.read({
      order: 'desc',
      limit: readSize,
      cursor: position ? electroCursor({ ...table(position), ...list.key(position) }) : null,
    });
    more = Boolean(result.cursor);
    for (const item of result.data as JobItem[]) {
      if (items.length === query.limit) {
        more = true; // an entry is left over
        break;
      }
      position = item.jobId;
      if (matches(item)) items.push(item);
    }
    if (!more) break;
  }
  return {
    items: items.map(toJob),
    nextCursor: more && position ? encodeListCursor(fingerprint, { id: position, sortKey: position }) : null,
  };
}
