import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { companyMergeSettings } from '../../domain/companies/company-merge.service';
import { isFreeMailDomain } from '../../domain/companies/free-mail-domains';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
});
afterAll(() => stack.destroy());

let counter = 0;
const unique = () => `u${++counter}`;
const createCompany = (token: string, body: Record<string, unknown>, headers?: Record<string, string>) => {
  stack.clock.advance(1000);
  return stack.api('POST', '/v1/companies', { token, body, headers });
};
const createContact = (token: string, body: Record<string, unknown>) => {
  stack.clock.advance(1000);
  return stack.api('POST', '/v1/contacts', { token, body });
};
const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((item) => item.id);
const companyContacts = async (
  token: string,
  companyId: string,
  query: Record<string, string | number> = {},
) =>
  ids(
    await stack.api('GET', `/v1/companies/${companyId}/contacts`, { token, query: { limit: 100, ...query } }),
  );

describe('create, read, update, archive', () => {
  it('creates a company with normalised domains and reads it back', async () => {
    const res = await createCompany(acme.owner.token, {
      name: 'Initech Ltd',
      domains: ['https://www.Initech.COM/about?x=1', 'initech.co.uk.', 'initech.com', 'bücher-initech.de'],
      website: 'initech.com',
      industry: 'Software',
      size: '51-200',
      city: 'Austin',
      country: 'US',
    });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`/v1/companies/${res.body.id}`);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^co_/),
      name: 'Initech Ltd',
      domains: ['initech.com', 'initech.co.uk', 'xn--bcher-initech-wob.de'],
      website: 'https://initech.com',
      size: '51-200',
      ownerId: null,
      status: 'active',
      mergedInto: null,
      version: 1,
      createdBy: acme.owner.user.id,
    });
    const read = await stack.api('GET', `/v1/companies/${res.body.id}`, { token: acme.member.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'company', entityId: res.body.id },
    });
    expect(events.body.items).toMatchObject([{ type: 'company.created', payload: { name: 'Initech Ltd' } }]);
    const idn = await createContact(acme.owner.token, {
      name: 'Anna IDN',
      channels: [{ kind: 'email', value: 'anna@Bücher-Initech.de' }],
    });
    expect(idn.body).toMatchObject({ companyId: res.body.id, companyName: 'Initech Ltd' });
  });

  it('replays a create with the same Idempotency-Key', async () => {
    const key = unique();
    const first = await createCompany(acme.owner.token, { name: 'Once Inc' }, { 'idempotency-key': key });
    const again = await createCompany(acme.owner.token, { name: 'Once Inc' }, { 'idempotency-key': key });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it('updates fields, clears with null, replaces domains (freeing the old ones) and answers a stale If-Match with 412', async () => {
    const res = await createCompany(acme.owner.token, {
      name: 'Upd Co',
      city: 'Paris',
      domains: ['upd-old.example'],
    });
    const upd = await stack.api('PATCH', `/v1/companies/${res.body.id}`, {
      token: acme.owner.token,
      headers: { 'if-match': '"1"' },
      body: { name: 'Updated Co', city: null, domains: ['upd-new.example'] },
    });
    expect(upd.status).toBe(200);
    expect(upd.headers.etag).toBe('"2"');
    expect(upd.body).toMatchObject({
      name: 'Updated Co',
      city: null,
      domains: ['upd-new.example'],
      version: 2,
    });
    const late = await stack.api('PATCH', `/v1/companies/${res.body.id}`, {
      token: acme.admin.token,
      headers: { 'if-match': '"1"' },
      body: { city: 'Oslo' },
    });
    expect(late.status).toBe(412);
    const reuse = await createCompany(acme.owner.token, { name: 'Reuser', domains: ['upd-old.example'] });
    expect(reuse.status).toBe(201);
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'company', entityId: res.body.id },
    });
    expect(events.body.items[0]).toMatchObject({
      type: 'company.updated',
      payload: {
        changes: {
          name: { from: 'Upd Co', to: 'Updated Co' },
          city: { from: 'Paris', to: null },
          domains: { from: ['upd-old.example'], to: ['upd-new.example'] },
        },
      },
    });
  });

  it('archives (keeping its domains), repeats harmlessly, and brings back', async () => {
    const res = await createCompany(acme.owner.token, { name: 'Archy Corp', domains: ['archy.example'] });
    const archived = await stack.api('POST', `/v1/companies/${res.body.id}/archive`, {
      token: acme.owner.token,
    });
    expect(archived.status).toBe(200);
    expect(archived.body).toMatchObject({ status: 'archived', archivedAt: expect.any(String), version: 2 });
    const again = await stack.api('POST', `/v1/companies/${res.body.id}/archive`, {
      token: acme.owner.token,
    });
    expect(again.body.version).toBe(2);
    const taken = await createCompany(acme.owner.token, { name: 'Archy Again', domains: ['archy.example'] });
    expect(taken.status).toBe(409);
    expect(taken.body.conflictingCompanyId).toBe(res.body.id);
    const active = await stack.api('GET', '/v1/companies', {
      token: acme.owner.token,
      query: { limit: 100 },
    });
    expect(ids(active)).not.toContain(res.body.id);
    const archivedList = await stack.api('GET', '/v1/companies', {
      token: acme.owner.token,
      query: { archived: 'true', limit: 100 },
    });
    expect(ids(archivedList)).toContain(res.body.id);
    const back = await stack.api('POST', `/v1/companies/${res.body.id}/unarchive`, {
      token: acme.owner.token,
    });
    expect(back.body).toMatchObject({ status: 'active', archivedAt: null });
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'company', entityId: res.body.id },
    });
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual([
      'company.unarchived',
      'company.archived',
      'company.created',
    ]);
  });
});

