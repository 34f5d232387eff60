import { notFound } from '../../domain/shared/errors';
import { docsRenderer, scalarBuild } from './docs-assets';
import { renderDocsPage, renderReferencePage } from './docs-page';
import { RawResponse, createHttpHandler } from './http-handler';
import { servedOpenApi } from './openapi-file';
import { metaRoutes } from './routes/meta.routes';

let docsPage: RawResponse | undefined;

const immutable = 'public, max-age=31536000, immutable';

/** The page itself is small and names its assets by version: always revalidated. */
function buildDocsPage(): RawResponse {
  const doc = servedOpenApi().document;
  const renderer = docsRenderer();
  if (renderer) {
    const page = renderReferencePage(doc.info.title, renderer.version);
    return new RawResponse(200, page.html, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': page.contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  }
  const notice = `The interactive reference (Scalar) is not available here: its files (\`${scalarBuild.packageDir}\`, or \`${scalarBuild.bundleDir}/\` beside the deployed handler) were not found. This is the plain fallback page, without search or "try it".`;
  return new RawResponse(200, renderDocsPage(doc, notice), {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
}

const javascript = (body: string, cacheControl: string) =>
  new RawResponse(200, body, {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
  });

const noSuchAsset = (file: string) => notFound(`Docs asset ${JSON.stringify(file)}`);

export const handler = createHttpHandler('meta', metaRoutes, {
  getOpenApi: async () => new RawResponse(200, servedOpenApi().text, { 'content-type': 'application/json' }),
  getDocs: async () => (docsPage ??= buildDocsPage()),
  getDocsAsset: async ({ params, query }) => {
    const renderer = docsRenderer();
    if (!renderer || params.file !== scalarBuild.entry) throw noSuchAsset(params.file);
    // The entry's name carries no version: only the URL the page builds (`?v=`) may be kept for good.
    return javascript(
      renderer.read(scalarBuild.entry),
      query.v === renderer.version ? immutable : 'no-cache',
    );
  },
  getDocsChunk: async ({ params }) => {
    const renderer = docsRenderer();
    // The allowlist: names listed from the chunks folder (content-hashed), never a path built from input.
    if (!renderer?.chunks.has(params.file)) throw noSuchAsset(params.file);
    return javascript(renderer.read(`${scalarBuild.chunksDir}/${params.file}`), immutable);
  },
});
