import type { Context, ScheduledEvent } from 'aws-lambda';
import { runAssignmentPass } from '../../domain/assignment/assignment.service';
import { getCoreDeps } from '../shared/deps';
import { logger } from '../shared/logger';

/**
 * Every 5 minutes: the conversations waiting in assignment rules' queues (every user was at the cap)
 * go to whoever is below it now, oldest first; a bounded part of the queues per run, the next run going
 * on from where this one stopped.
 */
export const handler = async (_event: ScheduledEvent, context?: Context): Promise<void> => {
  const run = await runAssignmentPass(getCoreDeps(), () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY);
  for (const failure of run.failed) {
    logger.error('A queue of waiting conversations could not be served', {
      workspaceId: failure.workspaceId,
      ruleId: failure.ruleId,
      error: failure.error as Error,
    });
  }
  if (run.assigned > 0) logger.info('Waiting conversations assigned', { queues: run.queues, assigned: run.assigned });
};
