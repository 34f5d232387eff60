import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/http/openapi';
import { createDocumentValidator } from '../contract/document-validator';
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

describe('API tokens', () => {
  it('shows the secret once, stores only a prefix, and lists without secrets', async () => {
    const created = await stack.api('POST', '/v1/tokens', { token: acme.member.token, body: { name: 'laptop' } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^crm_[A-Za-z0-9_-]{43}$/);
    expect(created.body.prefix).toBe(created.body.token.slice(0, 10));
    const list = await stack.api('GET', '/v1/tokens', { token: acme.member.token });
    const listed = list.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(listed).toMatchObject({ name: 'laptop', revokedAt: null });
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
  });

  it('records when a token was last used', async () => {
    const created = await stack.api('POST', '/v1/tokens', { token: acme.member.token, body: { name: 'usage' } });
    expect(created.body.lastUsedAt).toBeNull();
    stack.clock.advance(120_000);
    await stack.api('GET', '/v1/me', { token: created.body.token });
    const list = await stack.api('GET', '/v1/tokens', { token: acme.member.token, query: { limit: 100 } });
    const listed = list.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(listed.lastUsedAt).toBe(stack.clock.nowIso());
  });

  it('rejects a revoked token with 401 at once', async () => {
    const created = await stack.api('POST', '/v1/tokens', { token: acme.member.token, body: { name: 'temp' } });
    expect((await stack.api('GET', '/v1/me', { token: created.body.token })).status).toBe(200);
    const revoked = await stack.api('DELETE', `/v1/tokens/${created.body.id}`, { token: acme.member.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const after = await stack.api('GET', '/v1/me', { token: created.body.token });
    expect(after.status).toBe(401);
    const again = await stack.api('DELETE', `/v1/tokens/${created.body.id}`, { token: acme.member.token });
    expect(again.status).toBe(200);
  });

  it('lets a member neither see nor revoke another user’s token', async () => {
    const adminToken = await stack.api('POST', '/v1/tokens', { token: acme.admin.token, body: { name: 'admin-own' } });
    const revoke = await stack.api('DELETE', `/v1/tokens/${adminToken.body.id}`, { token: acme.member.token });
    expect(revoke.status).toBe(404);
    const list = await stack.api('GET', '/v1/tokens', { token: acme.member.token, query: { userId: acme.admin.user.id } });
    expect(list.status).toBe(403);
    const forOther = await stack.api('POST', '/v1/tokens', { token: acme.member.token, body: { userId: acme.admin.user.id } });
    expect(forOther.status).toBe(403);
    expect((await stack.api('GET', '/v1/me', { token: adminToken.body.token })).status).toBe(200);
  });

  it('lets an owner revoke anyone’s token in the workspace but not in another', async () => {
    const memberToken = await stack.api('POST', '/v1/tokens', { token: acme.member.token, body: { name: 'x' } });
    const cross = await stack.api('DELETE', `/v1/tokens/${memberToken.body.id}`, { token: globex.owner.token });
    expect(cross.status).toBe(404);
    expect((await stack.api('GET', '/v1/me', { token: memberToken.body.token })).status).toBe(200);
    const own = await stack.api('DELETE', `/v1/tokens/${memberToken.body.id}`, { token: acme.owner.token });
    expect(own.status).toBe(200);
    expect((await stack.api('GET', '/v1/me', { token: memberToken.body.token })).status).toBe(401);
  });

  it('revokes a deactivated user’s tokens for good: reactivated, they need a new one; an earlier revocation keeps its time', async () => {
    const user = await stack.api('POST', '/v1/users', { token: acme.owner.token, body: { name: 'Leaver', email: 'leaver@example.com' } });
    const token = await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.body.id } });
    const early = await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.body.id } });
    const earlyRevoked = await stack.api('DELETE', `/v1/tokens/${early.body.id}`, { token: acme.owner.token });
    stack.clock.advance(60_000);
    await stack.api('PATCH', `/v1/users/${user.body.id}`, { token: acme.admin.token, body: { status: 'deactivated' } });
    expect((await stack.api('GET', '/v1/me', { token: token.body.token })).status).toBe(401);
    await stack.api('PATCH', `/v1/users/${user.body.id}`, { token: acme.admin.token, body: { status: 'active' } });
    expect((await stack.api('GET', '/v1/me', { token: token.body.token })).status).toBe(401);
    const listed = await stack.api('GET', '/v1/tokens', { token: acme.owner.token, query: { userId: user.body.id } });
    const byId = new Map((listed.body.items as { id: string; revokedAt: string | null }[]).map((t) => [t.id, t.revokedAt]));
    expect(byId.get(early.body.id)).toBe(earlyRevoked.body.revokedAt);
    expect(byId.get(token.body.id)).not.toBeNull();
    expect(byId.get(token.body.id)).not.toBe(earlyRevoked.body.revokedAt);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, creating one record', async () => {
    const request = {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'add-ivy-1' },
      body: { name: 'Ivy', email: 'ivy@example.com' },
    };
    const first = await stack.api('POST', '/v1/users', request);
    const second = await stack.api('POST', '/v1/users', request);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers.location).toBe(first.headers.location);
    const list = await stack.api('GET', '/v1/users', { token: acme.owner.token, query: { limit: 100 } });
    expect(list.body.items.filter((u: { email: string }) => u.email === 'ivy@example.com')).toHaveLength(1);
  });

  it('answers the same key with another body with 422', async () => {
    const first = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'add-jo-1' },
      body: { name: 'Jo', email: 'jo@example.com' },
    });
    expect(first.status).toBe(201);
    const other = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'add-jo-1' },
      body: { name: 'Jo', email: 'jo2@example.com' },
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
  });

  it('does not keep a failed request: the key can be used again', async () => {
    const failed = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'dup-email' },
      body: { name: 'Dup', email: acme.member.user.email },
    });
    expect(failed.status).toBe(409);
    const retry = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'dup-email' },
      body: { name: 'Dup', email: acme.member.user.email },
    });
    expect(retry.status).toBe(409);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers a request that runs out of time with a 503 to repeat; repeated with its key, it made one record', async () => {
    const request = {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'add-kim-slow' },
      body: { name: 'Kim', email: 'kim@example.com' },
    };
    // Less time left than the handler keeps back to answer: it answers before the work is done.
    const timedOut = await stack.api('POST', '/v1/users', { ...request, timeoutMs: 1 });
    expect(timedOut.status).toBe(503);
    expect(timedOut.headers['content-type']).toBe('application/problem+json');
    expect(timedOut.headers['retry-after']).toBe('1');
    expect(timedOut.body).toMatchObject({ status: 503, code: 'timeout', instance: '/v1/users', requestId: timedOut.headers['x-request-id'] });
    const answer = { status: timedOut.status, headers: timedOut.headers, body: timedOut.raw.body ?? '' };
    expect(createDocumentValidator(openApiDocument() as never).check('addUser', answer)).toEqual([]);

    // The client repeats it: while the first run goes on, 409 `idempotency_in_progress`; then its answer.
    let repeated = await stack.api('POST', '/v1/users', request);
    for (let attempt = 0; repeated.status === 409 && attempt < 100; attempt += 1) {
      expect(repeated.body.code).toBe('idempotency_in_progress');
      await new Promise((resolve) => setTimeout(resolve, 50));
      repeated = await stack.api('POST', '/v1/users', request);
    }
    expect(repeated.status).toBe(201);
    expect(repeated.headers['idempotent-replayed']).toBe('true');
    const list = await stack.api('GET', '/v1/users', { token: acme.owner.token, query: { limit: 100 } });
    expect(list.body.items.filter((u: { email: string }) => u.email === 'kim@example.com')).toEqual([repeated.body]);
  });

  it('keeps keys per caller: another user may use the same key', async () => {
    const a = await stack.api('POST', '/v1/tokens', { token: acme.admin.token, headers: { 'idempotency-key': 'k1' }, body: { name: 'a' } });
    const b = await stack.api('POST', '/v1/tokens', { token: acme.member.token, headers: { 'idempotency-key': 'k1' }, body: { name: 'b' } });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
  });

  /** Sends one request twice under one key (as the owner); the second must be the first's answer, replayed. */
  const sentTwice = async (path: string, body: unknown, key: string, headers: Record<string, string> = {}) => {
    const request = { token: acme.owner.token, headers: { ...headers, 'idempotency-key': key }, body };
    const first = await stack.api('POST', path, request);
    expect(first.status, JSON.stringify(first.body)).toBeLessThan(300);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await stack.api('POST', path, request);
    expect({ status: second.status, body: second.body, replayed: second.headers['idempotent-replayed'] }).toEqual({
      status: first.status,
      body: first.body,
      replayed: 'true',
    });
    return first;
  };
  const owner = (method: string, path: string, body?: unknown) =>
    stack.api(method, path, { token: acme.owner.token, ...(body === undefined ? {} : { body }) });
  const criteria = [{ id: 'budget', name: 'Budget', weight: 1, kind: 'manual' }];

  it('honours it on a stage added to a pipeline: one stage, and the If-Match it also takes is not checked again on the replay', async () => {
    const pipeline = (await owner('POST', '/v1/pipelines', { name: 'Idempotent stages', stages: [{ name: 'Lead' }] })).body;
    const added = await sentTwice(`/v1/pipelines/${pipeline.id}/stages`, { name: 'Proposal' }, 'stage-proposal', {
      'if-match': `"${pipeline.version}"`,
    });
    expect(added.body.version).toBe(pipeline.version + 1);
    const read = (await owner('GET', `/v1/pipelines/${pipeline.id}`)).body;
    expect(read.stages.filter((stage: { name: string }) => stage.name === 'Proposal')).toHaveLength(1);
    // Still a versioned write: a stale If-Match under a new key is a 412.
    const stale = await stack.api('POST', `/v1/pipelines/${pipeline.id}/stages`, {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'stage-stale', 'if-match': `"${pipeline.version}"` },
      body: { name: 'Late' },
    });
    expect(stale.status).toBe(412);
  });

  it('honours it on a lead accepted with a deal: one deal, one review', async () => {
    const product = (await owner('POST', '/v1/products', { name: 'Idempotent leads', criteria })).body;
    const contact = (await owner('POST', '/v1/contacts', { name: 'Lena Lead' })).body;
    await owner('POST', `/v1/contacts/${contact.id}/fit/${product.id}/assessments`, { criterionId: 'budget', value: 4 });
    const reviewed = await sentTwice(
      `/v1/products/${product.id}/leads/${contact.id}/review`,
      { status: 'accepted', reason: 'Budget confirmed', deal: { title: 'Pilot', value: 100_000, currency: 'EUR' } },
      'accept-lena',
    );
    expect(reviewed.body.review.dealId).toBeDefined();
    const deals = await stack.api('GET', '/v1/deals', { token: acme.owner.token, query: { contactId: contact.id, limit: 100 } });
    expect(deals.body.items.map((deal: { id: string }) => deal.id)).toEqual([reviewed.body.review.dealId]);
    const reviews = await owner('GET', `/v1/products/${product.id}/leads/${contact.id}/reviews`);
    expect(reviews.body.items).toHaveLength(1);
  });

  it('honours it on an assessment: one assessment', async () => {
    const product = (await owner('POST', '/v1/products', { name: 'Idempotent fit', criteria })).body;
    const contact = (await owner('POST', '/v1/contacts', { name: 'Abe Assessed' })).body;
    const path = `/v1/contacts/${contact.id}/fit/${product.id}/assessments`;
    await sentTwice(path, { criterionId: 'budget', value: 3, evidence: '40 seats' }, 'assess-abe');
    expect((await owner('GET', path)).body.items).toHaveLength(1);
  });

  it('honours it on a channel added to a contact: the repeat replays the first answer, not a 400 for a channel given twice', async () => {
    const contact = (await owner('POST', '/v1/contacts', { name: 'Cy Channel' })).body;
    const added = await sentTwice(`/v1/contacts/${contact.id}/channels`, { kind: 'email', value: 'cy@idem.example' }, 'channel-cy', {
      'if-match': `"${contact.version}"`,
    });
    expect(added.body.channels.map((channel: { value: string }) => channel.value)).toEqual(['cy@idem.example']);
  });

  it('shows a token’s or a webhook’s secret once: a repeat makes nothing and is a 409 naming what the first made, and no secret is kept', async () => {
    const request = { token: acme.owner.token, headers: { 'idempotency-key': 'token-once' }, body: { name: 'Once' } };
    const first = await stack.api('POST', '/v1/tokens', request);
    expect(first.status).toBe(201);
    const repeat = await stack.api('POST', '/v1/tokens', request);
    expect(repeat.status).toBe(409);
    expect(repeat.body).toMatchObject({ code: 'secret_shown_once', id: first.body.id });
    expect(JSON.stringify(repeat.body)).not.toContain(first.body.token);
    const tokens = await stack.api('GET', '/v1/tokens', { token: acme.owner.token, query: { userId: acme.owner.user.id } });
    expect(tokens.body.items.filter((token: { name: string }) => token.name === 'Once')).toHaveLength(1);

    const hookRequest = { token: acme.owner.token, headers: { 'idempotency-key': 'hook-once' }, body: { url: 'http://127.0.0.1:9/once', eventTypes: ['contact.*'] } };
    const hook = await stack.api('POST', '/v1/webhooks', hookRequest);
    expect(hook.status).toBe(201);
    const hookRepeat = await stack.api('POST', '/v1/webhooks', hookRequest);
    expect(hookRepeat.body).toMatchObject({ status: 409, code: 'secret_shown_once', id: hook.body.id });

    // The stored answers hold neither secret.
    const { data } = await stack.deps.db.entities.idempotencyRecord
      .get([
        { workspaceId: acme.workspace.id, userId: acme.owner.user.id, key: 'token-once' },
        { workspaceId: acme.workspace.id, userId: acme.owner.user.id, key: 'hook-once' },
      ])
      .go();
    expect(data).toHaveLength(2);
    const stored = JSON.stringify(data);
    expect(stored).not.toContain(first.body.token);
    expect(stored).not.toContain(hook.body.secret);
  });

  it('honours it on a webhook replay: one job', async () => {
    const hook = (await owner('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/idem', eventTypes: ['contact.*'] })).body;
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-01-20T00:00:00Z' };
    const job = await sentTwice(`/v1/webhooks/${hook.id}/replay`, range, 'replay-hook');
    expect(job.status).toBe(202);
    const jobs = await stack.api('GET', '/v1/jobs', { token: acme.owner.token, query: { kind: 'replay_webhook', limit: 100 } });
    expect(jobs.body.items.map((item: { id: string }) => item.id)).toEqual([job.body.id]);
  });

  it('replays the same JSON written another way (keys reordered, pretty-printed, escaped); another meaning is still a 422', async () => {
    const request = (body: string) => ({
      token: acme.owner.token,
      headers: { 'idempotency-key': 'add-wes-1', 'content-type': 'application/json' },
      body,
    });
    const first = await stack.api('POST', '/v1/users', request('{"name":"Wes","email":"wes@example.com"}'));
    expect(first.status).toBe(201);
    for (const rewritten of [
      '{"email":"wes@example.com","name":"Wes"}',
      JSON.stringify({ email: 'wes@example.com', name: 'Wes' }, null, 2),
      '{ "name" : "\\u0057es", "email":"wes@example.com" }\n',
    ]) {
      const again = await stack.api('POST', '/v1/users', request(rewritten));
      expect({ status: again.status, replayed: again.headers['idempotent-replayed'], body: again.body }, rewritten).toEqual({
        status: 201,
        replayed: 'true',
        body: first.body,
      });
    }
    const other = await stack.api('POST', '/v1/users', request('{"name":"Wes","email":"wes2@example.com"}'));
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    const list = await stack.api('GET', '/v1/users', { token: acme.owner.token, query: { limit: 100 } });
    expect(list.body.items.filter((u: { email: string }) => u.email.startsWith('wes'))).toHaveLength(1);
  });

  it('replays a key stored before requests were told by their meaning (its bytes only) for the same bytes', async () => {
    // A record as the code before wrote it: the SHA-256 of method, path and body bytes, nothing else.
    const body = '{"name":"Old Key","email":"old-key@example.com"}';
    const first = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'old-format', 'content-type': 'application/json' },
      body,
    });
    expect(first.status).toBe(201);
    const ids = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, key: 'old-format' };
    const stored = (await stack.deps.db.entities.idempotencyRecord.get(ids).go()).data!;
    const { requestMeaningHash: _meaning, ...legacy } = stored;
    await stack.deps.db.entities.idempotencyRecord
      .put({ ...legacy, requestHash: createHash('sha256').update(`POST\n/v1/users\n${body}`).digest('hex') })
      .go();
    expect((await stack.deps.db.entities.idempotencyRecord.get(ids).go()).data!.requestMeaningHash).toBeUndefined();
    const again = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'old-format', 'content-type': 'application/json' },
      body,
    });
    expect({ status: again.status, replayed: again.headers['idempotent-replayed'], body: again.body }).toEqual({
      status: 201,
      replayed: 'true',
      body: first.body,
    });
    const other = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      headers: { 'idempotency-key': 'old-format' },
      body: { name: 'New Key', email: 'new-key@example.com' },
    });
    expect(other.body.code).toBe('idempotency_key_reused');
  });
});

