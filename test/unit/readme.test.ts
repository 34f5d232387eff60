import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routeList } from '../../functions/http/routes';

describe('README', () => {
  it('lists every route of the route table in its API reference', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = routeList.filter((route) => !readme.includes(`| ${route.method} | ${route.path} |`));
    expect(missing.map((route) => `${route.method} ${route.path}`)).toEqual([]);
  });
});
