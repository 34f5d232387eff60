import * as z from 'zod';
import type { FailedJob } from '../jobs/job-kind';
import type { CoreDeps } from '../shared/deps';

/** The job kind that answers a contact's message (it rides on the `classify_conversation` queue, the model-call queue). */
export const botReplyKind = 'bot_reply' as const;

/**
 * A contact's message the bot is to answer: the `bot_reply` job's input. Ids only (the job reads the
 * message itself, so no text of it is copied into the job); `eventId` is the `<channel>.replied` event,
 * whose receipt keeps the bot to one answer however often the job runs.
 */
export const botTurnInput = z.object({
  eventId: z.string().min(1),
  contactId: z.string().min(1),
  conversationId: z.string().min(1),
  messageId: z.string().min(1),
});
export type BotTurnInput = z.infer<typeof botTurnInput>;
/** A turn with its workspace (the job's). */
export type BotTurn = BotTurnInput & { workspaceId: string };

/**
 * The job of an event: one per event (its ULID, so the jobs list keeps creation order), which makes
 * queueing it idempotent: a replayed stream record finds the job written and adds none.
 */
export const botJobId = (eventId: string) => `job_${eventId.slice(eventId.indexOf('_') + 1)}`;

/**
 * A `bot_reply` job failed by the dead-letter queue (`retries_exhausted`: the responder kept failing
 * through every receive) or the sweep (`stalled`): the contact must not be left unanswered, so people
 * take the conversation (`bot.escalated`, `model_unavailable`). Registered in
 * domain/jobs/job-failure-hooks.ts; the escalation's module is loaded only when one fails, so the
 * dead-letter consumer stays light at cold start. Idempotent: the event's receipt says it was done.
 */
export async function botReplyFailed(deps: CoreDeps, job: FailedJob): Promise<void> {
  const input = botTurnInput.safeParse(job.input);
  if (!input.success) return;
  const { escalateUnanswered } = await import('./autoreply.service');
  await escalateUnanswered(deps, { ...input.data, workspaceId: job.workspaceId }, 'model_unavailable');
}
