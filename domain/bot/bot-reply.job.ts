import type { JobDeps, JobKindDefinition } from '../jobs/job-kind';
import type { Responder } from '../shared/ports';
import { answerMessage, type BotOutcome } from './autoreply.service';
import { botReplyFailed, botReplyKind, botTurnInput, type BotTurnInput } from './bot-turn';

export type BotReplyJobDeps = JobDeps & { responder: Responder };

/**
 * `bot_reply`: the autoreply bot on one contact's message, queued by the `bot` fan-out consumer (one
 * job per event) and run from the `classify_conversation` queue (`alsoRuns`), where the model is
 * called: an answer, an escalation or nothing (`answerMessage`), in one step. A passing fault of the
 * responder throws: SQS runs the message again after its visibility timeout, and after the queue's last
 * receive the dead-letter consumer fails the job and people take the conversation (`botReplyFailed`).
 * A message delivered twice answers once: the reply's or the escalation's transaction writes the
 * event's receipt, which a second run finds.
 */
export const botReplyJob: JobKindDefinition<BotTurnInput, never, BotOutcome> = {
  kind: botReplyKind,
  queue: botReplyKind,
  inputSchema: botTurnInput,
  async step(deps, job) {
    const outcome = await answerMessage(deps as BotReplyJobDeps, { ...job.input, workspaceId: job.workspaceId });
    return { done: true, result: outcome, progress: { processed: 1, total: 1 } };
  },
  // A JobFailure, or an input that is no turn (the dead-letter and sweep routes call the registry's hook).
  onFailed: botReplyFailed,
};
