/**
 * Channel choice (issue 14, seed 000: "when sending a message, automation picks a channel + credential;
 * the channel maps to the matching contact on that customer"). A send names a contact (or a conversation,
 * whose channel is fixed) and may name the channel, the connection and the value; what it leaves out is
 * chosen here, and the choice with its reasons is recorded on the message (`routing`).
 *
 * - Channel: the one named (`explicit`), else the channel the contact last wrote on (`last_inbound`: their
 *   conversations' latest inbound message) while the workspace has an active connection for it and the
 *   contact a value on it, else the first channel of the workspace preference order the contact has a
 *   value on and the workspace has an active connection for (`preference_order`).
 * - Connection: the one named (it must serve the channel's kind, be active, be the workspace's), else the
 *   workspace's oldest active connection of that kind.
 * - Value: the one named (one of the contact's values on the channel), else the value they last wrote
 *   from (the latest inbound message's `payload.from`, or a Telegram webhook's `payload.provider.chatId`),
 *   else the primary value on the channel (or its first). WhatsApp to a contact with no WhatsApp value
 *   goes to their phone number (the WhatsApp id of a number is the number).
 * Refusals are 422 `unprocessable` with a `reason`: `contact_suppressed`, `no_channel_value`,
 * `channel_not_connected`, `connection_not_usable`, `not_a_contact_value`, `whatsapp_window_closed`.
 */
import type { ChannelKind } from '../../contacts/channels';
import { normaliseChannelValue } from '../../contacts/channels';
import type { ContactItem } from '../../contacts/contact-record';
import type { CoreDeps } from '../../shared/deps';
import { DomainError, unprocessable } from '../../shared/errors';
import type { ConversationItem } from '../../inbox/conversation-record';
import { contactConversationsList } from '../../inbox/conversation-record';
import type { Conversation } from '../../inbox/conversations.schemas';
import { isDeliverable, type DeliverableChannel } from '../../inbox/inbox.entity';
import type { ChannelConnectionItem } from '../connections/channel-connections.service';

/** The workspace's channel preference order when the contact never wrote (a constant for now). */
export const channelPreferenceOrder: readonly DeliverableChannel[] = ['email', 'whatsapp', 'telegram', 'sms'];

/** How long after the contact's last message WhatsApp takes free-form messages (the customer service window). */
export const whatsappWindowMs = 24 * 60 * 60 * 1000;

export const routingReasons = ['explicit', 'last_inbound', 'primary', 'preference_order'] as const;
export type RoutingReason = (typeof routingReasons)[number];

/** What is recorded on the message (`routing`). */
export interface MessageRouting {
  channel: DeliverableChannel;
  connectionId: string;
  /** The contact's value it goes to (canonical). */
  to: string;
  /**
   * Why this destination: `explicit` (the channel, or in a conversation the value, was named),
   * `last_inbound` (where the contact last wrote), `primary` (the contact's primary value on the
   * conversation's channel), `preference_order` (the workspace's order, the contact never wrote).
   */
  reason: RoutingReason;
  /** Each part's own reason. */
  choices: {
    channel: RoutingReason | 'conversation';
    connection: 'explicit' | 'oldest_active';
    to: 'explicit' | 'last_inbound' | 'primary';
  };
}

export interface RouteRequest {
  channel?: DeliverableChannel | undefined;
  connectionId?: string | undefined;
  to?: string | undefined;
}

export interface ChosenRoute {
  routing: MessageRouting;
  connection: ChannelConnectionItem;
}

/** The contact channel kind an inbox channel reaches (an SMS goes to a phone number). */
export const contactKindOf = (channel: DeliverableChannel): ChannelKind => (channel === 'sms' ? 'phone' : channel);

const refuse = (why: string, reason: string, details: Record<string, unknown> = {}) =>
  unprocessable(why, { reason, ...details });

/** The workspace's connections (one Query: a workspace has a handful), oldest first. */
async function workspaceConnections(deps: CoreDeps, workspaceId: string): Promise<ChannelConnectionItem[]> {
  const { data } = await deps.db.entities.channelConnection.query.byWorkspace({ workspaceId }).go({ pages: 'all' });
  return data as ChannelConnectionItem[];
}

/**
 * The contact's values of the channel's own kind, primary first. Telegram: only chat ids (a bot
 * cannot open a chat with an @username; ingest keeps the username as an alternate value).
 */
