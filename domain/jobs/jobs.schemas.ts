import * as z from 'zod';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';

import {
  jobFileLinkSeconds,
  jobFileNamePattern,
  jobKinds,
  jobStatuses,
  isTerminal,
  terminalJobStatuses,
  type JobKind,
  type JobStatus,
} from './job-status';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export {
  jobFileLinkSeconds,
  jobKinds,
  jobStatuses,
  isTerminal,
  terminalJobStatuses,
  type JobKind,
  type JobStatus,
};

export const jobIdParams = z.object({ jobId: recordId('job', 'a job') });

/** A file name a job lists: letters, digits, dot, dash and underscore (never a path). */
export const jobFileName = z
  .string()
  .regex(jobFileNamePattern, 'A file name of the job: letters, digits, `.`, `-`, `_`')
  .meta({ description: 'One of the job’s `files`', example: 'contacts.csv' });

export const jobFileParams = jobIdParams.extend({ name: jobFileName });

export const listJobsQuery = pageQuerySchema.extend({
  kind: z.enum(jobKinds).optional().meta({ description: 'Only jobs of this kind' }),
  status: z.enum(jobStatuses).optional().meta({ description: 'Only jobs in this status' }),
});
export type ListJobsQuery = z.infer<typeof listJobsQuery>;

export const jobErrorSchema = responseSchema(() =>
  z
    .object({
      code: z.string().meta({
        description:
          '`retries_exhausted` (a run kept failing: `message` is the last failure), `stalled` (no run ever took the job up, though its message was sent again), `invalid_input`, or a code of the kind',
      }),
      message: z.string(),
    })
    .meta({ id: 'JobError' }),
);
export type JobError = ResponseOf<typeof jobErrorSchema>;

export const jobProgressSchema = responseSchema(() =>
  z
    .object({
      processed: z
        .number()
        .int()
        .nonnegative()
        .meta({ description: 'Units done so far (rows, contacts, ...)' }),
      total: z.number().int().nonnegative().nullable().meta({ description: 'Units in all, when known' }),
      ratePerSecond: z
        .number()
        .nonnegative()
        .nullable()
        .meta({ description: 'Units per second since the job (last) started running' }),
      estimatedSecondsLeft: z
        .number()
        .int()
        .nonnegative()
        .nullable()
        .meta({ description: 'At that rate, seconds until `total`' }),
    })
    .meta({ id: 'JobProgress' }),
);
export type JobProgress = ResponseOf<typeof jobProgressSchema>;

export const jobSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      kind: z.enum(jobKinds),
      status: z.enum(jobStatuses).meta({
        description:
          '`queued` → `running` → `succeeded` or `failed`; `canceled` by a user while queued or running. A failed job may be retried (queued again).',
      }),
      createdBy: z.string().meta({ description: 'The user who started it' }),
      input: z
        .record(z.string(), z.unknown())
        .meta({ description: 'What the job was asked to do (per kind)' }),
      progress: jobProgressSchema(),
      result: z
        .record(z.string(), z.unknown())
        .nullable()
        .meta({
          description:
            'What a succeeded job produced (per kind); an import canceled, or failed because its user was deactivated (`user_deactivated`), counts what it wrote. Else null',
        }),
      error: jobErrorSchema().nullable().meta({ description: 'Why a failed job failed, else null' }),
      files: z
        .array(z.string())
        .meta({
          description: 'Names of the job’s files: `GET /v1/jobs/{jobId}/files/{name}` gives a download link',
        }),
      attempts: z
        .number()
        .int()
        .nonnegative()
        .meta({ description: 'Runs that failed (and were retried) so far' }),
      createdAt: z.string(),
      startedAt: z.string().nullable().meta({ description: 'When it first ran' }),
      updatedAt: z.string(),
      finishedAt: z.string().nullable().meta({ description: 'When it succeeded, failed or was canceled' }),
    })
    .meta({ id: 'Job' }),
);
export type Job = ResponseOf<typeof jobSchema>;

export const jobFileLinkSchema = responseSchema(() =>
  z
    .object({
      name: z.string(),
      url: z
        .string()
        .meta({ description: 'A presigned GET of the file; ask again for a new one once it expires' }),
      expiresAt: z.string().meta({ description: 'When `url` stops working' }),
    })
    .meta({ id: 'JobFileLink' }),
);
export type JobFileLink = ResponseOf<typeof jobFileLinkSchema>;
