import { route, type RouteDefinition } from '../route-definition';

export const metaRoutes = {
  getOpenApi: route({
    method: 'GET',
    path: '/openapi.json',
    group: 'meta',
    tag: 'Meta',
    summary: 'The OpenAPI 3.1 document of this API',
    auth: false,
    response: { status: 200, description: 'OpenAPI document', contentType: 'application/json' },
  }),
  getDocs: route({
    method: 'GET',
    path: '/docs',
    group: 'meta',
    tag: 'Meta',
    summary: 'A readable reference page of this API',
    auth: false,
    response: { status: 200, description: 'HTML page', contentType: 'text/html' },
  }),
} as const satisfies Record<string, RouteDefinition>;
