import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseContactChange, usageDeltas } from '../../domain/tags/tag-usage.service';

describe('tag usage deltas', () => {
  it('counts +1 for each key gained and -1 for each key lost, ignoring a change of spelling', () => {
    expect(Object.fromEntries(usageDeltas(['VIP', 'Old'], ['vip', 'New', 'NEW']))).toEqual({ new: 1, old: -1 });
    expect(usageDeltas(['A'], ['a']).size).toBe(0);
    expect(Object.fromEntries(usageDeltas([], ['bot:off']))).toEqual({ 'bot:off': 1 });
  });

  it('reads a contact stream record: an INSERT has no old tags, an image without tags has none', () => {
    const image = (tags?: string[]) =>
      marshall(
        { __edb_e__: 'contact', workspaceId: 'ws_1', contactId: 'ct_1', version: 3, customFields: {}, ...(tags ? { tags } : {}) },
        { removeUndefinedValues: true },
      );
    expect(parseContactChange(image(['X']), undefined)).toEqual({ workspaceId: 'ws_1', contactId: 'ct_1', version: 3, before: [], after: ['X'] });
    expect(parseContactChange(image(), image(['Y']))).toMatchObject({ before: ['Y'], after: [] });
    expect(() => parseContactChange(undefined, undefined)).toThrow(/NewImage/);
    expect(() => parseContactChange(marshall({ __edb_e__: 'company', workspaceId: 'ws_1' }), undefined)).toThrow();
  });
});
