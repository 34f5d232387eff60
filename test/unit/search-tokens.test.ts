import { describe, expect, it } from 'vitest';
import type { CountryCode } from 'libphonenumber-js/max';
import { normaliseChannelValue, type ChannelKind } from '../../domain/contacts/channels';
import {
  normaliseSearchQuery,
  searchPartition,
  searchTokens,
  type SearchableContact,
} from '../../domain/contacts/search-tokens';
import { DomainError } from '../../domain/shared/errors';
import { foldText, nameSortKey } from '../../domain/shared/text';

/** A contact whose channels go through the real normalisation, as the service will store them. */
const makeContact = (
  name: string,
  channels: [ChannelKind, string, CountryCode?][] = [],
  companyName?: string | null,
): SearchableContact => ({
  name,
  companyName,
  channels: channels.map(([kind, raw, defaultCountry]) => ({
    kind,
    normalized: normaliseChannelValue(kind, raw, { defaultCountry }).normalized,
  })),
});

/** What a DynamoDB query does: same partition, begins_with on the token part of the sort key. */
const finds = (tokens: string[], q: string) => {
  const { token } = normaliseSearchQuery(q);
  return tokens.some((t) => searchPartition(t) === searchPartition(token) && t.startsWith(token));
};

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('foldText', () => {
  it.each([
    ['José Ñúñez', 'jose nunez'],
    ['JOSÉ ÑÚÑEZ', 'jose nunez'],
    ['Jose\u0301 N\u0303un\u0303ez', 'jose nunez'], // already decomposed
    ['Straße', 'strasse'],
    ['STRASSE', 'strasse'],
    ['GROẞMANN', 'grossmann'], // capital sharp s
    ['Łódź Wałęsa', 'lodz walesa'],
    ['İSTANBUL', 'istanbul'],
    ['İlkay', 'ilkay'],
    ['ışık', 'isik'],
    ['IŞIK', 'isik'],
    ['Søren Ærø', 'soren aero'],
    ['Œuvre', 'oeuvre'],
    ['Đorđe', 'dorde'],
    ['Þór Guðmundsson', 'thor gudmundsson'],
    ['Ħamrun', 'hamrun'],
    ['ΟΔΥΣΣΕΥΣ', 'οδυσσευσ'],
    ['Οδυσσεύς', 'οδυσσευσ'],
    ['Иван Петров', 'иван петров'],
    ['김민준', '김민준'],
    ['ＡＢＣ　Ｃｏ', 'abc co'], // full-width letters and ideographic space
    ['ﬁnn', 'finn'],
    ['  Ana \t  María\n ', 'ana maria'],
    ['Ana\u00a0María', 'ana maria'],
    ['Ana\u200bMaría', 'anamaria'],
    ['O’Brien', "o'brien"],
    ['Jean‐Luc – Picard', 'jean-luc - picard'],
    ['', ''],
  ])('folds %j to %j', (input, folded) => {
    expect(foldText(input)).toBe(folded);
    expect(foldText(folded)).toBe(folded);
  });
});

describe('nameSortKey', () => {
  it.each([
    ['Ana María López', 'ana maria lopez'],
    ["O'Brien, Seán", 'obrien sean'],
    ['Jean-Luc   Picard', 'jeanluc picard'],
    ['  Zoë  ', 'zoe'],
    ['R2-D2', 'r2d2'],
  ])('keys %j as %j', (name, key) => {
    expect(nameSortKey(name)).toBe(key);
  });

  it('keeps keys within 64 characters without cutting a character in half', () => {
    expect(nameSortKey('Ana '.repeat(40))).toHaveLength(63); // the cut lands on a space, which is trimmed
    const emoji = nameSortKey(`${'a'.repeat(63)}😀`);
    expect(emoji.length).toBeLessThanOrEqual(64);
    expect(emoji).toBe('a'.repeat(63));
    expect(nameSortKey('名'.repeat(100))).toHaveLength(64);
  });

  it('sorts empty names after every real name, whatever the script, in DynamoDB (UTF-8) order', () => {
    const names = ['', 'Zoë', 'ana', '   ', 'Émile', 'Иван', '!!!', '김민준', 'Bob', '𠀋 Ext-B'];
    const sorted = [...names].sort((a, b) => utf8Order(nameSortKey(a), nameSortKey(b)));
    expect(sorted.slice(0, 7)).toEqual(['ana', 'Bob', 'Émile', 'Zoë', 'Иван', '김민준', '𠀋 Ext-B']);
    expect(sorted.slice(7).map(nameSortKey)).toEqual(['\u{10FFFF}', '\u{10FFFF}', '\u{10FFFF}']);
  });
});

