import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEntriesOf, tokenItem } from '../../domain/contacts/contact-record';
import { createContact, getContact, suppressContact } from '../../domain/contacts/contacts.service';
import { normaliseSearchQuery, searchPartition } from '../../domain/contacts/search-tokens';
import { startDynamoDbLocal, type RunningDynamoDb } from '../../local/emulators';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { putAll, seededContact } from '../support/seeded-contacts';

/**
 * What a read of the contact book costs in DynamoDB requests, and that it does not grow with the
 * workspace: measured at 200 contacts created through the service, then again after 20,000 more.
 *
 * The 20,000 are written by BatchWriteItem as createContact stores them (seeded-contacts.ts, the items
 * from listEntriesOf / tokenItem), but only the items in the partitions the measured reads touch: every
 * contact item, the active list's name and updated partitions, the suppressed list, and the search
 * tokens of the queried partition. A key-served read costs what its own partition holds, so the other
 * items (owner and company list entries, channel guards, other token partitions) cannot change a count;
 * writing them too would multiply the seed time (~1,200 items/s on DynamoDB Local) by three.
 * The file runs on a DynamoDB Local of its own: one process serialises every write, and a 60,000-item
 * seed on the shared one would stall the test files running beside it (and be stalled by them).
 */
let own: RunningDynamoDb;
let stack: TestStack;
let ws: Awaited<ReturnType<typeof seedWorkspace>>;
let caller: { workspaceId: string; userId: string; role: 'owner' };
const firstNames = ['Ana', 'Bruno', 'Chloé', 'Dmitri', 'Elif', 'Farah', 'Gustavo', 'Hana', 'Ines', 'Jonas'];
const lastNames = ['Silva', 'Müller', 'Okafor', 'Novák', 'Yılmaz', 'Tanaka', 'Dubois', 'Rossi', 'Kowalski', 'Haddad'];
const searched = 'müller';

async function createContacts(count: number) {
  const indexes = Array.from({ length: count }, (_, index) => index);
  const workers = Array.from({ length: 8 }, async () => {
    for (let index = indexes.shift(); index !== undefined; index = indexes.shift()) {
      const contact = await createContact(stack.deps, caller, {
        name: `${firstNames[index % 10]} ${lastNames[Math.floor(index / 10) % 10]} ${index}`,
        companyName: `Company ${index % 37}`,
        channels: [{ kind: 'email', value: `person${index}@calls.example` }],
      });
      if (index % 20 === 3) await suppressContact(stack.deps, caller, contact.id, 'Bounced');
    }
  });
  await Promise.all(workers);
}

/** Contacts 0 .. count-1 of seeded-contacts.ts, each with its items in the measured partitions. */
async function bulkSeed(count: number) {
  const { workspaceId } = caller;
  const measuredLists = new Set([`active|n`, `active|u`, `suppressed:active|n`]);
  const tokenPartition = searchPartition(normaliseSearchQuery(searched).token);
  const { entities } = stack.deps.db;
  for (let from = 0; from < count; from += 1000) {
    const contacts = [];
    const entries = [];
    const tokens = [];
    for (let i = from; i < Math.min(count, from + 1000); i++) {
      const { item } = seededContact(workspaceId, caller.userId, i);
      contacts.push(item);
      entries.push(...listEntriesOf(item).filter((entry) => measuredLists.has(`${entry.list}|${entry.sort}`)));
      for (const token of item.searchTokens ?? []) {
        if (searchPartition(token) === tokenPartition) tokens.push(tokenItem(item, token));
      }
    }
    await Promise.all([
      putAll((batch) => entities.contact.put(batch), contacts, 4),
      putAll((batch) => entities.contactListEntry.put(batch), entries, 4),
      putAll((batch) => entities.contactSearchToken.put(batch), tokens, 4),
    ]);
  }
}

async function counted(read: () => Promise<unknown>) {
  stack.calls.reset();
  await read();
  return { ...stack.calls.counts };
}

const list = (query: Record<string, string>, expectFull = true) => async () => {
  const res = await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { limit: '25', ...query } });
  expect(res.status).toBe(200);
  if (expectFull) expect(res.body.items).toHaveLength(25);
  return res;
};

async function measure() {
  const contactId = (await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { limit: 1 } })).body.items[0].id;
  await stack.api('GET', `/v1/contacts/${contactId}`, { token: ws.owner.token }); // the token is read and cached
  return {
    getDomain: await counted(() => getContact(stack.deps, caller, contactId)),
    getApi: await counted(async () => expect((await stack.api('GET', `/v1/contacts/${contactId}`, { token: ws.owner.token })).status).toBe(200)),
    byName: await counted(list({ sort: 'name' })),
    byUpdated: await counted(list({ sort: 'updated' })),
    suppressed: await counted(list({ suppressed: 'true' }, false)),
    search: await counted(async () => {
      const res = await stack.api('GET', '/v1/contacts/search', { token: ws.owner.token, query: { q: searched, limit: 10 } });
      expect(res.body.items).toHaveLength(10);
    }),
    // Filters no key serves: the entries read are filtered, within a bounded number of reads.
    notSuppressed: await counted(list({ suppressed: 'false' }, false)),
    createdRangeByName: await counted(list({ sort: 'name', createdFrom: '2020-01-01T00:00:00Z' }, false)),
  };
}

beforeAll(async () => {
  own = await startDynamoDbLocal();
  process.env.DYNAMODB_ENDPOINT = own.endpoint; // this file's process only (test files run in forks)
  stack = await createTestStack();
  ws = await seedWorkspace(stack, 'Counted');
  caller = { workspaceId: ws.workspace.id, userId: ws.owner.user.id, role: 'owner' };
}, 120_000);
afterAll(async () => {
  await stack?.destroy();
  await own?.stop();
});

describe('DynamoDB requests per read of the contact book', () => {
  it('are one request per page, the same at 200 contacts and at 20,200', async () => {
    await createContacts(200);
    const small = await measure();
    await bulkSeed(20_000);
    const large = await measure();
    expect(large).toEqual(small);

    // get contact: one GetItem, in the domain and through the API (the token is cached once read).
    expect(small.getDomain).toEqual({ GetItemCommand: 1 });
    expect(small.getApi).toEqual({ GetItemCommand: 1 });
    // A list page, a suppressed list page and a search page: one Query each, nothing else.
    expect(small.byName).toEqual({ QueryCommand: 1 });
    expect(small.byUpdated).toEqual({ QueryCommand: 1 });
    expect(small.suppressed).toEqual({ QueryCommand: 1 });
    expect(small.search).toEqual({ QueryCommand: 1 });
    // A filter no key serves reads at most 3 pages, then answers with a cursor.
    for (const page of [small.notSuppressed, small.createdRangeByName, large.notSuppressed, large.createdRangeByName]) {
      expect(Object.keys(page)).toEqual(['QueryCommand']);
      expect(page.QueryCommand).toBeLessThanOrEqual(3);
    }
  }, 600_000);

  it('holds the 20,000 seeded contacts in the lists and the search it measured', async () => {
    const suppressed = await stack.api('GET', '/v1/contacts', { token: ws.owner.token, query: { suppressed: 'true', limit: 100 } });
    expect(suppressed.body.items).toHaveLength(100);
    expect(suppressed.body.items.every((item: { suppressed: boolean }) => item.suppressed)).toBe(true);
    const bySearch = await stack.api('GET', '/v1/contacts/search', { token: ws.owner.token, query: { q: searched, limit: 100 } });
    expect(bySearch.body.items.length).toBe(100);
  });
});
