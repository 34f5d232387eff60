import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypesFile, generateApiTypes } from '../e2e/client/generate';

describe('the generated client types (test/e2e/client/api.ts)', () => {
  it('match the OpenAPI document', async () => {
    const committed = readFileSync(apiTypesFile, 'utf8');
    const fresh = await generateApiTypes();
    // Not toBe: a 300 KB diff helps nobody; the fix is one command.
    if (committed !== fresh) {
      expect.fail(
        'test/e2e/client/api.ts is out of date with the OpenAPI document: run npm run client:generate',
      );
    }
  });
});
