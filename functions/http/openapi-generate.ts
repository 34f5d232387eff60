import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { openApiDocument } from './openapi';
import { openApiSourceFile } from './openapi-file';

/** The text of `openapi.json` as `npm run openapi:generate` writes it (indented: it is read in diffs). */
export const renderOpenApiFile = () => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

/** True when the committed file is the document the route table generates now. */
export const openApiFileIsCurrent = () => readFileSync(openApiSourceFile, 'utf8') === renderOpenApiFile();

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(openApiSourceFile, renderOpenApiFile());
  process.stdout.write(`Wrote ${openApiSourceFile}\n`);
}
