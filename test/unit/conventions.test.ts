import { describe, expect, it } from 'vitest';
import { fixedClock, ulidGenerator } from '../../domain/shared/clock';
import { conflictCodes, DomainError } from '../../domain/shared/errors';
import { checkCursor, checkIndexCursor } from '../../domain/shared/pagination';
import { newEvent } from '../../events/event-log';
import { domainErrorResponse } from '../../functions/shared/problem';
import { routeKey, routeList } from '../../functions/http/routes';
import { matchRoute, toApiGatewayEvent } from '../../local/http-routing';

const caller = { workspaceId: 'ws_A', userId: 'usr_1', role: 'owner' as const };

describe('cursors', () => {
  const cursorFor = (key: object) => Buffer.from(JSON.stringify(key)).toString('base64url');

  it('accepts a start key whose partition keys are in the caller’s workspace', () => {
    const table = cursorFor({ pk: 'WS#ws_A', sk: 'USER#usr_2' });
    expect(checkCursor('ws_A', table)).toBe(table);
    const index = cursorFor({ pk: 'WS#ws_A#X', sk: 'X', gsi1pk: 'WS#ws_A#TAGS', gsi1sk: 'a' });
    expect(checkCursor('ws_A', index)).toBe(index);
  });

  const refused = (check: () => unknown) => {
    try {
      check();
      expect.unreachable();
    } catch (error) {
      expect((error as DomainError).code).toBe('invalid_cursor');
      expect((error as DomainError).details.fields?.[0]?.field).toBe('query.cursor');
    }
  };

  it.each([
    ['another workspace', cursorFor({ pk: 'WS#ws_B', sk: 'USER#x' })],
    ['a workspace sharing a prefix', cursorFor({ pk: 'WS#ws_AB', sk: 'USER#x' })],
    ['not base64 JSON', '%%%'],
    ['an array', cursorFor([1])],
    ['no sort key', cursorFor({ pk: 'WS#ws_A' })],
    ['half an index key', cursorFor({ pk: 'WS#ws_A', sk: 'USER#x', gsi1pk: 'WS#ws_A#TOKENS' })],
    ['keys of two indexes', cursorFor({ pk: 'WS#ws_A', sk: 'x', gsi1pk: 'WS#ws_A', gsi1sk: 'x', gsi2pk: 'WS#ws_A', gsi2sk: 'x' })],
    ['a number', cursorFor({ pk: 'WS#ws_A', sk: 5 })],
  ])('refuses %s as a 400 invalid_cursor on query.cursor', (_name, cursor) => {
    refused(() => checkCursor('ws_A', cursor));
  });

  describe('on an index whose table keys are not the workspace’s (API tokens)', () => {
    const index = { name: 'gsi1', partition: 'WS#ws_A#TOKENS', sortPrefix: 'usr_1#' };
    const key = { pk: 'TOKEN#abc', sk: 'TOKEN', gsi1pk: 'WS#ws_A#TOKENS', gsi1sk: 'usr_1#tok_1' };

    it('accepts the start key of this partition and sort-key prefix', () => {
      expect(checkIndexCursor(cursorFor(key), index)).toBe(cursorFor(key));
      expect(checkIndexCursor(cursorFor({ ...key, gsi1sk: 'usr_2#t' }), { ...index, sortPrefix: undefined })).toBeDefined();
    });

    it.each([
      ['another workspace’s partition', { ...key, gsi1pk: 'WS#ws_B#TOKENS' }],
      ['another user’s range', { ...key, gsi1sk: 'usr_2#tok_1' }],
      ['another index', { pk: key.pk, sk: key.sk, gsi2pk: key.gsi1pk, gsi2sk: key.gsi1sk }],
      ['a missing table key', { gsi1pk: key.gsi1pk, gsi1sk: key.gsi1sk, pk: key.pk }],
      ['an empty value', { ...key, sk: '' }],
    ])('refuses %s', (_name, forged) => {
      refused(() => checkIndexCursor(cursorFor(forged), index));
    });
  });
});

