/**
 * A contact who writes to the bot in a Telegram group (or supergroup) gets one conversation per group,
 * apart from their private one: what they say in front of others stays in that thread (its subject the
 * group's title), and their private conversation stays their latest (`keepLatest`), so a send to the
 * contact and their next private message go there. A reply goes to the contact privately from either
 * thread (channel-routing: the group's id is no value of the contact's). A `telegram-group` guard maps
 * connection, group and sender to the conversation.
 *
 * Sources: https://core.telegram.org/bots/api#chat (`type` private, group, supergroup or channel;
 * `title` for groups) and #message (`from` the user, `chat` the group, negative ids for groups).
 */
import type { CoreDeps } from '../../shared/deps';
import type { InboundThread } from '../../inbox/messages.service';
import type { TxEntities } from '../../store/db';
import type { GroupChat } from '../inbound-events';

/** The guard scope of group threads (value: `<connection>:<group chat id>:<sender>`; owner: the conversation id). */
export const groupThreadScope = 'telegram-group';

export const groupThreadGuard = (workspaceId: string, connectionId: string, group: GroupChat, senderValue: string) => ({
  workspaceId,
  scope: groupThreadScope,
  value: `${connectionId}:${group.id}:${senderValue}`,
});

/** A conversation's subject is at most 300 characters (conversations.schemas). */
const subjectOf = (group: GroupChat) => `${group.title?.trim() || group.id} (Telegram group)`.slice(0, 300);

/** The sender's conversation for this group: the one the guard names, else a new one that leaves their latest alone. */
export async function groupThread(
  deps: CoreDeps,
  key: ReturnType<typeof groupThreadGuard>,
  group: GroupChat,
): Promise<InboundThread> {
  const { data } = await deps.db.entities.uniqueGuard.get(key).go({ consistent: true });
  const subject = subjectOf(group);
  return data
    ? { thread: 'existing', conversationId: data.ownerId, subject, keepLatest: true }
    : { thread: 'new', subject, keepLatest: true };
}

/** Written with the message: the group thread names the conversation the message went to. */
export const groupThreadOp = (tx: TxEntities, key: ReturnType<typeof groupThreadGuard>, conversationId: string, at: string) =>
  tx.uniqueGuard.put({ ...key, ownerId: conversationId, createdAt: at }).commit();
