import { systemActor } from '../shared/context';
import type { EventRecord } from '../../events/event-log';

/** The figures of seed 001 Event.performance(), per user and day, summed over a period when read. */
export const performanceFigures = [
  'messagesSent',
  'repliesReceived',
  'dealsCreated',
  'dealsWon',
  'dealsLost',
  'tasksCompleted',
  'contactsClaimed',
] as const;
export type PerformanceFigure = (typeof performanceFigures)[number];

/** Won value per currency is the figure `wonValue:<currency>`, in minor units. */
export const wonValueFigure = (currency: string) => `wonValue:${currency}`;

export interface PerformanceCredit {
  userId: string;
  figures: Record<string, number>;
  firstResponseSeconds?: number;
  /** When it counts, if not at the event's time (a reopened deal's win is taken back where it was counted). */
  at?: string;
}

const messagingChannels = ['email', 'linkedin', 'telegram', 'sms', 'whatsapp'];
// A user's message to colleagues (`internal.sent`) is not a message sent to a contact.
const sentTypes = new Set(messagingChannels.map((channel) => `${channel}.sent`));
const repliedTypes = new Set(messagingChannels.map((channel) => `${channel}.replied`));

interface Payload {
  previousStatus?: 'won' | 'lost';
  closedAt?: string | null;
  firstResponseSeconds?: number | null;
  assigneeId?: string | null;
  ownerId?: string | null;
  value?: number | null;
  currency?: string | null;
}

/**
 * Whom an event credits, with what. The user credited is the one whose work it was, not always the
 * actor: a reply received goes to the conversation's assignee, a deal won or lost to the deal's owner,
 * a completed task to its assignee, a claimed contact to its new owner (also when an admin assigned
 * it). The system is never credited.
 */
export function performanceCredits(event: EventRecord): PerformanceCredit[] {
  const payload = (event.payload ?? {}) as Payload;
  const credit = (userId: string | null | undefined, figures: Record<string, number>, firstResponseSeconds?: number) =>
    userId && userId !== systemUserId ? [{ userId, figures, ...(firstResponseSeconds !== undefined ? { firstResponseSeconds } : {}) }] : [];
  if (sentTypes.has(event.type)) {
    return credit(event.actorUserId, { messagesSent: 1 }, payload.firstResponseSeconds ?? undefined);
  }
  if (repliedTypes.has(event.type)) return credit(payload.assigneeId, { repliesReceived: 1 });
  switch (event.type) {
    case 'deal.created':
      return credit(event.actorUserId, { dealsCreated: 1 });
    case 'deal.won':
      return credit(payload.ownerId ?? event.actorUserId, {
        dealsWon: 1,
        ...(payload.value != null && payload.currency ? { [wonValueFigure(payload.currency)]: payload.value } : {}),
      });
    case 'deal.lost':
      return credit(payload.ownerId ?? event.actorUserId, { dealsLost: 1 });
    case 'deal.reopened': {
      // Taken back on the day the win or loss was counted (deals closed before this field existed: today).
      const at = payload.closedAt ?? undefined;
      const figures: Record<string, number> =
        payload.previousStatus === 'won'
          ? {
              dealsWon: -1,
              ...(payload.value != null && payload.currency ? { [wonValueFigure(payload.currency)]: -payload.value } : {}),
            }
          : { dealsLost: -1 };
      return credit(payload.ownerId ?? event.actorUserId, figures).map((entry) => ({ ...entry, ...(at ? { at } : {}) }));
    }
    case 'task.completed':
      return credit(payload.assigneeId ?? event.actorUserId, { tasksCompleted: 1 });
    case 'owner.claimed':
      return credit(payload.ownerId, { contactsClaimed: 1 });
    default:
      return [];
  }
}

const systemUserId = systemActor('').userId;
