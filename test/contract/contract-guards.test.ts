import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/http/openapi';
import { createDocumentValidator } from './document-validator';

/**
 * The contract and fuzz tests pass only while the validator can fail: here it is shown answers the
 * document does not allow, and each must be caught.
 */
describe('the document validator catches what the contract forbids', () => {
  const validator = createDocumentValidator(openApiDocument() as never);
  const problem = (status: number) =>
    JSON.stringify({
      type: 'https://crm.dev/problems/x',
      title: 'X',
      status,
      detail: 'x',
      code: 'x',
      requestId: 'r',
    });
  const headers = { 'content-type': 'application/problem+json', 'x-request-id': 'r' };

  it('a shared response (503 `timeout`): its required Retry-After and its schema, through the reference', () => {
    const timeout = { ...headers, 'retry-after': '1' };
    expect(validator.check('createContact', { status: 503, headers: timeout, body: problem(503) })).toEqual([]);
    expect(validator.check('createContact', { status: 503, headers, body: problem(503) })).toEqual(['required header Retry-After is missing']);
    expect(validator.check('getContact', { status: 503, headers: timeout, body: '{"status":503}' })[0]).toMatch(/must have required property/);
  });

  it('an undeclared status', () => {
    expect(validator.check('getContact', { status: 418, headers, body: problem(418) })[0]).toMatch(
      /status 418 is not declared/,
    );
    expect(validator.check('getMe', { status: 403, headers, body: problem(403) })[0]).toMatch(
      /status 403 is not declared/,
    );
  });

  it('a 5xx, declared nowhere', () => {
    expect(validator.check('listContacts', { status: 500, headers, body: problem(500) })[0]).toMatch(
      /status 500 is not declared/,
    );
  });

  it('a body that does not match its schema', () => {
    const body = JSON.stringify({ items: [{ id: 1 }], nextCursor: null });
    const found = validator.check('listContacts', {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-request-id': 'r' },
      body,
    });
    expect(found.join('\n')).toMatch(/body\/items\/0/);
  });

  it('a nullable field answered with null where the document says it cannot be', () => {
    const found = validator.check('getMe', {
      status: 200,
      headers: { 'content-type': 'application/json', 'x-request-id': 'r' },
      body: JSON.stringify({ user: null, workspace: null }),
    });
    expect(found.length).toBeGreaterThan(0);
  });

  it('a missing required header or a wrong content type', () => {
    expect(validator.check('getContact', { status: 401, headers, body: problem(401) })).toContain(
      'required header WWW-Authenticate is missing',
    );
    expect(
      validator.check('getContact', {
        status: 404,
        headers: { 'content-type': 'text/html', 'x-request-id': 'r' },
        body: '<p>',
      })[0],
    ).toMatch(/content type "text\/html" is not declared/);
  });

  it('a problem that is not problem+json', () => {
    const found = validator.check('getContact', {
      status: 404,
      headers,
      body: JSON.stringify({ message: 'Not Found' }),
    });
    expect(found.join('\n')).toMatch(/required property 'type'/);
  });
});
