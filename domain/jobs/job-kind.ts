import type { ZodType } from 'zod';
import type { EventRecord } from '../../events/event-log';
import type { CoreDeps } from '../shared/deps';
import type { BlobStore } from '../shared/ports';
import type { JobReport, ProgressInput, StoredProgress } from './job-record';

/** What a job's step may use: the table, clock and ids, and the bucket. */
export type JobDeps = CoreDeps & { blobs: BlobStore };

/** The job as a step sees it: its input parsed by the kind's schema, and where to resume. */
export interface RunningJob<Input, Cursor> {
  workspaceId: string;
  jobId: string;
  kind: string;
  /** The user who started it (the actor of what the job writes on their behalf, if the kind wants). */
  createdBy: string;
  input: Input;
  /** Where the last run stopped (its `saveProgress` or continuation); undefined on the first run. */
  cursor: Cursor | undefined;
  progress: StoredProgress;
  files: Readonly<Record<string, string>>;
  /** Runs that threw since the job was created or retried: > 0 means this run repeats a failed one. */
  attempts: number;
  /** The step number: one per message; a continuation or a retry takes the next. */
  dispatchSeq: number;
}

export interface JobControl<Cursor> {
  /**
   * True when the run should stop and continue in a new message: Lambda's remaining time is below the
   * margin, or the run used its budget. Check it between units of work; then return `{ done: false }`.
   */
  deadlineReached(): boolean;
  /**
   * Saves where the job has got to, so a run that dies resumes here rather than from the last
   * continuation. Conditional on the job being this run's: throws `JobCanceled` when a user canceled it
   * meanwhile (or `JobSuperseded` when another run took it over); the runner handles both (stop, ack).
   */
  saveProgress(cursor: Cursor, progress: ProgressInput, files?: Record<string, string>): Promise<void>;
  /**
   * Shows how far the run has got, for a step with no place to resume from mid-way (the cursor stays as
   * it was). Conditional like `saveProgress`, so it notices a cancel the same way (`JobCanceled`).
   */
  reportProgress(progress: ProgressInput): Promise<void>;
}

/** What a job that ends without succeeding still holds, for its kind's `release`. */
export interface HeldByJob<Cursor> {
  workspaceId: string;
  jobId: string;
  /** The last cursor the job saved (or its last run returned); undefined when none was. */
  cursor: Cursor | undefined;
  /** The job's files, with those its last run returned. */
  files: Readonly<Record<string, string>>;
}

export type StepResult<Cursor, Result> =
  | {
      done: true;
      /** What the job produced, shown on the job and in its end event. */
      result: Result;
      /** The final counts (default: the last saved, with `processed` = `total` when known). */
      progress?: ProgressInput;
      /** Files to add to the job's (name -> object key). */
      files?: Record<string, string>;
      /** More events to append in the transaction that marks the job succeeded. */
      events?: EventRecord[];
    }
  | {
      done: false;
      /** Where the next run resumes. */
      cursor: Cursor;
      progress: ProgressInput;
      files?: Record<string, string>;
      /**
       * Seconds before the next run (a back-off: SQS DelaySeconds, at most 900, more is capped). The
       * delay rides on the job item to the dispatcher with the step it belongs to.
       */
      delaySeconds?: number;
    };

/** A job that ended failed, whatever the route: its step's `JobFailure`, a bad input, the dead-letter queue, the sweep. */
export interface FailedJob {
  workspaceId: string;
  jobId: string;
  kind: string;
  /** The job's input as stored (not parsed: a bad input fails the job too). */
  input: unknown;
  error: { code: string; message: string };
}

/**
 * One kind of job: its queue, the schema of its input and its step. The runner
 * (functions/jobs/job-runner.ts `createJobHandler`) calls `step` once per message: the step works from
 * `job.cursor` until done or `control.deadlineReached()`, and must be idempotent from any saved cursor
 * (a message may be delivered again, and a run that dies resumes from the last cursor saved).
 * Throwing fails this run (SQS retries it; after `maxReceiveCount` the job fails with
 * `retries_exhausted`); throwing `JobFailure` fails the job at once with its code and message.
 */
export interface JobKindDefinition<Input = unknown, Cursor = unknown, Result extends Record<string, unknown> = Record<string, unknown>> {
  kind: string;
  /** The name of its queue in functions/jobs/job-queues.ts (by convention, the kind). */
  queue: string;
  inputSchema: ZodType<Input>;
  step(deps: JobDeps, job: RunningJob<Input, Cursor>, control: JobControl<Cursor>): Promise<StepResult<Cursor, Result>>;
  /**
   * Gives back what a canceled job holds (an upload under way, a file no succeeded job names), so a
   * cancel leaves nothing behind. The runner calls it when a run stops for a cancel (`JobCanceled`, with
   * the last cursor saved), when a run's step returned but the job was canceled meanwhile (with what the
   * step returned), and when a message finds its job canceled with a cursor. Called again for the same
   * job (a redelivered message): it must be idempotent. Its errors are logged, never retried. Not for a
   * failed job, which may be retried from its cursor.
   */
  release?(deps: JobDeps, held: HeldByJob<Cursor>): Promise<void>;
  /**
   * What a job of a kind listed in job-status.ts `kindsReportingCancel`, canceled after it began, wrote:
   * its result (counts so far, say), files and progress, put on the canceled job and in its end event,
   * which waits for it. The runner calls it once no run works on the job: the run that stopped for the
   * cancel, or the next message of a job canceled between runs. Must be idempotent (a redelivered
   * message calls it again); what it throws makes SQS deliver the message again.
   */
  reportCanceled?(deps: JobDeps, job: RunningJob<Input, Cursor>): Promise<JobReport>;
  /**
   * Called once the job is written `failed`, by every route that fails it (domain/jobs/job-failure-hooks.ts
   * registers it for the dead-letter and sweep paths, which run without the kind's module): the kind
   * marks what the job worked on as failed with the reason. Must be idempotent (a redelivered dead letter
   * calls it again); its errors are logged by the caller.
   */
  onFailed?(deps: CoreDeps, job: FailedJob): Promise<void>;
}

/** Thrown by `saveProgress` when the job was canceled while the run worked: the run stops, the message is acked. */
export class JobCanceled extends Error {
  constructor(readonly jobId: string) {
    super(`Job ${jobId} was canceled`);
    this.name = 'JobCanceled';
  }
}

/**
 * Thrown by `saveProgress` when the job changed under the run for another reason than a cancel (another
 * delivery of the same message took it over, or it ended): the run stops, the message is acked.
 */
export class JobSuperseded extends Error {
  constructor(readonly jobId: string) {
    super(`Job ${jobId} was taken over by another run`);
    this.name = 'JobSuperseded';
  }
}

/**
 * Thrown by a step to fail the job now, without retries (bad input, a file that is not what it claims);
 * `report`: what the job wrote before it stopped, put on the failed job.
 */
export class JobFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly report?: JobReport,
  ) {
    super(message);
    this.name = 'JobFailure';
  }
}
