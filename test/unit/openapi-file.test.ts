import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/http/openapi';
import { servedOpenApi } from '../../functions/http/openapi-file';
import { openApiFileIsCurrent } from '../../functions/http/openapi-generate';

describe('the served OpenAPI document (functions/http/openapi.json)', () => {
  it('is the document the route table generates now', () => {
    // Not toEqual on the whole document: a 900 KB diff helps nobody; the fix is one command.
    if (!openApiFileIsCurrent()) {
      expect.fail('functions/http/openapi.json is out of date with the route table: run npm run openapi:generate');
    }
  });

  it('is what /openapi.json answers, as compact JSON', () => {
    const { document, text } = servedOpenApi();
    expect(document).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(text).toBe(JSON.stringify(openApiDocument()));
  });
});