const heldValuesOn = (contact: ContactItem, channel: DeliverableChannel) =>
  contact.channels
    .filter((item) => item.kind === contactKindOf(channel) && (channel !== 'telegram' || /^-?\d+$/.test(item.normalized)))
    .sort((a, b) => Number(b.primary) - Number(a.primary));

/**
 * The contact's values a message can go to on a channel: those of its kind, else, on WhatsApp, their
 * phone numbers (the WhatsApp id of a number is the number; their reply from it adds it as their
 * WhatsApp value, inbound/shared-number.ts).
 */
const valuesOn = (contact: ContactItem, channel: DeliverableChannel) => {
  const held = heldValuesOn(contact, channel);
  return held.length === 0 && channel === 'whatsapp' ? heldValuesOn(contact, 'sms') : held;
};

/** When the contact last wrote in a conversation: its `lastInboundAt`, or its latest message's time when that is theirs. */
export const lastInboundOf = (conversation: Pick<Conversation, 'lastMessage'> & { lastInboundAt?: string | null }) =>
  conversation.lastInboundAt ?? (conversation.lastMessage?.authorKind === 'contact' ? conversation.lastMessage.createdAt : null);

/** The contact's conversations on external channels, from their list (one Query, newest activity first). */
export async function contactConversations(deps: CoreDeps, workspaceId: string, contactId: string): Promise<Conversation[]> {
  const { data } = await deps.db.entities.conversationListEntry.query
    .byActivity({ workspaceId, list: contactConversationsList(contactId) })
    .go({ order: 'desc', limit: 100, pages: 1 });
  return (data as { conversation: Conversation }[]).map((entry) => entry.conversation).filter((item) => item.channel !== 'internal');
}

/** The channel the contact last wrote on, from their conversations; undefined when they never wrote. */
function lastInboundChannel(conversations: Conversation[]): DeliverableChannel | undefined {
  let best: { channel: DeliverableChannel; at: string } | undefined;
  for (const conversation of conversations) {
    // A channel nothing is sent on (LinkedIn: logged only) is no route back to them.
    if (!isDeliverable(conversation.channel)) continue;
    const at = lastInboundOf(conversation);
    if (at && (!best || at > best.at)) best = { channel: conversation.channel as DeliverableChannel, at };
  }
  return best?.channel;
}

/** The value the contact last wrote from in a conversation: the latest inbound message's `payload.from`, normalised. */
async function lastInboundValue(
  deps: CoreDeps,
  conversation: Pick<ConversationItem, 'workspaceId' | 'conversationId'>,
  channel: DeliverableChannel,
): Promise<string | undefined> {
  const { data } = await deps.db.entities.message.query
    .byConversation({ workspaceId: conversation.workspaceId, conversationId: conversation.conversationId })
    .go({ order: 'desc', limit: 25, pages: 1 });
  const inbound = (data as { authorKind: string; payload?: Record<string, unknown> }[]).find((item) => item.authorKind === 'contact');
  // The sender's value is not stored on the message: `payload.from` when the source put it there, a
  // Telegram webhook's chat id (`payload.provider.chatId`, the value a bot writes to).
  const from = inbound?.payload?.from ?? (inbound?.payload?.provider as { chatId?: unknown } | undefined)?.chatId;
  if (typeof from !== 'string' && typeof from !== 'number') return undefined;
  try {
    return normaliseChannelValue(contactKindOf(channel), String(from)).normalized;
  } catch {
    return undefined;
  }
}

/**
 * The connection for a channel: the one named (the workspace's, of that kind, active), else the oldest
 * active one of that kind.
 */
function chooseConnection(
  connections: ChannelConnectionItem[],
  channel: DeliverableChannel,
  connectionId: string | undefined,
): { connection: ChannelConnectionItem; reason: 'explicit' | 'oldest_active' } {
  if (connectionId) {
    const named = connections.find((item) => item.connectionId === connectionId);
    if (!named) throw refuse('No channel connection with this id in the workspace', 'connection_not_usable', { connectionId });
    if (named.kind !== channel) {
      throw refuse(`This connection serves ${named.kind}, not ${channel}`, 'connection_not_usable', { connectionId, kind: named.kind });
    }
    if (named.status !== 'active') throw refuse('This connection is disconnected', 'connection_not_usable', { connectionId });
    return { connection: named, reason: 'explicit' };
  }
  const active = connections
    .filter((item) => item.kind === channel && item.status === 'active')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.connectionId.localeCompare(b.connectionId));
  if (!active[0]) {
    throw refuse(
      `The ${channel} channel is not connected to this workspace yet: only internal notes can be written in this conversation`,
      'channel_not_connected',
      { channel },
    );
  }
  return { connection: active[0], reason: 'oldest_active' };
}