describe('event catalogue', () => {
  const deps = { clock: fixedClock(), newId: ulidGenerator(fixedClock()) };

  it('builds an event stamped with workspace, actor and time', () => {
    const event = newEvent(deps, caller, 'user.added', { type: 'user', id: 'usr_2' }, { name: 'A', email: 'a@x.io', role: 'member' });
    expect(event).toMatchObject({ workspaceId: 'ws_A', actorUserId: 'usr_1', type: 'user.added', entityId: 'usr_2', createdAt: '2026-01-15T09:00:00.000Z' });
    expect(event.eventId).toMatch(/^evt_[0-9A-Z]{26}$/);
  });

  it('refuses a payload its type’s schema does not allow', () => {
    expect(() =>
      newEvent(deps, caller, 'user.added', { type: 'user', id: 'usr_2' }, { name: 'A', email: 'a@x.io', role: 'king' as 'owner' }),
    ).toThrow();
  });
});

describe('problem+json', () => {
  it.each([
    ['validation_failed', 400],
    ['invalid_cursor', 400],
    ['unauthenticated', 401],
    ['forbidden', 403],
    ['not_found', 404],
    ['concurrent_change', 409],
    ['channel_taken', 409],
    ['precondition_failed', 412],
    ['idempotency_key_reused', 422],
    ['limit_exceeded', 422],
    ['invalid_reference', 422],
  ] as const)('maps %s to %i with field errors kept', (code, status) => {
    const response = domainErrorResponse(
      new DomainError(code, 'detail', { fields: [{ field: 'body.x', message: 'bad' }] }),
      { requestId: 'req-1', path: '/v1/x' },
    );
    expect(response.statusCode).toBe(status);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body!)).toMatchObject({ status, code, detail: 'detail', requestId: 'req-1', errors: [{ field: 'body.x' }] });
  });
});

describe('409s', () => {
  it.each(conflictCodes)('maps %s to 409 with a type URL of its own', (code) => {
    const response = domainErrorResponse(new DomainError(code, 'detail'), { requestId: 'req-1', path: '/v1/x' });
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body!)).toMatchObject({
      status: 409,
      code,
      type: `https://crm.dev/problems/${code.replaceAll('_', '-')}`,
    });
  });

  it('turns retryAfterSeconds into a Retry-After header, not a body field', () => {
    const response = domainErrorResponse(
      new DomainError('idempotency_in_progress', 'still running', { retryAfterSeconds: 1 }),
      { requestId: 'req-1', path: '/v1/x' },
    );
    expect(response.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(response.body!)).not.toHaveProperty('retryAfterSeconds');
  });
});

describe('route matching', () => {
  it('has one route per method and path', () => {
    const keys = routeList.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('matches path parameters and builds a payload-2.0 event like API Gateway', () => {
    const match = matchRoute('PATCH', '/v1/users/usr_9');
    expect(match.kind).toBe('matched');
    if (match.kind !== 'matched') return;
    expect(match.pathParameters).toEqual({ userId: 'usr_9' });
    const event = toApiGatewayEvent(
      { method: 'PATCH', path: '/v1/users/usr_9', rawQueryString: 'a=1&a=2&b=x', headers: { 'If-Match': '"2"' }, body: '{}' },
      match.route,
      match.pathParameters,
      'req-1',
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'PATCH /v1/users/{userId}',
      rawPath: '/v1/users/usr_9',
      headers: { 'if-match': '"2"' },
      queryStringParameters: { a: '1,2', b: 'x' },
      pathParameters: { userId: 'usr_9' },
      requestContext: { requestId: 'req-1', http: { method: 'PATCH' } },
    });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(matchRoute('DELETE', '/v1/me')).toEqual({ kind: 'method_not_allowed', allowed: ['GET'] });
    expect(matchRoute('GET', '/v1/users/a/b')).toEqual({ kind: 'not_found' });
  });
});
