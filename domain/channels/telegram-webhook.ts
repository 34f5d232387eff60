/**
 * Telegram Bot API webhooks: the `X-Telegram-Bot-Api-Secret-Token` check (Telegram does not sign the
 * body; it echoes the `secret_token` given to `setWebhook`) and the parsing of a verified `Update`
 * (or a list of them) into `InboundEvent`s: new messages, edits, and an `ignored` entry for the rest.
 *
 * Sources (Telegram's documentation):
 * - https://core.telegram.org/bots/api#setwebhook (`secret_token`: 1-256 characters `A-Z a-z 0-9 _ -`,
 *   sent back in the `X-Telegram-Bot-Api-Secret-Token` header of every webhook request)
 * - https://core.telegram.org/bots/api#update (`update_id`; at most one of `message`, `edited_message`,
 *   `channel_post`, `callback_query`, ... in an update)
 * - https://core.telegram.org/bots/api#message (`message_id`, `from`, `chat`, `date`, `edit_date`,
 *   `text`, `caption` (also of paid media), `photo` (sizes, largest last), `document`, `audio`, `voice`,
 *   `video`, `video_note`, `sticker`, `animation`, `location`, `venue`, `reply_to_message`; the kinds
 *   this inbox has no view of: `story` "a forwarded story", `paid_media`, `checklist`, `game`, `invoice`,
 *   `giveaway` "a scheduled giveaway message", `giveaway_winners`; the rest are service messages)
 * - https://core.telegram.org/bots/api#checklist (`title`, `tasks`) and #checklisttask (`text`,
 *   `completion_date`: 0 or absent when the task is not done), #game and #invoice (`title`),
 *   #giveaway (`prize_description`)
 * - https://core.telegram.org/bots/api#user and #chat (`id`, `first_name`, `last_name`, `username`)
 * - https://core.telegram.org/bots/api#chatmemberupdated (`my_chat_member`: in a private chat, the user
 *   blocked the bot, `new_chat_member.status` `kicked`, or unblocked it, `member`)
 *
 * The sender is the Telegram user id (what a contact's `telegram` channel holds), with the `@username`
 * as an alternate value; `chatId` is where replies go (the same id in a private chat).
 */
import * as z from 'zod';
import {
  ignored,
  isoFromUnixSeconds,
  partyOf,
  providerCount,
  type ChatMigratedEvent,
  type GroupChat,
  type InboundEditEvent,
  type InboundEvent,
  type InboundMessageEvent,
  type InboundParty,
  type MediaKind,
  type MediaReference,
} from './inbound-events';
import {
  accepted,
  bodyBytes,
  headerValue,
  refused,
  sameText,
  type RawBody,
  type RawHeaders,
  type SignatureCheck,
} from './webhook-signature';

export const telegramSecretHeader = 'X-Telegram-Bot-Api-Secret-Token';

/** The characters `setWebhook` allows in a secret token. */
export const telegramSecretTokenPattern = /^[A-Za-z0-9_-]{1,256}$/;

/** Checks `X-Telegram-Bot-Api-Secret-Token` against the connection's secret token, in constant time. */
export const verifyTelegramSecret = (headers: RawHeaders, secretToken: string): SignatureCheck => {
  const header = headerValue(headers, telegramSecretHeader);
  if (header === undefined) return refused('missing', `No ${telegramSecretHeader} header`);
  if (!telegramSecretTokenPattern.test(header)) {
    return refused('malformed', `${telegramSecretHeader} is not 1-256 characters of A-Z a-z 0-9 _ -`);
  }
  return sameText(header, secretToken)
    ? accepted
    : refused('mismatch', `${telegramSecretHeader} is not ours`);
};

// ---- payload schemas (only the fields we read) ----

const tgUser = z.object({
  id: z.number(),
  is_bot: z.boolean().optional(),
  first_name: z.string(),
  last_name: z.string().optional(),
  username: z.string().optional(),
});

const tgFile = z.object({
  file_id: z.string(),
  // Read leniently (providerCount): a size that is not a byte count is left out, the file kept.
  file_size: z.unknown().optional(),
  mime_type: z.string().optional(),
  file_name: z.string().optional(),
});

const tgLocation = z.object({ latitude: z.number(), longitude: z.number() });

/** A shared phone contact (https://core.telegram.org/bots/api#contact). */
const tgContact = z.object({
  phone_number: z.string(),
  first_name: z.string(),
  last_name: z.string().optional(),
  user_id: z.number().optional(),
});

/** A poll sent to the chat (https://core.telegram.org/bots/api#poll): its question and option texts. */
const tgPoll = z.object({
  question: z.string(),
  options: z.array(z.object({ text: z.string() })).default([]),
});

