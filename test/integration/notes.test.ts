import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchoredMoveSettings } from '../../domain/anchors/anchored-records';
import { companyMergeSettings } from '../../domain/companies/company-merge.service';
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

const fields = (res: { body: { errors?: { field: string }[] } }) =>
  (res.body.errors ?? []).map((error) => error.field);

const createContact = async (token: string, name: string) => {
  const res = await stack.api('POST', '/v1/contacts', { token, body: { name } });
  expect(res.status).toBe(201);
  return res.body as { id: string };
};
const createCompany = async (token: string, name: string) => {
  const res = await stack.api('POST', '/v1/companies', { token, body: { name } });
  expect(res.status).toBe(201);
  return res.body as { id: string };
};
const addNote = async (token: string, kind: string, id: string, markdown: string) => {
  stack.clock.advance(1000);
  const res = await stack.api('POST', '/v1/notes', { token, body: { anchor: { kind, id }, markdown } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; version: number; html: string; markdown: string };
};
const listNotes = async (
  token: string,
  kind: string,
  id: string,
  query: Record<string, string | number> = {},
) => {
  const res = await stack.api('GET', '/v1/notes', {
    token,
    query: { anchorKind: kind, anchorId: id, ...query },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as {
    items: { id: string; markdown: string; anchor: { kind: string; id: string } }[];
    nextCursor: string | null;
  };
};
const eventsOf = async (token: string, entityType: string, entityId: string) =>
  (await stack.api('GET', '/v1/events', { token, query: { entityType, entityId } })).body.items as {
    type: string;
    contactId: string | null;
    companyId: string | null;
    payload: Record<string, unknown>;
  }[];

describe('notes', () => {
  it('adds markdown notes to a contact and a company, lists them newest first, with HTML and note.added', async () => {
    const contact = await createContact(acme.member.token, 'Noted Nora');
    const first = await addNote(acme.member.token, 'contact', contact.id, 'Met at **the fair**');
    const second = await addNote(
      acme.owner.token,
      'contact',
      contact.id,
      '- call back\n- send [deck](https://acme.example/deck)',
    );
    expect(first).toMatchObject({
      anchor: { kind: 'contact', id: contact.id },
      markdown: 'Met at **the fair**',
      html: '<p>Met at <strong>the fair</strong></p>\n',
      authorId: acme.member.user.id,
      revisions: 0,
      version: 1,
    });
    expect(second.html).toContain(
      '<a href="https://acme.example/deck" rel="noopener noreferrer nofollow">deck</a>',
    );
    const listed = await listNotes(acme.admin.token, 'contact', contact.id);
    expect(listed.items.map((note) => note.id)).toEqual([second.id, first.id]);
    expect(listed.nextCursor).toBeNull();

    const got = await stack.api('GET', `/v1/notes/${first.id}`, { token: acme.admin.token });
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe('"1"');

    const [added] = await eventsOf(acme.owner.token, 'note', first.id);
    expect(added).toMatchObject({
      type: 'note.added',
      contactId: contact.id,
      payload: { anchor: { kind: 'contact', id: contact.id } },
    });

    const company = await createCompany(acme.owner.token, 'Noted Corp');
    const onCompany = await addNote(acme.member.token, 'company', company.id, 'Big account');
    expect((await listNotes(acme.member.token, 'company', company.id)).items.map((n) => n.id)).toEqual([
      onCompany.id,
    ]);
    expect((await eventsOf(acme.owner.token, 'note', onCompany.id))[0]).toMatchObject({
      type: 'note.added',
      companyId: company.id,
      contactId: null,
    });

    // The records' own logs show them: a contact's and a company's events are every event about them.
    expect((await eventsOf(acme.owner.token, 'contact', contact.id)).map((event) => event.type)).toEqual([
      'note.added',
      'note.added',
      'contact.created',
    ]);
    expect((await eventsOf(acme.owner.token, 'company', company.id)).map((event) => event.type)).toEqual([
      'note.added',
      'company.created',
    ]);
  });

  it('pages with a cursor bound to its list', async () => {
    const contact = await createContact(acme.owner.token, 'Paged Pat');
    const ids = [];
    for (let i = 0; i < 5; i += 1)
      ids.push((await addNote(acme.owner.token, 'contact', contact.id, `note ${i}`)).id);
    const page1 = await listNotes(acme.owner.token, 'contact', contact.id, { limit: 2 });
    const page2 = await listNotes(acme.owner.token, 'contact', contact.id, {
      limit: 2,
      cursor: page1.nextCursor!,
    });
    const page3 = await listNotes(acme.owner.token, 'contact', contact.id, {
      limit: 2,
      cursor: page2.nextCursor!,
    });
    expect([...page1.items, ...page2.items, ...page3.items].map((n) => n.id)).toEqual(ids.reverse());
    expect(page3.nextCursor).toBeNull();
    const other = await createContact(acme.owner.token, 'Other Otto');
    const misuse = await stack.api('GET', '/v1/notes', {
      token: acme.owner.token,
      query: { anchorKind: 'contact', anchorId: other.id, cursor: page1.nextCursor! },
    });
    expect(misuse.status).toBe(400);
    expect(fields(misuse)).toEqual(['query.cursor']);
  });

  it('renders XSS payloads harmless', async () => {
    const contact = await createContact(acme.owner.token, 'Xss Xavier');
    const payloads = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[click](javascript:alert(1))',
      '[click](JaVaScRiPt:alert(1))',
      '[click](jav&#x61;script:alert(1))',
      '[click](&#106;avascript:alert(1))',
      '<javascript:alert(1)>',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '![pixel](data:image/png;base64,iVBORw0KGgo=)',
      '"><svg onload=alert(1)>',
      '<a href="javascript:alert(1)">x</a>',
      '&lt;script&gt;alert(1)&lt;/script&gt;',
      '[x](vbscript:msgbox(1)) [y](file:///etc/passwd)',
      '<iframe src="https://evil.example"></iframe>',
    ];
    for (const payload of payloads) {
      const note = await addNote(acme.owner.token, 'contact', contact.id, payload);
      expect(note.markdown).toBe(payload);
      // Markup the payload wrote is text now (`&lt;…`): the only real tags are the renderer's own,
      // with no event handler and no link or source that is not http(s) or mailto.
      const tags = note.html.match(/<[a-z][^>]*>/gi) ?? [];
      for (const tag of tags) {
        expect(tag, payload).toMatch(/^<(p|a|img|strong|em|code|pre|br|ul|ol|li|blockquote)[\s>/]/);
        expect(tag, payload).not.toMatch(/\son\w+\s*=/i);
        const url = tag.match(/\s(?:href|src)="([^"]*)"/)?.[1];
        if (url !== undefined) expect(url, payload).toMatch(/^(https?:\/\/|mailto:)/);
      }
      expect(note.html.toLowerCase(), payload).not.toMatch(/<(script|svg|iframe|img src="?x)/);
    }
    const safe = await addNote(
      acme.owner.token,
      'contact',
      contact.id,
      '[site](https://acme.example) <mailto:sales@acme.example> ![logo](https://acme.example/logo.png)',
    );
    expect(safe.html).toContain('<a href="https://acme.example" rel="noopener noreferrer nofollow">site</a>');
    expect(safe.html).toContain('<a href="mailto:sales@acme.example" rel="noopener noreferrer nofollow">');
    expect(safe.html).toContain('<img src="https://acme.example/logo.png" alt="logo" />');
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    const contact = await createContact(acme.owner.token, 'Bad Input Bea');
    const cases: [unknown, string[]][] = [
      [{ anchor: { kind: 'contact', id: contact.id } }, ['body.markdown']],
      [{ anchor: { kind: 'contact', id: contact.id }, markdown: '   \n ' }, ['body.markdown']],
      [{ anchor: { kind: 'contact', id: contact.id }, markdown: 'x'.repeat(50_001) }, ['body.markdown']],
      [{ anchor: { kind: 'note', id: 'n_1' }, markdown: 'x' }, ['body.anchor.kind']],
      [{ anchor: { kind: 'conversation', id: 'c_1' }, markdown: 'x' }, ['body.anchor.kind']],
      [{ anchor: { kind: 'contact' }, markdown: 'x' }, ['body.anchor.id']],
      [{ markdown: 'x' }, ['body.anchor']],
    ];
    for (const [body, expected] of cases) {
      const res = await stack.api('POST', '/v1/notes', { token: acme.owner.token, body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(fields(res)).toEqual(expected);
    }
    const missing = await stack.api('POST', '/v1/notes', {
      token: acme.owner.token,
      body: { anchor: { kind: 'contact', id: 'ct_00000000000000000000000000' }, markdown: 'x' },
    });
    expect(missing.status).toBe(422);
    expect(fields(missing)).toEqual(['body.anchor.id']);
    expect((await listNotes(acme.owner.token, 'contact', contact.id)).items).toEqual([]);
    const badQuery = await stack.api('GET', '/v1/notes', {
      token: acme.owner.token,
      query: { anchorKind: 'tag', anchorId: 'x' },
    });
    expect(badQuery.status).toBe(400);
    expect(fields(badQuery)).toEqual(['query.anchorKind']);
  });

  it('lets the author or an owner/admin edit, keeping every earlier text; a stale If-Match is a 412', async () => {
    const contact = await createContact(acme.owner.token, 'Edited Ed');
    const note = await addNote(acme.member.token, 'contact', contact.id, 'v1');
    const patch = (token: string, markdown: string, headers: Record<string, string> = {}) =>
      stack.api('PATCH', `/v1/notes/${note.id}`, { token, body: { markdown }, headers });

    const otherMember = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: 'Max Member', email: 'max@acme.example', role: 'member' },
    });
    const maxToken = (
      await stack.api('POST', '/v1/tokens', {
        token: acme.owner.token,
        body: { userId: otherMember.body.id },
      })
    ).body.token;
    expect((await patch(maxToken, 'hijack')).status).toBe(403);
    expect((await stack.api('DELETE', `/v1/notes/${note.id}`, { token: maxToken })).status).toBe(403);

    stack.clock.advance(1000);
    const v2 = await patch(acme.member.token, 'v2', { 'if-match': '"1"' });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({
      markdown: 'v2',
      version: 2,
      revisions: 1,
      updatedBy: acme.member.user.id,
    });
    expect(v2.headers.etag).toBe('"2"');
    expect((await patch(acme.member.token, 'late', { 'if-match': '"1"' })).status).toBe(412);
    stack.clock.advance(1000);
    const v3 = await patch(acme.admin.token, 'v3 by admin');
    expect(v3.body).toMatchObject({
      version: 3,
      revisions: 2,
      updatedBy: acme.admin.user.id,
      authorId: acme.member.user.id,
    });
    // The same text again changes nothing.
    expect((await patch(acme.admin.token, 'v3 by admin')).body.version).toBe(3);
    expect((await patch(acme.admin.token, '')).status).toBe(400);

    const history = await stack.api('GET', `/v1/notes/${note.id}/history`, { token: maxToken });
    expect(history.status).toBe(200);
    expect(history.body.items.map((r: { markdown: string }) => r.markdown)).toEqual(['v2', 'v1']);
    expect(history.body.items[1]).toMatchObject({
      version: 1,
      writtenBy: acme.member.user.id,
      replacedBy: acme.member.user.id,
      html: '<p>v1</p>\n',
    });
    expect(history.body.items[0]).toMatchObject({ version: 2, replacedBy: acme.admin.user.id });
    const page = await stack.api('GET', `/v1/notes/${note.id}/history`, {
      token: maxToken,
      query: { limit: 1 },
    });
    const rest = await stack.api('GET', `/v1/notes/${note.id}/history`, {
      token: maxToken,
      query: { limit: 1, cursor: page.body.nextCursor },
    });
    expect(rest.body.items.map((r: { markdown: string }) => r.markdown)).toEqual(['v1']);
    expect((await eventsOf(acme.owner.token, 'note', note.id)).map((e) => e.type)).toEqual([
      'note.updated',
      'note.updated',
      'note.added',
    ]);
  });

  it('soft-deletes (author or owner/admin): gone from every read, kept in the table', async () => {
    const contact = await createContact(acme.owner.token, 'Deleted Dora');
    const mine = await addNote(acme.member.token, 'contact', contact.id, 'mine');
    const theirs = await addNote(acme.member.token, 'contact', contact.id, 'by member, removed by admin');
    const kept = await addNote(acme.owner.token, 'contact', contact.id, 'kept');
    expect((await stack.api('DELETE', `/v1/notes/${kept.id}`, { token: acme.member.token })).status).toBe(
      403,
    );
    expect(
      (
        await stack.api('DELETE', `/v1/notes/${mine.id}`, {
          token: acme.member.token,
          headers: { 'if-match': '"7"' },
        })
      ).status,
    ).toBe(412);
    expect((await stack.api('DELETE', `/v1/notes/${mine.id}`, { token: acme.member.token })).status).toBe(
      204,
    );
    expect((await stack.api('DELETE', `/v1/notes/${theirs.id}`, { token: acme.admin.token })).status).toBe(
      204,
    );
    expect((await listNotes(acme.owner.token, 'contact', contact.id)).items.map((n) => n.id)).toEqual([
      kept.id,
    ]);
    for (const [method, path] of [
      ['GET', `/v1/notes/${mine.id}`],
      ['PATCH', `/v1/notes/${mine.id}`],
      ['DELETE', `/v1/notes/${mine.id}`],
      ['GET', `/v1/notes/${mine.id}/history`],
    ] as const) {
      const res = await stack.api(method, path, {
        token: acme.owner.token,
        body: method === 'PATCH' ? { markdown: 'x' } : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const { data } = await stack.deps.db.entities.note
      .get({ workspaceId: acme.workspace.id, noteId: mine.id })
      .go();
    expect(data).toMatchObject({ markdown: 'mine', deletedBy: acme.member.user.id });
    expect((await eventsOf(acme.owner.token, 'note', mine.id))[0]).toMatchObject({
      type: 'note.deleted',
      contactId: contact.id,
    });
  });

  it('keeps another workspace’s notes and records out of reach (404; 422 for an anchor in a body)', async () => {
    const contact = await createContact(acme.owner.token, 'Private Pia');
    const note = await addNote(acme.owner.token, 'contact', contact.id, 'secret');
    const token = globex.owner.token;
    expect((await stack.api('GET', `/v1/notes/${note.id}`, { token })).status).toBe(404);
    expect(
      (await stack.api('PATCH', `/v1/notes/${note.id}`, { token, body: { markdown: 'x' } })).status,
    ).toBe(404);
    expect((await stack.api('DELETE', `/v1/notes/${note.id}`, { token })).status).toBe(404);
    expect((await stack.api('GET', `/v1/notes/${note.id}/history`, { token })).status).toBe(404);
    expect(
      (await stack.api('GET', '/v1/notes', { token, query: { anchorKind: 'contact', anchorId: contact.id } }))
        .status,
    ).toBe(404);
    expect(
      (
        await stack.api('POST', '/v1/notes', {
          token,
          body: { anchor: { kind: 'contact', id: contact.id }, markdown: 'x' },
        })
      ).status,
    ).toBe(422);
    expect((await listNotes(acme.owner.token, 'contact', contact.id)).items.map((n) => n.markdown)).toEqual([
      'secret',
    ]);
  });

  it('replays a create with the same Idempotency-Key', async () => {
    const contact = await createContact(acme.owner.token, 'Idem Ida');
    const send = () =>
      stack.api('POST', '/v1/notes', {
        token: acme.owner.token,
        headers: { 'idempotency-key': 'note-once' },
        body: { anchor: { kind: 'contact', id: contact.id }, markdown: 'once' },
      });
    const first = await send();
    const again = await send();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect((await listNotes(acme.owner.token, 'contact', contact.id)).items).toHaveLength(1);
  });

  it('moves the notes of merged contacts to the target, and finds the target through a merged id', async () => {
    const target = await createContact(acme.owner.token, 'Merged Target');
    const source = await createContact(acme.owner.token, 'Merged Source');
    const onTarget = await addNote(acme.owner.token, 'contact', target.id, 'on target');
    const onSource = [];
    for (let i = 0; i < 3; i += 1)
      onSource.push(await addNote(acme.member.token, 'contact', source.id, `on source ${i}`));
    anchoredMoveSettings.recordsPerRequest = 2;
    try {
      const partial = await stack.api('POST', `/v1/contacts/${target.id}/merge`, {
        token: acme.owner.token,
        body: { sourceContactIds: [source.id] },
      });
      expect(partial.status).toBe(202);
      expect(partial.body).toMatchObject({ status: 'in_progress', moved: 2 });
      const done = await stack.api('POST', `/v1/contacts/${target.id}/merge`, {
        token: acme.owner.token,
        body: { sourceContactIds: [source.id] },
      });
      expect(done.status).toBe(200);
    } finally {
      anchoredMoveSettings.recordsPerRequest = 500;
    }
    const listed = await listNotes(acme.owner.token, 'contact', target.id);
    expect(listed.items.map((n) => n.id)).toEqual([...onSource.map((n) => n.id).reverse(), onTarget.id]);
    expect(listed.items.every((n) => n.anchor.id === target.id)).toBe(true);
    // The merged id leads to the target, for reading and for writing.
    expect((await listNotes(acme.owner.token, 'contact', source.id)).items).toHaveLength(4);
    const late = await addNote(acme.owner.token, 'contact', source.id, 'written against the old id');
    expect(late).toMatchObject({ anchor: { kind: 'contact', id: target.id } });
    const moved = await eventsOf(acme.owner.token, 'note', onSource[0]!.id);
    expect(moved[0]).toMatchObject({
      type: 'note.updated',
      contactId: target.id,
      payload: { movedFrom: { kind: 'contact', id: source.id } },
    });
  });

  it('moves the notes of merged companies to the target, bounded per request', async () => {
    const target = await createCompany(acme.owner.token, 'Target Holdings');
    const source = await createCompany(acme.owner.token, 'Source Holdings');
    for (let i = 0; i < 3; i += 1) await addNote(acme.owner.token, 'company', source.id, `company note ${i}`);
    companyMergeSettings.recordsPerRequest = 2;
    try {
      const statuses = [];
      for (let round = 0; round < 5; round += 1) {
        const res = await stack.api('POST', `/v1/companies/${target.id}/merge`, {
          token: acme.owner.token,
          body: { sourceCompanyIds: [source.id] },
        });
        statuses.push(res.status);
        if (res.status === 200) break;
      }
      expect(statuses).toEqual([202, 200]);
    } finally {
      companyMergeSettings.recordsPerRequest = 200;
    }
    expect((await listNotes(acme.owner.token, 'company', target.id)).items).toHaveLength(3);
    expect((await listNotes(acme.owner.token, 'company', source.id)).items).toHaveLength(3);
  });
});

describe('notes and tasks on deals, and the timelines they reach', () => {
  it('anchors a note and a task to a deal; the deal’s, its contact’s and its company’s events show what is about them', async () => {
    const company = await createCompany(acme.owner.token, 'Timeline Corp');
    const contact = await stack.api('POST', '/v1/contacts', {
      token: acme.owner.token,
      body: { name: 'Tina Timeline', companyId: company.id },
    });
    expect(contact.status, JSON.stringify(contact.body)).toBe(201);
    const deal = await stack.api('POST', '/v1/deals', {
      token: acme.owner.token,
      body: { title: 'Timeline deal', value: 120000, currency: 'EUR', contactId: contact.body.id, companyId: company.id },
    });
    expect(deal.status, JSON.stringify(deal.body)).toBe(201);
    const note = await addNote(acme.member.token, 'deal', deal.body.id, 'Asked for a **discount**');
    expect(note.html).toContain('<strong>discount</strong>');
    expect((await listNotes(acme.member.token, 'deal', deal.body.id)).items.map((n) => n.id)).toEqual([note.id]);
    stack.clock.advance(1000);
    const task = await stack.api('POST', '/v1/tasks', {
      token: acme.member.token,
      body: { title: 'Send the revised offer', anchor: { kind: 'deal', id: deal.body.id } },
    });
    expect(task.status, JSON.stringify(task.body)).toBe(201);

    expect((await eventsOf(acme.owner.token, 'deal', deal.body.id)).map((event) => event.type)).toEqual([
      'task.created',
      'note.added',
      'deal.created',
    ]);
    expect((await eventsOf(acme.owner.token, 'contact', contact.body.id)).map((event) => event.type)).toContain('deal.created');
    expect((await eventsOf(acme.owner.token, 'company', company.id)).map((event) => event.type)).toContain('deal.created');

    // Another workspace cannot anchor to it.
    const foreign = await stack.api('POST', '/v1/notes', {
      token: globex.owner.token,
      body: { anchor: { kind: 'deal', id: deal.body.id }, markdown: 'Sneaky' },
    });
    expect(foreign.status).toBe(422);
  });
});
