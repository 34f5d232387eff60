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

/** The guard scope of group upgrades (value: `<connection>:<supergroup id>`; owner: the group's earlier id). */
export const groupMigrationScope = 'telegram-group-migration';

const migrationGuard = (workspaceId: string, connectionId: string, toChatId: string) => ({
  workspaceId,
  scope: groupMigrationScope,
  value: `${connectionId}:${toChatId}`,
});

/** Records that a group now goes by another id (once; a repeat changes nothing). */
export async function recordGroupMigration(
  deps: CoreDeps,
  workspaceId: string,
  connectionId: string,
  move: { fromChatId: string; toChatId: string },
): Promise<void> {
  await deps.db.entities.uniqueGuard
    .put({ ...migrationGuard(workspaceId, connectionId, move.toChatId), ownerId: move.fromChatId, createdAt: deps.clock.nowIso() })
    .go();
}

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
  const owner = data?.ownerId ?? (await threadBeforeMigration(deps, key, group));
  return owner
    ? { thread: 'existing', conversationId: owner, subject, keepLatest: true }
    : { thread: 'new', subject, keepLatest: true };
}

/** A group upgraded to a supergroup: the sender's thread under the group's earlier id, if any. */
async function threadBeforeMigration(deps: CoreDeps, key: ReturnType<typeof groupThreadGuard>, group: GroupChat) {
  const [connectionId] = key.value.split(':');
  const { data: moved } = await deps.db.entities.uniqueGuard
    .get(migrationGuard(key.workspaceId, connectionId!, group.id))
    .go({ consistent: true });
  if (!moved) return undefined;
  const senderValue = key.value.slice(`${connectionId}:${group.id}:`.length);
  const { data } = await deps.db.entities.uniqueGuard
    .get(groupThreadGuard(key.workspaceId, connectionId!, { id: moved.ownerId, title: group.title }, senderValue))
    .go({ consistent: true });
  return data?.ownerId;
}

/** Written with the message: the group thread names the conversation the message went to. */
export const groupThreadOp = (tx: TxEntities, key: ReturnType<typeof groupThreadGuard>, conversationId: string, at: string) =>
  tx.uniqueGuard.put({ ...key, ownerId: conversationId, createdAt: at }).commit();
