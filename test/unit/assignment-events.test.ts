import { describe, expect, it } from 'vitest';
import { acceptsAssignmentEvent } from '../../domain/assignment/assignment.service';
import type { EventRecord } from '../../events/event-log';

const event = (type: string, payload: Record<string, unknown>): EventRecord => ({
  eventId: 'evt_1',
  workspaceId: 'ws_1',
  type,
  entityType: type.slice(0, type.indexOf('.')),
  entityId: 'x_1',
  actorUserId: 'usr_1',
  payload,
  createdAt: '2026-01-15T09:00:00.000Z',
});

describe('the events the assignment-rules consumer acts on', () => {
  it('takes new contact conversations and new contacts with no owner', () => {
    expect(acceptsAssignmentEvent(event('conversation.opened', { kind: 'contact' }))).toBe(true);
    expect(acceptsAssignmentEvent(event('conversation.opened', { kind: 'direct' }))).toBe(false);
    expect(acceptsAssignmentEvent(event('contact.created', { ownerId: null }))).toBe(true);
    expect(acceptsAssignmentEvent(event('contact.created', { ownerId: 'usr_2' }))).toBe(false);
  });

  it('takes what may give a queue room: an open conversation leaving a user, a user active again, a rule changed', () => {
    expect(acceptsAssignmentEvent(event('conversation.status_changed', { from: 'open', to: 'resolved' }))).toBe(true);
    expect(acceptsAssignmentEvent(event('conversation.status_changed', { from: 'pending', to: 'open' }))).toBe(false);
    expect(acceptsAssignmentEvent(event('conversation.assigned', { from: 'usr_2', to: null, how: 'release' }))).toBe(true);
    expect(acceptsAssignmentEvent(event('conversation.assigned', { from: null, to: 'usr_2', how: 'rule' }))).toBe(false);
    expect(acceptsAssignmentEvent(event('user.updated', { changes: { status: { from: 'deactivated', to: 'active' } } }))).toBe(true);
    expect(acceptsAssignmentEvent(event('user.updated', { changes: { name: { from: 'A', to: 'B' } } }))).toBe(false);
    expect(acceptsAssignmentEvent(event('assignment_rule.updated', { changes: {} }))).toBe(true);
    expect(acceptsAssignmentEvent(event('assignment_rule.deleted', { name: 'R' }))).toBe(true);
  });

  it('leaves every other event alone', () => {
    expect(acceptsAssignmentEvent(event('owner.claimed', { ownerId: 'usr_2' }))).toBe(false);
    expect(acceptsAssignmentEvent(event('email.replied', {}))).toBe(false);
  });
});
