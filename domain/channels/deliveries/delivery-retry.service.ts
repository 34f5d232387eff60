import type { CallerContext } from '../../shared/context';
import { conflict, notFound, unprocessable } from '../../shared/errors';
import { assertCanReply, readConversation } from '../../inbox/conversations.service';
import { toMessage, type MessageItem } from '../../inbox/messages.service';
import type { Message } from '../../inbox/messages.schemas';
import { createJobOp, newJobItem } from '../../jobs/jobs.service';
import { beginManualRetry, findDeliveredMessage } from './deliveries.service';
import { deliverAttempt, type DeliveryDeps } from './delivery-sender';

/**
 * The retry job's first dispatch waits this long: the route makes the provider call itself, and the job
 * is only the safety net for a call the route could not finish (it then finds the attempt still queued).
 */
export const retrySafetyNetSeconds = 60;

/**
 * Seed 001 Delivery.retry(), a user's retry that really resends (not Chatwoot's "mark it sent"): only a
 * failed delivery (else 409 `delivery_not_failed`; a note or an internal message has none: 422). One
 * transaction writes the new attempt (queued) and a `deliver_message` job delayed by
 * `retrySafetyNetSeconds`; then the route makes the provider call itself (the job step's own function)
 * and answers with the new attempt's real outcome: `sent` with the new provider id, `failed` with the
 * provider's error, or `queued` when the provider answered with a passing error (the job then retries).
 * The caller must be allowed to reply in the conversation.
 */
export async function retryMessageDelivery(
  deps: DeliveryDeps,
  caller: CallerContext,
  conversationId: string,
  messageId: string,
): Promise<Message> {
  const conversation = await readConversation(deps, caller, conversationId, true);
  assertCanReply(caller, conversation);
  const key = { workspaceId: caller.workspaceId, conversationId, messageId };
  const { data } = await deps.db.entities.message.get(key).go({ consistent: true });
  if (!data) throw notFound('Message');
  const item = data as MessageItem;
  if (item.note || item.channel === 'internal' || !item.delivery) {
    throw unprocessable('Only a message sent on an external channel has a delivery to retry', { reason: 'not_deliverable' });
  }
  const notFailed = (status: string) =>
    conflict('delivery_not_failed', `The delivery is ${status}: only a failed delivery is retried`, { deliveryStatus: status });
  if (item.delivery.status !== 'failed') throw notFailed(item.delivery.status);
  const attempt = item.delivery.attempt + 1;
  const job = newJobItem(deps, caller, {
    kind: 'deliver_message',
    input: { conversationId, messageId, attempt },
    delaySeconds: retrySafetyNetSeconds,
  });
  const written = await beginManualRetry(deps, key, caller.userId, job.jobId, (tx) => [createJobOp(tx, job)]);
  if (!written) throw notFound('Message');
  if (!written.retried) throw notFailed(written.message.delivery.status);
  try {
    await deliverAttempt(deps, key, written.message.delivery.attempt);
  } catch {
    // Not the provider's answer (a failure of ours on the way): the attempt stays queued and the job,
    // already written, makes the call when its delay has passed. The answer says `queued`.
  }
  const latest = await findDeliveredMessage(deps, key);
  return toMessage(latest ?? written.message);
}
