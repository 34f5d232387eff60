import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../domain/auth/tokens.service';
import { createJob } from '../../domain/jobs/jobs.service';
import type { NormalisedRow } from '../../domain/imports/import-row';
import { writeImportChunk } from '../../domain/imports/import-writer';
import { importWriteOptions } from '../../domain/imports/import-writer.schemas';
import { routeList, takesCursor } from '../../functions/http/routes';
import { newDeliveryItem } from '../../domain/webhooks/webhook-delivery-record';
import { createTestStack, seedWorkspace, type ApiResponse, type TestStack } from '../support/test-stack';

/**
 * Every list route of the route table (a GET whose query takes a `cursor`) pages with sealed cursors:
 * page 2 follows the nextCursor; a forged, altered, foreign or misplaced cursor is a 400
 * `invalid_cursor` before any Query; a cursor shows nothing of what it stands for. The routes come
 * from the route table, so a list route added later is covered, and fails here until it has a seed.
 */
const listRoutes = routeList.filter(takesCursor);

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

/** What the seed of one list route gives: where to read two pages of at most `limit` 2. */
interface ListCase {
  /** The route's path, its parameters filled in. */
  path: string;
  query?: Record<string, string>;
  /** Other filters of the same route: a cursor of `query` is refused there. */
  otherQuery?: Record<string, string>;
  /** The same route for another record (another path parameter). */
  otherPath?: string;
  /** Strings that must not show in a cursor besides the listed ids (e.g. the tokens' hashes). */
  secrets?: string[];
  /** A record may show on two pages (search: once per matched word). */
  repeats?: boolean;
}

interface World {
  contacts: string[];
  otherContact: string;
  companyId: string;
  otherCompanyId: string;
}

const post = async (path: string, body: unknown, method = 'POST') => {
  const res = await stack.api(method, path, { token: acme.owner.token, body });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body as { id: string };
};
const times = async (count: number, make: (index: number) => Promise<unknown>) => {
  for (let index = 0; index < count; index++) await make(index);
};

/**
 * One seed per list route, by operationId: it writes enough records in `acme` for two pages of 2
 * (three or more) and says where to read them. A list route without one fails the suite.
 */
