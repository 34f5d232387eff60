import { botReplyJob, type BotReplyJobDeps } from '../../domain/bot/bot-reply.job';
import { classifyConversationJob, type ClassifyJobDeps } from '../../domain/qualification/classify-job';
import { getCoreDeps, getQualifier, getResponder, withBlobStore } from '../shared/deps';
import { createJobHandler } from './job-runner';

const deps = (): ClassifyJobDeps & BotReplyJobDeps => ({ ...withBlobStore(getCoreDeps()), qualifier: getQualifier(), responder: getResponder() });

/**
 * The model-call queue: `classify_conversation` jobs (the Qualifier's answer for a conversation, or for
 * each member of a segment, written with source `ai`) and `bot_reply` jobs (`alsoRuns`: the autoreply
 * bot's Responder on a contact's message), each message run as its job's kind.
 */
export const handler = createJobHandler<unknown, unknown, Record<string, unknown>>([classifyConversationJob, botReplyJob], {
  getDeps: deps,
  // Each record is mostly a wait on the model: side by side, a batch of five takes about one call's time.
  processInParallel: true,
});
