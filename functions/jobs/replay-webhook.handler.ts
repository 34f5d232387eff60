import { replayWebhookJob } from '../../domain/webhooks/webhook-replay-job';
import { getCoreDeps, getJobQueue, withBlobStore } from '../shared/deps';
import { createJobHandler } from './job-runner';

/** `replay_webhook` jobs: a subscription's deliveries of a time range sent again, a page at a time. */
export const handler = createJobHandler(replayWebhookJob, { getDeps: () => ({ ...withBlobStore(getCoreDeps()), queue: getJobQueue() }) });