const seeds: Record<string, (world: World) => Promise<ListCase>> = {
  listUsers: async () => ({ path: '/v1/users' }),
  listTokens: async () => ({
    path: '/v1/tokens',
    otherQuery: { userId: acme.owner.user.id },
    secrets: [acme.owner.token, acme.admin.token, acme.member.token].map(hashToken),
  }),
  listEvents: async ({ contacts: [contactId], otherContact }) => {
    await times(3, (i) => post(`/v1/contacts/${contactId}/tags`, { tags: [`evt${i}`] }));
    return {
      path: '/v1/events',
      query: { entityType: 'contact', entityId: contactId! },
      otherQuery: { entityType: 'contact', entityId: otherContact },
    };
  },
  listContacts: async () => ({ path: '/v1/contacts', otherQuery: { sort: 'created' } }),
  // The contacts match `zed` by name and by company name: each hit once per page, maybe on two pages.
  searchContacts: async () => ({ path: '/v1/contacts/search', query: { q: 'zed' }, otherQuery: { q: 'zedd' }, repeats: true }),
  listContactScores: async ({ contacts: [contactId], otherContact }) => {
    await times(3, (i) => post(`/v1/contacts/${contactId}/scores`, { value: i + 2 }));
    return { path: `/v1/contacts/${contactId}/scores`, otherPath: `/v1/contacts/${otherContact}/scores` };
  },
  listContactTimeline: async ({ contacts: [contactId], otherContact }) => ({
    path: `/v1/contacts/${contactId}/timeline`,
    otherQuery: { types: 'tag.added' },
    otherPath: `/v1/contacts/${otherContact}/timeline`,
  }),
  getContactQualification: async ({ contacts: [contactId], otherContact }) => {
    for (const kind of ['lead', 'prospect', 'customer', 'lead']) {
      await post(`/v1/contacts/${contactId}/qualification`, { kind }, 'PUT');
    }
    return { path: `/v1/contacts/${contactId}/qualification`, otherPath: `/v1/contacts/${otherContact}/qualification` };
  },
  listCompanies: async () => ({ path: '/v1/companies', otherQuery: { q: 'zed' } }),
  listCompanyContacts: async ({ companyId, otherCompanyId }) => ({
    path: `/v1/companies/${companyId}/contacts`,
    otherQuery: { sort: 'created' },
    otherPath: `/v1/companies/${otherCompanyId}/contacts`,
  }),
  listNotes: async ({ contacts: [contactId], otherContact }) => {
    await times(3, (i) => post('/v1/notes', { anchor: { kind: 'contact', id: contactId }, markdown: `Note ${i}` }));
    return {
      path: '/v1/notes',
      query: { anchorKind: 'contact', anchorId: contactId! },
      otherQuery: { anchorKind: 'contact', anchorId: otherContact },
    };
  },
  listNoteHistory: async ({ contacts: [contactId] }) => {
    const note = await post('/v1/notes', { anchor: { kind: 'contact', id: contactId }, markdown: 'v0' });
    const other = await post('/v1/notes', { anchor: { kind: 'contact', id: contactId }, markdown: 'other' });
    await times(3, (i) => post(`/v1/notes/${note.id}`, { markdown: `v${i + 1}` }, 'PATCH'));
    return { path: `/v1/notes/${note.id}/history`, otherPath: `/v1/notes/${other.id}/history` };
  },
  listAnchorTasks: async ({ contacts: [contactId], otherContact }) => {
    await times(3, (i) => post('/v1/tasks', { title: `Call ${i}`, anchor: { kind: 'contact', id: contactId } }));
    return {
      path: '/v1/tasks',
      query: { anchorKind: 'contact', anchorId: contactId! },
      otherQuery: { anchorKind: 'contact', anchorId: otherContact },
    };
  },
  listMyTasks: async () => {
    await times(3, (i) => post('/v1/tasks', { title: `Mine ${i}`, assigneeId: acme.owner.user.id }));
    return { path: '/v1/tasks/mine', otherQuery: { status: 'done' } };
  },
  listPoolTasks: async () => ({ path: '/v1/tasks/pool', otherQuery: { status: 'done' } }),
  listOverdueTasks: async () => {
    await times(3, (i) => post('/v1/tasks', { title: `Late ${i}`, dueAt: `2026-01-0${i + 1}T10:00:00Z` }));
    return { path: '/v1/tasks/overdue' };
  },
  listDueTasks: async () => {
    await times(3, (i) => post('/v1/tasks', { title: `Due ${i}`, dueAt: `2026-02-0${i + 1}T10:00:00Z` }));
    return {
      path: '/v1/tasks/due',
      query: { from: '2026-02-01T00:00:00Z', to: '2026-02-28T00:00:00Z' },
      otherQuery: { from: '2026-02-01T00:00:00Z', to: '2026-02-27T00:00:00Z' },
    };
  },
  listPipelines: async () => {
    await times(2, (i) => post('/v1/pipelines', { name: `Pipeline ${i}` }));
    return { path: '/v1/pipelines' };
  },
  listStageDeals: async () => {
    await times(3, (i) => post('/v1/deals', { title: `Deal ${i}`, pipelineId: 'pl_default', stageId: 'st_open' }));
    return {
      path: '/v1/pipelines/pl_default/stages/st_open/deals',
      otherPath: '/v1/pipelines/pl_default/stages/st_negotiating/deals',
    };
  },
  listDeals: async () => ({ path: '/v1/deals', otherQuery: { status: 'won' } }),
  listTags: async () => ({ path: '/v1/tags', otherQuery: { q: 'evt' } }),
  listSegments: async () => {
    await times(3, (i) => post('/v1/segments', { name: `Cursor segment ${i}`, kind: 'static' }));
    return { path: '/v1/segments', otherQuery: { kind: 'dynamic' } };
  },
  listSegmentMembers: async ({ contacts }) => {
    const segment = await post('/v1/segments', { name: 'Cursor members', kind: 'static' });
    const other = await post('/v1/segments', { name: 'Cursor members too', kind: 'static' });
    await post(`/v1/segments/${segment.id}/members`, { contactIds: contacts });
    return { path: `/v1/segments/${segment.id}/members`, otherQuery: { sort: 'name' }, otherPath: `/v1/segments/${other.id}/members` };
  },
  listAssignmentRules: async () => {
    await times(3, (i) => post('/v1/assignment-rules', { name: `Cursor rule ${i}`, appliesTo: 'contacts', userIds: [acme.owner.user.id], enabled: false }));
    return { path: '/v1/assignment-rules' };
  },
  listLeads: async ({ contacts }) => {
    const product = await post('/v1/products', { name: 'Cursor product', criteria: [{ id: 'budget', name: 'Budget', weight: 1, kind: 'manual' }] });
    const other = await post('/v1/products', { name: 'Cursor product too', criteria: [{ id: 'budget', name: 'Budget', weight: 1, kind: 'manual' }] });
    for (const [index, contactId] of contacts.entries()) {
      await post(`/v1/contacts/${contactId}/fit/${product.id}/assessments`, { criterionId: 'budget', value: 1 + (index % 5) });
    }
    return { path: `/v1/products/${product.id}/leads`, otherQuery: { reviewStatus: 'pending' }, otherPath: `/v1/products/${other.id}/leads` };
  },
  listContactAssessments: async ({ contacts: [contactId], otherContact }) => {
    const product = await post('/v1/products', { name: 'Cursor assessments', criteria: [{ id: 'budget', name: 'Budget', weight: 1, kind: 'manual' }] });
    await times(3, (i) => post(`/v1/contacts/${contactId}/fit/${product.id}/assessments`, { criterionId: 'budget', value: i + 1 }));
    return { path: `/v1/contacts/${contactId}/fit/${product.id}/assessments`, otherPath: `/v1/contacts/${otherContact}/fit/${product.id}/assessments` };
  },
  listConversations: async ({ contacts }) => {
    for (const contactId of contacts) await post('/v1/conversations', { kind: 'contact', contactId, channel: 'email' });
    return { path: '/v1/conversations', query: { view: 'all' }, otherQuery: { view: 'unassigned' } };
  },
  listConversationScores: async ({ contacts: [contactId], otherContact }) => {
    const conversation = await post('/v1/conversations', { kind: 'contact', contactId, channel: 'sms' });
    const other = await post('/v1/conversations', { kind: 'contact', contactId: otherContact, channel: 'sms' });
    await times(3, (i) => post(`/v1/conversations/${conversation.id}/scores`, { value: i + 2 }));
    return { path: `/v1/conversations/${conversation.id}/scores`, otherPath: `/v1/conversations/${other.id}/scores` };
  },
  listConversationQualifications: async ({ contacts: [contactId], otherContact }) => {
    const conversation = await post('/v1/conversations', { kind: 'contact', contactId, channel: 'sms' });
    const other = await post('/v1/conversations', { kind: 'contact', contactId: otherContact, channel: 'sms' });
    await times(3, (i) => post(`/v1/conversations/${conversation.id}/qualifications`, { kind: `kind_${i}` }));
    return {
      path: `/v1/conversations/${conversation.id}/qualifications`,
      otherPath: `/v1/conversations/${other.id}/qualifications`,
    };
  },
  listMessages: async () => {
    const conversation = await post('/v1/conversations', { kind: 'direct', userIds: [acme.member.user.id] });
    const other = await post('/v1/conversations', { kind: 'direct', userIds: [acme.admin.user.id, acme.member.user.id] });
    await times(3, (i) => post(`/v1/conversations/${conversation.id}/messages`, { body: `Message ${i}` }));
    await post(`/v1/conversations/${other.id}/messages`, { body: 'Elsewhere' });
    return { path: `/v1/conversations/${conversation.id}/messages`, otherPath: `/v1/conversations/${other.id}/messages` };
  },
  listUnreadMessages: async () => {
    // The admin writes to the owner: three messages unread for the owner, who reads the list.
    const conversation = await post('/v1/conversations', { kind: 'direct', userIds: [acme.admin.user.id] });
    await times(3, async (i) => {
      const res = await stack.api('POST', `/v1/conversations/${conversation.id}/messages`, {
        token: acme.admin.token,
        body: { body: `For you ${i}` },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    });
    return { path: '/v1/inbox/unread-messages' };
  },
  getUnreadCounts: async () => {
    // Three contacts write in: three pool conversations with unread messages for every user.
    await times(3, async (i) => {
      await post('/v1/inbound-messages', {
        channel: 'email',
        from: `unread-${i}@example.com`,
        body: `Unread ${i}`,
        externalId: `cursor-unread-${i}`,
      });
    });
    return { path: '/v1/inbox/unread' };
  },
  listCalls: async ({ contacts: [contactId], otherContact }) => {
    const conversation = await post('/v1/conversations', { kind: 'contact', contactId, channel: 'whatsapp' });
    const other = await post('/v1/conversations', { kind: 'contact', contactId: otherContact, channel: 'whatsapp' });
    await times(3, () => post(`/v1/conversations/${conversation.id}/calls`, { kind: 'voice' }));
    await post(`/v1/conversations/${other.id}/calls`, { kind: 'video' });
    return { path: `/v1/conversations/${conversation.id}/calls`, otherPath: `/v1/conversations/${other.id}/calls` };
  },
  listJobs: async () => {
    // No route starts a job yet: three written with the domain's createJob (nothing runs them here).
    const caller = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' as const };
    await times(3, () => createJob(stack.deps, caller, { kind: 'export_contacts', input: {} }));
    return { path: '/v1/jobs', otherQuery: { kind: 'export_contacts' } };
  },
  listWebhooks: async () => {
    await times(3, (i) => post('/v1/webhooks', { url: `http://127.0.0.1:9/cursor-${i}`, eventTypes: ['contact.*'] }));
    return { path: '/v1/webhooks' };
  },
  listWebhookDeliveries: async ({ contacts }) => {
    const hook = await post('/v1/webhooks', { url: 'http://127.0.0.1:9/cursor-deliveries', eventTypes: ['contact.*'] });
    const other = await post('/v1/webhooks', { url: 'http://127.0.0.1:9/cursor-other', eventTypes: ['contact.*'] });
    // Written as the fan-out writes them (no stream runs here): one delivery per contact's first event.
    for (const contactId of contacts.slice(0, 3)) {
      const [event] = (await stack.api('GET', `/v1/events?entityType=contact&entityId=${contactId}`, { token: acme.owner.token })).body.items;
      const record = { ...event, eventId: event.id, workspaceId: acme.workspace.id, contactId, companyId: undefined, dealId: undefined, channel: undefined };
      await stack.deps.db.entities.webhookDelivery.create(newDeliveryItem(record, hook.id, true, stack.clock.nowIso())).go();
    }
    return { path: `/v1/webhooks/${hook.id}/deliveries`, otherPath: `/v1/webhooks/${other.id}/deliveries` };
  },
  listChannelConnections: async () => {
    const connect = (index: number) =>
      post('/v1/channels', {
        kind: 'sms',
        name: `Twilio ${index}`,
        settings: { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, senderNumber: `+1202555014${index}` },
        secrets: { authToken: `${index}f8e7d6c5b4a39281706f5e4d3c2b1a` },
      });
    await times(3, connect);
    return { path: '/v1/channels' };
  },
  listImportErrors: async () => {
    // Two import jobs (nothing runs them here), three rejected rows written for each by the import writer.
    const caller = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' as const };
    const jobIds: string[] = [];
    for (let j = 0; j < 2; j++) {
      const job = await createJob(stack.deps, caller, { kind: 'import_contacts', input: {} });
      const rows: NormalisedRow[] = [1, 2, 3].map((row) => ({
        kind: 'rejected',
        rejection: { row, line: row + 1, code: 'no_channel', message: 'No email or phone', raw: [`Row ${row}`] },
      }));
      await writeImportChunk(stack.deps, { workspaceId: acme.workspace.id, jobId: job.id, caller, options: importWriteOptions.parse({}) }, rows);
      jobIds.push(job.id);
    }
    return { path: `/v1/imports/${jobIds[0]}/errors`, otherPath: `/v1/imports/${jobIds[1]}/errors` };
  },
};

const cases = new Map<string, ListCase>();

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  const company = await post('/v1/companies', { name: 'Zed Industries' });
  const otherCompany = await post('/v1/companies', { name: 'Other Co' });
  await post('/v1/companies', { name: 'Third Co' });
  const contacts: string[] = [];
  for (const name of ['Zed Alpha', 'Zed Beta', 'Zed Gamma']) {
    contacts.push((await post('/v1/contacts', { name, companyId: company.id })).id);
  }
  const otherContact = (await post('/v1/contacts', { name: 'Other Person', companyId: otherCompany.id })).id;
  await times(3, (i) => post(`/v1/contacts/${contacts[i]}/tags`, { tags: [`tag${i}`] }));
  const world = { contacts, otherContact, companyId: company.id, otherCompanyId: otherCompany.id };
  for (const route of listRoutes) {
    const seed = seeds[route.operationId];
    if (seed) cases.set(route.operationId, await seed(world));
  }
}, 180_000);

