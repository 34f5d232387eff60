import type { JobDeps, JobKindDefinition } from '../jobs/job-kind';
import { QualifierError } from '../qualification/qualifier-error';
import type { Responder } from '../shared/ports';
import { answerMessage, escalateUnanswered, type BotOutcome } from './autoreply.service';
import { botReplyFailed, botReplyKind, botTurnInput, type BotTurnInput } from './bot-turn';

export type BotReplyJobDeps = JobDeps & { responder: Responder };

/** How many passing model faults the job has waited out so far. */
interface BotReplyCursor {
  modelFaults: number;
}

const defaultModelRetrySeconds = [3, 10, 30, 60];

/**
 * The waits between runs while the model is throttled or times out (SQS DelaySeconds on the job's next
 * message): the contact is waiting, so seconds, not the queue's 6-minute visibility timeout; after the
 * last, people take the conversation (about 100 s in all). BOT_MODEL_RETRY_SECONDS (comma-separated
 * seconds, e.g. `1,1`) replaces them, which the tests use.
 */
export function modelRetrySeconds(value = process.env.BOT_MODEL_RETRY_SECONDS): number[] {
  const parsed = (value ?? '').split(',').map((part) => Number(part.trim()));
  return value?.trim() && parsed.every((seconds) => Number.isInteger(seconds) && seconds > 0 && seconds <= 900)
    ? parsed
    : defaultModelRetrySeconds;
}

/**
 * `bot_reply`: the autoreply bot on one contact's message, queued by the `bot` fan-out consumer (one
 * job per event) and run from the `classify_conversation` queue (`alsoRuns`), where the model is
 * called: an answer, an escalation or nothing (`answerMessage`), in one step. A passing fault of the
 * responder (throttling, a timeout) continues the job after a short wait (`modelRetrySeconds`); when
 * the waits are used up, people take the conversation. Any other fault throws: SQS runs the message
 * again, and after the queue's last receive the dead-letter consumer fails the job and people take the
 * conversation (`botReplyFailed`). A message delivered twice answers once: the reply's or the
 * escalation's transaction writes the event's receipt, which a second run finds.
 */
export const botReplyJob: JobKindDefinition<BotTurnInput, BotReplyCursor, BotOutcome> = {
  kind: botReplyKind,
  queue: botReplyKind,
  inputSchema: botTurnInput,
  async step(deps, job) {
    const turn = { ...job.input, workspaceId: job.workspaceId };
    const done = (outcome: BotOutcome) => ({ done: true as const, result: outcome, progress: { processed: 1, total: 1 } });
    try {
      return done(await answerMessage(deps as BotReplyJobDeps, turn));
    } catch (error) {
      if (!(error instanceof QualifierError && error.retryable)) throw error;
      const waits = modelRetrySeconds();
      const modelFaults = job.cursor?.modelFaults ?? 0;
      if (modelFaults < waits.length) {
        return { done: false, cursor: { modelFaults: modelFaults + 1 }, progress: { processed: 0, total: 1 }, delaySeconds: waits[modelFaults]! };
      }
      return done(await escalateUnanswered(deps, turn, 'model_unavailable'));
    }
  },
  // A JobFailure, or an input that is no turn (the dead-letter and sweep routes call the registry's hook).
  onFailed: botReplyFailed,
};