describe('event log', () => {
  it('lists a user’s events newest first, with the actor', async () => {
    const user = await stack.api('POST', '/v1/users', { token: acme.admin.token, body: { name: 'Evan', email: 'evan@example.com' } });
    stack.clock.advance(1000);
    await stack.api('PATCH', `/v1/users/${user.body.id}`, { token: acme.owner.token, body: { role: 'admin' } });
    const res = await stack.api('GET', '/v1/events', {
      token: acme.member.token,
      query: { entityType: 'user', entityId: user.body.id },
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((e: { type: string }) => e.type)).toEqual(['user.updated', 'user.added']);
    expect(res.body.items[0]).toMatchObject({
      entityType: 'user',
      entityId: user.body.id,
      actorUserId: acme.owner.user.id,
      payload: { changes: { role: { from: 'member', to: 'admin' } } },
    });
    expect(res.body.items[1]).toMatchObject({ actorUserId: acme.admin.user.id, payload: { email: 'evan@example.com' } });
  });

  it('writes no event when a change is refused', async () => {
    const user = await stack.api('POST', '/v1/users', { token: acme.owner.token, body: { name: 'Quiet', email: 'quiet@example.com' } });
    const refused = await stack.api('PATCH', `/v1/users/${user.body.id}`, {
      token: acme.owner.token,
      body: { name: 'Loud' },
      headers: { 'if-match': '"7"' },
    });
    expect(refused.status).toBe(412);
    const res = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'user', entityId: user.body.id } });
    expect(res.body.items.map((e: { type: string }) => e.type)).toEqual(['user.added']);
  });

  it('answers 404 for an id the workspace never held, of every kind, another workspace’s as one that exists nowhere', async () => {
    const events = (entityType: string, entityId: string) =>
      stack.api('GET', '/v1/events', { token: globex.owner.token, query: { entityType, entityId } });
    const contact = await stack.api('POST', '/v1/contacts', { token: acme.owner.token, body: { name: 'Probe', channels: [{ kind: 'email', value: 'probe@acme.example' }] } });
    const company = await stack.api('POST', '/v1/companies', { token: acme.owner.token, body: { name: 'Probe Co' } });
    const conversation = await stack.api('POST', '/v1/conversations', { token: acme.owner.token, body: { kind: 'direct', userIds: [acme.admin.user.id] } });
    const message = await stack.api('POST', `/v1/conversations/${conversation.body.id}/messages`, { token: acme.owner.token, body: { body: 'Hi' } });
    const acmeIds: Record<string, string> = {
      workspace: acme.workspace.id,
      user: acme.owner.user.id,
      contact: contact.body.id,
      company: company.body.id,
      conversation: conversation.body.id,
      message: message.body.id,
    };
    for (const [entityType, acmeId] of Object.entries(acmeIds)) {
      // Acme sees its own record's events.
      const own = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType, entityId: acmeId } });
      expect(own.status, `${entityType} of the workspace`).toBe(200);
      expect(own.body.items.length, `${entityType} of the workspace`).toBeGreaterThan(0);
      const foreign = await events(entityType, acmeId);
      const unknown = await events(entityType, acmeId.replace(/.{6}$/, '000000'));
      expect(foreign.status, `${entityType} of another workspace`).toBe(404);
      expect({ ...foreign.body, requestId: undefined }).toEqual({ ...unknown.body, requestId: undefined });
    }
    for (const entityType of ['deal', 'note', 'task', 'pipeline', 'tag', 'call', 'segment', 'product', 'job', 'token', 'channel_connection', 'assignment_rule', 'webhook', 'custom_field']) {
      expect((await events(entityType, 'xx_00000000000000000000000000')).status, entityType).toBe(404);
    }
  });

  it('answers an empty page for a record without events yet', async () => {
    // The default pipeline is created with the workspace, without an event.
    const res = await stack.api('GET', '/v1/events', { token: globex.owner.token, query: { entityType: 'pipeline', entityId: 'pl_default' } });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
  });

  it('rejects an unknown entity type', async () => {
    const res = await stack.api('GET', '/v1/events', { token: acme.owner.token, query: { entityType: 'planet', entityId: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.entityType');
  });
});

describe('workspace', () => {
  it('renames with If-Match; a member may not', async () => {
    const current = await stack.api('GET', '/v1/workspace', { token: acme.owner.token });
    expect(current.headers.etag).toBe(`"${current.body.version}"`);
    const denied = await stack.api('PATCH', '/v1/workspace', { token: acme.member.token, body: { name: 'Nope' } });
    expect(denied.status).toBe(403);
    const renamed = await stack.api('PATCH', '/v1/workspace', {
      token: acme.admin.token,
      body: { name: 'Acme Ltd' },
      headers: { 'if-match': current.headers.etag! },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Acme Ltd');
    const stale = await stack.api('PATCH', '/v1/workspace', {
      token: acme.owner.token,
      body: { name: 'Acme Inc' },
      headers: { 'if-match': current.headers.etag! },
    });
    expect(stale.status).toBe(412);
  });
});

describe('routing and documents', () => {
  it('answers an unknown route with a problem+json 404 and a wrong method with 405', async () => {
    const missing = await stack.api('GET', '/v1/nothing-here', { token: acme.owner.token });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    const wrong = await stack.api('PUT', '/v1/me', { token: acme.owner.token });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
  });

  it('serves an OpenAPI 3.1 document covering every /v1 route', async () => {
    const res = await stack.api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/v1/me', '/v1/users', '/v1/users/{userId}', '/v1/tokens', '/v1/tokens/{tokenId}', '/v1/events', '/v1/workspace']),
    );
    const addUser = res.body.paths['/v1/users'].post;
    expect(addUser.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/AddUserInput');
    expect(addUser.parameters.map((p: { name: string }) => p.name)).toContain('Idempotency-Key');
    expect(res.body.components.schemas.Problem).toBeDefined();
  });

  it('serves the reference page at /docs, rendering /openapi.json (test/unit/docs-page.test.ts has the rest)', async () => {
    const res = await stack.api('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain("url: base + '/openapi.json'");
  });
});

describe('authentication cache', () => {
  it('reads a token once per 10 s; a revocation made elsewhere takes effect within that time', async () => {
    const created = await stack.api('POST', '/v1/tokens', { token: acme.member.token, body: { name: 'cached' } });
    expect((await stack.api('GET', '/v1/me', { token: created.body.token })).status).toBe(200);
    stack.calls.reset();
    expect((await stack.api('GET', '/v1/me', { token: created.body.token })).status).toBe(200);
    expect(stack.calls.counts).toEqual({ BatchGetItemCommand: 1 }); // the user and the workspace, no token read
    // Another Lambda container revokes it: this process's cache does not know yet.
    const { data } = await stack.deps.db.entities.apiToken.query
      .byTokenId({ workspaceId: acme.workspace.id, tokenId: created.body.id })
      .go();
    await stack.deps.db.entities.apiToken.patch({ tokenHash: data[0]!.tokenHash }).set({ revokedAt: stack.clock.nowIso() }).go();
    expect((await stack.api('GET', '/v1/me', { token: created.body.token })).status).toBe(200);
    stack.clock.advance(10_001);
    expect((await stack.api('GET', '/v1/me', { token: created.body.token })).status).toBe(401);
  });
});