describe('domains', () => {
  it('keeps a domain unique per workspace: 409 naming the company that holds it', async () => {
    const holder = await createCompany(acme.owner.token, { name: 'Holder Plc', domains: ['holder.example'] });
    const clash = await createCompany(acme.member.token, {
      name: 'Clasher',
      domains: ['other.example', 'WWW.Holder.example'],
    });
    expect(clash.status).toBe(409);
    expect(clash.body.detail).toContain('Holder Plc');
    expect(clash.body.detail).toContain(holder.body.id);
    expect(clash.body.conflictingCompanyId).toBe(holder.body.id);
    // nothing of the refused company was written, not even its other domain
    expect(
      (await createCompany(acme.owner.token, { name: 'Other', domains: ['other.example'] })).status,
    ).toBe(201);
    const patch = await createCompany(acme.owner.token, { name: 'Patcher' });
    const patched = await stack.api('PATCH', `/v1/companies/${patch.body.id}`, {
      token: acme.owner.token,
      body: { domains: ['holder.example'] },
    });
    expect(patched.status).toBe(409);
    expect(patched.body.conflictingCompanyId).toBe(holder.body.id);
    const elsewhere = await createCompany(globex.owner.token, {
      name: 'Holder Elsewhere',
      domains: ['holder.example'],
    });
    expect(elsewhere.status).toBe(201);
  });

  it('refuses free mailbox domains', async () => {
    for (const domain of ['gmail.com', 'hotmail.co.uk', 'yahoo.fr', 'gmx.de', 'yandex.ru', 'proton.me']) {
      const res = await createCompany(acme.owner.token, {
        name: 'Freeloader',
        domains: ['ok-domain.example', domain],
      });
      expect(res.status, domain).toBe(400);
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          field: 'body.domains.1',
          message: expect.stringContaining('free mailbox'),
        }),
      ]);
    }
  });

  it('knows the free-mail families without catching company domains', () => {
    expect(
      [
        'gmail.com',
        'hotmail.com',
        'hotmail.com.br',
        'yahoo.co.jp',
        'live.fr',
        'qq.com',
        '163.com',
        'web.de',
      ].every(isFreeMailDomain),
    ).toBe(true);
    expect(
      ['acme.com', 'yahoo-inc.example', 'hotmailer.com', 'mail.acme.com', 'gmail.acme.example'].some(
        isFreeMailDomain,
      ),
    ).toBe(false);
  });
});