/** A Telegram `Message` (as sent in `message` and `edited_message`). */
export const telegramMessageSchema = z.object({
  message_id: z.number(),
  from: tgUser.optional(),
  chat: z.object({ id: z.number(), type: z.string(), title: z.string().optional() }),
  date: z.number(),
  edit_date: z.number().optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(tgFile).optional(),
  document: tgFile.optional(),
  audio: tgFile.optional(),
  voice: tgFile.optional(),
  video: tgFile.optional(),
  video_note: tgFile.optional(),
  sticker: tgFile.extend({ emoji: z.string().optional() }).optional(),
  animation: tgFile.optional(),
  location: tgLocation.optional(),
  venue: z.object({ location: tgLocation, title: z.string(), address: z.string() }).optional(),
  contact: tgContact.optional(),
  poll: tgPoll.optional(),
  dice: z.object({ emoji: z.string(), value: z.number() }).optional(),
  reply_to_message: z.object({ message_id: z.number() }).optional(),
  // Kinds this inbox has no view of, kept as Telegram sent them (read by `unviewableText`).
  story: z.unknown().optional(),
  paid_media: z.unknown().optional(),
  checklist: z.unknown().optional(),
  game: z.unknown().optional(),
  invoice: z.unknown().optional(),
  giveaway: z.unknown().optional(),
  giveaway_winners: z.unknown().optional(),
  // Sent on behalf of a chat (an anonymous group admin, a linked channel's automatic forward): `from`
  // is then a fake user kept for backward compatibility (#message), no person to make a contact of.
  sender_chat: z.object({ id: z.number() }).optional(),
  // A group upgraded to a supergroup: said in the old group (`migrate_to_chat_id`) and the new one.
  migrate_to_chat_id: z.number().optional(),
  migrate_from_chat_id: z.number().optional(),
});

/** A Telegram `Update`: its id and the one optional field it carries. */
export const telegramUpdateSchema = z.object({ update_id: z.number() }).catchall(z.unknown());

type TgMessage = z.infer<typeof telegramMessageSchema>;

const provider = 'telegram' as const;

/** The update kinds this webhook reads; the others are answered and ignored. The bot asks Telegram for these (`allowed_updates`). */
export const telegramHandledUpdates = ['message', 'edited_message', 'my_chat_member'] as const;

/**
 * Telegram numbers messages per chat, so a message is named by its chat and its number: `<chat id>:<message id>`
 * (the sender's receipt for an outbound message uses the same form, so a reply's context finds it).
 */
export const telegramProviderMessageId = (chatId: string | number, messageId: number) => `${chatId}:${messageId}`;

/** Parses a verified webhook body (one `Update`, or a list of them) into events, one per update. */
export const parseTelegramWebhook = (rawBody: RawBody): InboundEvent[] => {
  let json: unknown;
  try {
    json = JSON.parse(bodyBytes(rawBody).toString('utf8'));
  } catch {
    return [ignored(provider, 'malformed_json', 'The body is not JSON', null)];
  }
  return (Array.isArray(json) ? json : [json]).map(updateEvent);
};

const updateEvent = (item: unknown): InboundEvent => {
  const update = telegramUpdateSchema.safeParse(item);
  if (!update.success)
    return ignored(provider, 'unrecognised_payload', 'Not a Telegram update (no update_id)', item);
  const updateKey = `telegram:update:${update.data.update_id}`;
  const kind = Object.keys(update.data).find((key) => key !== 'update_id');
  if (kind === 'my_chat_member') return botMembership(update.data[kind], updateKey, item);
  if (kind !== 'message' && kind !== 'edited_message') {
    return ignored(provider, 'unsupported_update', `Update kind ${kind ?? '(none)'} is not handled`, item, [
      updateKey,
    ]);
  }
  const message = telegramMessageSchema.safeParse(update.data[kind]);
  if (!message.success) {
    return ignored(provider, 'invalid_item', `A ${kind} without message_id, chat or date`, item, [updateKey]);
  }
  const migration = chatMigration(message.data, updateKey);
  if (migration) return migration;
  return kind === 'message'
    ? newMessage(message.data, updateKey, item)
    : editedMessage(message.data, updateKey, item);
};

/**
 * The bot's own membership changed (https://core.telegram.org/bots/api#chatmemberupdated). In a private
 * chat Telegram sends it only when the user blocks the bot (new status `kicked`, a ChatMemberBanned) or
 * unblocks it (`member`); in a group it is the bot being added or removed, which no contact did.
 */
const tgBotMembership = z.object({
  chat: z.object({ id: z.number(), type: z.string() }),
  from: tgUser,
  date: z.number(),
  new_chat_member: z.object({ status: z.string() }),
});

