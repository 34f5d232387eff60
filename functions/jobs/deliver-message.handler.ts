import { deliverMessageJob } from '../../domain/channels/deliveries/deliver-message.job';
import { getCoreDeps, withBlobStore, withDeliveryDeps } from '../shared/deps';
import { createJobHandler } from './job-runner';

/** `deliver_message` jobs: one provider call per attempt; passing errors back off through SQS delays. */
export const handler = createJobHandler(deliverMessageJob, {
  getDeps: () => withDeliveryDeps(withBlobStore(getCoreDeps())),
  // Up to ten provider calls at once: each takes at most the provider timeout (10 s), the function 60 s.
  processInParallel: true,
});
