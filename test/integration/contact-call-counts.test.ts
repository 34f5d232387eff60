import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContact, getContact } from '../../domain/contacts/contacts.service';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * What a read of the contact book costs in DynamoDB requests, and that it does not grow with the
 * workspace: measured at 200 contacts and again at 1,500. (The 20k and 100k figures come from
 * `npm run bench`, which seeds at that size; seeding them here would take minutes on DynamoDB Local.)
 */
let stack: TestStack;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let caller: { workspaceId: string; userId: string; role: 'owner' };
const firstNames = ['Ana', 'Bruno', 'Chloé', 'Dmitri', 'Elif', 'Farah', 'Gustavo', 'Hana', 'Ines', 'Jonas'];
const lastNames = ['Silva', 'Müller', 'Okafor', 'Novák', 'Yılmaz', 'Tanaka', 'Dubois', 'Rossi', 'Kowalski', 'Haddad'];

async function seedContacts(from: number, to: number) {
  const indexes = Array.from({ length: to - from }, (_, offset) => from + offset);
  const workers = Array.from({ length: 8 }, async () => {
    for (let index = indexes.shift(); index !== undefined; index = indexes.shift()) {
      await createContact(stack.deps, caller, {
        name: `${firstNames[index % 10]} ${lastNames[Math.floor(index / 10) % 10]} ${index}`,
        companyName: `Company ${index % 37}`,
        channels: [{ kind: 'email', value: `person${index}@calls.example` }],
      });
    }
  });
  await Promise.all(workers);
}

async function measure() {
  const contactId = (await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { limit: 1 } })).body.items[0].id;
  stack.calls.reset();
  await getContact(stack.deps, caller, contactId);
  const getDomain = { ...stack.calls.counts };

  await stack.api('GET', `/v1/contacts/${contactId}`, { token: ws.owner.token }); // the token is read and cached
  stack.calls.reset();
  const got = await stack.api('GET', `/v1/contacts/${contactId}`, { token: ws.owner.token });
  expect(got.status).toBe(200);
  const getApi = { ...stack.calls.counts };

  stack.calls.reset();
  const list = await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { sort: 'name', limit: 25 } });
  expect(list.body.items).toHaveLength(25);
  const listPage = { ...stack.calls.counts };

  stack.calls.reset();
  const second = await stack.api('GET', '/v1/contacts', {
    token: ws.owner.token,
    query: { sort: 'updated', limit: 25, cursor: undefined },
  });
  expect(second.body.items).toHaveLength(25);
  const updatedPage = { ...stack.calls.counts };

  stack.calls.reset();
  await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { sort: 'name', limit: 25, suppressed: 'true' } });
  const filteredPage = { ...stack.calls.counts };

  stack.calls.reset();
  const search = await stack.api('GET', '/v1/contacts/search', { token: ws.owner.token, query: { q: 'müller', limit: 10 } });
  expect(search.body.items.length).toBeGreaterThan(0);
  const searchPage = { ...stack.calls.counts };

  return { getDomain, getApi, listPage, updatedPage, filteredPage, searchPage };
}

beforeAll(async () => {
  stack = await createTestStack();
  ws = await seedWorkspace(stack, 'Counted');
  caller = { workspaceId: ws.workspace.id, userId: ws.owner.user.id, role: 'owner' };
}, 120_000);
afterAll(() => stack.destroy());

describe('DynamoDB requests per read of the contact book', () => {
  it('stay the same at 200 and at 1,500 contacts, and are small', async () => {
    await seedContacts(0, 200);
    const small = await measure();
    await seedContacts(200, 1500);
    const large = await measure();

    // Everything a key serves costs the same whatever the size; the unserved filter is capped instead.
    const { filteredPage: smallFiltered, listPage: smallList, updatedPage: smallUpdated, ...smallServed } = small;
    const { filteredPage: largeFiltered, listPage: largeList, updatedPage: largeUpdated, ...largeServed } = large;
    expect(largeServed).toEqual(smallServed);
    expect(largeFiltered.QueryCommand).toBeLessThanOrEqual(12);
    // get contact: one GetItem, in the domain and through the API (the token is cached once read).
    expect(small.getDomain).toEqual({ GetItemCommand: 1 });
    expect(small.getApi).toEqual({ GetItemCommand: 1 });
    // A list page: one Query per shard (4), and rarely a second for a shard that held more than its
    // share of the page; never more than two per shard, nothing else.
    for (const page of [smallList, smallUpdated, largeList, largeUpdated]) {
      expect(Object.keys(page)).toEqual(['QueryCommand']);
      expect(page.QueryCommand).toBeGreaterThanOrEqual(4);
      expect(page.QueryCommand).toBeLessThanOrEqual(8);
    }
    // A filter no key serves reads at most 3 pages per shard, then answers with a cursor.
    expect(smallFiltered.QueryCommand).toBeLessThanOrEqual(12);
    expect(smallFiltered.ScanCommand).toBeUndefined();
    // A search page: one token Query and one BatchGetItem of the contacts.
    expect(small.searchPage).toEqual({ QueryCommand: 1, BatchGetItemCommand: 1 });
  }, 300_000);
});