const botMembership = (value: unknown, updateKey: string, item: unknown): InboundEvent => {
  const update = tgBotMembership.safeParse(value);
  if (!update.success) return ignored(provider, 'invalid_item', 'A my_chat_member without chat, from, date or status', item, [updateKey]);
  const { chat, from, date, new_chat_member: member } = update.data;
  if (chat.type !== 'private' || chat.id !== from.id)
    return ignored(provider, 'unsupported_update', `The bot's membership of a ${chat.type} chat changed`, item, [updateKey]);
  const blocked = member.status === 'kicked' ? true : member.status === 'member' ? false : undefined;
  if (blocked === undefined)
    return ignored(provider, 'unsupported_update', `The bot's status ${member.status} in a private chat`, item, [updateKey]);
  return {
    type: 'channel_block',
    provider,
    dedupeKeys: [updateKey],
    channel: 'telegram',
    value: String(from.id),
    blocked,
    at: isoFromUnixSeconds(date),
  };
};

/** The service message of a group's upgrade to a supergroup, as the move of its id. */
const chatMigration = (message: TgMessage, updateKey: string): ChatMigratedEvent | undefined => {
  const [fromChatId, toChatId] =
    message.migrate_to_chat_id !== undefined
      ? [message.chat.id, message.migrate_to_chat_id]
      : message.migrate_from_chat_id !== undefined
        ? [message.migrate_from_chat_id, message.chat.id]
        : [];
  if (fromChatId === undefined || toChatId === undefined) return undefined;
  return {
    type: 'chat_migrated',
    provider,
    dedupeKeys: [updateKey, `telegram:migration:${fromChatId}:${toChatId}`],
    fromChatId: String(fromChatId),
    toChatId: String(toChatId),
  };
};

/** The group a message was written in: any chat but the private one with the user (groups and supergroups). */
const groupChatOf = (message: TgMessage): GroupChat | undefined =>
  message.chat.type === 'private' ? undefined : { id: String(message.chat.id), title: message.chat.title ?? null };

const withGroup = (message: TgMessage) => {
  const groupChat = groupChatOf(message);
  return groupChat ? { groupChat } : {};
};

const senderOf = (message: TgMessage): InboundParty | null => {
  const user = message.from;
  if (!user || message.sender_chat) return null;
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ');
  return partyOf(
    'telegram',
    String(user.id),
    name,
    user.username ? [{ kind: 'telegram', raw: `@${user.username}` }] : [],
  );
};

const newMessage = (message: TgMessage, updateKey: string, item: unknown): InboundEvent => {
  const chatId = String(message.chat.id);
  const dedupeKeys = [updateKey, `telegram:message:${chatId}:${message.message_id}`];
  const from = senderOf(message);
  if (!from)
    return ignored(provider, 'unroutable_sender', 'A message without a user sender', item, dedupeKeys);
  const content = messageContent(message);
  if ('unsupported' in content)
    return ignored(provider, 'unsupported_content', content.unsupported, item, dedupeKeys);
  const event: InboundMessageEvent = {
    type: 'message',
    provider,
    channel: 'telegram',
    dedupeKeys,
    providerMessageId: telegramProviderMessageId(chatId, message.message_id),
    from,
    to: [],
    sentAt: isoFromUnixSeconds(message.date),
    text: content.text,
    media: content.media,
    ...(content.original ? { original: content.original } : {}),
    replyToProviderMessageId: message.reply_to_message ? telegramProviderMessageId(chatId, message.reply_to_message.message_id) : null,
    chatId,
    ...withGroup(message),
    email: null,
  };
  return event;
};

const editedMessage = (message: TgMessage, updateKey: string, item: unknown): InboundEvent => {
  const chatId = String(message.chat.id);
  // The edit time keeps two edits of one message apart; the message's own key would mark it a repeat.
  const dedupeKeys = [
    updateKey,
    `telegram:edit:${chatId}:${message.message_id}:${message.edit_date ?? message.date}`,
  ];
  const from = senderOf(message);
  if (!from) return ignored(provider, 'unroutable_sender', 'An edit without a user sender', item, dedupeKeys);
  const content = messageContent(message);
  if ('unsupported' in content)
    return ignored(provider, 'unsupported_content', content.unsupported, item, dedupeKeys);
  const event: InboundEditEvent = {
    type: 'message_edit',
    provider,
    channel: 'telegram',
    dedupeKeys,
    providerMessageId: telegramProviderMessageId(chatId, message.message_id),
    chatId,
    ...withGroup(message),
    from,
    text: content.text,
    media: content.media,
    editedAt: isoFromUnixSeconds(message.edit_date),
  };
  return event;
};

