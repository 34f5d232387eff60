import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scalarBuild } from '../../functions/http/docs-assets';
import { openApiFileName, openApiSourceFile } from '../../functions/http/openapi-file';
import { routeKey, routeList } from '../../functions/http/routes';
import { httpFunctionProps } from '../../infra/constructs/api';
import { createAppFunction, projectRoot } from '../../infra/constructs/lambda-function';
import { lambdaContext, toApiGatewayEvent } from '../../local/http-routing';

/**
 * Invokes the bundled handler in a fresh Node process, as the Lambda runtime would (importing an
 * 0.8 MB bundle through vitest's transform would take seconds), one event after the other.
 */
function invokeBundle(events: APIGatewayProxyEventV2[]): APIGatewayProxyStructuredResultV2[] {
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(join(bundleDir, 'index.mjs')).href)});
    const events = JSON.parse(process.env.EVENTS);
    const results = [];
    for (const event of events) results.push(await handler(event, ${JSON.stringify(lambdaContext('crm-http-meta', 'req-bundle'))}));
    process.stdout.write(JSON.stringify(results));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, EVENTS: JSON.stringify(events), LOG_LEVEL: 'SILENT' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`The bundled handler failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as APIGatewayProxyStructuredResultV2[];
}

/**
 * The meta function as `cdk synth` bundles it (esbuild locally, no Docker, then the afterBundling
 * copy): the renderer files must be in the bundle, and the bundled handler must find them beside
 * itself, as it will in /var/task.
 */
const packageDir = join(projectRoot, scalarBuild.packageDir);
let outdir: string;
let bundleDir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'crm-meta-bundle-'));
  // The bundle imports `@aws-sdk/*` at run time (the Lambda runtime ships it): resolve it from the project.
  symlinkSync(join(projectRoot, 'node_modules'), join(outdir, 'node_modules'), 'dir');
  const app = new App({ outdir });
  const stack = new Stack(app, 'MetaBundle');
  createAppFunction(
    stack,
    'MetaFunction',
    httpFunctionProps('meta', { environment: {}, logRetention: RetentionDays.ONE_MONTH }),
  );
  app.synth();
  const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
  expect(assets).toHaveLength(1);
  bundleDir = join(outdir, assets[0]!);
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const getEvent = (path: string, rawQueryString = '') => {
  const route = routeList.find(
    (r) => r.method === 'GET' && new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path),
  )!;
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const values = path.match(new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}$`))!.slice(1);
  const event = toApiGatewayEvent(
    { method: 'GET', path, rawQueryString },
    route,
    Object.fromEntries(names.map((name, i) => [name, values[i]!])),
    'req-bundle',
  );
  expect(event.routeKey).toBe(routeKey(route));
  return event;
};

describe('the meta function bundle', () => {
  it('carries the renderer entry and every chunk, and no source maps', () => {
    const carried = join(bundleDir, scalarBuild.bundleDir);
    expect(readFileSync(join(carried, scalarBuild.entry))).toEqual(
      readFileSync(join(packageDir, scalarBuild.entry)),
    );
    const chunks = readdirSync(join(carried, scalarBuild.chunksDir)).sort();
    const expected = readdirSync(join(packageDir, scalarBuild.chunksDir))
      .filter((name) => name.endsWith('.js'))
      .sort();
    expect(chunks).toEqual(expected);
    const bytes = [scalarBuild.entry, ...chunks.map((name) => `${scalarBuild.chunksDir}/${name}`)].reduce(
      (sum, file) => sum + statSync(join(carried, file)).size,
      0,
    );
    // About 5 MB today; well within a function's 250 MB, and no single file near the 6 MB response limit.
    expect(bytes).toBeLessThan(20 * 1024 * 1024);
    for (const name of chunks)
      expect(statSync(join(carried, scalarBuild.chunksDir, name)).size).toBeLessThan(3 * 1024 * 1024);
  });

  it('serves the OpenAPI document generated at build time, from beside the bundled handler', () => {
    expect(readFileSync(join(bundleDir, openApiFileName))).toEqual(readFileSync(openApiSourceFile));
    const [document] = invokeBundle([getEvent('/openapi.json')]);
    expect(document!.statusCode).toBe(200);
    expect(document!.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(document!.body!)).toEqual(JSON.parse(readFileSync(openApiSourceFile, 'utf8')));
    // The generator is not in the function: no zod-to-openapi, no recorded examples.
    const code = readFileSync(join(bundleDir, 'index.mjs'), 'utf8');
    expect(code).not.toContain('Unknown zod object type');
    expect(code).not.toContain('OpenApiGeneratorV31');
  });

  it('serves the reference page and its assets from beside the bundled handler', () => {
    const entryText = readFileSync(join(packageDir, scalarBuild.entry), 'utf8');
    const version = createHash('sha256').update(entryText).digest('hex').slice(0, 16);
    const chunk = readdirSync(join(packageDir, scalarBuild.chunksDir)).find((name) => name.endsWith('.js'))!;
    const [page, entry, served, missing] = invokeBundle([
      getEvent('/docs'),
      getEvent('/docs/assets/standalone.esm.js', `v=${version}`),
      getEvent(`/docs/assets/chunks/${chunk}`),
      getEvent('/docs/assets/chunks/package.json'),
    ]);
    expect(page!.statusCode).toBe(200);
    // The Scalar page, not the fallback: the bundle found its renderer files.
    expect(page!.body).toContain(`standalone.esm.js?v=${version}`);
    expect(entry!.statusCode).toBe(200);
    expect(entry!.headers?.['cache-control']).toContain('immutable');
    expect(entry!.body).toBe(entryText);
    expect(served!.statusCode).toBe(200);
    expect(served!.body).toBe(readFileSync(join(packageDir, scalarBuild.chunksDir, chunk), 'utf8'));
    expect(missing!.statusCode).toBe(404);
  });
});
