import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('GET /v1/me', () => {
  it('returns the caller and their workspace', async () => {
    const res = await stack.api('GET', '/v1/me', { token: acme.owner.token });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: acme.owner.user.id, role: 'owner', email: acme.owner.user.email });
    expect(res.body.workspace).toMatchObject({ id: acme.workspace.id, name: 'Acme' });
    expect(res.headers['x-request-id']).toMatch(/[0-9a-f-]{36}/);
  });

  it('refuses a missing, malformed or unknown token with 401 problem+json', async () => {
    for (const token of [undefined, 'nope', `crm_${'A'.repeat(43)}`]) {
      const res = await stack.api('GET', '/v1/me', { token });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.body).toMatchObject({ status: 401, code: 'unauthenticated' });
    }
  });

  it('reads the caller and the workspace in one BatchGetItem (the token cached)', async () => {
    await stack.api('GET', '/v1/me', { token: acme.member.token });
    stack.calls.reset();
    const res = await stack.api('GET', '/v1/me', { token: acme.member.token });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: acme.member.user.id, role: 'member' });
    expect(res.body.workspace).toMatchObject({ id: acme.workspace.id, name: 'Acme', timeZone: 'UTC', version: 1 });
    expect(stack.calls.counts).toEqual({ BatchGetItemCommand: 1 });
  });

  it('refuses a deactivated user with 401', async () => {
    const doomed = await seedWorkspace(stack, 'Deactivating');
    const off = await stack.api('PATCH', `/v1/users/${doomed.member.user.id}`, {
      token: doomed.owner.token,
      body: { status: 'deactivated' },
    });
    expect(off.status).toBe(200);
    const res = await stack.api('GET', '/v1/me', { token: doomed.member.token });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 401, code: 'unauthenticated' });

    // Reactivated, the user needs a new token: the old ones were revoked with the deactivation.
    const on = await stack.api('PATCH', `/v1/users/${doomed.member.user.id}`, {
      token: doomed.owner.token,
      body: { status: 'active' },
    });
    expect(on.status).toBe(200);
    expect((await stack.api('GET', '/v1/me', { token: doomed.member.token })).status).toBe(401);
    const tokens = await stack.api('GET', '/v1/tokens', { token: doomed.owner.token, query: { userId: doomed.member.user.id } });
    expect(tokens.body.items.length).toBeGreaterThan(0);
    expect(tokens.body.items.every((token: { revokedAt: string | null }) => token.revokedAt !== null)).toBe(true);
    const minted = await stack.api('POST', '/v1/tokens', {
      token: doomed.owner.token,
      body: { name: 'Back from leave', userId: doomed.member.user.id },
    });
    expect(minted.status).toBe(201);
    expect((await stack.api('GET', '/v1/me', { token: minted.body.token })).status).toBe(200);
  });

  it('answers 404 when the caller’s user or their workspace is gone, and not for another workspace', async () => {
    const doomed = await seedWorkspace(stack, 'Vanishing');
    const { user, workspace } = stack.deps.db.entities;
    await user.delete({ workspaceId: doomed.workspace.id, userId: doomed.member.user.id }).go();
    const noUser = await stack.api('GET', '/v1/me', { token: doomed.member.token });
    expect(noUser.status).toBe(404);
    expect(noUser.body).toMatchObject({ status: 404, code: 'not_found', detail: 'User not found' });

    await workspace.delete({ workspaceId: doomed.workspace.id }).go();
    const noWorkspace = await stack.api('GET', '/v1/me', { token: doomed.admin.token });
    expect(noWorkspace.status).toBe(404);
    expect(noWorkspace.body).toMatchObject({ status: 404, code: 'not_found', detail: 'Workspace not found' });
    // Both gone: the user is named first.
    const neither = await stack.api('GET', '/v1/me', { token: doomed.member.token });
    expect(neither.body).toMatchObject({ status: 404, detail: 'User not found' });
    // Another workspace's caller is unaffected.
    expect((await stack.api('GET', '/v1/me', { token: globex.member.token })).body.workspace).toMatchObject({ name: 'Globex' });
  });
});

