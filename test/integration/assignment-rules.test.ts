import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimited } from '../../domain/shared/concurrency';
import { applyAssignmentEvent, assignmentSettings, placeConversation } from '../../domain/assignment/assignment.service';
import type { EventRecord } from '../../events/event-log';
import { handler as assignWaiting } from '../../functions/schedules/assign-waiting.handler';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';

/**
 * Assignment rules end to end: rules through the API, new conversations and contacts through the API
 * (inbound messages, contact creates, an import), the `event-fanout` stream consumer giving them out,
 * and the `assign-waiting` schedule serving the queues of capped rules.
 */

let stack: TestStack;
let streams: TestStreams;
let jobs: TestJobs;

beforeAll(async () => {
  process.env.IMPORT_CHUNK_ROWS = '50';
  stack = await createTestStack();
  streams = await startTestStreams(stack, ['event-fanout']);
  jobs = await startTestJobs(stack, ['import_contacts']);
});
afterAll(async () => {
  delete process.env.IMPORT_CHUNK_ROWS;
  await jobs?.stop();
  await streams?.stop();
  await stack?.destroy();
});

type Workspace = Awaited<ReturnType<typeof seedWorkspace>>;
interface Rule {
  id: string;
  version: number;
}
interface ConversationDto {
  id: string;
  contactId: string;
  assigneeId: string | null;
  status: string;
  version: number;
}
interface EventDto {
  id: string;
  type: string;
  actorUserId: string;
  payload: Record<string, unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies read back from the API
const ok = async <T = any>(promise: Promise<{ status: number; body: any }>, status = 200): Promise<T> => {
  const res = await promise;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body as T;
};

/** Lets the stream consumers catch up, twice: an assignment's own events reach them too. */
const settle = async () => {
  await streams.drain();
  await streams.drain();
};

/** A new workspace with its three users (owner, admin, member): each scenario has its own rules. */
const workspace = (name = 'Acme') => seedWorkspace(stack, `${name} ${randomUUID().slice(0, 4)}`);
const usersOf = (ws: Workspace) => [ws.owner.user.id, ws.admin.user.id, ws.member.user.id] as string[];

const createRule = (ws: Workspace, body: Record<string, unknown>) =>
  ok<Rule>(stack.api('POST', '/v1/assignment-rules', { token: ws.owner.token, body: { name: 'Round robin', ...body } }), 201);

let serial = 0;
/** A new contact writes in: a new contact and a new email conversation (unassigned). */
async function inbound(ws: Workspace, from = `c${++serial}-${randomUUID().slice(0, 6)}@example.com`) {
  stack.clock.advance(1000);
  await ok(
    stack.api('POST', '/v1/inbound-messages', {
      token: ws.owner.token,
      body: { channel: 'email', from, externalId: `ext-${randomUUID()}`, body: 'Hello there' },
    }),
    201,
  );
  const contact = await ok(stack.api('GET', '/v1/contacts/lookup', { token: ws.owner.token, query: { kind: 'email', value: from } }));
  const list = await ok(stack.api('GET', '/v1/conversations', { token: ws.owner.token, query: { view: 'all', contactId: contact.id } }));
  expect(list.items).toHaveLength(1);
  return list.items[0] as ConversationDto;
}

const conversation = (ws: Workspace, id: string) => ok<ConversationDto>(stack.api('GET', `/v1/conversations/${id}`, { token: ws.owner.token }));
const contact = (ws: Workspace, id: string) => ok(stack.api('GET', `/v1/contacts/${id}`, { token: ws.owner.token }));
const eventsOf = async (ws: Workspace, entityType: string, entityId: string) =>
  (await ok(stack.api('GET', '/v1/events', { token: ws.owner.token, query: { entityType, entityId, limit: 100 } }))).items as EventDto[];
/** The event as the stream delivers it (the consumer's input), read back from the log. */
const asRecord = (ws: Workspace, event: EventDto, entityType: string, entityId: string): EventRecord => ({
  eventId: event.id,
  workspaceId: ws.workspace.id,
  type: event.type,
  entityType,
  entityId,
  actorUserId: event.actorUserId,
  payload: event.payload,
  createdAt: new Date().toISOString(),
});

const assignees = async (ws: Workspace, ids: string[]) => Promise.all(ids.map(async (id) => (await conversation(ws, id)).assigneeId));
const tally = (values: (string | null)[]) => {
  const counts = new Map<string | null, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
};

describe('rules through the API', () => {
  it('owner/admin manage rules; a member reads them and gets 403 writing; user ids are checked (422 naming the field)', async () => {
    const ws = await workspace();
    const other = await workspace('Globex');
    const member = ws.member.token;
    const body = { name: 'Mine', appliesTo: 'contacts', userIds: [ws.member.user.id] };
    expect((await stack.api('POST', '/v1/assignment-rules', { token: member, body })).status).toBe(403);
    const rule = await ok<Rule>(stack.api('POST', '/v1/assignment-rules', { token: ws.admin.token, body: { ...body, enabled: false } }), 201);
    expect((await ok(stack.api('GET', '/v1/assignment-rules', { token: member }))).items.map((item: Rule) => item.id)).toEqual([rule.id]);
    expect((await ok(stack.api('GET', `/v1/assignment-rules/${rule.id}`, { token: member }))).name).toBe('Mine');
    expect((await stack.api('PATCH', `/v1/assignment-rules/${rule.id}`, { token: member, body: { name: 'Taken' } })).status).toBe(403);
    expect((await stack.api('DELETE', `/v1/assignment-rules/${rule.id}`, { token: member })).status).toBe(403);

    // Another workspace's user, and an unknown one: 422 naming the entry.
    const foreignUser = await stack.api('POST', '/v1/assignment-rules', {
      token: ws.owner.token,
      body: { ...body, userIds: [ws.owner.user.id, other.admin.user.id] },
    });
    expect(foreignUser.status).toBe(422);
    expect(JSON.stringify(foreignUser.body)).toContain('body.userIds.1');
    const patched = await stack.api('PATCH', `/v1/assignment-rules/${rule.id}`, {
      token: ws.owner.token,
      body: { userIds: ['usr_00000000000000000000000000'] },
    });
    expect(patched.status).toBe(422);
    expect(JSON.stringify(patched.body)).toContain('body.userIds.0');
    // A contacts rule has no channels nor cap: 400 naming the field.
    const withChannels = await stack.api('POST', '/v1/assignment-rules', { token: ws.owner.token, body: { ...body, channels: ['email'] } });
    expect(withChannels.status).toBe(400);
    expect(JSON.stringify(withChannels.body)).toContain('body.channels');

    // If-Match: a stale version is a 412, the current one applies.
    const stale = await stack.api('PATCH', `/v1/assignment-rules/${rule.id}`, { token: ws.owner.token, body: { name: 'New' }, headers: { 'if-match': '"7"' } });
    expect(stale.status).toBe(412);
    const renamed = await ok(
      stack.api('PATCH', `/v1/assignment-rules/${rule.id}`, { token: ws.owner.token, body: { name: 'New', position: 3 }, headers: { 'if-match': `"${rule.version}"` } }),
    );
    expect(renamed).toMatchObject({ name: 'New', position: 3, version: 2 });
    expect((await eventsOf(ws, 'assignment_rule', rule.id)).map((event) => event.type)).toEqual(['assignment_rule.updated', 'assignment_rule.created']);
    expect((await stack.api('DELETE', `/v1/assignment-rules/${rule.id}`, { token: ws.owner.token })).status).toBe(204);
    expect((await stack.api('GET', `/v1/assignment-rules/${rule.id}`, { token: ws.owner.token })).status).toBe(404);
  });

  it('another workspace’s rule ids are 404; a rule never assigns another workspace’s items', async () => {
    const ws = await workspace();
    const other = await workspace('Globex');
    const theirs = await createRule(other, { appliesTo: 'conversations', userIds: usersOf(other) });
    await createRule(other, { appliesTo: 'contacts', userIds: usersOf(other) });
    for (const [method, body] of [['GET'], ['PATCH', { name: 'Mine' }], ['DELETE']] as const) {
      const res = await stack.api(method, `/v1/assignment-rules/${theirs.id}`, { token: ws.owner.token, ...(body ? { body } : {}) });
      expect(res.status, method).toBe(404);
    }
    expect((await ok(stack.api('GET', '/v1/assignment-rules', { token: ws.owner.token }))).items).toEqual([]);
    // Acme has no rules: its new conversation and contact stay in the pool, whatever Globex's rules say.
    const mine = await inbound(ws);
    const theirsConversation = await inbound(other);
    await settle();
    expect((await conversation(ws, mine.id)).assigneeId).toBeNull();
    expect((await contact(ws, mine.contactId)).ownerId).toBeNull();
    expect(usersOf(other)).toContain((await conversation(other, theirsConversation.id)).assigneeId);
    expect(usersOf(other)).toContain((await contact(other, theirsConversation.contactId)).ownerId);
  });
});

describe('conversations: round robin', () => {
  it('gives new conversations to 3 users in turn, as the system with the rule’s id', async () => {
    const ws = await workspace();
    const rule = await createRule(ws, { appliesTo: 'conversations', channels: ['email', 'sms'], userIds: usersOf(ws) });
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      ids.push((await inbound(ws)).id);
      await settle();
    }
    const [a, b, c] = usersOf(ws);
    expect(await assignees(ws, ids)).toEqual([a, b, c, a, b, c]);
    const assigned = (await eventsOf(ws, 'conversation', ids[0]!)).find((event) => event.type === 'conversation.assigned')!;
    expect(assigned).toMatchObject({ actorUserId: 'system', payload: { how: 'rule', ruleId: rule.id, from: null, to: a } });
  });

  it('a rule for other channels leaves the conversation alone; the first matching rule in position order takes it', async () => {
    const ws = await workspace();
    const [a, b] = usersOf(ws);
    await createRule(ws, { appliesTo: 'conversations', channels: ['whatsapp'], userIds: [a], position: 0 });
    const second = await createRule(ws, { appliesTo: 'conversations', userIds: [b], position: 5 });
    await createRule(ws, { appliesTo: 'conversations', userIds: [a], position: 9 });
    const item = await inbound(ws);
    await settle();
    expect((await conversation(ws, item.id)).assigneeId).toBe(b);
    const assigned = (await eventsOf(ws, 'conversation', item.id)).find((event) => event.type === 'conversation.assigned')!;
    expect(assigned.payload.ruleId).toBe(second.id);
  });

  it('is fair under 20 concurrent new conversations (7/7/6), through the stream and with the consumer run concurrently', async () => {
    const ws = await workspace();
    await createRule(ws, { appliesTo: 'conversations', userIds: usersOf(ws) });
    // Written 4 at a time: what runs concurrently here is the placement (the stream's batches, then 20
    // placements at once below); 20 inbound writes at once only make DynamoDB Local's lock queue the test.
    const items = await mapLimited(Array.from({ length: 20 }), 4, () => inbound(ws));
    await settle();
    const counts = [...tally(await assignees(ws, items.map((item) => item.id))).entries()];
    expect(counts.map(([, count]) => count).sort()).toEqual([6, 7, 7]);
    expect(counts.every(([userId]) => usersOf(ws).includes(userId!))).toBe(true);

    // The same with 20 placements running at once (as concurrent consumer invocations would).
    const quiet = await workspace();
    const pending = await mapLimited(Array.from({ length: 20 }), 4, () => inbound(quiet));
    await settle(); // no rule yet: nothing assigned
    await createRule(quiet, { appliesTo: 'conversations', userIds: usersOf(quiet) });
    const outcomes = await Promise.all(
      pending.map((item) => placeConversation(stack.deps, quiet.workspace.id, item.id, { receipt: { workspaceId: quiet.workspace.id, eventId: `evt_${item.id}` } })),
    );
    expect(outcomes.every((placed) => placed.outcome === 'assigned')).toBe(true);
    const quietCounts = [...tally(await assignees(quiet, pending.map((item) => item.id))).values()].sort();
    expect(quietCounts).toEqual([6, 7, 7]);
  });

  it('skips deactivated users; a rule left with none passes the item to the next rule', async () => {
    const ws = await workspace();
    const [a, b, c] = usersOf(ws);
    const rule = await createRule(ws, { appliesTo: 'conversations', userIds: [a, b, c] });
    await ok(stack.api('PATCH', `/v1/users/${b}`, { token: ws.owner.token, body: { status: 'deactivated' } }));
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      ids.push((await inbound(ws)).id);
      await settle();
    }
    const got = await assignees(ws, ids);
    expect(got).not.toContain(b);
    expect(tally(got)).toEqual(new Map([[a, 2], [c, 2]]));
    // A rule tried first whose only user is deactivated since: the item passes to the next rule.
    await ok(stack.api('PATCH', `/v1/assignment-rules/${rule.id}`, { token: ws.owner.token, body: { position: 5 } }));
    const first = await createRule(ws, { appliesTo: 'conversations', userIds: [c], position: 0 });
    await ok(stack.api('PATCH', `/v1/users/${c}`, { token: ws.owner.token, body: { status: 'deactivated' } }));
    const next = await inbound(ws);
    await settle();
    expect((await conversation(ws, next.id)).assigneeId).toBe(a);
    const assigned = (await eventsOf(ws, 'conversation', next.id)).find((event) => event.type === 'conversation.assigned')!;
    expect(assigned.payload.ruleId).toBe(rule.id);
    expect(first.id).not.toBe(rule.id);
  });