describe('linking contacts', () => {
  let company: { id: string; name: string };
  beforeAll(async () => {
    company = (await createCompany(acme.owner.token, { name: 'Linky GmbH', domains: ['linky.example'] }))
      .body;
  });

  it('links a new contact whose primary email is on a company domain, and takes the company name', async () => {
    const res = await createContact(acme.member.token, {
      name: 'Lena Link',
      companyName: 'linky',
      channels: [{ kind: 'email', value: 'Lena@Linky.example' }],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ companyId: company.id, companyName: 'Linky GmbH' });
    expect(await companyContacts(acme.member.token, company.id)).toContain(res.body.id);
    const search = await stack.api('GET', '/v1/contacts/search', {
      token: acme.owner.token,
      query: { q: 'linky gm' },
    });
    expect(ids(search)).toContain(res.body.id);
  });

  it('links a contact to the one company named as its companyName (case, accents and spacing aside), not when two share the name', async () => {
    const named = (await createCompany(acme.owner.token, { name: 'Globéx Corporation' })).body;
    const res = await createContact(acme.member.token, { name: 'Nina Named', companyName: '  globex   CORPORATION ' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ companyId: named.id, companyName: 'Globéx Corporation' });
    expect(await companyContacts(acme.member.token, named.id)).toContain(res.body.id);

    // Set later, on a contact without a company.
    const later = (await createContact(acme.member.token, { name: 'Lou Later' })).body;
    const patched = await stack.api('PATCH', `/v1/contacts/${later.id}`, { token: acme.member.token, body: { companyName: 'Globex Corporation' } });
    expect(patched.body).toMatchObject({ companyId: named.id, companyName: 'Globéx Corporation' });

    // Two companies of one name: which one is meant is not known, so neither.
    await createCompany(acme.owner.token, { name: 'Twin Co' });
    await createCompany(acme.owner.token, { name: 'TWIN CO' });
    const twin = await createContact(acme.member.token, { name: 'Tess Twin', companyName: 'Twin Co' });
    expect(twin.body).toMatchObject({ companyId: null, companyName: 'Twin Co' });
    // Another workspace's company of that name is not this workspace's.
    const foreign = await createContact(globex.owner.token, { name: 'Gus Globex', companyName: 'Globex Corporation' });
    expect(foreign.body).toMatchObject({ companyId: null });
  });

  it('never links by a free mailbox domain, nor to an archived company', async () => {
    const gmail = await createContact(acme.owner.token, {
      name: 'Gina Gmail',
      channels: [{ kind: 'email', value: `${unique()}@gmail.com` }],
    });
    expect(gmail.body).toMatchObject({ companyId: null, companyName: null });
    const archived = await createCompany(acme.owner.token, { name: 'Gone Ltd', domains: ['gone.example'] });
    await stack.api('POST', `/v1/companies/${archived.body.id}/archive`, { token: acme.owner.token });
    const res = await createContact(acme.owner.token, {
      name: 'Gus Gone',
      channels: [{ kind: 'email', value: 'gus@gone.example' }],
    });
    expect(res.body.companyId).toBeNull();
  });

  it('links when the channels change, and leaves an explicit null alone', async () => {
    const res = await createContact(acme.owner.token, {
      name: 'Carl Change',
      channels: [{ kind: 'email', value: `${unique()}@gmail.com` }],
    });
    const changed = await stack.api('POST', `/v1/contacts/${res.body.id}/channels`, {
      token: acme.owner.token,
      body: { kind: 'email', value: 'carl@linky.example', primary: true },
    });
    expect(changed.body).toMatchObject({ companyId: company.id, companyName: 'Linky GmbH' });
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'contact', entityId: res.body.id },
    });
    expect(events.body.items[0].payload.changes.companyId).toEqual({ from: null, to: company.id });
    const opted = await createContact(acme.owner.token, {
      name: 'Olga Opt',
      companyId: null,
      channels: [{ kind: 'email', value: 'olga@linky.example' }],
    });
    expect(opted.body.companyId).toBeNull();
  });

  it('links explicitly by companyId, follows it to the lists, and unlinks with null', async () => {
    const other = await createCompany(acme.owner.token, { name: 'Explicit SA' });
    const res = await createContact(acme.owner.token, {
      name: 'Ed Explicit',
      companyName: 'typed name',
      companyId: other.body.id,
    });
    expect(res.body).toMatchObject({ companyId: other.body.id, companyName: 'Explicit SA' });
    const moved = await stack.api('PATCH', `/v1/contacts/${res.body.id}`, {
      token: acme.owner.token,
      body: { companyId: company.id },
    });
    expect(moved.body).toMatchObject({ companyId: company.id, companyName: 'Linky GmbH' });
    expect(await companyContacts(acme.owner.token, other.body.id)).not.toContain(res.body.id);
    expect(await companyContacts(acme.owner.token, company.id)).toContain(res.body.id);
    const unlinked = await stack.api('PATCH', `/v1/contacts/${res.body.id}`, {
      token: acme.owner.token,
      body: { companyId: null },
    });
    expect(unlinked.body).toMatchObject({ companyId: null, companyName: 'Linky GmbH' });
    expect(await companyContacts(acme.owner.token, company.id)).not.toContain(res.body.id);
    const events = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'contact', entityId: res.body.id },
    });
    expect(events.body.items[0]).toMatchObject({
      type: 'contact.updated',
      payload: { changes: { companyId: { from: company.id, to: null } } },
    });
  });

  it('refuses a companyId that is not a company of the workspace', async () => {
    const foreign = await createCompany(globex.owner.token, { name: 'Foreign Co' });
    for (const companyId of ['co_00000000000000000000000000', foreign.body.id]) {
      const res = await createContact(acme.owner.token, { name: 'Bad Link', companyId });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'invalid_reference', errors: [{ field: 'body.companyId' }] });
    }
  });

  it('lists a company’s contacts by key, by contacts’ owner too', async () => {
    const listed = await createCompany(acme.owner.token, { name: 'Listed Ltd', domains: ['listed.example'] });
    const mine = await createContact(acme.member.token, {
      name: 'Mine Listed',
      ownerId: acme.member.user.id,
      channels: [{ kind: 'email', value: 'a@listed.example' }],
    });
    const pool = await createContact(acme.owner.token, {
      name: 'Pool Listed',
      channels: [{ kind: 'email', value: 'b@listed.example' }],
    });
    await createContact(acme.owner.token, { name: 'Not Listed' });
    const all = await stack.api('GET', `/v1/companies/${listed.body.id}/contacts`, {
      token: acme.member.token,
    });
    expect(all.status).toBe(200);
    expect(all.body.items.map((c: { name: string }) => c.name)).toEqual(['Mine Listed', 'Pool Listed']);
    const owned = await stack.api('GET', '/v1/contacts', {
      token: acme.member.token,
      query: { companyId: listed.body.id, ownerId: acme.member.user.id },
    });
    expect(ids(owned)).toEqual([mine.body.id]);
    const unclaimed = await stack.api('GET', `/v1/companies/${listed.body.id}/contacts`, {
      token: acme.member.token,
      query: { ownerId: 'none' },
    });
    expect(ids(unclaimed)).toEqual([pool.body.id]);
    await stack.api('POST', `/v1/contacts/${pool.body.id}/archive`, { token: acme.owner.token });
    expect(await companyContacts(acme.member.token, listed.body.id)).toEqual([mine.body.id]);
    expect(await companyContacts(acme.member.token, listed.body.id, { archived: 'true' })).toEqual([
      pool.body.id,
    ]);
  });
});

