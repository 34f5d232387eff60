import * as z from 'zod';
import type { FailedJob } from '../../jobs/job-kind';
import type { CoreDeps } from '../../shared/deps';
import { failQueuedAttempt } from './deliveries.service';

/** The `deliver_message` job's input: which message, which attempt. */
export const deliverMessageInput = z.object({
  conversationId: z.string().min(1),
  messageId: z.string().min(1),
  attempt: z.number().int().positive(),
});
export type DeliverMessageInput = z.infer<typeof deliverMessageInput>;

/**
 * A `deliver_message` job failed by a route other than the provider's answer (its dead letter:
 * `retries_exhausted` with the last run's error; the sweep: `stalled`; a bad input): the attempt it was
 * sending fails with that reason, so no delivery stays `queued` behind a dead job. Light on imports: the
 * dead-letter consumer and the sweep call it (domain/jobs/job-failure-hooks.ts).
 */
export async function deliverMessageFailed(deps: CoreDeps, job: FailedJob): Promise<void> {
  const input = deliverMessageInput.safeParse(job.input);
  if (!input.success) return;
  const { conversationId, messageId, attempt } = input.data;
  await failQueuedAttempt(deps, { workspaceId: job.workspaceId, conversationId, messageId }, attempt, job.jobId, {
    code: job.error.code,
    message: job.error.message,
  });
}
