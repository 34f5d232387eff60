import { describe, expect, it } from 'vitest';
import { distinctTags, isSystemTag, tagKey, tagName } from '../../domain/tags/tag-names';

describe('tag names', () => {
  it.each([
    ['VIP', 'vip'],
    ['  Lead   Source:\tWeb ', 'lead source: web'],
    ['Café Owner', 'cafe owner'],
    ['ＶＩＰ', 'vip'],
  ])('keys %j as %j', (name, key) => {
    expect(tagKey(name)).toBe(key);
  });

  it.each(['bot:off', 'BOT:paused', ' Bot:Off', 'ｂｏｔ:off'])('treats %j as a system tag', (name) => {
    expect(isSystemTag(name)).toBe(true);
  });

  it.each(['robot:off', 'bot', 'bots: on', 'about:bot:'])('treats %j as a free-form tag', (name) => {
    expect(isSystemTag(name)).toBe(false);
  });

  it('keeps the first spelling of each key, trimmed with inner spaces collapsed', () => {
    expect(distinctTags(['  Hot   Lead ', 'hot lead', 'HOT LEAD', 'Warm'])).toEqual([
      { name: 'Hot Lead', key: 'hot lead' },
      { name: 'Warm', key: 'warm' },
    ]);
  });

  it('accepts 1 to 50 visible characters and refuses control characters', () => {
    expect(tagName.parse('  a  b ')).toBe('a b');
    expect(tagName.safeParse('x'.repeat(50)).success).toBe(true);
    expect(tagName.safeParse('x'.repeat(51)).success).toBe(false);
    expect(tagName.safeParse('   ').success).toBe(false);
    expect(tagName.safeParse('\u200b').success).toBe(false);
    expect(tagName.safeParse('a\u0000b').success).toBe(false);
  });
});
