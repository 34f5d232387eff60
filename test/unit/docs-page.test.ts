import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { scalarBuild } from '../../functions/http/docs-assets';
import { openApiDocument } from '../../functions/http/openapi';
import { routes } from '../../functions/http/routes';
import { projectRoot } from '../../infra/constructs/lambda-function';
import { invokeHttp } from '../../local/http-invoke';
import { lambdaContext, toApiGatewayEvent } from '../../local/http-routing';

/** /docs and its assets through the local gateway's dispatch and the real meta handler (no table needed). */
const get = async (path: string) => {
  const result = await invokeHttp('GET', path);
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  return { status: result.statusCode, headers, body: result.body ?? '' };
};

const packageDir = join(projectRoot, scalarBuild.packageDir);
const chunkNames = readdirSync(join(packageDir, scalarBuild.chunksDir)).filter((name) =>
  name.endsWith('.js'),
);

describe('GET /docs', () => {
  it('is the Scalar reference page, loading only same-origin assets', async () => {
    const page = await get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<div id="reference"></div>');
    // Nothing from another host: no absolute URL at all, scripts by relative path only.
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.body).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    const imports = [...page.body.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports).toEqual([
      expect.stringMatching(/^\.\/docs\/assets\/standalone\.esm\.js\?v=[0-9a-f]{16}$/),
    ]);
    expect(page.body).toContain("url: base + '/openapi.json'");
    // Scalar's own services off: fonts, proxy, telemetry, agent.
    expect(page.body).toContain('"withDefaultFonts":false');
    expect(page.body).toContain('"proxyUrl":""');
    expect(page.body).toContain('"telemetry":false');
    expect(page.body).toContain('"agent":{"disabled":true}');
  });

  it('lets the browser load scripts, styles, fonts and requests from this origin only', async () => {
    const page = await get('/docs');
    const csp = page.headers['content-security-policy']!;
    const inline = page.body.match(/<script type="module">([\s\S]*?)<\/script>/)![1]!;
    const hash = createHash('sha256').update(inline).digest('base64');
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining([
        "default-src 'none'",
        `script-src 'self' 'sha256-${hash}'`,
        "connect-src 'self'",
        "font-src 'self' data:",
      ]),
    );
    expect(csp).not.toMatch(/https?:|\*/);
  });

  it('names only chunks the asset route serves, all the way down', async () => {
    const served = new Set(chunkNames);
    const entry = readFileSync(join(packageDir, scalarBuild.entry), 'utf8');
    const fromEntry = [...entry.matchAll(/["'`]\.\/chunks\/([^"'`]+)["'`]/g)].map((m) => m[1]!);
    expect(fromEntry.length).toBeGreaterThan(10);
    expect(fromEntry.filter((name) => !served.has(name))).toEqual([]);
    for (const chunk of chunkNames) {
      const text = readFileSync(join(packageDir, scalarBuild.chunksDir, chunk), 'utf8');
      const relative = [...text.matchAll(/(?:from|import\()\s*["'`]\.\/([^"'`]+)["'`]/g)].map((m) => m[1]!);
      expect(
        relative.filter((name) => !served.has(name)),
        chunk,
      ).toEqual([]);
    }
  });
});

describe('GET /docs/assets', () => {
  it('serves the entry as JavaScript, immutable only under its current version', async () => {
    const page = await get('/docs');
    const url = page.body.match(/from '\.(\/docs\/assets\/standalone\.esm\.js\?v=[0-9a-f]+)'/)![1]!;
    const versioned = await get(url);
    expect(versioned.status).toBe(200);
    expect(versioned.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(versioned.body.length).toBeGreaterThan(100_000);
    expect(versioned.body).toContain('createApiReference');
    for (const stale of [
      '/docs/assets/standalone.esm.js',
      '/docs/assets/standalone.esm.js?v=0000000000000000',
    ]) {
      const response = await get(stale);
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves every chunk as immutable JavaScript, each well under the 6 MB response limit', async () => {
    const largest = chunkNames
      .map((name) => ({ name, size: readFileSync(join(packageDir, scalarBuild.chunksDir, name)).length }))
      .sort((a, b) => b.size - a.size);
    expect(largest[0]!.size).toBeLessThan(2 * 1024 * 1024);
    for (const { name, size } of [largest[0]!, largest.at(-1)!]) {
      const response = await get(`/docs/assets/chunks/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(Buffer.byteLength(response.body)).toBe(size);
    }
    expect(largest[0]!.size).toBeGreaterThan(100_000);
  });

  it.each([
    '/docs/assets/package.json',
    '/docs/assets/standalone.esm.js.map',
    '/docs/assets/style.css',
    `/docs/assets/chunks/${chunkNames[0]}.map`,
    '/docs/assets/chunks/standalone.esm.js',
    '/docs/assets/chunks/nothing-here.js',
    '/docs/assets/..%2F..%2Fpackage.json',
    '/docs/assets/chunks/..%2Fstandalone.esm.js',
    '/docs/assets/chunks/%2e%2e%2f%2e%2e%2fstyle.css',
    '/docs/assets/chunks/..',
    '/docs/assets/%2Fetc%2Fpasswd',
  ])('answers 404 to %s', async (path) => {
    const response = await get(path);
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json');
  });

  it('answers 404 to a traversal name that reaches the handler itself', async () => {
    const { handler } = (await import('../../functions/http/meta.handler')) as { handler: Handler };
    for (const [route, file] of [
      [routes.getDocsChunk, '../standalone.esm.js'],
      [routes.getDocsChunk, '../../package.json'],
      [routes.getDocsAsset, 'chunks/vendor.js'],
      [routes.getDocsAsset, '../api-reference/package.json'],
      [routes.getDocsAsset, '/etc/passwd'],
    ] as const) {
      const event = toApiGatewayEvent({ method: 'GET', path: '/docs/assets/x' }, route, { file }, 'req-1');
      const response = await handler(event, lambdaContext('crm-http-meta', 'req-1'));
      expect(response.statusCode, file).toBe(404);
    }
  });
});

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

describe('the docs routes and the OpenAPI document', () => {
  it('leaves /docs and its assets out of the document', () => {
    const paths = Object.keys(openApiDocument().paths ?? {});
    expect(paths.filter((path) => path.includes('docs') || !path.startsWith('/v1/'))).toEqual([]);
    expect(paths.length).toBeGreaterThan(50);
  });
});

describe('the fallback page', () => {
  it('is served, saying so, when the renderer files cannot be found', async () => {
    vi.resetModules();
    // A fresh module graph: this docs-assets looks in a folder that does not exist, and caches that.
    const assets = await import('../../functions/http/docs-assets');
    expect(assets.docsRenderer([join(projectRoot, 'no-such-folder')])).toBeUndefined();
    const { handler } = (await import('../../functions/http/meta.handler')) as { handler: Handler };
    const page = await handler(
      toApiGatewayEvent({ method: 'GET', path: '/docs' }, routes.getDocs, {}, 'req-2'),
      lambdaContext('crm-http-meta', 'req-2'),
    );
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('This is the plain fallback page');
    expect(page.body).toContain('<code>/v1/users/{userId}</code>');
    expect(page.body).not.toMatch(/<script/i);
    const asset = await handler(
      toApiGatewayEvent(
        { method: 'GET', path: '/docs/assets/standalone.esm.js' },
        routes.getDocsAsset,
        { file: 'standalone.esm.js' },
        'req-3',
      ),
      lambdaContext('crm-http-meta', 'req-3'),
    );
    expect(asset.statusCode).toBe(404);
  });
});