describe('listing', () => {
  it('pages through companies by name, accent- and case-insensitively, and finds by a name prefix', async () => {
    const ws = await seedWorkspace(stack, 'Names');
    const names = ['Zeta Systems', 'alpha Labs', 'Émile & Co', 'beta Works', 'Alphabet Soup', 'Delta Air'];
    for (const name of names) await createCompany(ws.owner.token, { name });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await stack.api('GET', '/v1/companies', {
        token: ws.member.token,
        query: { limit: 2, cursor },
      });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((c: { name: string }) => c.name));
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([
      'alpha Labs',
      'Alphabet Soup',
      'beta Works',
      'Delta Air',
      'Émile & Co',
      'Zeta Systems',
    ]);
    const alpha = await stack.api('GET', '/v1/companies', { token: ws.member.token, query: { q: 'ALPH' } });
    expect(alpha.body.items.map((c: { name: string }) => c.name)).toEqual(['alpha Labs', 'Alphabet Soup']);
    const paged = await stack.api('GET', '/v1/companies', {
      token: ws.member.token,
      query: { q: 'alph', limit: 1 },
    });
    const next = await stack.api('GET', '/v1/companies', {
      token: ws.member.token,
      query: { q: 'alph', limit: 1, cursor: paged.body.nextCursor },
    });
    expect(next.body.items.map((c: { name: string }) => c.name)).toEqual(['Alphabet Soup']);
    const accent = await stack.api('GET', '/v1/companies', { token: ws.member.token, query: { q: 'emile' } });
    expect(accent.body.items.map((c: { name: string }) => c.name)).toEqual(['Émile & Co']);
    const otherQuery = await stack.api('GET', '/v1/companies', {
      token: ws.member.token,
      query: { q: 'beta', cursor: paged.body.nextCursor },
    });
    expect(otherQuery.status).toBe(400);
    expect(otherQuery.body.errors[0].field).toBe('query.cursor');
    const foreign = await stack.api('GET', '/v1/companies', {
      token: globex.owner.token,
      query: { q: 'zeta' },
    });
    expect(foreign.body.items).toEqual([]);
  });
});

