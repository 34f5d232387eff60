import { renderDocsPage } from './docs-page';
import { RawResponse, createHttpHandler } from './http-handler';
import { openApiDocument } from './openapi';

let docsPage: string | undefined;

export const handler = createHttpHandler('meta', {
  getOpenApi: async () => openApiDocument(),
  getDocs: async () => {
    docsPage ??= renderDocsPage(openApiDocument());
    return new RawResponse(200, docsPage, { 'content-type': 'text/html; charset=utf-8' });
  },
});