describe('users and roles', () => {
  it('lets an admin add a member, and the new user shows in the list', async () => {
    const res = await stack.api('POST', '/v1/users', {
      token: acme.admin.token,
      body: { name: 'Nina New', email: 'Nina@Example.com' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Nina New', email: 'nina@example.com', role: 'member', version: 1 });
    expect(res.headers.location).toBe(`/v1/users/${res.body.id}`);
    const list = await stack.api('GET', '/v1/users', { token: acme.member.token, query: { limit: 100 } });
    expect(list.body.items.map((u: { id: string }) => u.id)).toContain(res.body.id);
  });

  it('forbids a member to add users (403)', async () => {
    const res = await stack.api('POST', '/v1/users', {
      token: acme.member.token,
      body: { name: 'Sneaky', email: 'sneaky@example.com', role: 'admin' },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    const list = await stack.api('GET', '/v1/users', { token: acme.owner.token, query: { limit: 100 } });
    expect(list.body.items.map((u: { email: string }) => u.email)).not.toContain('sneaky@example.com');
  });

  it('forbids an admin to create an owner', async () => {
    const res = await stack.api('POST', '/v1/users', {
      token: acme.admin.token,
      body: { name: 'Boss', email: 'boss@example.com', role: 'owner' },
    });
    expect(res.status).toBe(403);
  });

  it('keeps an admin from becoming an owner through the owner’s tokens or record: no minting, revoking or renaming', async () => {
    const workspace = await seedWorkspace(stack, 'Tokens');
    const ownerId = workspace.owner.user.id;
    const minted = await stack.api('POST', '/v1/tokens', { token: workspace.admin.token, body: { userId: ownerId, name: 'steal' } });
    expect(minted.status).toBe(403);
    expect(minted.headers['content-type']).toMatch(/^application\/problem\+json/);
    const ownerTokens = await stack.api('GET', '/v1/tokens', { token: workspace.owner.token, query: { userId: ownerId } });
    expect(ownerTokens.body.items).toHaveLength(1);
    const [ownerToken] = ownerTokens.body.items;
    expect((await stack.api('DELETE', `/v1/tokens/${ownerToken.id}`, { token: workspace.admin.token })).status).toBe(403);
    expect((await stack.api('PATCH', `/v1/users/${ownerId}`, { token: workspace.admin.token, body: { name: 'pwned' } })).status).toBe(403);
    // Nothing changed: the owner's one token still works, under their own name.
    expect((await stack.api('GET', '/v1/me', { token: workspace.owner.token })).body).toMatchObject({ user: { id: ownerId, name: 'Olivia Owner' } });
    // An admin still manages another admin's and a member's tokens; an owner manages an owner's.
    expect((await stack.api('POST', '/v1/tokens', { token: workspace.admin.token, body: { userId: workspace.member.user.id, name: 'ops' } })).status).toBe(201);
    const second = await stack.api('POST', '/v1/tokens', { token: workspace.owner.token, body: { userId: ownerId, name: 'ci' } });
    expect(second.status).toBe(201);
    expect((await stack.api('DELETE', `/v1/tokens/${second.body.id}`, { token: workspace.owner.token })).status).toBe(200);
  });

  it('refuses a duplicate email with 409 naming the field', async () => {
    const res = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: 'Dup', email: acme.member.user.email.toUpperCase() },
    });
    expect(res.status).toBe(409);
    expect(res.body.errors).toEqual([{ field: 'body.email', message: 'Already taken in this workspace' }]);
  });

  it('rejects a malformed body with a 400 problem naming each field', async () => {
    const res = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: '', email: 'not-an-email', role: 'king' },
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['body.email', 'body.name', 'body.role']);
  });

  it('rejects a body that is not JSON with a 400', async () => {
    const res = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('body');
  });

  it('changes a role; the changed user’s existing token carries the new role at once', async () => {
    const added = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: 'Promo Ted', email: 'ted@example.com' },
    });
    const token = await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: added.body.id } });
    const denied = await stack.api('POST', '/v1/users', {
      token: token.body.token,
      body: { name: 'X', email: 'x@example.com' },
    });
    expect(denied.status).toBe(403);
    const promoted = await stack.api('PATCH', `/v1/users/${added.body.id}`, {
      token: acme.owner.token,
      body: { role: 'admin' },
      headers: { 'if-match': '"1"' },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ role: 'admin', version: 2 });
    expect(promoted.headers.etag).toBe('"2"');
    const allowed = await stack.api('POST', '/v1/users', {
      token: token.body.token,
      body: { name: 'X', email: 'x@example.com' },
    });
    expect(allowed.status).toBe(201);
  });

  it('answers a stale If-Match with 412 and leaves the record as it was', async () => {
    const added = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: 'Stale Sam', email: 'sam@example.com' },
    });
    const first = await stack.api('PATCH', `/v1/users/${added.body.id}`, {
      token: acme.owner.token,
      body: { name: 'Sam One' },
      headers: { 'if-match': '"1"' },
    });
    expect(first.status).toBe(200);
    const second = await stack.api('PATCH', `/v1/users/${added.body.id}`, {
      token: acme.admin.token,
      body: { name: 'Sam Two' },
      headers: { 'if-match': '"1"' },
    });
    expect(second.status).toBe(412);
    expect(second.body.code).toBe('precondition_failed');
    const read = await stack.api('GET', `/v1/users/${added.body.id}`, { token: acme.owner.token });
    expect(read.body).toMatchObject({ name: 'Sam One', version: 2 });
  });

  it('lets two concurrent writers race without a lost update', async () => {
    const added = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: 'Race', email: 'race@example.com' },
    });
    const results = await Promise.all(
      ['A', 'B', 'C', 'D'].map((suffix) =>
        stack.api('PATCH', `/v1/users/${added.body.id}`, {
          token: acme.owner.token,
          body: { name: `Race ${suffix}` },
          headers: { 'if-match': '"1"' },
        }),
      ),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 412 || r.status === 409)).toHaveLength(3);
    const read = await stack.api('GET', `/v1/users/${added.body.id}`, { token: acme.owner.token });
    expect(read.body.name).toBe(winners[0]!.body.name);
  });

  it('lets a member rename themselves but not change their own role', async () => {
    const rename = await stack.api('PATCH', `/v1/users/${acme.member.user.id}`, {
      token: acme.member.token,
      body: { name: 'Mia M.' },
    });
    expect(rename.status).toBe(200);
    const escalate = await stack.api('PATCH', `/v1/users/${acme.member.user.id}`, {
      token: acme.member.token,
      body: { role: 'owner' },
    });
    expect(escalate.status).toBe(403);
  });

  it('keeps at least one active owner', async () => {
    const res = await stack.api('PATCH', `/v1/users/${acme.owner.user.id}`, {
      token: acme.owner.token,
      body: { role: 'admin' },
    });
    expect(res.status).toBe(409);
    const me = await stack.api('GET', '/v1/me', { token: acme.owner.token });
    expect(me.body.user.role).toBe('owner');
  });
});

