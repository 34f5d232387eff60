import * as z from 'zod';
import { JobFailure, type JobDeps, type JobKindDefinition } from '../jobs/job-kind';
import { findSegment } from '../segments/segments.service';
import type { Qualifier } from '../shared/ports';
import {
  classifyConversation,
  latestConversationOf,
  segmentMembersPage,
  type ClassifyDeps,
  type ClassifyOutcome,
} from './classify.service';
import { classifyJobInput, type ClassifyJobInput } from './qualification.schemas';
import { QualifierError } from './qualifier-error';

export type ClassifyJobDeps = JobDeps & { qualifier: Qualifier };

/** Members read per page of a segment: a page's classifications (a model call each) fit well inside one run. */
export const classifySegmentSettings = { pageSize: 10 };

const cursorSchema = z.object({
  /** The members' ElectroDB cursor after the last page done; null: from the start. */
  members: z.string().nullable(),
  processed: z.number().int(),
  classified: z.number().int(),
  keptManual: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  kinds: z.record(z.string(), z.number().int()),
});
type ClassifyCursor = z.infer<typeof cursorSchema>;

/**
 * Runs the classifier on one conversation; its failures become the job's: a passing one (throttling,
 * a timeout) throws for SQS to retry the run, a lasting one fails the job now.
 */
async function classifyOrFail(
  deps: ClassifyDeps,
  workspaceId: string,
  conversationId: string,
  options: Parameters<typeof classifyConversation>[3],
) {
  try {
    return await classifyConversation(deps, workspaceId, conversationId, options);
  } catch (error) {
    if (error instanceof QualifierError && !error.retryable) throw new JobFailure(error.code, error.message);
    throw error;
  }
}

/**
 * `classify_conversation`: asks the Qualifier port about one conversation (on request, or after
 * inbound messages) and writes its answer with source `ai`; or, for a segment, about the latest
 * conversation of each member, a page of members at a time, continuing itself from the members'
 * cursor. In a segment, a conversation the classifier answers nonsense for is counted `failed` and
 * the job goes on; a refusal (no access to the model) fails the job. A page run twice (a redelivered
 * message) classifies its conversations again: one more history item each, the same latest value.
 */
export const classifyConversationJob: JobKindDefinition<ClassifyJobInput, ClassifyCursor, Record<string, unknown>> = {
  kind: 'classify_conversation',
  queue: 'classify_conversation',
  inputSchema: classifyJobInput,
  async step(deps, job, control) {
    const classifyDeps = deps as ClassifyJobDeps;
    const input = job.input;
    if (input.mode === 'conversation') {
      const outcome = await classifyOrFail(classifyDeps, job.workspaceId, input.conversationId, input);
      return { done: true, result: { ...outcome, trigger: input.trigger }, progress: { processed: 1, total: 1 } };
    }
    const segment = await findSegment(deps, job.workspaceId, input.segmentId, true);
    if (!segment) throw new JobFailure('segment_gone', 'The segment was deleted before its members were classified');
    let cursor: ClassifyCursor = job.cursor
      ? cursorSchema.parse(job.cursor)
      : { members: null, processed: 0, classified: 0, keptManual: 0, skipped: 0, failed: 0, kinds: {} };
    for (;;) {
      const page = await segmentMembersPage(deps, job.workspaceId, input.segmentId, cursor.members, classifySegmentSettings.pageSize);
      const counts = { ...cursor, kinds: { ...cursor.kinds } };
      for (const contactId of page.contactIds) {
        counts.processed += 1;
        const conversationId = await latestConversationOf(deps, job.workspaceId, contactId);
        if (!conversationId) {
          counts.skipped += 1;
          continue;
        }
        const outcome = await classifyMember(classifyDeps, job.workspaceId, conversationId, input);
        if (outcome === 'failed') counts.failed += 1;
        else if (outcome.status === 'skipped') counts.skipped += 1;
        else {
          counts.classified += 1;
          if (outcome.conversation === 'kept_manual') counts.keptManual += 1;
          counts.kinds[outcome.kind] = (counts.kinds[outcome.kind] ?? 0) + 1;
        }
      }
      cursor = { ...counts, members: page.next };
      const progress = { processed: cursor.processed, total: Math.max(segment.memberCount, cursor.processed) };
      if (!page.next) {
        const { members: _members, ...result } = cursor;
        return { done: true, result: { segmentId: input.segmentId, ...result }, progress: { processed: cursor.processed, total: cursor.processed } };
      }
      if (control.deadlineReached()) return { done: false, cursor, progress };
      await control.saveProgress(cursor, progress);
    }
  },
};

/** One member's conversation: an answer that is no classification is counted, not fatal to the whole segment. */
async function classifyMember(
  deps: ClassifyDeps,
  workspaceId: string,
  conversationId: string,
  input: Extract<ClassifyJobInput, { mode: 'segment' }>,
): Promise<ClassifyOutcome | 'failed'> {
  try {
    return await classifyOrFail(deps, workspaceId, conversationId, input);
  } catch (error) {
    if (error instanceof JobFailure && error.code === 'classification_invalid') return 'failed';
    throw error;
  }
}