describe('finding by a word of the name', () => {
  const names = (res: { body: { items: { name: string }[] } }) =>
    res.body.items.map((company) => company.name);
  const find = (token: string, query: Record<string, string | number>) =>
    stack.api('GET', '/v1/companies', { token, query });
  /** Every page of `q`, `limit` at a time: the names in order, and how many pages it took. */
  const allPages = async (token: string, q: string, limit: number) => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await find(token, { q, limit, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...names(res));
      cursor = res.body.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 20);
    return seen;
  };

  it('finds a company by a later word, after those whose name begins with it, each once on any page size', async () => {
    const ws = await seedWorkspace(stack, 'Words');
    const all = [
      'Deutsche Bank',
      'Bank of Ireland',
      'Bankhaus Bank AG',
      'First Bank Bancorp',
      'Crédit Agricole',
      "O'Reilly Auto Parts",
      'Müller Bau',
      'Banco Santander',
    ];
    for (const name of all) {
      expect((await createCompany(ws.owner.token, { name })).status).toBe(201);
    }
    // By name; then by word, in word order ("bancorp" before "bank"), a company matching at two words once.
    const expected = [
      'Banco Santander',
      'Bank of Ireland',
      'Bankhaus Bank AG',
      'First Bank Bancorp',
      'Deutsche Bank',
    ];
    expect(names(await find(ws.member.token, { q: 'BAN' }))).toEqual(expected);
    for (const limit of [1, 2, 3, 4, 5])
      expect(await allPages(ws.member.token, 'ban', limit)).toEqual(expected);
    expect(names(await find(ws.member.token, { q: 'agricole' }))).toEqual(['Crédit Agricole']);
    expect(names(await find(ws.member.token, { q: 'reilly au' }))).toEqual(["O'Reilly Auto Parts"]);
    expect(names(await find(ws.member.token, { q: 'oreilly' }))).toEqual(["O'Reilly Auto Parts"]);
    expect(names(await find(ws.member.token, { q: 'mueller' }))).toEqual(['Müller Bau']);
    expect(names(await find(ws.member.token, { q: 'bau' }))).toEqual(['Müller Bau']);
    expect(names(await find(globex.owner.token, { q: 'agricole' }))).toEqual([]);
    // A word cursor belongs to its query.
    const first = await find(ws.member.token, { q: 'ban', limit: 3 });
    const wordPage = await find(ws.member.token, { q: 'ban', limit: 3, cursor: first.body.nextCursor });
    expect(names(wordPage)).toEqual(['First Bank Bancorp', 'Deutsche Bank']);
    expect((await find(ws.member.token, { q: 'deu', cursor: first.body.nextCursor })).status).toBe(400);
  });

  it('follows a rename, an archive and a merge', async () => {
    const ws = await seedWorkspace(stack, 'Words follow');
    const bank = await createCompany(ws.owner.token, { name: 'Deutsche Bank' });
    const agricole = await createCompany(ws.owner.token, { name: 'Crédit Agricole' });
    const renamed = await stack.api('PATCH', `/v1/companies/${bank.body.id}`, {
      token: ws.owner.token,
      body: { name: 'Deutsche Post DHL' },
    });
    expect(renamed.status).toBe(200);
    expect(names(await find(ws.member.token, { q: 'bank' }))).toEqual([]);
    expect(names(await find(ws.member.token, { q: 'post' }))).toEqual(['Deutsche Post DHL']);
    expect(names(await find(ws.member.token, { q: 'dhl' }))).toEqual(['Deutsche Post DHL']);
    expect(
      (await stack.api('POST', `/v1/companies/${agricole.body.id}/archive`, { token: ws.owner.token }))
        .status,
    ).toBe(200);
    expect(names(await find(ws.member.token, { q: 'agricole' }))).toEqual([]);
    expect(names(await find(ws.member.token, { q: 'agricole', archived: 'true' }))).toEqual([
      'Crédit Agricole',
    ]);
    const source = await createCompany(ws.owner.token, { name: 'Globex Holdings' });
    const target = await createCompany(ws.owner.token, { name: 'Initrode Holdings' });
    const merged = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
      token: ws.owner.token,
      body: { sourceCompanyIds: [source.body.id] },
    });
    expect(merged.status).toBe(200);
    expect(names(await find(ws.member.token, { q: 'holdings' }))).toEqual(['Initrode Holdings']);
    expect(names(await find(ws.member.token, { q: 'holdings', archived: 'true' }))).toEqual([
      'Globex Holdings',
    ]);
  });

  it('finds a company written before its words were kept by a later word once it next changes', async () => {
    const ws = await seedWorkspace(stack, 'Words later');
    const created = await createCompany(ws.owner.token, { name: 'Crédit Agricole' });
    // As stored before: no word items, no nameWords.
    const { db } = stack.deps;
    await db.entities.companyNameWord
      .delete({
        workspaceId: ws.workspace.id,
        status: 'active',
        words: 'agricole',
        companyId: created.body.id,
      })
      .go();
    const { data: item } = await db.entities.company
      .get({ workspaceId: ws.workspace.id, companyId: created.body.id })
      .go();
    const { nameWords, ...older } = item!;
    expect(nameWords).toEqual(['agricole']);
    await db.entities.company.put(older).go();
    expect(names(await find(ws.member.token, { q: 'credit' }))).toEqual(['Crédit Agricole']);
    expect(names(await find(ws.member.token, { q: 'agricole' }))).toEqual([]);
    const changed = await stack.api('PATCH', `/v1/companies/${created.body.id}`, {
      token: ws.owner.token,
      body: { website: 'credit-agricole.com' },
    });
    expect(changed.status).toBe(200);
    expect(names(await find(ws.member.token, { q: 'agricole' }))).toEqual(['Crédit Agricole']);
  });
});

