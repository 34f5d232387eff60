import { describe, expect, it } from 'vitest';
import { renderTemplate, templateProblems } from '../../domain/bot/bot-templates';
import { botAnswersAt, wallClock } from '../../domain/bot/business-hours';
import { defaultBusinessHours } from '../../domain/bot/bot.schemas';
import { holdsPhrase, localResponder } from '../../domain/bot/local-responder';
import { isAutomated } from '../../domain/bot/autoreply.service';
import type { ContactItem } from '../../domain/contacts/contact-record';
import { isReservedTag } from '../../domain/tags/tag-names';

const contact = (overrides: Partial<ContactItem> = {}): ContactItem => ({
  workspaceId: 'ws_1',
  contactId: 'ct_1',
  name: 'Ana María López',
  status: 'active',
  suppressed: false,
  channels: [{ channelId: 'ch_1', kind: 'email', value: 'ana@example.com', normalized: 'ana@example.com', primary: true }],
  customFields: { plan: 'pro' },
  createdBy: 'usr_1',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('reply templates', () => {
  it('renders the contact’s fields, fallbacks, and nothing for a missing field', () => {
    expect(renderTemplate('Hi {{contact.firstName}} ({{ contact.lastName }}), plan {{contact.custom.plan}}, {{contact.email}}', contact())).toBe(
      'Hi Ana (María López), plan pro, ana@example.com',
    );
    expect(renderTemplate('Hi {{contact.company | "there"}}!', contact())).toBe('Hi there!');
    expect(renderTemplate('Hi {{contact.company}}, welcome', contact())).toBe('Hi, welcome');
  });

  it('inserts values as text, once: a value holding braces or control characters stays inert', () => {
    expect(renderTemplate('Hi {{contact.firstName}}', contact({ name: '{{contact.email}}\u0007 x' }))).toBe('Hi {{contact.email}}');
  });

  it('names unknown fields and unclosed placeholders', () => {
    expect(templateProblems('Hi {{contact.firstName}} {{contact.custom.plan}}')).toEqual([]);
    expect(templateProblems('Hi {{contact.password}}')[0]).toContain('Unknown placeholder {{contact.password}}');
    expect(templateProblems('Hi {{contact.firstName')).toHaveLength(1);
    expect(templateProblems('{{constructor}}')).toHaveLength(1);
  });
});

describe('business hours', () => {
  const settings = { timeZone: 'America/New_York', businessHours: defaultBusinessHours, replyWhen: 'outside_business_hours' as const };
  it('reads the weekday and time in the zone (across a date line)', () => {
    expect(wallClock('2026-01-16T03:30:00.000Z', 'America/New_York')).toEqual({ day: 'thu', time: '22:30' });
    expect(wallClock('2026-01-15T23:30:00.000Z', 'Asia/Tokyo')).toEqual({ day: 'fri', time: '08:30' });
  });
  it('answers outside the hours, the start included and the end excluded', () => {
    expect(botAnswersAt(settings, '2026-01-15T14:00:00.000Z')).toBe(false); // Thu 09:00 in New York
    expect(botAnswersAt(settings, '2026-01-15T13:59:00.000Z')).toBe(true);
    expect(botAnswersAt(settings, '2026-01-15T22:00:00.000Z')).toBe(true); // 17:00
    expect(botAnswersAt(settings, '2026-01-17T16:00:00.000Z')).toBe(true); // Saturday
    expect(botAnswersAt({ ...settings, replyWhen: 'during_business_hours' }, '2026-01-15T15:00:00.000Z')).toBe(true);
    expect(botAnswersAt({ ...settings, replyWhen: 'always' }, '2026-01-15T15:00:00.000Z')).toBe(true);
  });
});

describe('reserved tags', () => {
  it('people set only `bot:on` and `bot:off` (any case or width); `bot: on` or `bot:pause` are the system’s', () => {
    expect(['bot:on', 'BOT:OFF', 'ｂｏｔ:on'].map(isReservedTag)).toEqual([false, false, false]);
    expect(['bot: on', 'bot:pause', 'bot:'].map(isReservedTag)).toEqual([true, true, true]);
    expect(isReservedTag('robot:on')).toBe(false);
  });
});

describe('matching and the loop guard', () => {
  it('matches whole words, case and accents aside', () => {
    expect(holdsPhrase('¿Puedo hablar con un HUMANO?', 'humano')).toBe(true);
    expect(holdsPhrase('I want a human!', 'human')).toBe(true);
    expect(holdsPhrase('humanity', 'human')).toBe(false);
    expect(holdsPhrase('How much is it', 'how much')).toBe(true);
  });
  it('the local responder names an asked intent, deterministically', async () => {
    const ask = (text: string, intents: string[]) =>
      localResponder.respond({ workspaceId: 'w', conversationId: 'c', channel: 'sms', messages: [{ author: 'contact', text, at: '' }], contact: {}, intents });
    expect(await ask('Where is my package?', ['pricing', 'order_status'])).toEqual({ intent: 'order_status', reply: null, confidence: 0.8 });
    expect(await ask('Where is my package?', ['pricing'])).toEqual({ intent: null, reply: null, confidence: 0 });
  });
  it('knows automated messages', () => {
    expect(isAutomated({ body: 'x', payload: { email: { autoSubmitted: 'auto-replied' } } })).toBe(true);
    expect(isAutomated({ body: 'x', payload: { email: { autoSubmitted: 'no' } } })).toBe(false);
    expect(isAutomated({ body: 'x', payload: { email: { precedence: 'bulk' } } })).toBe(true);
    expect(isAutomated({ body: 'x', payload: { automated: true } })).toBe(true);
    expect(isAutomated({ body: 'Thanks for writing!', payload: {} }, ['Thanks for writing!'])).toBe(true);
    expect(isAutomated({ body: 'Hello', payload: {} }, ['Thanks for writing!'])).toBe(false);
  });
});