describe('searchTokens: a query finds a contact when it is a prefix of one of its tokens', () => {
  const cases: [string, SearchableContact, string[], string[]][] = [
    [
      'accents, both ways',
      makeContact('José Ñúñez'),
      ['jose nunez', 'José Ñúñez', 'JOSE NUÑ', 'nunez', 'Ñú', 'jo'],
      ['jose x', 'nunez jose'],
    ],
    [
      'first name, middle name, surname, and runs of them',
      makeContact('Ana María López'),
      ['ana mar', 'Ana María', 'maria lo', 'lópez', 'LOPEZ', 'ana maria lopez', 'ana lopez', 'Ana Ló'],
      ['maria ana', 'lopez ana', 'ana x'],
    ],
    [
      'given name and either surname of a double one, the words between left out',
      makeContact('María José García Márquez'),
      ['maria garcia', 'María Márquez', 'maria garcia marquez', 'maria marq'],
      ['garcia maria', 'maria jose marquez x', 'jose marquez'],
    ],
    [
      'a hyphenated surname, its first half left out',
      makeContact('José Müller-Łukasiewicz'),
      ['jose lukasiewicz', 'Jose Łuk', 'jose muller-l', 'jose muller lukasiewicz', 'lukasiewicz'],
      ['muller jose'],
    ],
    [
      'German ß',
      makeContact('Jürgen Großmann'),
      ['grossmann', 'GROSSMANN', 'Großm', 'jurgen gross', 'JÜRGEN'],
      ['grosm'],
    ],
    [
      'German umlauts, typed or spelled out',
      makeContact('Ju\u0308rgen Müller-Schäfer', [], 'Bäckerei Köhler'),
      ['müller', 'muller', 'mueller', 'MUELLER-SCH', 'juergen mueller', 'Juergen', 'schaefer', 'baeckerei koehler', 'koehler', 'jurgen schafer'],
      ['juergen schaefer', 'muellerschaefer'],
    ],
    ['Polish ł', makeContact('Łukasz Wałęsa'), ['lukasz walesa', 'Wałęsa', 'WALE', 'łuk'], []],
    [
      'Turkish dotted and dotless i',
      makeContact('İlkay Işık'),
      ['ilkay isik', 'ILKAY', 'ışık', 'IŞIK', 'isi'],
      [],
    ],
    ['Nordic letters', makeContact('Søren Kierkegaard'), ['soren', 'Søren K', 'kierke'], []],
    [
      'hyphens and apostrophes, typed with or without them',
      makeContact("Jean-Luc O'Brien"),
      ['jean-luc', 'jean luc', 'luc', 'o’brien', "o'brien", 'obrien', 'brien', 'jeanluc'],
      [],
    ],
    [
      'company words and full name',
      makeContact('Ana López', [], 'Müller & Söhne GmbH'),
      ['muller', 'Müller & Söhne', 'sohne gmbh', 'GmbH', 'muller sohne'],
      ['acme'],
    ],
    [
      'email: full address, local part, domain, whatever the case',
      makeContact('Ana López', [['email', 'Ana.Lopez@Example.COM']]),
      ['ana.lopez@example.com', 'ANA.LOPEZ@EXAMPLE.COM', 'ana.lopez', 'Ana.Lopez@', 'example.com', 'EXAMPLE'],
      ['lopez@example', 'example.org'],
    ],
    [
      'IDN email: punycode and Unicode forms',
      makeContact('José', [['email', 'josé@bücher.de']]),
      ['josé@bücher.de', 'jose@bucher', 'JOSÉ@', 'bücher.de', 'bucher', 'josé@xn--bcher-kva.de', 'xn--bcher'],
      [],
    ],
    [
      'UK number with trunk 0',
      makeContact('Ana', [['phone', '020 7123 4567', 'GB']]),
      [
        '020 7123 4567',
        '2071234567',
        '+44 20 7123 4567',
        '442071234567',
        '0044 20 7123',
        '+44 (0)20 7123 4567',
        '(020) 7123-4567',
        '207.123',
      ],
      ['020 7124', '7123 4567'],
    ],
    [
      'UK mobile on WhatsApp',
      makeContact('Ana', [['whatsapp', '+44 7400 123456']]),
      ['07400 123456', '7400 123', '+447400123456', '+44 7400'],
      [],
    ],
    [
      'US number, with and without the 1',
      makeContact('Bob', [['phone', '(415) 555-2671', 'US']]),
      ['(415) 555-2671', '415-555', '415.555.2671', '+1 415 555 2671', '1 415 555 2671', '14155552671'],
      ['555-2671'],
    ],
    [
      'German landline and mobile',
      makeContact('Jürgen', [
        ['phone', '030 1234567', 'DE'],
        ['whatsapp', '+49 1512 3456789'],
      ]),
      ['030 1234567', '+49 30 123', '0049 30 1234567', '0151 2345 6789', '01512 3456789', '+49 151'],
      ['0152'],
    ],
    [
      'Brazilian mobile',
      makeContact('Maria', [['whatsapp', '+55 11 91234-5678']]),
      ['(11) 91234-5678', '11 91234', '+55 11 9 1234', '5511912345678', '11912345678'],
      [],
    ],
    [
      'Russian number dialled with the trunk prefix 8',
      makeContact('Ivan', [['phone', '+7 912 345-67-89']]),
      ['8 912 345-67-89', '8 (912) 345', '+7 912 345 67 89', '912 345 67 89'],
      [],
    ],
    [
      'Italian number whose leading 0 belongs to the number',
      makeContact('Giulia', [['phone', '+39 06 6982 1234']]),
      ['06 6982 1234', '+39 06 6982 1234', '0039 06 6982', '669821234'],
      ['6982 1234'], // a number is found from its start, not from the middle
    ],
    [
      'LinkedIn slug',
      makeContact('Ana', [['linkedin', 'https://uk.linkedin.com/in/Ana-Lopez-1a2b?trk=x']]),
      ['ana-lopez-1a2b', 'Ana-Lop'],
      ['linkedin.com/in/ana'],
    ],
    [
      'Telegram username, with or without @',
      makeContact('Ana', [['telegram', '@Ana_Lopez']]),
      ['@ana_lo', 'ana_lopez', '@ANA_LOPEZ'],
      [],
    ],
    [
      'Telegram group chat id',
      makeContact('Ana', [['telegram', '-1001234567890']]),
      ['-1001234567890', '-100123456', '1001234567890'],
      [],
    ],
  ];

  it.each(cases)('%s', (_name, contact, found, notFound) => {
    const tokens = searchTokens(contact);
    for (const q of found)
      expect(finds(tokens, q), `${q} should find ${contact.name} in ${tokens.join(' | ')}`).toBe(true);
    for (const q of notFound) expect(finds(tokens, q), `${q} should not find ${contact.name}`).toBe(false);
  });

  it.each(cases)('%s: tokens are unique, 2 to 64 characters, at most 32', (_name, contact) => {
    const tokens = searchTokens(contact);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.length).toBeLessThanOrEqual(32);
    for (const token of tokens) {
      expect(Array.from(token).length).toBeGreaterThanOrEqual(2);
      expect(token.length).toBeLessThanOrEqual(64);
      expect(token).toBe(token.trim());
    }
  });
});

