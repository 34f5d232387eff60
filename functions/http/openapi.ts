import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { problemSchema } from '../shared/problem';
import { routeList } from './routes';

const problemStatuses: Record<number, string> = {
  400: 'Invalid request: `errors` names each field',
  401: 'Missing, unknown or revoked token',
  403: 'The caller’s role does not allow this',
  404: 'No such record in the caller’s workspace',
  409: 'Conflicts with the current state',
  412: 'If-Match does not match the current version',
  422: 'Idempotency-Key reused with a different request',
};

let cached: ReturnType<OpenApiGeneratorV31['generateDocument']> | undefined;

/** The OpenAPI 3.1 document, generated from the route table's zod schemas. */
export function openApiDocument() {
  if (cached) return cached;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'A workspace API token (`crm_…`), created with `POST /v1/tokens` or printed by `npm start`.',
  });
  const problem = { 'application/problem+json': { schema: problemSchema } };
  for (const route of routeList) {
    if (!route.path.startsWith('/v1/')) continue;
    const headers: z.ZodType[] = [];
    if (route.creates) {
      headers.push(z.string().optional().meta({ param: { name: 'Idempotency-Key', in: 'header' }, description: 'Repeat a request safely: the same key and body replay the first response for 24 hours' }));
    }
    if (route.versioned && route.method !== 'GET' && route.method !== 'POST') {
      headers.push(z.string().optional().meta({ param: { name: 'If-Match', in: 'header' }, description: 'The ETag you read; a stale one gets 412' }));
    }
    const errorStatuses = [400, 401, 403, 404, ...(route.method === 'GET' ? [] : [409]), ...(route.versioned && route.method === 'PATCH' ? [412] : []), ...(route.creates ? [422] : [])];
    registry.registerPath({
      method: route.method.toLowerCase() as 'get',
      path: route.path,
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security: route.auth ? [{ bearerToken: [] }] : [],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(headers.length ? { headers } : {}),
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses: {
        [route.response.status]: {
          description: route.response.description,
          ...(route.response.schema ? { content: { 'application/json': { schema: route.response.schema } } } : {}),
        },
        ...Object.fromEntries(errorStatuses.map((status) => [status, { description: problemStatuses[status] ?? 'Error', content: problem }])),
      },
    });
  }
  cached = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'CRM API',
      version: '1.0.0',
      description:
        'Multi-tenant CRM with an omnichannel inbox. JSON over HTTPS; bearer API tokens; errors are RFC 9457 problem+json; lists are cursor-paginated (`limit`, `cursor`, `nextCursor`).',
    },
    servers: [{ url: '/' }],
  });
  return cached;
}
