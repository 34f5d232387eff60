import * as z from 'zod';
import type { EventRecord } from '../../events/event-log';
import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { LostRace } from '../shared/errors';
import { retryLostRaces } from '../shared/retry';
import {
  JobCanceled,
  JobFailure,
  JobSuperseded,
  type JobControl,
  type JobDeps,
  type JobKindDefinition,
  type RunningJob,
} from './job-kind';
import {
  checkedFiles,
  commitJob,
  dispatchDelay,
  endCanceledJob,
  endEvent,
  findJob,
  progressAt,
  without,
  type JobItem,
  type JobMessage,
  type JobReport,
  type ProgressInput,
} from './job-record';
import { runJobFailedHook } from './job-failure-hooks';
import { isTerminal } from './job-status';
import type { JobError } from './jobs.schemas';

/** The body of a job's SQS message: which job, and which of its steps (`dispatchSeq`). */
export const jobMessageSchema = z.object({
  workspaceId: z.string().min(1),
  jobId: z.string().min(1),
  seq: z.number().int().positive(),
});

/** An SQS message body as a job message, or undefined when it is none (not JSON, or another shape). */
export function parseJobMessage(body: string): JobMessage | undefined {
  try {
    const parsed = jobMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a message came to. Only a run that threw (the error passes through) leaves its message to be
 * retried; every outcome here is acked.
 * - `missing`, `wrong_kind`: no such job of this queue's kind (logged);
 * - `stale`: the message is for an earlier step (a duplicate, or one a retry or continuation replaced);
 * - `ended`: the job had succeeded, failed or been canceled;
 * - `succeeded`, `continued` (its next message follows through the stream), `failed` (`JobFailure`,
 *   bad input);
 * - `canceled`, `superseded`: the job was canceled, or taken over by another delivery, while it ran.
 */
export type RunOutcome =
  | 'missing'
  | 'wrong_kind'
  | 'stale'
  | 'ended'
  | 'succeeded'
  | 'continued'
  | 'failed'
  | 'canceled'
  | 'superseded';

/** What the runner gives a run besides the job: when to stop, and where to report a failed release. */
export interface RunHooks {
  /** See `JobControl.deadlineReached`. */
  deadlineReached(): boolean;
  /** The kind of the job the message is for, once read (a queue that runs several kinds names it in its logs). */
  jobKind?(kind: string): void;
  /** A kind's `release` threw: the run's outcome stands (the message is acked); the caller logs it. */
  releaseFailed?(error: unknown): void;
  /** A kind's `onFailed` threw: the job stays failed (the message is acked); the caller logs it. */
  onFailedFailed?(error: unknown): void;
}

/** Longest stored failure message: enough for any error's own message, never a whole dump. */
const maxErrorLength = 1000;
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, maxErrorLength) || 'Unknown error';

/**
 * Runs one step of a job for its message (functions/jobs/job-runner.ts calls it per SQS record):
 * loads the job (consistent read) and takes the definition of its kind among `kinds` (a queue that
 * also runs other kinds passes theirs; none: `wrong_kind`); a stale step or an ended job is acked untouched; marks it `running`
 * (a conditional write that makes this run the job's: a duplicate delivery running alongside loses its
 * next write and stops); calls the kind's step; then, in one write each: done → `succeeded` with its
 * result and the end event (one transaction); not done → the cursor saved and `dispatchSeq + 1`, which
 * the stream turns into the next message. A step that throws records `lastError` and `attempts` on the
 * job and the error passes through, so SQS retries the message (the dead-letter queue takes it in the
 * end: `failDeadLetteredJob`). A job found canceled, or canceled while the run worked, has its kind's
 * `release` called with what it holds (see `JobKindDefinition.release`); when its end event waits for
 * its report (`endPending`), the kind's `reportCanceled` is put on it with the end event, once the run
 * under way has stopped (it never goes back to running, nor on to succeeded).
 */
export async function runJobMessage<Input, Cursor, Result extends Record<string, unknown>>(
  deps: JobDeps,
  kinds: JobKindDefinition<Input, Cursor, Result> | readonly JobKindDefinition<Input, Cursor, Result>[],
  message: JobMessage,
  hooks: RunHooks,
): Promise<RunOutcome> {
  const { workspaceId, jobId } = message;
  const loaded = await findJob(deps, workspaceId, jobId, true);
  if (!loaded) return 'missing';
  // A queue that also runs other kinds (`alsoRuns`) hands each message to the definition of its job's kind.
  const definition = (Array.isArray(kinds) ? kinds : [kinds]).find((each) => each.kind === loaded.kind);
  if (!definition) return 'wrong_kind';
  hooks.jobKind?.(loaded.kind);
  /** Gives back what a canceled job holds; a failure is the caller's to log, and changes no outcome. */
  const release = async (held: { cursor?: unknown; files: Readonly<Record<string, string>> }) => {
    if (!definition.release) return;
    try {
      await definition.release(deps, { workspaceId, jobId, cursor: held.cursor as Cursor | undefined, files: held.files });
    } catch (error) {
      hooks.releaseFailed?.(error);
    }
  };
  /** The job as its kind's step and hooks see it. */
  const viewOf = (item: JobItem, input: Input): RunningJob<Input, Cursor> => ({
    workspaceId,
    jobId,
    kind: item.kind,
    createdBy: item.createdBy,
    input,
    cursor: item.cursor as Cursor | undefined,
    progress: item.progress,
    files: item.files,
    attempts: item.attempts,
    dispatchSeq: item.dispatchSeq,
  });
  /**
   * A canceled job whose end event waits for its report: no run works on it any more (this one stopped,
   * or it was canceled between runs), so the kind reports what it wrote and the job ends with it.
   */
  const finishCanceled = async (item: JobItem | undefined) => {
    if (item?.status !== 'canceled' || !item.endPending) return;
    const input = definition.inputSchema.safeParse(item.input);
    const report = definition.reportCanceled && input.success ? await definition.reportCanceled(deps, viewOf(item, input.data)) : undefined;
    try {
      await endCanceledJob(deps, item, report);
    } catch (error) {
      // Another delivery of the message ended it meanwhile.
      if (error instanceof LostRace && !(await findJob(deps, workspaceId, jobId, true))?.endPending) return;
      throw error;
    }
  };
  if (loaded.dispatchSeq !== message.seq) return 'stale';
  if (isTerminal(loaded.status)) {
    // Canceled between runs: the message of the step it waited for finds it so, and no run will follow.
    if (loaded.status === 'canceled' && loaded.cursor !== undefined) await release(loaded);
    await finishCanceled(loaded);
    return 'ended';
  }
  const system = systemActor(workspaceId);
  const now = () => deps.clock.nowIso();

  let current = loaded;
  /** What the step returned, once it has: a cancel that beats the final write releases that. */
  let returned: { cursor?: unknown; files: Record<string, string> } | undefined;
  /** Writes the job on top of the version this run holds; a lost condition says why the run must stop. */
  const write = async (next: JobItem, events: EventRecord[] = []) => {
    try {
      await commitJob(deps, current, next, events);
      current = next;
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      const latest = await findJob(deps, workspaceId, jobId, true);
      // The same version: DynamoDB cancelled the transaction for another one, not for a change: retry.
      if (latest?.version === current.version) throw error;
      throw latest?.status === 'canceled' ? new JobCanceled(jobId) : new JobSuperseded(jobId);
    }
  };
  const bump = (item: JobItem): JobItem => ({ ...item, updatedAt: now(), version: current.version + 1 });
  const fail = async (error: JobError, report?: JobReport) => {
    const at = now();
    const failed: JobItem = {
      ...bump(current),
      status: 'failed',
      error,
      finishedAt: at,
      // What the step wrote before it stopped, when it says.
      ...(report
        ? {
            result: report.result,
            files: { ...current.files, ...checkedFiles(report.files) },
            ...(report.progress ? { progress: progressAt(current, report.progress, deps.clock.nowMs()) } : {}),
          }
        : {}),
    };
    await write(failed, [endEvent(deps, system, failed)]);
    if (!definition.onFailed) return;
    await definition
      .onFailed(deps, { workspaceId, jobId, kind: failed.kind, input: failed.input, error })
      .catch((hookError: unknown) => hooks.onFailedFailed?.(hookError));
  };
  const stopped = (error: unknown): RunOutcome | undefined =>
    error instanceof JobCanceled ? 'canceled' : error instanceof JobSuperseded ? 'superseded' : undefined;

  try {
    const input = definition.inputSchema.safeParse(current.input);
    if (!input.success) {
      await fail({ code: 'invalid_input', message: `The job's input is not what its kind takes: ${z.prettifyError(input.error)}` });
      return 'failed';
    }
    const at = now();
    // From queued (first run, or a retry) the rate is measured afresh.
    await write({
      ...bump(current),
      status: 'running',
      startedAt: current.startedAt ?? at,
      rateFrom: current.status === 'queued' || !current.rateFrom ? { at, processed: current.progress.processed } : current.rateFrom,
    });
    const progressOf = (progress: ProgressInput) => progressAt(current, progress, deps.clock.nowMs());
    const control: JobControl<Cursor> = {
      deadlineReached: () => hooks.deadlineReached(),
      saveProgress: (cursor, progress, files) =>
        write({ ...bump(current), cursor, progress: progressOf(progress), files: { ...current.files, ...checkedFiles(files) } }),
      reportProgress: (progress) => write({ ...bump(current), progress: progressOf(progress) }),
    };
    let step;
    try {
      step = await definition.step(deps, viewOf(current, input.data), control);
    } catch (error) {
      if (stopped(error)) throw error;
      if (error instanceof JobFailure) {
        await fail({ code: error.code, message: error.message }, error.report);
        return 'failed';
      }
      // This run failed: say so on the job, and let SQS deliver the message again.
      await write({ ...bump(current), lastError: describe(error), attempts: current.attempts + 1 }).catch((recording: unknown) => {
        if (stopped(recording)) throw recording;
      });
      throw error;
    }

    const files = { ...current.files, ...checkedFiles(step.files) };
    returned = { cursor: step.done ? current.cursor : step.cursor, files };
    if (step.done) {
      const succeeded: JobItem = {
        ...bump(without(current, 'cursor')),
        status: 'succeeded',
        result: step.result,
        progress: progressOf(step.progress ?? current.progress),
        files,
        finishedAt: now(),
      };
      await write(succeeded, [endEvent(deps, system, succeeded), ...(step.events ?? [])]);
      return 'succeeded';
    }
    const delay = dispatchDelay(step.delaySeconds);
    await write({
      ...bump(without(current, 'dispatchDelaySeconds')),
      cursor: step.cursor,
      progress: progressOf(step.progress),
      files,
      dispatchSeq: current.dispatchSeq + 1,
      ...(delay > 0 ? { dispatchDelaySeconds: delay } : {}),
    });
    return 'continued';
  } catch (error) {
    const outcome = stopped(error);
    if (outcome === 'canceled') {
      await release(returned ?? current);
      await finishCanceled(await findJob(deps, workspaceId, jobId, true));
    }
    if (outcome) return outcome;
    throw error;
  }
}

/** Why a job whose message exhausted its retries failed, when no run recorded an error. */
export const retriesExhaustedMessage = "The job's message exhausted its retries";

/**
 * The dead-letter queues' consumer: the message of the job's current step used up its receives, so the
 * job fails with `retries_exhausted` (the last run's error as the message) and its end event. A
 * message for an earlier step, or for a job that has ended, changes nothing (so a redelivery is harmless),
 * but a canceled job whose end event still waits for its report gets it now, without the report.
 */
export async function failDeadLetteredJob(
  deps: CoreDeps,
  message: JobMessage,
): Promise<'failed' | 'missing' | 'stale' | 'ended'> {
  return retryLostRaces(async () => {
    const before = await findJob(deps, message.workspaceId, message.jobId, true);
    if (!before) return 'missing';
    if (before.dispatchSeq !== message.seq) return 'stale';
    if (isTerminal(before.status)) {
      // This message failed the job on an earlier delivery whose kind hook then threw: run the hook again.
      if (before.status === 'failed' && before.error?.code === 'retries_exhausted') await runJobFailedHook(deps, before);
      // Canceled, and the runs that were to report what it wrote kept failing: it ends without the report.
      if (before.status === 'canceled' && before.endPending) await endCanceledJob(deps, before);
      return 'ended';
    }
    const at = deps.clock.nowIso();
    const after: JobItem = {
      ...before,
      status: 'failed',
      error: { code: 'retries_exhausted', message: before.lastError ?? retriesExhaustedMessage },
      finishedAt: at,
      updatedAt: at,
      version: before.version + 1,
    };
    await commitJob(deps, before, after, [endEvent(deps, systemActor(message.workspaceId), after)]);
    // A hook that throws fails this record: SQS delivers it again, and the branch above retries the hook.
    await runJobFailedHook(deps, after);
    return 'failed';
  });
}
