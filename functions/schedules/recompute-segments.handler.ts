import type { ScheduledEvent } from 'aws-lambda';
import { enqueueSegmentRecomputes } from '../../domain/segments/segments.service';
import { getCoreDeps } from '../shared/deps';
import { logger } from '../shared/logger';

/**
 * Every 15 minutes: a recompute job for each workspace with a dynamic segment that time alone moves
 * (relative dates) or that reads company fields; the stream keeps the others true as contacts change.
 */
export const handler = async (_event: ScheduledEvent): Promise<void> => {
  const workspaces = await enqueueSegmentRecomputes(getCoreDeps());
  if (workspaces.length > 0) logger.info('Segment recomputes queued', { workspaces: workspaces.length });
};