  it('costs one Query without rules, and a handful of requests per assignment', async () => {
    const ws = await workspace();
    const items = [await inbound(ws), await inbound(ws)];
    await settle(); // no rule yet: nothing assigned
    const receipt = (id: string) => ({ workspaceId: ws.workspace.id, eventId: `evt_cost_${id}` });
    stack.calls.reset();
    expect((await placeConversation(stack.deps, ws.workspace.id, items[0]!.id, { receipt: receipt(items[0]!.id) })).outcome).toBe('skipped');
    expect({ ...stack.calls.counts }).toEqual({ QueryCommand: 1 });
    await createRule(ws, { appliesTo: 'conversations', userIds: usersOf(ws), position: 5 });
    const capped = await createRule(ws, { appliesTo: 'conversations', userIds: usersOf(ws), capPerUser: 5, position: 0 });
    await ok(stack.api('PATCH', `/v1/assignment-rules/${capped.id}`, { token: ws.owner.token, body: { enabled: false } }));
    stack.calls.reset();
    expect((await placeConversation(stack.deps, ws.workspace.id, items[0]!.id, { receipt: receipt(items[0]!.id) })).outcome).toBe('assigned');
    // The rules, the receipt, the conversation, the users, the turn, the unread counters, the transaction.
    const uncapped = { ...stack.calls.counts };
    expect(uncapped).toEqual({ QueryCommand: 2, GetItemCommand: 2, BatchGetItemCommand: 1, UpdateItemCommand: 1, TransactWriteItemsCommand: 1 });
    await ok(stack.api('PATCH', `/v1/assignment-rules/${capped.id}`, { token: ws.owner.token, body: { enabled: true } }));
    await settle();
    stack.calls.reset();
    expect((await placeConversation(stack.deps, ws.workspace.id, items[1]!.id, { receipt: receipt(items[1]!.id) })).outcome).toBe('assigned');
    // With a cap, also its queue (empty) and the users' open counts.
    expect({ ...stack.calls.counts }).toEqual({ QueryCommand: 3, GetItemCommand: 2, BatchGetItemCommand: 2, UpdateItemCommand: 1, TransactWriteItemsCommand: 1 });
  });