describe('searchTokens: contents', () => {
  it('emits the name from each word on, the company likewise, email and domain, phone digits', () => {
    const contact = makeContact(
      'Ana María López',
      [
        ['email', 'Ana@Example.com'],
        ['phone', '020 7123 4567', 'GB'],
        ['linkedin', 'linkedin.com/in/ana-lopez'],
        ['telegram', '@ana_lopez'],
      ],
      'Acme Corp',
    );
    expect(searchTokens(contact)).toEqual([
      'ana maria lopez',
      'ana@example.com',
      'ana-lopez',
      '442071234567',
      'ana_lopez',
      'maria lopez',
      'lopez',
      'acme corp',
      'example.com',
      '2071234567',
      'corp',
      'ana lopez',
    ]);
  });

  it('national forms: the national number and the national dialling format, leading zeros dropped', () => {
    const tokens = (raw: string) => searchTokens(makeContact('X', [['phone', raw]]));
    expect(tokens('+442071234567')).toEqual(['442071234567', '2071234567']);
    expect(tokens('+79123456789')).toEqual(['79123456789', '9123456789', '89123456789']);
    expect(tokens('+390669821234')).toEqual(['390669821234', '669821234']);
    expect(tokens('+3612345678')).toEqual(['3612345678', '12345678', '612345678']);
  });

  it('skips words shorter than 2 characters and ignores an empty name', () => {
    expect(searchTokens(makeContact('J. R. R. Tolkien'))).toContain('tolkien');
    expect(searchTokens(makeContact('J. R. R. Tolkien'))).not.toContain('j');
    expect(searchTokens(makeContact('  ', [], null))).toEqual([]);
    expect(searchTokens(makeContact('A'))).toEqual([]);
  });

  it('cuts long tokens at 64 characters, and a query cut the same way still finds them', () => {
    const name = `Maximilian ${'Wolfeschlegelsteinhausenbergerdorff'.repeat(3)}`;
    const tokens = searchTokens(makeContact(name));
    expect(tokens[0]).toHaveLength(64);
    expect(finds(tokens, name)).toBe(true);
    expect(finds(tokens, `${name} Senior`)).toBe(true);
  });

  it('does not depend on the order of the channels', () => {
    const channels: [ChannelKind, string][] = [
      ['phone', '+14155552671'],
      ['email', 'b@example.com'],
      ['email', 'a@example.com'],
      ['telegram', '@ana_lopez'],
    ];
    expect(searchTokens(makeContact('Ana', channels))).toEqual(
      searchTokens(makeContact('Ana', [...channels].reverse())),
    );
  });

  it('keeps at most 32, dropping the least useful first: later name runs and domains before addresses', () => {
    const words = Array.from({ length: 30 }, (_, i) => `w${String(i).padStart(2, '0')}`);
    const emails = Array.from({ length: 12 }, (_, i): [ChannelKind, string] => [
      'email',
      `ana${i}@d${i}.example.com`,
    ]);
    const tokens = searchTokens(makeContact(words.join(' '), emails, 'Acme Corp'));
    expect(tokens).toHaveLength(32);
    expect(tokens[0]).toBe(truncated(words.join(' ')));
    // every address (tier 0) is kept, then the name from each word on, and the rest is cut
    for (const [, email] of emails) expect(tokens).toContain(email);
    expect(tokens).toContain(truncated(words.slice(1).join(' ')));
    expect(tokens).not.toContain('d0.example.com');
    expect(tokens).not.toContain('acme corp');
    expect(searchTokens(makeContact(words.join(' '), emails, 'Acme Corp'))).toEqual(tokens);
  });
});