/** Message fields holding one file, with the media kind each is. */
const fileFields = [
  ['document', 'document'],
  ['audio', 'audio'],
  ['voice', 'voice'],
  ['video', 'video'],
  ['video_note', 'video'],
  ['sticker', 'sticker'],
  ['animation', 'animation'],
] as const satisfies readonly (readonly [keyof TgMessage, MediaKind])[];

/**
 * What a contact sent that this inbox has no view of (a story, paid media, a checklist, ...), in the
 * order they are looked for. Each is still their message: a text says what it is, Telegram's item is kept.
 */
const unviewableKinds = ['story', 'paid_media', 'checklist', 'game', 'invoice', 'giveaway', 'giveaway_winners'] as const;
type UnviewableKind = (typeof unviewableKinds)[number];

const tgChecklist = z.object({
  title: z.string(),
  tasks: z.array(z.object({ text: z.string(), completion_date: z.number().optional() })).default([]),
});
const tgTitled = z.object({ title: z.string() });
const tgGiveaway = z.object({ prize_description: z.string() });

/** The text an unviewable item is shown as; its details when Telegram's fields are there, else its kind alone. */
const unviewableText = (kind: UnviewableKind, item: unknown): string => {
  switch (kind) {
    case 'story':
      return '[Sent a story]';
    case 'paid_media':
      return '[Sent paid media]';
    case 'checklist': {
      const list = tgChecklist.safeParse(item);
      if (!list.success) return '[Sent a checklist]';
      // A task is done when it has a completion time (0 or absent: not done).
      const tasks = list.data.tasks.map((task) => `${(task.completion_date ?? 0) > 0 ? '[x]' : '[ ]'} ${task.text}`).join(' / ');
      return `Checklist: ${list.data.title}${tasks ? ` (${tasks})` : ''}`;
    }
    case 'game': {
      const game = tgTitled.safeParse(item);
      return game.success ? `[Sent a game: ${game.data.title}]` : '[Sent a game]';
    }
    case 'invoice': {
      const invoice = tgTitled.safeParse(item);
      return invoice.success ? `[Sent an invoice: ${invoice.data.title}]` : '[Sent an invoice]';
    }
    case 'giveaway': {
      const giveaway = tgGiveaway.safeParse(item);
      return giveaway.success ? `[Sent a giveaway: ${giveaway.data.prize_description}]` : '[Sent a giveaway]';
    }
    case 'giveaway_winners':
      return '[Announced a giveaway’s winners]';
  }
};

const messageContent = (
  message: TgMessage,
): { text: string; media: MediaReference[]; original?: { kind: string; item: unknown } } | { unsupported: string } => {
  const caption = message.caption ?? null;
  const media: MediaReference[] = [];
  const file = (kind: MediaKind, f: z.infer<typeof tgFile>): MediaReference => ({
    kind,
    providerMediaId: f.file_id,
    url: null,
    mimeType: f.mime_type ?? null,
    fileName: f.file_name ?? null,
    caption,
    sizeBytes: providerCount(f.file_size),
  });
  // Photos come as several sizes of one picture, smallest first: the largest is the picture.
  const photo = message.photo?.at(-1);
  if (photo) media.push(file('image', photo));
  // An animation is also sent as `document` for older clients: one file, not two.
  for (const [field, kind] of fileFields) {
    const value = message[field] as z.infer<typeof tgFile> | undefined;
    if (value && !(field === 'document' && message.animation)) media.push(file(kind, value));
  }
  if (message.text !== undefined) return { text: message.text, media };
  if (media.length > 0) return { text: caption ?? message.sticker?.emoji ?? '', media };
  if (message.venue) {
    const { title, address, location } = message.venue;
    return { text: `Location: ${title}, ${address} (${location.latitude}, ${location.longitude})`, media };
  }
  if (message.location) {
    return { text: `Location: (${message.location.latitude}, ${message.location.longitude})`, media };
  }
  if (message.contact) {
    const { first_name, last_name, phone_number } = message.contact;
    return { text: `Contact: ${[first_name, last_name].filter(Boolean).join(' ')}, ${phone_number}`, media };
  }
  if (message.poll) {
    const options = message.poll.options.map((option) => option.text).join(' / ');
    return { text: `Poll: ${message.poll.question}${options ? ` (${options})` : ''}`, media };
  }
  if (message.dice) return { text: `${message.dice.emoji} ${message.dice.value}`, media };
  const kind = unviewableKinds.find((k) => message[k] !== undefined && message[k] !== null);
  if (kind) {
    const label = unviewableText(kind, message[kind]);
    return { text: caption ? `${label} ${caption}` : label, media, original: { kind, item: message[kind] } };
  }
  // Service messages (members joining, a group migrated to a supergroup, a pinned message, ...) are no one's words.
  return { unsupported: 'A message with no text, media, location, contact, poll or other content (a service message)' };
};