  it('leaves alone a conversation claimed by a human before the consumer ran', async () => {
    const ws = await workspace();
    const item = await inbound(ws);
    await settle(); // no rule yet: still in the pool
    await ok(stack.api('POST', `/v1/conversations/${item.id}/claim`, { token: ws.member.token }));
    await createRule(ws, { appliesTo: 'conversations', userIds: [ws.admin.user.id] });
    const opened = (await eventsOf(ws, 'conversation', item.id)).find((event) => event.type === 'conversation.opened')!;
    // The consumer gets to the event only now (a late stream record).
    expect(await applyAssignmentEvent(stack.deps, asRecord(ws, opened, 'conversation', item.id))).toBe('skipped');
    expect((await conversation(ws, item.id)).assigneeId).toBe(ws.member.user.id);
  });

  it('a replayed event assigns nothing twice', async () => {
    const ws = await workspace();
    await createRule(ws, { appliesTo: 'conversations', userIds: usersOf(ws) });
    await createRule(ws, { appliesTo: 'contacts', userIds: usersOf(ws) });
    const item = await inbound(ws);
    await settle();
    const first = await conversation(ws, item.id);
    expect(first.assigneeId).toBe(ws.owner.user.id);
    // Back to the pool and the contact released: a replay must not hand them out again.
    await ok(stack.api('POST', `/v1/conversations/${item.id}/release`, { token: ws.owner.token }));
    await ok(stack.api('POST', `/v1/contacts/${item.contactId}/release`, { token: ws.owner.token }));
    await settle();
    const opened = (await eventsOf(ws, 'conversation', item.id)).find((event) => event.type === 'conversation.opened')!;
    const created = (await eventsOf(ws, 'contact', item.contactId)).find((event) => event.type === 'contact.created')!;
    expect(await applyAssignmentEvent(stack.deps, asRecord(ws, opened, 'conversation', item.id))).toBe('duplicate');
    expect(await applyAssignmentEvent(stack.deps, asRecord(ws, created, 'contact', item.contactId))).toBe('duplicate');
    expect((await conversation(ws, item.id)).assigneeId).toBeNull();
    expect((await contact(ws, item.contactId)).ownerId).toBeNull();
    const assignedEvents = (await eventsOf(ws, 'conversation', item.id)).filter((event) => event.type === 'conversation.assigned' && event.payload.how === 'rule');
    expect(assignedEvents).toHaveLength(1);
    // The round robin did not move either: the next conversation goes to the second user.
    const next = await inbound(ws);
    await settle();
    expect((await conversation(ws, next.id)).assigneeId).toBe(ws.admin.user.id);
  });
});

