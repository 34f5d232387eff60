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
  let run: Awaited<ReturnType<typeof wakeSnoozedConversations>>;
  do {
    run = await wakeSnoozedConversations(deps, batch);
    total += run.woken;
    for (const failure of run.failed) {
      logger.error('A snoozed conversation could not be woken', {
        workspaceId: failure.workspaceId,
        conversationId: failure.conversationId,
        error: failure.error as Error,
      });
    }
    // A full batch of which some woke: more may be due. (A batch that all failed would only repeat itself.)
  } while (run.due === batch && run.woken > 0 && remainingMs() > reserveMs);
  if (total > 0) logger.info('Snoozed conversations woken', { woken: total });
};
