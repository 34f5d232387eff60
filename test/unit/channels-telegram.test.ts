import { describe, expect, it } from 'vitest';
import type {
  IgnoredEvent,
  InboundEditEvent,
  InboundMessageEvent,
} from '../../domain/channels/inbound-events';
import { parseTelegramWebhook, verifyTelegramSecret } from '../../domain/channels/telegram-webhook';
import { fixtureBytes, fixtureText } from '../support/provider-fixtures';

const secret = 'wh_3kP9-qL2_xZ7vN4mB8';

describe('verifyTelegramSecret', () => {
  it('accepts the secret token given to setWebhook, whatever the header name’s case', () => {
    expect(verifyTelegramSecret({ 'X-Telegram-Bot-Api-Secret-Token': secret }, secret)).toEqual({ ok: true });
    expect(verifyTelegramSecret({ 'x-telegram-bot-api-secret-token': [secret] }, secret)).toEqual({
      ok: true,
    });
  });

  it('refuses a request without the header as missing', () => {
    expect(verifyTelegramSecret({}, secret)).toMatchObject({ ok: false, reason: 'missing' });
  });

  it('refuses a header outside the secret token alphabet as malformed', () => {
    expect(verifyTelegramSecret({ 'X-Telegram-Bot-Api-Secret-Token': 'a b' }, secret)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
    expect(
      verifyTelegramSecret({ 'X-Telegram-Bot-Api-Secret-Token': 'x'.repeat(257) }, secret),
    ).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it.each([
    ['another token', 'wh_other-token'],
    ['a prefix of ours', secret.slice(0, -1)],
    ['ours with more after it', `${secret}x`],
    ['ours in another case', secret.toUpperCase()],
  ])('refuses %s as a mismatch', (_name, header) => {
    expect(verifyTelegramSecret({ 'X-Telegram-Bot-Api-Secret-Token': header }, secret)).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });
});

describe('parseTelegramWebhook', () => {
  it('turns a message update into a message from the user id, with the @username as an alternate value', () => {
    expect(parseTelegramWebhook(fixtureBytes('telegram/text.json'))).toEqual([
      {
        type: 'message',
        provider: 'telegram',
        channel: 'telegram',
        dedupeKeys: ['telegram:update:748302911', 'telegram:message:583920174:4207'],
        providerMessageId: '583920174:4207',
        from: { kind: 'telegram', value: '583920174', name: 'Ana López', alternateValues: ['@ana_lopez'] },
        to: [],
        sentAt: '2025-12-01T14:00:00.000Z',
        text: 'Hola, ¿tienen el plan anual?',
        media: [],
        replyToProviderMessageId: null,
        chatId: '583920174',
        email: null,
      } satisfies InboundMessageEvent,
    ]);
  });

  it('keeps the largest photo size, the caption as text, and the message replied to', () => {
    const [event] = parseTelegramWebhook(fixtureBytes('telegram/photo-reply.json')) as InboundMessageEvent[];

    expect(event).toMatchObject({
      text: 'Here it is',
      replyToProviderMessageId: '583920174:4208',
      media: [
        {
          kind: 'image',
          providerMediaId: 'AgACAgQAAxkBAAIBc2Zlarge',
          url: null,
          mimeType: null,
          fileName: null,
          caption: 'Here it is',
          sizeBytes: 112540,
        },
      ],
    });
  });

  it('turns edited_message into an edit with its new text and edit time', () => {
    expect(parseTelegramWebhook(fixtureBytes('telegram/edited.json'))).toEqual([
      {
        type: 'message_edit',
        provider: 'telegram',
        channel: 'telegram',
        dedupeKeys: ['telegram:update:748302913', 'telegram:edit:583920174:4207:1764597720'],
        providerMessageId: '583920174:4207',
        chatId: '583920174',
        from: { kind: 'telegram', value: '583920174', name: 'Ana López', alternateValues: ['@ana_lopez'] },
        text: 'Hola, ¿tienen el plan anual para equipos?',
        media: [],
        editedAt: '2025-12-01T14:02:00.000Z',
      } satisfies InboundEditEvent,
    ]);
  });

  it('does not give an edit the key of the message it edits', () => {
    const [message] = parseTelegramWebhook(fixtureBytes('telegram/text.json'));
    const [edit] = parseTelegramWebhook(fixtureBytes('telegram/edited.json'));

    expect(message!.dedupeKeys.filter((key) => edit!.dedupeKeys.includes(key))).toEqual([]);
  });

  it('parses every update of a list: voice, document, a group message, an animation sent once, a location', () => {
    const events = parseTelegramWebhook(fixtureBytes('telegram/updates.json')) as InboundMessageEvent[];

    expect(
      events.map((e) => [
        e.type,
        e.dedupeKeys[0],
        e.text,
        e.media.map((m) => [m.kind, m.mimeType, m.fileName]),
      ]),
    ).toEqual([
      ['message', 'telegram:update:748302920', '', [['voice', 'audio/ogg', null]]],
      [
        'message',
        'telegram:update:748302921',
        'El contrato firmado',
        [['document', 'application/pdf', 'contrato.pdf']],
      ],
      ['message', 'telegram:update:748302922', 'Is the office open on Saturday?', []],
      ['message', 'telegram:update:748302923', '', [['animation', 'video/mp4', 'thanks.mp4']]],
      ['message', 'telegram:update:748302924', 'Location: (40.416775, -3.70379)', []],
    ]);
    // In a group the sender is the user, the chat is the group: replies go to the chat.
    expect(events[2]).toMatchObject({
      from: { value: '6123456789', name: 'Bruno', alternateValues: [] },
      chatId: '-1001234567890',
    });
  });

  it("keeps a file whose file_size is not a byte count DynamoDB can hold, its size left out", () => {
    const sizeOf = (size: string) => {
      const [voice] = parseTelegramWebhook(
        fixtureText('telegram/updates.json').replace(/"file_size": \d+/, `"file_size": ${size}`),
      ) as InboundMessageEvent[];
      expect(voice!.media).toHaveLength(1);
      return voice!.media[0]!.sizeBytes;
    };
    expect(sizeOf('5120')).toBe(5120);
    for (const bad of ['5.52998678545108e-303', '1e200', '-1', '10.5', '"big"', 'null']) expect(sizeOf(bad), bad).toBeNull();
  });

  it('returns updates it does not handle as ignored entries with their update key', () => {
    const events = parseTelegramWebhook(fixtureBytes('telegram/unhandled.json')) as IgnoredEvent[];

    expect(events.map((e) => [e.type, e.reason, e.dedupeKeys])).toEqual([
      ['ignored', 'unsupported_update', ['telegram:update:748302930']],
      ['ignored', 'unsupported_update', ['telegram:update:748302931']],
      // A poll is a message with a placeholder text (below), no longer left out.
      ['message', undefined, ['telegram:update:748302932', 'telegram:message:583920174:4310']],
      ['ignored', 'unroutable_sender', ['telegram:update:748302933', 'telegram:message:-1001234567890:4311']],
      ['ignored', 'invalid_item', ['telegram:update:748302934']],
      ['ignored', 'unrecognised_payload', []],
    ]);
    expect(events[0]!.detail).toContain('callback_query');
    expect(events[2]).toMatchObject({ type: 'message', text: 'Poll: Which plan? (Monthly / Annual)' });
  });

  it('gives a contact card, a poll and a dice a placeholder text; a group message its group; a service message is left out', () => {
    const events = parseTelegramWebhook(fixtureBytes('telegram/group-and-kinds.json'));
    expect(events.map((e) => (e.type === 'message' ? e.text : `${e.type}:${e.type === 'ignored' ? e.reason : ''}`))).toEqual([
      'Oi! Can I get a quote for 12 seats?',
      '@acme_support_bot does the API have webhooks?',
      'This is the error I get',
      'Contact: Carla Souza, +5511987654321',
      'Carla asked me to forward this: we need SSO too',
      'Poll: Which plan? (Monthly / Annual)',
      'Pilot feedback: exports are slow',
      'chat_migrated:',
      'ignored:unsupported_update',
      'channel_block:',
      'ignored:unroutable_sender',
    ]);
    // The user blocked the bot in their private chat (my_chat_member, new status `kicked`).
    expect(events[9]).toMatchObject({ type: 'channel_block', channel: 'telegram', value: '6123456789', blocked: true });
    expect(events[0]).not.toHaveProperty('groupChat');
    expect(events[7]).toMatchObject({ type: 'chat_migrated', fromChatId: '-4012345678', toChatId: '-1009988776655' });
    expect(events[1]).toMatchObject({ chatId: '-1001234567890', groupChat: { id: '-1001234567890', title: 'Acme customers' } });
    const dice = { update_id: 1, message: { message_id: 1, from: { id: 5, first_name: 'D' }, chat: { id: 5, type: 'private' }, date: 1, dice: { emoji: '🎲', value: 4 } } };
    expect(parseTelegramWebhook(JSON.stringify(dice))).toMatchObject([{ type: 'message', text: '🎲 4' }]);
  });

  it('reads the bot being blocked and unblocked in a private chat; its membership of a group is no contact’s doing', () => {
    const bot = { id: 123456789, is_bot: true, first_name: 'Acme' };
    const user = { id: 42, is_bot: false, first_name: 'Ada' };
    const membership = (chat: object, status: string) =>
      JSON.stringify({ update_id: 9, my_chat_member: { chat, from: user, date: 1, old_chat_member: { user: bot, status: 'left' }, new_chat_member: { user: bot, status } } });
    const privateChat = { id: 42, first_name: 'Ada', type: 'private' };
    expect(parseTelegramWebhook(membership(privateChat, 'member'))).toMatchObject([
      { type: 'channel_block', value: '42', blocked: false, dedupeKeys: ['telegram:update:9'], at: '1970-01-01T00:00:01.000Z' },
    ]);
    expect(parseTelegramWebhook(membership({ id: -100, title: 'Team', type: 'group' }, 'kicked'))).toMatchObject([{ type: 'ignored', reason: 'unsupported_update' }]);
  });

  describe('kinds of message this inbox has no view of', () => {
    const ana = { id: 583920174, is_bot: false, first_name: 'Ana', last_name: 'López', username: 'ana_lopez' };
    const update = (fields: object, kind: 'message' | 'edited_message' = 'message') =>
      JSON.stringify({
        update_id: 748303000,
        [kind]: { message_id: 4400, from: ana, chat: { id: 583920174, type: 'private' }, date: 1764597600, ...fields },
      });
    const checklist = {
      title: 'Onboarding',
      tasks: [
        { id: 1, text: 'Send the contract', completed_by_user: ana, completion_date: 1764597500 },
        { id: 2, text: 'Book the kickoff call', completion_date: 0 },
      ],
    };

    it.each([
      ['story', { story: { chat: { id: 583920174, type: 'private' }, id: 17 } }, '[Sent a story]'],
      [
        'paid_media',
        { paid_media: { star_count: 50, paid_media: [{ type: 'preview', width: 640, height: 480 }] }, caption: 'Behind the scenes' },
        '[Sent paid media] Behind the scenes',
      ],
      ['checklist', { checklist }, 'Checklist: Onboarding ([x] Send the contract / [ ] Book the kickoff call)'],
      ['game', { game: { title: 'Quiz night', description: 'Ten questions', photo: [] } }, '[Sent a game: Quiz night]'],
      [
        'invoice',
        { invoice: { title: 'Annual plan', description: '12 seats', start_parameter: 'annual', currency: 'EUR', total_amount: 120000 } },
        '[Sent an invoice: Annual plan]',
      ],
      [
        'giveaway',
        { giveaway: { chats: [], winners_selection_date: 1765000000, winner_count: 3, prize_description: 'Three free seats' } },
        '[Sent a giveaway: Three free seats]',
      ],
    ])('stores a %s as a message with a text saying what it is and Telegram’s item kept', (kind, fields, text) => {
      const [event] = parseTelegramWebhook(update(fields));
      expect(event).toMatchObject({
        type: 'message',
        providerMessageId: '583920174:4400',
        from: { value: '583920174' },
        text,
        media: [],
        original: { kind, item: (fields as Record<string, unknown>)[kind] },
      });
    });

    it('says what it is even when Telegram’s item lacks the fields it is described by', () => {
      expect(parseTelegramWebhook(update({ checklist: { tasks: 'none' } }))).toMatchObject([
        { type: 'message', text: '[Sent a checklist]', original: { kind: 'checklist', item: { tasks: 'none' } } },
      ]);
      expect(parseTelegramWebhook(update({ game: {} }))).toMatchObject([{ type: 'message', text: '[Sent a game]' }]);
    });

    it('reads an edit of one (a checklist with a task done since) as an edit with the new text', () => {
      const done = { ...checklist, tasks: checklist.tasks.map((task) => ({ ...task, completion_date: 1764597700 })) };
      expect(parseTelegramWebhook(update({ edit_date: 1764597720, checklist: done }, 'edited_message'))).toMatchObject([
        {
          type: 'message_edit',
          providerMessageId: '583920174:4400',
          text: 'Checklist: Onboarding ([x] Send the contract / [x] Book the kickoff call)',
          editedAt: '2025-12-01T14:02:00.000Z',
        },
      ]);
      expect(parseTelegramWebhook(update({ edit_date: 1764597720, paid_media: { star_count: 5, paid_media: [] }, caption: 'New caption' }, 'edited_message'))).toMatchObject([
        { type: 'message_edit', text: '[Sent paid media] New caption' },
      ]);
    });

    it('still leaves service messages out: members joining, a pinned message, a payment', () => {
      for (const fields of [
        { new_chat_members: [ana] },
        { pinned_message: { message_id: 4399, chat: { id: 583920174, type: 'private' }, date: 0 } },
        { successful_payment: { currency: 'EUR', total_amount: 120000, invoice_payload: 'annual' } },
        { checklist_tasks_done: { marked_as_done_task_ids: [2] } },
      ]) {
        expect(parseTelegramWebhook(update(fields)), Object.keys(fields)[0]).toMatchObject([{ type: 'ignored', reason: 'unsupported_content' }]);
      }
    });
  });

  it('answers a body that is not JSON with one ignored entry', () => {
    expect(parseTelegramWebhook('not json')).toMatchObject([{ type: 'ignored', reason: 'malformed_json' }]);
  });
});
