import * as z from 'zod';
import { route, type RouteDefinition } from '../route-definition';

/** A file name as it comes; the handler serves only names in its allowlist, anything else is a 404. */
const assetFile = z.object({ file: z.string().max(200) });

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
    summary: 'The API reference page (Scalar, served by this API: works offline)',
    auth: false,
    response: { status: 200, description: 'HTML page', contentType: 'text/html' },
  }),
  getDocsAsset: route({
    method: 'GET',
    path: '/docs/assets/{file}',
    group: 'meta',
    tag: 'Meta',
    summary:
      'The reference page’s renderer module (`standalone.esm.js`; immutable when `v` is its current version)',
    auth: false,
    params: assetFile,
    query: z.object({ v: z.string().max(64).optional() }),
    response: { status: 200, description: 'JavaScript module', contentType: 'text/javascript' },
  }),
  getDocsChunk: route({
    method: 'GET',
    path: '/docs/assets/chunks/{file}',
    group: 'meta',
    tag: 'Meta',
    summary: 'A chunk of the renderer (content-hashed names, immutable)',
    auth: false,
    params: assetFile,
    response: { status: 200, description: 'JavaScript module', contentType: 'text/javascript' },
  }),
} as const satisfies Record<string, RouteDefinition>;
