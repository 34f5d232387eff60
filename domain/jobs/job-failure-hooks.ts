import { botReplyFailed } from '../bot/bot-turn';
import { deliverMessageFailed } from '../channels/deliveries/deliver-message-failed';
import type { CoreDeps } from '../shared/deps';
import type { FailedJob } from './job-kind';
import type { JobItem } from './job-record';

/**
 * The kinds' `onFailed` hooks, for the routes that fail a job without its kind's module: the dead-letter
 * consumer (`retries_exhausted`) and the `sweep-jobs` schedule (`stalled`). Light modules only: the
 * dead-letter consumer serves every kind's queue. The runner calls the definition's own `onFailed`.
 */
export const jobFailedHooks: Readonly<Record<string, (deps: CoreDeps, job: FailedJob) => Promise<void>>> = {
  deliver_message: deliverMessageFailed,
  // The contact gets people, not silence, when the bot's answer failed for good.
  bot_reply: botReplyFailed,
};

/** Calls the kind's hook for a job written `failed` (nothing for a kind without one). */
export async function runJobFailedHook(deps: CoreDeps, item: JobItem): Promise<void> {
  const hook = jobFailedHooks[item.kind];
  if (!hook || item.status !== 'failed' || !item.error) return;
  await hook(deps, { workspaceId: item.workspaceId, jobId: item.jobId, kind: item.kind, input: item.input, error: item.error });
}
