import { classifyConversationJob, type ClassifyJobDeps } from '../../domain/qualification/classify-job';
import { getCoreDeps, getQualifier, withBlobStore } from '../shared/deps';
import { createJobHandler } from './job-runner';

const deps = (): ClassifyJobDeps => ({ ...withBlobStore(getCoreDeps()), qualifier: getQualifier() });

/** `classify_conversation` jobs: the Qualifier's answer for a conversation, or for each member of a segment, written with source `ai`. */
export const handler = createJobHandler(classifyConversationJob, {
  getDeps: deps,
  // Each record is mostly a wait on the model: side by side, a batch of five takes about one call's time.
  processInParallel: true,
});
