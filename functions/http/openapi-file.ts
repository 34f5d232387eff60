import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The OpenAPI document as served: generated at build time from the route table (`openapi.ts`, by
 * `npm run openapi:generate`) and committed as `openapi.json` beside this file, so no function
 * carries the generator. The meta function's bundle holds it at its root, beside the handler
 * (Lambda's /var/task/openapi.json); `npm start` and the tests read it here, from the source folder.
 */
export const openApiFileName = 'openapi.json';

/** What the meta bundle copies beside its handler (infra/constructs/api.ts). */
export const openApiBundledFile = { from: `functions/http/${openApiFileName}`, to: '.' } as const;

/** The committed file, in the source tree. */
export const openApiSourceFile = fileURLToPath(new URL(`./${openApiFileName}`, import.meta.url));

export interface ServedOpenApi {
  /** The document, for the reference page. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  document: { info: { title: string }; [key: string]: any };
  /** The compact JSON text `/openapi.json` answers with. */
  text: string;
}

let served: ServedOpenApi | undefined;

/** The served document, read once per cold start from beside the module (bundled or not). */
export function servedOpenApi(): ServedOpenApi {
  if (served) return served;
  const document = JSON.parse(readFileSync(new URL(`./${openApiFileName}`, import.meta.url), 'utf8')) as ServedOpenApi['document'];
  served = { document, text: JSON.stringify(document) };
  return served;
}
