import { describe, expect, it } from 'vitest';
import { companyNameWords } from '../../domain/companies/company-name-words';
import { nameSortKey } from '../../domain/shared/text';

describe('companyNameWords', () => {
  it('is the name from each later word on, folded as the by-name key is', () => {
    expect(companyNameWords('Crédit Agricole')).toEqual(['agricole']);
    expect(companyNameWords('Bank of  Ireland')).toEqual(['of ireland', 'ireland']);
    expect(companyNameWords('ÅNGSTRÖM Łódź Systems')).toEqual([
      'lodz systems',
      'systems',
      'angstroem lodz systems',
    ]);
  });

  it('has none for a one-word name: the by-name list finds it', () => {
    expect(companyNameWords('Acme')).toEqual([]);
    expect(companyNameWords('!!!')).toEqual([]);
  });

  it('reads punctuation as spaces too, the whole name then included', () => {
    expect(companyNameWords("O'Reilly Auto Parts")).toEqual([
      'auto parts',
      'parts',
      'o reilly auto parts',
      'reilly auto parts',
    ]);
    expect(companyNameWords('AT&T')).toEqual(['at t']);
  });

  it('spells German umlauts out, in full and from each word on', () => {
    expect(companyNameWords('Müller-Lüdenscheid Bau GmbH')).toEqual([
      'bau gmbh',
      'gmbh',
      'muller ludenscheid bau gmbh',
      'ludenscheid bau gmbh',
      'muellerluedenscheid bau gmbh',
      'mueller luedenscheid bau gmbh',
      'luedenscheid bau gmbh',
    ]);
  });

  it('leaves out the name’s own key, and words shorter than 2 characters', () => {
    for (const name of ['Crédit Agricole', 'X Y Z Holdings', 'A B']) {
      const words = companyNameWords(name);
      expect(words).not.toContain(nameSortKey(name));
      expect(words.every((word) => Array.from(word).length >= 2)).toBe(true);
    }
    expect(companyNameWords('A B')).toEqual([]);
  });

  it('keeps at most 12, the name’s own words first, each at most 64 characters', () => {
    const name = Array.from({ length: 30 }, (_, i) => `Word${i}`).join(' ');
    const words = companyNameWords(name);
    expect(words).toHaveLength(12);
    expect(words[0]!.startsWith('word1 word2')).toBe(true);
    expect(words.every((word) => word.length <= 64)).toBe(true);
  });
});
