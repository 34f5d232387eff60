import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventCatalogue, eventTypes, type EventPayload, type EventType } from '../../events/catalogue';
import { appendEvent, newEvent } from '../../events/event-log';
import { systemActor, type CallerContext } from '../../domain/shared/context';
import { writeTransaction } from '../../domain/store/transaction';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * Seed 000 "Event types recorded": every type has a schema, and each is written where its change
 * happens. The API writes the CRM's own; the messaging, segment and bot types are written through the
 * event log here, as the inbox and segments will write them.
 */
const seed000Types = [
  'email.sent',
  'email.opened',
  'email.clicked',
  'email.replied',
  'email.bounced',
  'linkedin.sent',
  'linkedin.replied',
  'telegram.sent',
  'telegram.replied',
  'tag.added',
  'tag.removed',
  'segment.joined',
  'segment.left',
  'bot.replied',
  'bot.escalated',
  'task.created',
  'task.completed',
  'owner.claimed',
  'owner.released',
  'profile.scored',
  'note.added',
  'deal.created',
] as const;

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let contactId: string;

interface EventDto {
  type: string;
  entityType: string;
  actorUserId: string;
  payload: Record<string, unknown>;
  contactId: string | null;
  channel: string | null;
}

/** Every event about the contact, through the API. */
async function contactEvents(): Promise<EventDto[]> {
  const items: EventDto[] = [];
  let cursor: string | undefined;
  do {
    const res = await stack.api('GET', `/v1/events?entityType=contact&entityId=${contactId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
      token: acme.member.token,
    });
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

const ok = async (promise: Promise<{ status: number; body: { id?: string } }>) => {
  const res = await promise;
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
};

/** What the inbox and segments will write, one of each, about the contact. */
const loggedPayloads: { [T in EventType]?: { entity: 'message' | 'conversation' | 'segment'; payload: EventPayload<T>; channel: string | null } } = {
  'email.sent': { entity: 'message', channel: 'email', payload: { conversationId: 'cnv_1', messageId: 'msg_1', to: 'a@b.example', subject: 'Hello', firstResponseSeconds: 90 } },
  'email.opened': { entity: 'message', channel: 'email', payload: { conversationId: 'cnv_1', messageId: 'msg_1' } },
  'email.clicked': { entity: 'message', channel: 'email', payload: { conversationId: 'cnv_1', messageId: 'msg_1', url: 'https://example.com/pricing' } },
  'email.replied': { entity: 'message', channel: 'email', payload: { conversationId: 'cnv_1', messageId: 'msg_2', inReplyTo: 'msg_1', assigneeId: null } },
  'email.bounced': { entity: 'message', channel: 'email', payload: { conversationId: 'cnv_1', messageId: 'msg_3', bounceType: 'hard', reason: '550 no such user' } },
  'linkedin.sent': { entity: 'message', channel: 'linkedin', payload: { conversationId: 'cnv_2', messageId: 'msg_4', to: 'https://www.linkedin.com/in/someone', firstResponseSeconds: null } },
  'linkedin.replied': { entity: 'message', channel: 'linkedin', payload: { conversationId: 'cnv_2', messageId: 'msg_5', inReplyTo: 'msg_4', assigneeId: null } },
  'telegram.sent': { entity: 'message', channel: 'telegram', payload: { conversationId: 'cnv_3', messageId: 'msg_6', to: '@someone', firstResponseSeconds: 30 } },
  'telegram.replied': { entity: 'message', channel: 'telegram', payload: { conversationId: 'cnv_3', messageId: 'msg_7', inReplyTo: null, assigneeId: null } },
  'segment.joined': { entity: 'segment', channel: null, payload: { segmentId: 'seg_1', segmentName: 'Hot leads', reason: 'contact_change' } },
  'segment.left': { entity: 'segment', channel: null, payload: { segmentId: 'seg_1', segmentName: 'Hot leads', reason: 'contact_change' } },
  'bot.replied': { entity: 'message', channel: 'whatsapp', payload: { conversationId: 'cnv_4', messageId: 'msg_8', channel: 'whatsapp' } },
  'bot.escalated': { entity: 'conversation', channel: 'whatsapp', payload: { conversationId: 'cnv_4', channel: 'whatsapp', reason: 'asked for a person', assigneeId: null } },
};

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  const member = { token: acme.member.token };
  const contact = await ok(stack.api('POST', '/v1/contacts', { ...member, body: { name: 'Cleo Catalogue' } }));
  contactId = contact.id!;
  // The CRM's own seed-000 types, each through the API.
  await ok(stack.api('POST', `/v1/contacts/${contactId}/tags`, { ...member, body: { tags: ['vip'] } }));
  await ok(stack.api('DELETE', `/v1/contacts/${contactId}/tags/vip`, member));
  await ok(stack.api('POST', `/v1/contacts/${contactId}/claim`, member));
  await ok(stack.api('POST', `/v1/contacts/${contactId}/release`, member));
  await ok(stack.api('POST', `/v1/contacts/${contactId}/scores`, { ...member, body: { value: 4 } }));
  await ok(stack.api('POST', '/v1/notes', { ...member, body: { anchor: { kind: 'contact', id: contactId }, markdown: 'Met at the fair' } }));
  const task = await ok(stack.api('POST', '/v1/tasks', { ...member, body: { title: 'Send deck', anchor: { kind: 'contact', id: contactId } } }));
  await ok(stack.api('POST', `/v1/tasks/${task.id}/complete`, member));
  await ok(stack.api('POST', '/v1/deals', { ...member, body: { title: 'Pilot', contactId } }));
  // The rest through the event log, in a transaction, as their writers will.
  const bySystem: CallerContext = systemActor(acme.workspace.id);
  for (const [type, spec] of Object.entries(loggedPayloads)) {
    const event = newEvent(stack.deps, bySystem, type as EventType, { type: spec.entity, id: 'x_1' }, spec.payload as never, { contactId });
    await writeTransaction(stack.deps.db, (tx) => [appendEvent(tx, event)], () => new Error('not written'));
  }
});

afterAll(async () => {
  await stack?.destroy();
});

describe('the event catalogue', () => {
  it('has a schema for every type of seed 000’s table', () => {
    for (const type of seed000Types) expect(eventTypes, type).toContain(type);
  });

  it('writes every seed-000 type, about the contact, readable through the API', async () => {
    const events = await contactEvents();
    const types = new Set(events.map((event) => event.type));
    for (const type of seed000Types) expect(types.has(type), `${type} on the contact's log`).toBe(true);
    for (const event of events) {
      expect(event.contactId).toBe(contactId);
      // What was stored is what the type's schema describes.
      expect(() => eventCatalogue[event.type as EventType].parse(event.payload), event.type).not.toThrow();
    }
  });

  it('stores each logged payload as given, with its channel', async () => {
    const events = await contactEvents();
    for (const [type, spec] of Object.entries(loggedPayloads)) {
      const event = events.find((candidate) => candidate.type === type)!;
      expect(event, type).toMatchObject({ entityType: spec.entity, payload: spec.payload, channel: spec.channel, actorUserId: 'system' });
    }
    expect(events.find((event) => event.type === 'note.added')!.channel).toBeNull();
  });

  it('refuses a payload its schema does not describe, before anything is written', () => {
    const caller = systemActor(acme.workspace.id);
    const entity = { type: 'message' as const, id: 'msg_x' };
    expect(() => newEvent(stack.deps, caller, 'email.bounced', entity, { conversationId: 'c', messageId: 'm', bounceType: 'maybe', reason: null } as never)).toThrow();
    expect(() => newEvent(stack.deps, caller, 'bot.replied', entity, { conversationId: 'c', messageId: 'm', channel: 'pigeon' } as never)).toThrow();
    expect(() => newEvent(stack.deps, caller, 'email.sent', entity, { conversationId: 'c', messageId: 'm', to: 'x', subject: null, firstResponseSeconds: -1 })).toThrow();
  });
});