/** The contact may receive outbound messages. */
export function assertReachable(contact: Pick<ContactItem, 'suppressed' | 'suppressedReason'>) {
  if (contact.suppressed) {
    throw refuse('The contact is suppressed: no message is sent to them', 'contact_suppressed', {
      suppressedReason: contact.suppressedReason ?? null,
    });
  }
}

/** The value on the channel: the one named, else the one they last wrote from, else the primary. */
async function chooseValue(
  deps: CoreDeps,
  contact: ContactItem,
  channel: DeliverableChannel,
  to: string | undefined,
  conversation: Pick<ConversationItem, 'workspaceId' | 'conversationId'> | undefined,
  wrote: boolean,
): Promise<{ to: string; reason: 'explicit' | 'last_inbound' | 'primary' }> {
  const values = valuesOn(contact, channel);
  if (values.length === 0) {
    const kinds = channel === 'whatsapp' ? 'whatsapp or phone' : contactKindOf(channel);
    throw refuse(`The contact has no ${kinds} value to send a ${channel} message to`, 'no_channel_value', { channel });
  }
  if (to !== undefined) {
    let normalized: string | undefined;
    try {
      normalized = normaliseChannelValue(contactKindOf(channel), to).normalized;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
    const match = values.find((item) => item.normalized === normalized);
    if (!match) throw refuse(`\`to\` is not one of the contact's ${contactKindOf(channel)} values`, 'not_a_contact_value', { channel });
    return { to: match.normalized, reason: 'explicit' };
  }
  if (wrote && conversation && values.length > 1) {
    const last = await lastInboundValue(deps, conversation, channel);
    const match = last ? values.find((item) => item.normalized === last) : undefined;
    if (match) return { to: match.normalized, reason: 'last_inbound' };
  }
  return { to: values[0]!.normalized, reason: 'primary' };
}

/** WhatsApp takes free-form messages within 24 hours of the contact's last message; the window as the API shows it. */
export function whatsappWindow(lastInboundAt: string | null | undefined, nowMs: number) {
  if (!lastInboundAt) return { open: false, closesAt: null, reason: 'no_inbound_message' as const };
  const closesAt = new Date(Date.parse(lastInboundAt) + whatsappWindowMs).toISOString();
  return Date.parse(closesAt) > nowMs
    ? { open: true, closesAt, reason: 'contact_wrote_within_24h' as const }
    : { open: false, closesAt, reason: 'window_expired' as const };
}

/** WhatsApp free-form text outside the window: 422 `whatsapp_window_closed` with `closedAt` (null: they never wrote). */
export function assertWhatsappWindow(lastInboundAt: string | null | undefined, nowMs: number) {
  const window = whatsappWindow(lastInboundAt, nowMs);
  if (window.open) return;
  throw refuse(
    window.closesAt
      ? 'The contact last wrote more than 24 hours ago: WhatsApp takes only template messages outside that window'
      : 'The contact never wrote on WhatsApp: WhatsApp takes only template messages until they do',
    'whatsapp_window_closed',
    { closedAt: window.closesAt },
  );
}

/**
 * The route of a message in an existing conversation (its channel fixed): the contact reachable, the
 * connection, the value, and the WhatsApp window. Throws the 422 refusals.
 */
export async function routeInConversation(
  deps: CoreDeps,
  contact: ContactItem,
  conversation: ConversationItem & { lastInboundAt?: string },
  request: Omit<RouteRequest, 'channel'>,
): Promise<ChosenRoute> {
  const channel = conversation.channel as DeliverableChannel;
  assertReachable(contact);
  const { connection, reason: connectionReason } = chooseConnection(
    await workspaceConnections(deps, contact.workspaceId),
    channel,
    request.connectionId,
  );
  const lastInboundAt = lastInboundOf({ lastMessage: conversation.lastMessage ?? null, lastInboundAt: conversation.lastInboundAt ?? null });
  const value = await chooseValue(deps, contact, channel, request.to, conversation, lastInboundAt !== null);
  if (channel === 'whatsapp') assertWhatsappWindow(lastInboundAt, deps.clock.nowMs());
  return {
    connection,
    routing: {
      channel,
      connectionId: connection.connectionId,
      to: value.to,
      reason: value.reason,
      choices: { channel: 'conversation', connection: connectionReason, to: value.reason },
    },
  };
}

/**
 * The channel for a send that names only the contact: the one named, else where they last wrote (while
 * it is connected and they have a value on it), else the preference order (the first channel they have
 * a value on with an active connection). WhatsApp outside its 24-hour window is passed over while
 * another channel is usable.
 */
export async function chooseChannel(
  deps: CoreDeps,
  contact: ContactItem,
  request: RouteRequest,
): Promise<{ channel: DeliverableChannel; reason: RoutingReason }> {
  assertReachable(contact);
  if (request.channel) return { channel: request.channel, reason: 'explicit' };
  const [conversations, connections] = await Promise.all([
    contactConversations(deps, contact.workspaceId, contact.contactId),
    workspaceConnections(deps, contact.workspaceId),
  ]);
  const connected = (channel: DeliverableChannel) => connections.some((item) => item.kind === channel && item.status === 'active');
  // WhatsApp takes free-form text only within 24 hours of the contact's last message there: outside
  // that window it is passed over for a channel that will take the message.
  const nowMs = deps.clock.nowMs();
  const whatsappOpen = conversations.some(
    (conversation) => conversation.channel === 'whatsapp' && whatsappWindow(lastInboundOf(conversation), nowMs).open,
  );
  const reachable = (channel: DeliverableChannel) => connected(channel) && (channel !== 'whatsapp' || whatsappOpen);
  // Where they last wrote, while it still reaches them; else the preference order, as if they never wrote.
  const last = lastInboundChannel(conversations);
  if (last && reachable(last) && valuesOn(contact, last).length > 0) return { channel: last, reason: 'last_inbound' };
  // Values of each channel's own kind: a phone number alone would make WhatsApp first, which takes no
  // free-form first message (only templates), where SMS would go.
  const withValue = channelPreferenceOrder.filter((channel) => heldValuesOn(contact, channel).length > 0);
  if (withValue.length === 0) {
    throw refuse('The contact has no value on any channel the workspace sends on', 'no_channel_value', { channel: null });
  }
  // WhatsApp with its window closed only when nothing else is connected (its send then says why: 422).
  const usable = withValue.find(reachable) ?? withValue.find(connected);
  if (!usable) {
    throw refuse(`None of the contact's channels (${withValue.join(', ')}) is connected to this workspace`, 'channel_not_connected', {
      channel: withValue[0],
    });
  }
  return { channel: usable, reason: 'preference_order' };
}

/** The routing of a contact send once its conversation is known: the channel's reason kept, the rest chosen in it. */
export function withChannelReason(route: ChosenRoute, reason: RoutingReason): ChosenRoute {
  return {
    ...route,
    routing: {
      ...route.routing,
      reason,
      choices: { ...route.routing.choices, channel: reason },
    },
  };
}

/**
 * The route of a phone call from a contact conversation (seed 001 ChannelAdapter.startCall): the SMS
 * (Twilio) connection named, else the oldest active one, and the contact's phone number (the one named,
 * else the one they last wrote from on an SMS thread, else their primary). Throws the 422 refusals.
 */
export async function routePhoneCall(
  deps: CoreDeps,
  contact: ContactItem,
  conversation: ConversationItem & { lastInboundAt?: string },
  request: { to?: string | undefined; connectionId?: string | undefined },
): Promise<{ connection: ChannelConnectionItem; to: string }> {
  assertReachable(contact);
  const { connection } = chooseConnection(await workspaceConnections(deps, contact.workspaceId), 'sms', request.connectionId);
  const wrote =
    conversation.channel === 'sms' &&
    lastInboundOf({ lastMessage: conversation.lastMessage ?? null, lastInboundAt: conversation.lastInboundAt ?? null }) !== null;
  const value = await chooseValue(deps, contact, 'sms', request.to, conversation, wrote);
  return { connection, to: value.to };
}
