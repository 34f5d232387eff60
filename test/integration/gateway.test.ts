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
    const res = await fetch(`${gateway.url}/v1/me`, { headers: { authorization: `Bearer ${acme.owner.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    const body = (await res.json()) as { user: { id: string } };
    expect(body.user.id).toBe(acme.owner.user.id);
  });

  it('passes query strings, JSON bodies and headers through as API Gateway would', async () => {
    const created = await fetch(`${gateway.url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme.owner.token}`, 'content-type': 'application/json', 'idempotency-key': 'gw-1' },
      body: JSON.stringify({ name: 'Gateway Gus', email: 'gus@example.com' }),
    });
    expect(created.status).toBe(201);
    const page = await fetch(`${gateway.url}/v1/users?limit=1`, { headers: { authorization: `Bearer ${acme.owner.token}` } });
    const body = (await page.json()) as { items: unknown[]; nextCursor: string };
    expect(body.items).toHaveLength(1);
    expect(body.nextCursor).toEqual(expect.any(String));
  });

  it('answers 401 problem+json without a token', async () => {
    const res = await fetch(`${gateway.url}/v1/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
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