describe('conversations: the cap', () => {
  it('the 4th waits while everyone is at the cap; a resolved one frees a place at once, oldest first', async () => {
    const ws = await workspace();
    const [a, b, c] = usersOf(ws);
    await createRule(ws, { appliesTo: 'conversations', userIds: [a, b, c], capPerUser: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await inbound(ws)).id);
      await settle();
    }
    expect(await assignees(ws, ids)).toEqual([a, b, c, null, null]);
    // b resolves theirs: the oldest waiting (the 4th) goes to b, the 5th still waits.
    await ok(stack.api('POST', `/v1/conversations/${ids[1]}/status`, { token: ws.owner.token, body: { status: 'resolved' } }));
    await settle();
    expect(await assignees(ws, ids)).toEqual([a, b, c, b, null]);
    // A human hands a's back to the pool: a has room, the 5th goes to a (never past the cap).
    await ok(stack.api('POST', `/v1/conversations/${ids[0]}/assign`, { token: ws.owner.token, body: { assigneeId: null } }));
    await settle();
    expect(await assignees(ws, ids)).toEqual([null, b, c, b, a]);
  });

  it('the scheduled pass hands out what waited once someone is below the cap, oldest first, bounded per run and resuming', async () => {
    const first = await workspace();
    const second = await workspace();
    const rules: Record<string, Rule> = {};
    const waiting: Record<string, string[]> = {};
    for (const ws of [first, second]) {
      const [a] = usersOf(ws);
      rules[ws.workspace.id] = await createRule(ws, { appliesTo: 'conversations', userIds: [a], capPerUser: 1 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        ids.push((await inbound(ws)).id);
        await settle();
      }
      expect(await assignees(ws, ids)).toEqual([a, null, null]);
      waiting[ws.workspace.id] = ids;
    }
    // The caps rise behind the consumer's back (as if its event were lost): only the schedule hands them out.
    for (const ws of [first, second]) {
      await stack.deps.db.entities.assignmentRule.patch({ workspaceId: ws.workspace.id, ruleId: rules[ws.workspace.id]!.id }).set({ capPerUser: 2 }).go();
    }
    await settle();
    const saved = { ...assignmentSettings };
    assignmentSettings.passQueues = 1;
    try {
      await assignWaiting({} as never);
      const afterOne = await Promise.all([first, second].map((ws) => assignees(ws, waiting[ws.workspace.id]!)));
      // One queue served this run: one workspace's oldest waiting conversation went out, the other's still waits.
      const served = afterOne.filter((got) => got[1] !== null);
      expect(served).toHaveLength(1);
      expect(served[0]![2]).toBeNull();
      await assignWaiting({} as never);
      for (const ws of [first, second]) {
        const [a] = usersOf(ws);
        expect(await assignees(ws, waiting[ws.workspace.id]!)).toEqual([a, a, null]);
      }
    } finally {
      Object.assign(assignmentSettings, saved);
    }
    // Resolving one now frees a place: the last waiting one goes out through the stream.
    await ok(stack.api('POST', `/v1/conversations/${waiting[first.workspace.id]![0]}/status`, { token: first.owner.token, body: { status: 'resolved' } }));
    await settle();
    expect((await conversation(first, waiting[first.workspace.id]![2]!)).assigneeId).toBe(first.owner.user.id);
  });

  it('a user made active again, or a raised cap, hands out what waited at once', async () => {
    const ws = await workspace();
    const [a, , c] = usersOf(ws);
    const rule = await createRule(ws, { appliesTo: 'conversations', userIds: [a, c], capPerUser: 1 });
    await ok(stack.api('PATCH', `/v1/users/${c}`, { token: ws.owner.token, body: { status: 'deactivated' } }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push((await inbound(ws)).id);
      await settle();
    }
    expect(await assignees(ws, ids)).toEqual([a, null, null]);
    await ok(stack.api('PATCH', `/v1/users/${c}`, { token: ws.owner.token, body: { status: 'active' } }));
    await settle();
    expect(await assignees(ws, ids)).toEqual([a, c, null]);
    await ok(stack.api('PATCH', `/v1/assignment-rules/${rule.id}`, { token: ws.owner.token, body: { capPerUser: 2 } }));
    await settle();
    expect([a, c]).toContain((await assignees(ws, ids))[2]);
  });

  it('a deleted rule’s waiting conversations are matched again: the next rule takes them', async () => {
    const ws = await workspace();
    const [a, , c] = usersOf(ws);
    const capped = await createRule(ws, { appliesTo: 'conversations', userIds: [a], capPerUser: 1, position: 0 });
    const fallback = await createRule(ws, { appliesTo: 'conversations', userIds: [c], position: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      ids.push((await inbound(ws)).id);
      await settle();
    }
    expect(await assignees(ws, ids)).toEqual([a, null]);
    expect((await stack.api('DELETE', `/v1/assignment-rules/${capped.id}`, { token: ws.owner.token })).status).toBe(204);
    await settle();
    expect(await assignees(ws, ids)).toEqual([a, c]);
    const assigned = (await eventsOf(ws, 'conversation', ids[1]!)).find((event) => event.type === 'conversation.assigned')!;
    expect(assigned.payload.ruleId).toBe(fallback.id);
  });

  it('holds the cap under concurrent new conversations', async () => {
    const ws = await workspace();
    await createRule(ws, { appliesTo: 'conversations', userIds: usersOf(ws), capPerUser: 2 });
    const items = await Promise.all(Array.from({ length: 10 }, () => inbound(ws)));
    await settle();
    const got = await assignees(ws, items.map((item) => item.id));
    const counts = tally(got);
    expect(counts.get(null)).toBe(4);
    for (const userId of usersOf(ws)) expect(counts.get(userId)).toBe(2);

    // Placements racing for the last places (as concurrent consumer invocations would): the count's
    // conditional ADD lets no user pass the cap.
    const quiet = await workspace();
    const pending = await Promise.all(Array.from({ length: 10 }, () => inbound(quiet)));
    await settle(); // no rule yet: nothing assigned
    await createRule(quiet, { appliesTo: 'conversations', userIds: usersOf(quiet), capPerUser: 2 });
    const outcomes = await Promise.all(
      pending.map((item) => placeConversation(stack.deps, quiet.workspace.id, item.id, { receipt: { workspaceId: quiet.workspace.id, eventId: `evt_${item.id}` } })),
    );
    expect(outcomes.filter((placed) => placed.outcome === 'assigned')).toHaveLength(6);
    expect(outcomes.filter((placed) => placed.outcome === 'waiting')).toHaveLength(4);
    const quietCounts = tally(await assignees(quiet, pending.map((item) => item.id)));
    for (const userId of usersOf(quiet)) expect(quietCounts.get(userId)).toBe(2);
    const { data: queue } = await stack.deps.db.entities.assignmentWait.query.byRule({ workspaceId: quiet.workspace.id, ruleId: outcomes.find((placed) => placed.ruleId)!.ruleId! }).go();
    expect(queue).toHaveLength(4);
  });
});

describe('contacts', () => {
  it('new unowned contacts get owners: created through the API, ingested from a message, imported', async () => {
    const ws = await workspace();
    const [a, b] = usersOf(ws);
    const rule = await createRule(ws, { appliesTo: 'contacts', userIds: [a, b] });
    const created = await ok(stack.api('POST', '/v1/contacts', { token: ws.member.token, body: { name: 'Api Contact' } }), 201);
    const owned = await ok(stack.api('POST', '/v1/contacts', { token: ws.owner.token, body: { name: 'Already owned', ownerId: ws.member.user.id } }), 201);
    await settle();
    const ingested = await inbound(ws);
    await settle();
    const csv = 'Name,Email\nImported One,imp1@example.com\nImported Two,imp2@example.com\n';
    const body = Buffer.from(csv, 'utf8');
    const upload = await ok(stack.api('POST', '/v1/imports/uploads', { token: ws.owner.token, body: { fileName: 'contacts.csv', sizeBytes: body.length } }), 201);
    expect((await fetch(upload.uploadUrl, { method: 'PUT', headers: upload.uploadHeaders, body })).status).toBe(200);
    const job = await ok(stack.api('POST', '/v1/imports', { token: ws.owner.token, body: { uploadId: upload.uploadId, format: 'csv' } }), 201);
    expect((await jobs.finished(ws.workspace.id, job.id)).status).toBe('succeeded');
    await settle();
    const imported = await Promise.all(
      ['imp1@example.com', 'imp2@example.com'].map((email) =>
        ok(stack.api('GET', '/v1/contacts/lookup', { token: ws.owner.token, query: { kind: 'email', value: email } })),
      ),
    );
    expect((await contact(ws, created.id)).ownerId).toBe(a);
    expect((await contact(ws, ingested.contactId)).ownerId).toBe(b);
    // One import transaction may append both rows' events: their order on the stream is not the file's.
    expect(imported.map((item) => item.ownerId).sort()).toEqual([a, b].sort());
    expect((await contact(ws, owned.id)).ownerId).toBe(ws.member.user.id);
    const claimed = (await eventsOf(ws, 'contact', created.id)).find((event) => event.type === 'owner.claimed')!;
    expect(claimed).toMatchObject({ actorUserId: 'system', payload: { ownerId: a, previousOwnerId: null, assignedBy: 'system', ruleId: rule.id } });
  });

  it('a disabled rule assigns nothing', async () => {
    const ws = await workspace();
    await createRule(ws, { appliesTo: 'contacts', userIds: usersOf(ws), enabled: false });
    const created = await ok(stack.api('POST', '/v1/contacts', { token: ws.owner.token, body: { name: 'Nobody’s' } }), 201);
    await settle();
    expect((await contact(ws, created.id)).ownerId).toBeNull();
  });
});
