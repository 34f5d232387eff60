import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../local/gateway';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let gateway: Awaited<ReturnType<typeof startGateway>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack);
  gateway = await startGateway({
    port: 0,
    webhooks: [{ name: 'echo', entry: 'test/support/echo-webhook.handler.ts' }],
  });
});
afterAll(async () => {
  await gateway.stop();
  await stack.destroy();
});

describe('local gateway over HTTP', () => {
  it('serves GET /v1/me for a bearer token, with a request id', async () => {
    const res = await fetch(`${gateway.url}/v1/me`, {
      headers: { authorization: `Bearer ${acme.owner.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    const body = (await res.json()) as { user: { id: string } };
    expect(body.user.id).toBe(acme.owner.user.id);
  });

  it('passes query strings, JSON bodies and headers through as API Gateway would', async () => {
    const created = await fetch(`${gateway.url}/v1/users`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${acme.owner.token}`,
        'content-type': 'application/json',
        'idempotency-key': 'gw-1',
      },
      body: JSON.stringify({ name: 'Gateway Gus', email: 'gus@example.com' }),
    });
    expect(created.status).toBe(201);
    const page = await fetch(`${gateway.url}/v1/users?limit=1`, {
      headers: { authorization: `Bearer ${acme.owner.token}` },
    });
    const body = (await page.json()) as { items: unknown[]; nextCursor: string };
    expect(body.items).toHaveLength(1);
    expect(body.nextCursor).toEqual(expect.any(String));
  });

  it('answers 401 problem+json without a token, with a Bearer challenge', async () => {
    const res = await fetch(`${gateway.url}/v1/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="crm"');
    const forged = await fetch(`${gateway.url}/v1/me`, { headers: { authorization: 'Bearer crm_forged' } });
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer realm="crm", error="invalid_token"/);
  });

  it('never lets an encoded dot segment or an empty id reach another route', async () => {
    const contact = (
      await stack.api('POST', '/v1/contacts', { token: acme.owner.token, body: { name: 'Dotty' } })
    ).body;
    await stack.api('POST', `/v1/contacts/${contact.id}/tags`, {
      token: acme.owner.token,
      body: { tags: ['vip'] },
    });
    // Sent byte for byte (fetch would resolve the dot segments itself, as browsers do).
    for (const path of [
      '/v1/contacts/%2E%2E/tags/vip',
      '/v1/contacts/%2e%2e/tags/vip',
      '/v1/contacts/../tags/vip',
      '/v1/contacts//tags/vip',
      '/v1/contacts/./tags/vip',
    ]) {
      const res = await rawRequest('DELETE', path, acme.owner.token);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.status, path).not.toBe(204);
    }
    const after = await stack.api('GET', `/v1/contacts/${contact.id}`, { token: acme.owner.token });
    expect(after.body.tags).toEqual(['vip']);
    expect((await stack.api('GET', '/v1/tags/vip', { token: acme.owner.token })).status).toBe(200);
  });

  it('refuses a body that is not UTF-8 with a 400, and a form body with a 415', async () => {
    const invalid = await rawRequest(
      'POST',
      '/v1/contacts',
      acme.owner.token,
      Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    );
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body).errors[0]).toMatchObject({
      field: 'body',
      message: 'The body is not valid UTF-8',
    });
    const form = await fetch(`${gateway.url}/v1/contacts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${acme.owner.token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'name=Formy',
    });
    expect(form.status).toBe(415);
  });

  it('creates a tag named with spaces and an emoji, its Location percent-encoded and reachable', async () => {
    const created = await fetch(`${gateway.url}/v1/tags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme.owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'two words \u{1F600}x' }),
    });
    expect(created.status).toBe(201);
    const { ref } = (await created.json()) as { ref: string };
    const location = created.headers.get('location')!;
    expect(location).toBe(`/v1/tags/${encodeURIComponent(ref)}`);
    expect(location).toMatch(/^[\x21-\x7e]+$/);
    const read = await fetch(`${gateway.url}${location}`, { headers: { authorization: `Bearer ${acme.owner.token}` } });
    expect(read.status).toBe(200);
  });

  it('answers a request line or headers past the server limit with 431 problem+json, and keeps serving', async () => {
    const res = await fetch(`${gateway.url}/v1/contacts/search?q=${'a'.repeat(20_000)}`, {
      headers: { authorization: `Bearer ${acme.owner.token}` },
    });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 431 });
    expect((await fetch(`${gateway.url}/v1/me`, { headers: { authorization: `Bearer ${acme.owner.token}` } })).status).toBe(200);
  });

  it('turns /hooks/<name> into a Lambda Function URL event', async () => {
    const res = await fetch(`${gateway.url}/hooks/echo?source=test`, {
      method: 'POST',
      headers: { 'x-signature': 'abc', 'content-type': 'application/json' },
      body: '{"update_id":1}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/hooks/echo',
      method: 'POST',
      query: { source: 'test' },
      signature: 'abc',
      body: '{"update_id":1}',
    });
  });

  it('serves the docs page and the OpenAPI document without a token', async () => {
    const docs = await fetch(`${gateway.url}/docs`);
    expect(docs.status).toBe(200);
    const entry = (await docs.text()).match(/from '\.(\/docs\/assets\/standalone\.esm\.js\?v=\w+)'/)?.[1];
    const renderer = await fetch(`${gateway.url}${entry}`);
    expect(renderer.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await renderer.text()).length).toBeGreaterThan(100_000);
    const openapi = await fetch(`${gateway.url}/openapi.json`);
    expect(((await openapi.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });
});

/** An HTTP request with its target exactly as given: nothing resolved, nothing re-encoded. */
function rawRequest(
  method: string,
  path: string,
  token: string,
  body?: Buffer,
): Promise<{ status: number; body: string }> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
