import { systemActor } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import type { JobItem } from '../jobs/job-record';
import { newJobItem } from '../jobs/jobs.service';
import type { ClassifyJobInput } from './qualification.schemas';

/**
 * Inbound messages classify their conversation, debounced: the first message of a quiet conversation
 * writes a `classify_conversation` job that runs `delaySeconds` later, and marks the conversation
 * (`classifyPendingUntil`) until then; messages arriving meanwhile find the mark and add nothing, since
 * the job reads the conversation's latest messages when it runs. So a burst is one job per window.
 * Tests shorten the window or turn it off.
 */
export const inboundClassificationSettings = { enabled: true, delaySeconds: 60 };

/**
 * What an inbound message at `at` adds to its conversation's write: nothing while a classification is
 * pending, else the job (written in the same transaction: the write is the enqueue) and the mark. The
 * mark rides on the conversation's version, so of two messages racing, the one that loses the race is
 * run again, finds the mark and writes no second job.
 */
export function inboundClassification(
  deps: Pick<CoreDeps, 'clock' | 'newId'>,
  conversation: { workspaceId: string; conversationId: string; kind: string; classifyPendingUntil?: string },
  at: string,
): { job: JobItem; pendingUntil: string } | undefined {
  const { enabled, delaySeconds } = inboundClassificationSettings;
  if (!enabled || conversation.kind !== 'contact') return undefined;
  if (conversation.classifyPendingUntil && conversation.classifyPendingUntil > at) return undefined;
  const input: ClassifyJobInput = {
    mode: 'conversation',
    conversationId: conversation.conversationId,
    contact: false,
    trigger: 'inbound',
    requestedAt: at,
  };
  const job = newJobItem(deps, systemActor(conversation.workspaceId), { kind: 'classify_conversation', input, total: 1, delaySeconds });
  return { job, pendingUntil: new Date(Date.parse(at) + delaySeconds * 1000).toISOString() };
}
