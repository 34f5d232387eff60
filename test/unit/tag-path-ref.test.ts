import { describe, expect, it } from 'vitest';
import { tagPathParam, tagPathRef } from '../../domain/tags/tag-path-ref';
import { gatewayPath, matchRoute } from '../../local/http-routing';

describe('tag path references', () => {
  it('leaves names a deployed gateway routes intact, and gives the others a `~` reference', () => {
    expect(tagPathRef('vip')).toBe('vip');
    expect(tagPathRef('bot:off')).toBe('bot:off');
    expect(tagPathRef('lead source: web')).toBe('lead source: web');
    for (const name of ['region/emea', 'why?', '#hot', '100%', 'a\\b', '~tilde', '.', '..']) {
      expect(tagPathRef(name), name).toMatch(/^~[A-Za-z0-9_-]+$/);
    }
  });

  it('survives the gateway: every reference routes as one segment and decodes to its name', () => {
    for (const name of ['Region/EMEA', 'Why?', '#hot', '100% sure', 'ünïcödé/名前', '~x', '..']) {
      const path = `/v1/tags/${encodeURIComponent(tagPathRef(name))}`;
      const match = matchRoute('GET', path);
      expect(match.kind, name).toBe('matched');
      const segment = (match as { pathParameters: Record<string, string> }).pathParameters.key!;
      expect(tagPathParam.parse(segment)).toBe(name);
    }
  });

  it('refuses what is not a reference it gave out', () => {
    for (const segment of ['~', '~not*base64', '~_w', '~4pyT4p']) expect(tagPathParam.safeParse(segment).success, segment).toBe(false);
  });
});

describe('the local gateway decodes paths as a deployed HTTP API does', () => {
  it('decodes once, then cuts at a decoded `?` or `#`', () => {
    expect(gatewayPath('/v1/tags/Region%2FEMEA')).toBe('/v1/tags/Region/EMEA');
    expect(gatewayPath('/v1/tags/Why%3F')).toBe('/v1/tags/Why');
    expect(gatewayPath('/v1/tags/%23hot')).toBe('/v1/tags/');
    expect(gatewayPath('/v1/tags/100%25')).toBe('/v1/tags/100%');
    expect(gatewayPath('/v1/tags/%E0%A4%A')).toBe('/v1/tags/%E0%A4%A');
    expect(matchRoute('GET', '/v1/tags/Region%2FEMEA')).toEqual({ kind: 'not_found' });
  });
});
