import type { JobDeps, JobKindDefinition } from '../../jobs/job-kind';
import { deliverMessageFailed, deliverMessageInput, type DeliverMessageInput } from './deliver-message-failed';
import { deliverAttempt, type DeliveryDeps } from './delivery-sender';

/** Where a delivery job stands between runs: how many passing errors it has waited out. */
interface DeliverCursor {
  autoRetries: number;
}

/**
 * The back-off actually waited: `seconds` × DELIVERY_BACKOFF_SCALE (default 1; the failure bench and its
 * test shorten the waits with e.g. 0.01), whole seconds as SQS takes them, at least 1.
 */
export function scaledBackoffSeconds(seconds: number, scale = Number(process.env.DELIVERY_BACKOFF_SCALE) || 1): number {
  return scale === 1 ? seconds : Math.max(1, Math.ceil(seconds * scale));
}

/**
 * How long a re-send waits, at least, after a call that got no answer from a provider that echoes our send
 * reference: the provider's first status callback (WhatsApp `sent`, Twilio `sent`, SES `Send`) usually
 * comes within seconds and, naming the attempt, marks it sent, so the re-send does not happen.
 * DELIVERY_CONFIRM_WAIT_SECONDS (default 60; not scaled by DELIVERY_BACKOFF_SCALE).
 */
export const unansweredSendWaitSeconds = (value = Number(process.env.DELIVERY_CONFIRM_WAIT_SECONDS)) =>
  Number.isFinite(value) && value > 0 ? Math.ceil(value) : 60;

/** The provider-call dependencies, which the job's handler adds to the runner's (functions/jobs/deliver-message.handler.ts). */
function deliveryDepsOf(deps: JobDeps): DeliveryDeps {
  const extended = deps as Partial<DeliveryDeps> & JobDeps;
  if (!extended.sealer || !extended.channels) throw new Error('deliver_message needs the sealer and the channel adapters in its deps');
  return extended as DeliveryDeps;
}

/**
 * Seed 001's delivery job: sends one attempt of an outbound message through its provider
 * (delivery-sender.ts `deliverAttempt`). A passing provider error continues the job after a back-off
 * (`delaySeconds`: an SQS delay, so nothing waits in a Lambda); every other outcome ends it, `succeeded`
 * with the delivery's status (a refusal is the delivery's failure, not the job's). A job that fails
 * anyway (a run that keeps throwing, a lost message) fails its attempt through `onFailed`.
 */
export const deliverMessageJob: JobKindDefinition<DeliverMessageInput, DeliverCursor, Record<string, unknown>> = {
  kind: 'deliver_message',
  queue: 'deliver_message',
  inputSchema: deliverMessageInput,
  async step(deps, job) {
    const { conversationId, messageId, attempt } = job.input;
    const key = { workspaceId: job.workspaceId, conversationId, messageId };
    const outcome = await deliverAttempt(deliveryDepsOf(deps), key, attempt);
    const delivery = outcome.message?.delivery;
    const autoRetries = delivery?.autoRetries ?? 0;
    if (outcome.kind === 'retry') {
      const backoff = scaledBackoffSeconds(outcome.delaySeconds);
      const delaySeconds = outcome.unanswered ? Math.min(900, Math.max(backoff, unansweredSendWaitSeconds())) : backoff;
      return { done: false, cursor: { autoRetries }, progress: { processed: autoRetries }, delaySeconds };
    }
    const current = delivery?.attempts.find((each) => each.attempt === attempt);
    return {
      done: true,
      result: {
        messageId,
        attempt,
        status: current?.status ?? null,
        providerMessageId: current?.providerMessageId ?? null,
        error: current?.error ?? null,
      },
      progress: { processed: autoRetries },
    };
  },
  onFailed: deliverMessageFailed,
};
