import { segmentMembershipJob } from '../../domain/segments/segment-job';
import { createJobHandler } from './job-runner';

/** `segment_membership` jobs: a rule applied to every contact, a scheduled recompute, a deleted segment's members taken out. */
export const handler = createJobHandler(segmentMembershipJob);
