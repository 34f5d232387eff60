import { cancelJob, getJob, getJobFileLink, listJobs, retryJob } from '../../domain/jobs/jobs.service';
import { withBlobStore } from '../shared/deps';
import { createHttpHandler } from './http-handler';
import { jobsRoutes } from './routes/jobs.routes';

export const handler = createHttpHandler('jobs', jobsRoutes, {
  listJobs: ({ caller, query }, deps) => listJobs(deps, caller, query),
  getJob: ({ caller, params }, deps) => getJob(deps, caller, params.jobId),
  cancelJob: ({ caller, params }, deps) => cancelJob(deps, caller, params.jobId),
  retryJob: ({ caller, params }, deps) => retryJob(deps, caller, params.jobId),
  getJobFile: ({ caller, params }, deps) => getJobFileLink(withBlobStore(deps), caller, params.jobId, params.name),
});
