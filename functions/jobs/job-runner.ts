import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { JobDeps, JobKindDefinition } from '../../domain/jobs/job-kind';
import { parseJobMessage, runJobMessage } from '../../domain/jobs/job-run.service';
import { getCoreDeps, withBlobStore } from '../shared/deps';
import { logger } from '../shared/logger';
import { recordJobRun } from '../shared/metrics';

export interface JobHandlerOptions {
  /**
   * Stop this long before Lambda's timeout: the run saves its cursor and continues in a new message.
   * Default: 20 s, or a quarter of the time the invocation started with if that is less.
   */
  marginMs?: number;
  /**
   * At most this long per run, then continue in a new message (tests force continuations with 0: one
   * unit of work per run). Default: the JOB_RUN_BUDGET_MS variable, else only Lambda's timeout bounds it.
   */
  runBudgetMs?: number;
  /** The dependencies (default: the cold start's, with the bucket). */
  getDeps?: () => JobDeps;
  /**
   * Runs a batch's records side by side (default: one after the other). For kinds whose runs are one
   * short provider call each: in order, ten 10-second timeouts would outlast the function.
   */
  processInParallel?: boolean;
}

const defaultMarginMs = 20_000;

/** JOB_RUN_BUDGET_MS, read on each invocation (the local runtime and tests set it late). */
function budgetFromEnvironment(): number | undefined {
  const value = process.env.JOB_RUN_BUDGET_MS;
  if (value === undefined || value === '') return undefined;
  const budget = Number(value);
  if (!Number.isFinite(budget) || budget < 0) throw new Error(`JOB_RUN_BUDGET_MS must be a number of milliseconds, got "${value}"`);
  return budget;
}

/**
 * The SQS handler of one job kind's queue (`export const handler = createJobHandler(definition)` in the
 * kind's `functions/jobs/<kind>.handler.ts`; a queue that also runs other kinds, `alsoRuns`, passes
 * their definitions too, its own first: each message runs as its job's kind). Each record is
 * `{ workspaceId, jobId, seq }`; it runs one step of the job (domain/jobs/job-run.service.ts
 * `runJobMessage`). Records are processed one after the other with a partial batch response: a run that throws is reported alone and retried by SQS; every
 * other outcome (stale, ended, canceled, continued, succeeded...) is acked. A body that is no job
 * message is logged and acked: no retry could make it one.
 */
export function createJobHandler<Input, Cursor, Result extends Record<string, unknown>>(
  kinds: JobKindDefinition<Input, Cursor, Result> | readonly JobKindDefinition<Input, Cursor, Result>[],
  options: JobHandlerOptions = {},
) {
  const definitions = (Array.isArray(kinds) ? kinds : [kinds]) as readonly JobKindDefinition<Input, Cursor, Result>[];
  const queueKind = definitions[0]!.kind;
  const getDeps = options.getDeps ?? (() => withBlobStore(getCoreDeps()));
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const budgetMs = options.runBudgetMs ?? budgetFromEnvironment();
    const marginMs = options.marginMs ?? Math.min(defaultMarginMs, (context?.getRemainingTimeInMillis() ?? Infinity) / 4);
    const deps = getDeps();

    const recordHandler = async (record: SQSRecord) => {
      const message = parseJobMessage(record.body);
      if (!message) {
        logger.error('Not a job message: dropped', { kind: queueKind, messageId: record.messageId });
        return;
      }
      // Each record's run has the budget to itself; all share the invocation's remaining time.
      const startedAt = Date.now();
      const deadlineReached = () =>
        (context !== undefined && context.getRemainingTimeInMillis() < marginMs) ||
        (budgetMs !== undefined && Date.now() - startedAt >= budgetMs);
      const keys = { kind: queueKind, workspaceId: message.workspaceId, jobId: message.jobId, seq: message.seq };
      try {
        const outcome = await runJobMessage(deps, definitions, message, {
          deadlineReached,
          jobKind: (kind) => {
            keys.kind = kind;
          },
          // What a canceled job held stays until the bucket's lifecycle rules remove it: worth a look, not a retry.
          releaseFailed: (error) => logger.error('Releasing what a canceled job held failed', { ...keys, error: error as Error }),
          onFailedFailed: (error) => logger.error('The kind’s onFailed hook of a failed job threw', { ...keys, error: error as Error }),
        });
        const log = outcome === 'missing' || outcome === 'wrong_kind' ? logger.warn : logger.info;
        log.call(logger, 'Job message handled', { ...keys, outcome, ms: Date.now() - startedAt });
        recordJobRun(keys.kind, outcome);
      } catch (error) {
        logger.warn('Job run failed: SQS retries its message', {
          ...keys,
          receiveCount: record.attributes.ApproximateReceiveCount,
          error: error as Error,
        });
        recordJobRun(keys.kind, 'retried');
        throw error;
      }
    };
    // One processor per invocation; in order by default: a job's runs are long, and they share the remaining time.
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      processInParallel: options.processInParallel ?? false,
      throwOnFullBatchFailure: false,
    });
  };
}