describe('merge', () => {
  afterEach(() => {
    companyMergeSettings.recordsPerRequest = 200;
  });

  it('moves the contacts, archives the source with mergedInto, moves its domains, and is idempotent', async () => {
    const target = await createCompany(acme.owner.token, {
      name: 'Target Holdings',
      domains: ['target.example'],
    });
    const source = await createCompany(acme.owner.token, {
      name: 'Source Subsidiary',
      domains: ['source.example', 'source-two.example'],
    });
    const first = await createContact(acme.owner.token, {
      name: 'Sam Source',
      channels: [{ kind: 'email', value: 'sam@source.example' }],
    });
    const second = await createContact(acme.owner.token, {
      name: 'Sue Source',
      channels: [{ kind: 'email', value: 'sue@source-two.example' }],
    });
    await stack.api('POST', `/v1/contacts/${second.body.id}/archive`, { token: acme.owner.token });
    expect(first.body.companyId).toBe(source.body.id);

    const merged = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
      token: acme.admin.token,
      body: { sourceCompanyIds: [source.body.id] },
    });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      status: 'completed',
      contactsMoved: 2,
      sources: [{ id: source.body.id, status: 'merged' }],
      company: {
        id: target.body.id,
        domains: ['target.example', 'source.example', 'source-two.example'],
        version: 2,
      },
    });
    for (const contact of [first, second]) {
      const read = await stack.api('GET', `/v1/contacts/${contact.body.id}`, { token: acme.owner.token });
      expect(read.body).toMatchObject({ companyId: target.body.id, companyName: 'Target Holdings' });
    }
    expect(await companyContacts(acme.owner.token, target.body.id)).toEqual([first.body.id]);
    expect(await companyContacts(acme.owner.token, target.body.id, { archived: 'true' })).toEqual([
      second.body.id,
    ]);
    expect(await companyContacts(acme.owner.token, source.body.id)).toEqual([]);
    const search = await stack.api('GET', '/v1/contacts/search', {
      token: acme.owner.token,
      query: { q: 'target hold' },
    });
    expect(ids(search)).toContain(first.body.id);

    const archivedSource = await stack.api('GET', `/v1/companies/${source.body.id}`, {
      token: acme.owner.token,
    });
    expect(archivedSource.body).toMatchObject({
      status: 'archived',
      mergedInto: target.body.id,
      domains: [],
    });
    // the domains now belong to the target: new contacts link to it, new companies cannot take them
    const later = await createContact(acme.owner.token, {
      name: 'Late Source',
      channels: [{ kind: 'email', value: 'late@source.example' }],
    });
    expect(later.body.companyId).toBe(target.body.id);
    const taken = await createCompany(acme.owner.token, { name: 'Copycat', domains: ['source.example'] });
    expect(taken.body.conflictingCompanyId).toBe(target.body.id);
    // a link to the merged company goes to the target
    const explicit = await createContact(acme.owner.token, { name: 'Old Link', companyId: source.body.id });
    expect(explicit.body.companyId).toBe(target.body.id);

    const again = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
      token: acme.admin.token,
      body: { sourceCompanyIds: [source.body.id] },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'completed', contactsMoved: 0, company: { version: 2 } });
    const targetEvents = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'company', entityId: target.body.id },
    });
    expect(targetEvents.body.items.filter((e: { type: string }) => e.type === 'company.merged')).toEqual([
      expect.objectContaining({
        payload: {
          sourceCompanyId: source.body.id,
          sourceName: 'Source Subsidiary',
          domains: ['source.example', 'source-two.example'],
        },
      }),
    ]);
    const sourceEvents = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'company', entityId: source.body.id },
    });
    expect(sourceEvents.body.items[0]).toMatchObject({
      type: 'company.archived',
      payload: { mergedInto: target.body.id },
    });
    const contactEvents = await stack.api('GET', '/v1/events', {
      token: acme.owner.token,
      query: { entityType: 'contact', entityId: first.body.id },
    });
    expect(contactEvents.body.items[0]).toMatchObject({
      type: 'contact.updated',
      payload: {
        changes: {
          companyId: { from: source.body.id, to: target.body.id },
          companyName: { from: 'Source Subsidiary', to: 'Target Holdings' },
        },
      },
    });
    const unarchive = await stack.api('POST', `/v1/companies/${source.body.id}/unarchive`, {
      token: acme.owner.token,
    });
    expect(unarchive.status).toBe(409);
  });

  it('moves a bounded batch per request and answers 202 until the job is done', async () => {
    companyMergeSettings.recordsPerRequest = 2;
    const target = await createCompany(acme.owner.token, { name: 'Big Target' });
    const sourceA = await createCompany(acme.owner.token, {
      name: 'Big Source A',
      domains: ['big-a.example'],
    });
    const sourceB = await createCompany(acme.owner.token, {
      name: 'Big Source B',
      domains: ['big-b.example'],
    });
    const contacts: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const domain = index < 3 ? 'big-a.example' : 'big-b.example';
      contacts.push(
        (
          await createContact(acme.owner.token, {
            name: `Big ${index}`,
            channels: [{ kind: 'email', value: `p${index}@${domain}` }],
          })
        ).body.id,
      );
    }
    const body = { sourceCompanyIds: [sourceA.body.id, sourceB.body.id, sourceA.body.id] };
    const statuses: number[] = [];
    let moved = 0;
    for (let round = 0; round < 6; round += 1) {
      const res = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
        token: acme.owner.token,
        body,
      });
      statuses.push(res.status);
      moved += res.body.contactsMoved;
      expect(res.body.contactsMoved).toBeLessThanOrEqual(2);
      if (res.status === 200) break;
      expect(res.body.status).toBe('in_progress');
    }
    expect(statuses).toEqual([202, 202, 200]);
    expect(moved).toBe(5);
    expect((await companyContacts(acme.owner.token, target.body.id)).sort()).toEqual([...contacts].sort());
    const target2 = await stack.api('GET', `/v1/companies/${target.body.id}`, { token: acme.owner.token });
    expect(target2.body.domains.sort()).toEqual(['big-a.example', 'big-b.example']);
    for (const source of [sourceA, sourceB]) {
      const read = await stack.api('GET', `/v1/companies/${source.body.id}`, { token: acme.owner.token });
      expect(read.body).toMatchObject({ status: 'archived', mergedInto: target.body.id });
    }
  });

  it('is for owner/admin only, and refuses bad sources', async () => {
    const target = await createCompany(acme.owner.token, { name: 'Rule Target' });
    const source = await createCompany(acme.owner.token, { name: 'Rule Source' });
    const member = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
      token: acme.member.token,
      body: { sourceCompanyIds: [source.body.id] },
    });
    expect(member.status).toBe(403);
    const foreign = await createCompany(globex.owner.token, { name: 'Foreign Source' });
    const itself = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
      token: acme.owner.token,
      body: { sourceCompanyIds: [source.body.id, foreign.body.id, target.body.id] },
    });
    expect(itself.status).toBe(400);
    expect(itself.body.errors.map((e: { field: string }) => e.field)).toEqual(['body.sourceCompanyIds.2']);
    const unknown = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
      token: acme.owner.token,
      body: { sourceCompanyIds: [source.body.id, foreign.body.id, 'co_nope'] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('invalid_reference');
    expect(unknown.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'body.sourceCompanyIds.1',
      'body.sourceCompanyIds.2',
    ]);
    const empty = await stack.api('POST', `/v1/companies/${target.body.id}/merge`, {
      token: acme.owner.token,
      body: { sourceCompanyIds: [] },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0].field).toBe('body.sourceCompanyIds');
    const read = await stack.api('GET', `/v1/companies/${source.body.id}`, { token: acme.owner.token });
    expect(read.body.status).toBe('active');
  });
});