const truncated = (s: string) => s.slice(0, 64).trimEnd();

describe('normaliseSearchQuery', () => {
  it.each([
    ['José', 'jose', 'text'],
    ['  ANA  MARÍA ', 'ana maria', 'text'],
    ['Großmann', 'grossmann', 'text'],
    ['ANA@EXAMPLE.COM', 'ana@example.com', 'text'],
    ['@Ana_L', 'ana_l', 'text'],
    ['ab', 'ab', 'text'],
    ['12', '12', 'text'], // fewer than 3 digits is not a phone query
    ['R2-D2', 'r2-d2', 'text'],
    ['020 7123 4567', '2071234567', 'phone'],
    ['+44 (0)20 7123-4567', '442071234567', 'phone'],
    ['0044 20', '4420', 'phone'],
    ['(415) 555', '415555', 'phone'],
    ['415.555.2671', '4155552671', 'phone'],
    ['-1001234567890', '1001234567890', 'phone'],
    ['123', '123', 'phone'],
    ['１２３４', '1234', 'phone'],
  ])('normalises %j to %j (%s)', (q, token, kind) => {
    expect(normaliseSearchQuery(q)).toEqual({ token, kind });
  });

  it('cuts long queries at 64 characters like the tokens', () => {
    expect(normaliseSearchQuery('a'.repeat(100)).token).toBe('a'.repeat(64));
  });

  it.each(['', '   ', 'a', 'É', '@', '@a', '😀', '000', '0 0 7', '(0)01'])('refuses %j on query.q', (q) => {
    try {
      normaliseSearchQuery(q);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('validation_failed');
      expect((error as DomainError).details.fields).toEqual([
        { field: 'query.q', message: expect.stringContaining('at least 2') },
      ]);
    }
  });
});

describe('searchPartition', () => {
  it.each([
    ['lopez', 'lo'],
    ['442071234567', '44'],
    ['😀😀x', '😀😀'],
    ['ab', 'ab'],
  ])('of %j is %j', (token, partition) => {
    expect(searchPartition(token)).toBe(partition);
  });

  it('is the same for a query and every token it is a prefix of', () => {
    const tokens = searchTokens(makeContact('Ana María López', [['email', 'ana@example.com']]));
    const { token } = normaliseSearchQuery('Ana M');
    const hits = tokens.filter((t) => t.startsWith(token));
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) expect(searchPartition(hit)).toBe(searchPartition(token));
  });
});
