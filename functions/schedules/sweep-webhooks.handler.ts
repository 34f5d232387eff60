import type { ScheduledEvent } from 'aws-lambda';
import { sweepOverdueDeliveries } from '../../domain/webhooks/webhook-delivery.service';
import { getCoreDeps, getJobQueue } from '../shared/deps';
import { logger } from '../shared/logger';

/** Every minute: pending webhook deliveries whose message was lost (overdue past a grace) are sent again. */
export const handler = async (_event?: ScheduledEvent): Promise<void> => {
  const sent = await sweepOverdueDeliveries({ ...getCoreDeps(), queue: getJobQueue() });
  if (sent > 0) logger.info('Overdue webhook deliveries sent again', { sent });
};