describe('access', () => {
  it('lets a member write their own or unclaimed companies only', async () => {
    const own = await createCompany(acme.member.token, { name: 'Member Own', ownerId: acme.member.user.id });
    expect(own.status).toBe(201);
    expect(own.body.ownerId).toBe(acme.member.user.id);
    const forOther = await createCompany(acme.member.token, {
      name: 'For Admin',
      ownerId: acme.admin.user.id,
    });
    expect(forOther.status).toBe(403);
    const admins = await createCompany(acme.owner.token, { name: 'Admins Co', ownerId: acme.admin.user.id });
    const denied = await stack.api('PATCH', `/v1/companies/${admins.body.id}`, {
      token: acme.member.token,
      body: { city: 'Nope' },
    });
    expect(denied.status).toBe(403);
    expect(
      (await stack.api('POST', `/v1/companies/${admins.body.id}/archive`, { token: acme.member.token }))
        .status,
    ).toBe(403);
    const pool = await createCompany(acme.owner.token, { name: 'Pool Co' });
    const claimed = await stack.api('PATCH', `/v1/companies/${pool.body.id}`, {
      token: acme.member.token,
      body: { ownerId: acme.member.user.id, city: 'Bath' },
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ ownerId: acme.member.user.id, city: 'Bath' });
    const handOver = await stack.api('PATCH', `/v1/companies/${pool.body.id}`, {
      token: acme.member.token,
      body: { ownerId: acme.admin.user.id },
    });
    expect(handOver.status).toBe(403);
    const adminWrites = await stack.api('PATCH', `/v1/companies/${own.body.id}`, {
      token: acme.admin.token,
      body: { industry: 'Retail' },
    });
    expect(adminWrites.status).toBe(200);
    const unknownOwner = await stack.api('PATCH', `/v1/companies/${pool.body.id}`, {
      token: acme.owner.token,
      body: { ownerId: globex.owner.user.id },
    });
    expect(unknownOwner.status).toBe(422);
    expect(unknownOwner.body.errors[0].field).toBe('body.ownerId');
  });

  it('keeps another workspace’s companies out of reach (404)', async () => {
    const res = await createCompany(acme.owner.token, {
      name: 'Private Parts',
      domains: ['private.example'],
    });
    for (const [method, path] of [
      ['GET', `/v1/companies/${res.body.id}`],
      ['PATCH', `/v1/companies/${res.body.id}`],
      ['POST', `/v1/companies/${res.body.id}/archive`],
      ['GET', `/v1/companies/${res.body.id}/contacts`],
    ] as const) {
      const attempt = await stack.api(method, path, {
        token: globex.owner.token,
        body: method === 'PATCH' ? { name: 'Stolen' } : undefined,
      });
      expect(attempt.status, `${method} ${path}`).toBe(404);
    }
    const theirs = await createCompany(globex.owner.token, { name: 'Their Target' });
    const merge = await stack.api('POST', `/v1/companies/${theirs.body.id}/merge`, {
      token: globex.owner.token,
      body: { sourceCompanyIds: [res.body.id] },
    });
    expect(merge.status).toBe(422);
    const contact = await createContact(globex.owner.token, {
      name: 'Globex Person',
      channels: [{ kind: 'email', value: 'x@private.example' }],
    });
    expect(contact.body.companyId).toBeNull();
    const read = await stack.api('GET', `/v1/companies/${res.body.id}`, { token: acme.owner.token });
    expect(read.body).toMatchObject({ name: 'Private Parts', status: 'active', version: 1 });
  });

  it('rejects bad input with a 400 naming each field', async () => {
    const res = await createCompany(acme.owner.token, {
      name: '',
      domains: ['not a domain', 'fine.example'],
      size: 'huge',
      website: 'ftp://files.example',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['body.name', 'body.size']),
    );
    const domains = await createCompany(acme.owner.token, {
      name: 'Domains',
      domains: ['not a domain', 'fine.example', 'localhost'],
    });
    expect(domains.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'body.domains.0',
      'body.domains.2',
    ]);
    const website = await createCompany(acme.owner.token, { name: 'Web', website: 'ftp://files.example' });
    expect(website.body.errors[0].field).toBe('body.website');
    const tooMany = await createCompany(acme.owner.token, {
      name: 'Many',
      domains: Array.from({ length: 21 }, (_, i) => `d${i}.example`),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].field).toBe('body.domains');
    const badQuery = await stack.api('GET', '/v1/companies', {
      token: acme.owner.token,
      query: { limit: 0, archived: 'maybe' },
    });
    expect(badQuery.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'query.archived',
      'query.limit',
    ]);
    expect(
      (await stack.api('GET', '/v1/companies/co_00000000000000000000000000', { token: acme.owner.token }))
        .status,
    ).toBe(404);
  });
});