describe('the event log of records only owners and admins read', () => {
  it('refuses a member the events of a webhook, a channel connection and another user’s token; their own token’s are theirs', async () => {
    const events = (token: string, entityType: string, entityId: string) =>
      stack.api('GET', '/v1/events', { token, query: { entityType, entityId } });
    const webhook = await stack.api('POST', '/v1/webhooks', {
      token: acme.owner.token,
      body: { url: 'http://127.0.0.1:9/crm?token=SECRET123', eventTypes: ['contact.created'] },
    });
    expect(webhook.status, JSON.stringify(webhook.body)).toBe(201);
    const channel = await stack.api('POST', '/v1/channels', {
      token: acme.owner.token,
      body: { kind: 'email', name: 'Mail', settings: { sesIdentity: 'acme-events.example', fromAddress: 'hi@acme-events.example', replyDomain: 'reply.acme-events.example' } },
    });
    expect(channel.status, JSON.stringify(channel.body)).toBe(201);
    const adminTokens = await stack.api('GET', '/v1/tokens', { token: acme.owner.token, query: { userId: acme.admin.user.id } });
    const memberTokens = await stack.api('GET', '/v1/tokens', { token: acme.member.token });
    for (const [entityType, entityId] of [
      ['webhook', webhook.body.id],
      ['channel_connection', channel.body.id],
      ['token', adminTokens.body.items[0].id],
    ] as const) {
      const refused = await events(acme.member.token, entityType, entityId);
      expect(refused.status, entityType).toBe(403);
      expect(JSON.stringify(refused.body)).not.toContain('SECRET123');
      expect((await events(acme.admin.token, entityType, entityId)).status, entityType).toBe(200);
    }
    const own = await events(acme.member.token, 'token', memberTokens.body.items[0].id);
    expect(own.status).toBe(200);
    expect(own.body.items.map((event: { type: string }) => event.type)).toContain('token.created');
  });
});

describe('tenant isolation', () => {
  it('gives workspace A’s token a 404 for workspace B’s user', async () => {
    const res = await stack.api('GET', `/v1/users/${globex.member.user.id}`, { token: acme.owner.token });
    expect(res.status).toBe(404);
    const patch = await stack.api('PATCH', `/v1/users/${globex.member.user.id}`, {
      token: acme.owner.token,
      body: { name: 'Hijacked' },
    });
    expect(patch.status).toBe(404);
    const read = await stack.api('GET', `/v1/users/${globex.member.user.id}`, { token: globex.owner.token });
    expect(read.body.name).toBe('Mia Member');
  });

  it('lists only the caller’s workspace', async () => {
    const res = await stack.api('GET', '/v1/users', { token: globex.owner.token, query: { limit: 100 } });
    const ids = res.body.items.map((u: { id: string }) => u.id);
    expect(ids).toContain(globex.owner.user.id);
    expect(ids).not.toContain(acme.owner.user.id);
  });

  it('refuses a cursor forged from another workspace’s keys', async () => {
    const forged = Buffer.from(JSON.stringify({ pk: `WS#${acme.workspace.id}`, sk: 'USER#a' })).toString('base64url');
    const res = await stack.api('GET', '/v1/users', { token: globex.owner.token, query: { cursor: forged } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.cursor');
  });
});

describe('pagination', () => {
  it('walks every user exactly once with limit and nextCursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await stack.api('GET', '/v1/users', { token: acme.owner.token, query: { limit: 2, cursor } });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((u: { id: string }) => u.id));
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor);
    const all = await stack.api('GET', '/v1/users', { token: acme.owner.token, query: { limit: 100 } });
    expect(seen).toEqual(all.body.items.map((u: { id: string }) => u.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects a limit out of range', async () => {
    const res = await stack.api('GET', '/v1/users', { token: acme.owner.token, query: { limit: 1000 } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.limit');
  });
});
