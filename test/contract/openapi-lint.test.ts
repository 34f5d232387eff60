import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/http/openapi';
import { routeList } from '../../functions/http/routes';
import { createDocumentValidator } from './document-validator';

describe('the OpenAPI document', () => {
  it('lints clean under Redocly’s recommended rules: 0 errors, 0 warnings', async () => {
    // The project has not chosen its licence yet: the document cannot name one.
    const config = await createConfig({ extends: ['recommended'], rules: { 'info-license': 'off' } });
    const problems = await lintFromString({
      source: JSON.stringify(openApiDocument()),
      absoluteRef: 'openapi.json',
      config,
    });
    expect(
      problems.map(
        (problem) =>
          `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer}`,
      ),
    ).toEqual([]);
  });

  it('carries a real example on every operation, valid against its own schemas', () => {
    const document = openApiDocument() as unknown as Parameters<typeof createDocumentValidator>[0];
    const validator = createDocumentValidator(document);
    const missing: string[] = [];
    const invalid: string[] = [];
    for (const route of routeList.filter((candidate) => candidate.path.startsWith('/v1/'))) {
      const operation = document.paths[route.path]![route.method.toLowerCase()] as unknown as {
        requestBody?: { content: Record<string, { example?: unknown }> };
        responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
      };
      const response = operation.responses[String(route.response.status)]?.content?.['application/json'];
      if (response && response.example === undefined) missing.push(`${route.operationId} response`);
      if (operation.requestBody && operation.requestBody.content['application/json']?.example === undefined)
        missing.push(`${route.operationId} request`);
      if (response?.example !== undefined) {
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'x-request-id': 'example',
          // The answer of a versioned record comes with its version.
          ...(route.versioned ? { etag: '"1"' } : {}),
        };
        for (const problem of validator.check(route.operationId, {
          status: route.response.status,
          headers,
          body: JSON.stringify(response.example),
        })) {
          invalid.push(`${route.operationId}: ${problem}`);
        }
      }
    }
    expect(missing, 'run npm run openapi:examples').toEqual([]);
    expect(invalid).toEqual([]);
  });
});
