import { readFileSync } from 'node:fs';

/** The bytes of a provider payload fixture under test/fixtures/providers/ (e.g. `whatsapp/text.json`). */
export const fixtureBytes = (path: string): Buffer =>
  readFileSync(new URL(`../fixtures/providers/${path}`, import.meta.url));

export const fixtureText = (path: string): string => fixtureBytes(path).toString('utf8');
