import type { CallerContext } from '../shared/context';
import type { ConversationItem } from './conversation-record';

/**
 * Everyone in the workspace reads contact conversations; a direct conversation is its users' only.
 * A module of its own (no runtime imports) so that the anchors of tasks can apply the same rule.
 */
export const canRead = (caller: CallerContext, item: Pick<ConversationItem, 'kind' | 'participants'>) =>
  item.kind === 'contact' ||
  item.participants.some(
    (participant) => participant.actorKind === 'user' && participant.id === caller.userId,
  ) ||
  caller.userId === 'system';
