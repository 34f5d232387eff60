import type { Context, ScheduledEvent } from 'aws-lambda';
import { wakeSnoozedConversations } from '../../domain/inbox/conversations.service';
import { getCoreDeps } from '../shared/deps';
import { logger } from '../shared/logger';

/** Conversations per Query and run of wakeSnoozedConversations (tests lower it). */
export const wakeSnoozedSettings = { batch: 100 };
/** Stop taking new batches this long before the function's timeout. */
const reserveMs = 60_000;

/**
 * Every minute: the snoozed conversations whose time has come go back to `open` (cause `schedule`).
 * A full batch means more may be due: it goes on while the function has time; the rest wait a minute.
 */
export const handler = async (_event: ScheduledEvent, context?: Context): Promise<void> => {
  const deps = getCoreDeps();
  const { batch } = wakeSnoozedSettings;
  const remainingMs = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
  let total = 0;
  let woken: number;
  do {
    woken = await wakeSnoozedConversations(deps, batch);
    total += woken;
  } while (woken === batch && remainingMs() > reserveMs);
  if (total > 0) logger.info('Snoozed conversations woken', { woken: total });
};
