import {
  jobFileLinkSchema,
  jobFileParams,
  jobIdParams,
  jobSchema,
  listJobsQuery,
} from '../../../domain/jobs/jobs.schemas';
import { route, pageOf, type RouteDefinition } from '../route-definition';

const jobs = { group: 'jobs', tag: 'Jobs', auth: true } as const;

export const jobsRoutes = {
  listJobs: route({
    ...jobs,
    method: 'GET',
    path: '/v1/jobs',
    summary:
      'Background jobs (imports, exports, ...), newest first: a member’s own, every one for owner/admin',
    description:
      'Filters: `kind`, `status`. With `status` (or, for a member, `kind`) a page may come back short while `nextCursor` is set: follow it until it is null.',
    query: listJobsQuery,
    response: { status: 200, description: 'A page of jobs', schema: pageOf(jobSchema, 'JobPage') },
  }),
  getJob: route({
    ...jobs,
    method: 'GET',
    path: '/v1/jobs/{jobId}',
    summary: 'One job: its status, progress (processed, total, rate, time left), result or error, and files',
    description:
      'A member sees the jobs they started (another member’s is a 404); owner/admin every job of the workspace.',
    params: jobIdParams,
    response: { status: 200, description: 'The job', schema: jobSchema },
  }),
  cancelJob: route({
    ...jobs,
    method: 'POST',
    path: '/v1/jobs/{jobId}/cancel',
    summary: 'Cancel a queued or running job',
    description:
      'The job becomes `canceled` at once; a run under way stops at its next save, keeping what it has done. Appends the job’s end event (`import.finished`, `export.finished`, `job.finished`) with status `canceled`.',
    params: jobIdParams,
    refusals: { 409: '`invalid_transition`: the job has already succeeded, failed or been canceled' },
    response: { status: 200, description: 'The canceled job', schema: jobSchema },
  }),
  retryJob: route({
    ...jobs,
    method: 'POST',
    path: '/v1/jobs/{jobId}/retry',
    summary: 'Run a failed job again, from where it stopped',
    description:
      'The job is queued again with its error cleared; it resumes from its last saved position. Appends `job.retried`.',
    params: jobIdParams,
    refusals: { 409: '`invalid_transition`: only a failed job can be retried' },
    response: { status: 200, description: 'The queued job', schema: jobSchema },
  }),
  getJobFile: route({
    ...jobs,
    method: 'GET',
    path: '/v1/jobs/{jobId}/files/{name}',
    summary: 'A fresh download link (presigned GET, valid 5 minutes) for one of the job’s files',
    description:
      'Ask again for a new link once it expires. A name the job does not list, or a file no longer kept, is a 404.',
    params: jobFileParams,
    refusals: { 404: '`name` is not one of the job’s files, or the file is gone' },
    response: { status: 200, description: 'Where to download the file', schema: jobFileLinkSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