afterAll(() => stack?.destroy());

const get = (path: string, query: Record<string, string | number | undefined>, token = acme.owner.token) =>
  stack.api('GET', path, { token, query });

/** A page's records: `items`, a qualification's `history`, or the unread counts' `conversations`. */
const itemsOf = (res: ApiResponse) =>
  (res.body.items ??
    res.body.history ??
    (res.body.conversations as { conversationId: string }[] | undefined)?.map((c) => ({ id: c.conversationId }))) as {
    id?: string;
  }[];

function expectInvalidCursor(res: ApiResponse, what: string) {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
  expect(res.headers['content-type'], what).toBe('application/problem+json');
  expect(res.body, what).toMatchObject({ status: 400, code: 'invalid_cursor', errors: [{ field: 'query.cursor' }] });
}

/** Page 1 of a route's case, checked to have a cursor. */
async function firstPage(list: ListCase) {
  const res = await get(list.path, { ...list.query, limit: 2 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.nextCursor, `${list.path} must have a page 2 (seed at least 3 records)`).toEqual(expect.any(String));
  return { res, cursor: res.body.nextCursor as string };
}

const flipBit = (cursor: string, bit: number) => {
  const bytes = Buffer.from(cursor, 'base64url');
  bytes[(bit >> 3) % bytes.length]! ^= 1 << (bit & 7);
  return bytes.toString('base64url');
};

it('has a seed for every list route of the route table', () => {
  expect(listRoutes.length).toBeGreaterThanOrEqual(21);
  const missing = listRoutes.map((route) => route.operationId).filter((id) => !(id in seeds));
  expect(missing, 'add a seed for each new list route to `seeds` in this file').toEqual([]);
});

/** Lists of the caller's own records, read from a partition of theirs. */
const perUserLists = new Set(['listUnreadMessages', 'getUnreadCounts']);

describe.each(listRoutes.map((route) => [route.operationId, route] as const))('%s', (operationId, route) => {
  const listCase = () => {
    const found = cases.get(operationId);
    if (!found) throw new Error(`No seed for the list route ${operationId} (${route.method} ${route.path}): add one to \`seeds\``);
    return found;
  };

  it('reaches page 2 with the nextCursor, under another limit too', async () => {
    const list = listCase();
    const { res: first, cursor } = await firstPage(list);
    const second = await get(list.path, { ...list.query, limit: 2, cursor });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(itemsOf(second).length).toBeGreaterThan(0);
    const firstIds = itemsOf(first).map((item) => item.id);
    if (!list.repeats) for (const item of itemsOf(second)) if (item.id !== undefined) expect(firstIds).not.toContain(item.id);
    // The page size is not part of the query a cursor belongs to.
    expect((await get(list.path, { ...list.query, limit: 5, cursor })).status).toBe(200);
  });

  it('shows nothing in its cursor: no key, workspace, hash or id', async () => {
    const list = listCase();
    const { res, cursor } = await firstPage(list);
    const second = await get(list.path, { ...list.query, limit: 2, cursor });
    const ids = [...itemsOf(res), ...itemsOf(second)].map((item) => item.id).filter((id): id is string => id !== undefined);
    const hidden = [
      'WS#',
      '"pk"',
      '"sk"',
      acme.workspace.id,
      acme.owner.user.id,
      ...ids,
      ...list.path.split('/').filter((part) => /_[0-9A-Z]{10,}$/.test(part)),
      ...(list.secrets ?? []),
    ];
    for (const decoded of [cursor, Buffer.from(cursor, 'base64url').toString('latin1'), Buffer.from(cursor, 'base64url').toString('utf8')]) {
      for (const secret of hidden) expect(decoded, secret).not.toContain(secret);
    }
  });

  it('refuses forged, truncated and altered cursors with a 400 invalid_cursor, before any Query', async () => {
    const list = listCase();
    const { cursor } = await firstPage(list);
    const readable = (key: Record<string, string>) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const forged: [string, string][] = [
      ['random base64', randomBytes(48).toString('base64url')],
      ['short garbage', 'AAAA'],
      ['not base64', 'not a cursor!'],
      ['the old readable format, another workspace', readable({ pk: `WS#${globex.workspace.id}`, sk: 'USER#a' })],
      ['the old readable format, an index key', readable({ pk: `WS#${acme.workspace.id}#X`, sk: 'X', gsi1pk: `WS#${acme.workspace.id}#TOKENS`, gsi1sk: 'a' })],
      ['truncated', cursor.slice(0, -6)],
      ['cut to its first half', cursor.slice(0, Math.floor(cursor.length / 2))],
      ['extended', `${cursor}AAAA`],
      ['a bit flipped in the IV', flipBit(cursor, 8 * 3)],
      ['a bit flipped in the middle', flipBit(cursor, Buffer.from(cursor, 'base64url').length * 4)],
      ['a bit flipped in the tag', flipBit(cursor, Buffer.from(cursor, 'base64url').length * 8 - 1)],
    ];
    for (const [what, forgedCursor] of forged) {
      stack.calls.reset();
      expectInvalidCursor(await get(list.path, { ...list.query, cursor: forgedCursor }), what);
      expect(stack.calls.counts.QueryCommand ?? 0, `${what}: no Query`).toBe(0);
      expect(stack.calls.counts.ScanCommand ?? 0).toBe(0);
    }
  });

  it('refuses its cursor in another workspace, with other filters, for another record and on another route', async () => {
    const list = listCase();
    const { cursor } = await firstPage(list);
    expectInvalidCursor(await get(list.path, { ...list.query, cursor }, globex.owner.token), 'another workspace');
    // Another user of the workspace: a list of the caller's own (their unread) refuses it; none answers a 5xx.
    const byMember = await get(list.path, { ...list.query, cursor }, acme.member.token);
    if (perUserLists.has(operationId)) expectInvalidCursor(byMember, 'another user');
    else expect(byMember.status, `another user: ${JSON.stringify(byMember.body)}`).toBeLessThan(500);
    if (list.otherQuery) expectInvalidCursor(await get(list.path, { ...list.otherQuery, cursor }), 'other filters');
    if (list.otherPath) expectInvalidCursor(await get(list.otherPath, { ...list.query, cursor }), 'another record');
    const others = [...cases.entries()].filter(([id]) => id !== operationId);
    for (const [otherId, other] of others) {
      expectInvalidCursor(await get(other.path, { ...other.query, cursor }), `at ${otherId}`);
    }
  });
});

describe('the board', () => {
  it('hands out column cursors that go on at the column’s own route only', async () => {
    const board = await get('/v1/pipelines/pl_default/board', { limit: 2 });
    expect(board.status).toBe(200);
    const column = (board.body.columns as { stage: { id: string }; deals: { id: string }[]; nextCursor: string | null }[]).find(
      (entry) => entry.stage.id === 'st_open',
    )!;
    expect(column.nextCursor).toEqual(expect.any(String));
    const cursor = column.nextCursor!;
    expect(Buffer.from(cursor, 'base64url').toString('latin1')).not.toContain('WS#');
    const next = await get('/v1/pipelines/pl_default/stages/st_open/deals', { limit: 2, cursor });
    expect(next.status).toBe(200);
    expect(next.body.items.length).toBeGreaterThan(0);
    for (const deal of next.body.items as { id: string }[]) expect(column.deals.map((d) => d.id)).not.toContain(deal.id);
    expectInvalidCursor(await get('/v1/pipelines/pl_default/stages/st_negotiating/deals', { cursor }), 'another column');
    expectInvalidCursor(await get('/v1/pipelines/pl_default/stages/st_open/deals', { cursor }, globex.owner.token), 'another workspace');
    expectInvalidCursor(await get('/v1/deals', { cursor }), 'another route');
  });
});

describe('the token list', () => {
  it('walks every token of the workspace, and one user’s, across pages', async () => {
    const walk = async (query: Record<string, string>) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await get('/v1/tokens', { ...query, limit: 1, cursor });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        ids.push(...(res.body.items as { id: string }[]).map((token) => token.id));
        cursor = res.body.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    const all = await walk({});
    expect(all).toHaveLength(3);
    expect(new Set(all).size).toBe(3);
    expect(await walk({ userId: acme.admin.user.id })).toHaveLength(1);
  });
});
