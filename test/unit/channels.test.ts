import { describe, expect, it } from 'vitest';
import type { CountryCode } from 'libphonenumber-js/max';
import {
  channelKinds,
  emailDomain,
  isWhatsAppUserId,
  normaliseChannelValue,
  type ChannelKind,
} from '../../domain/contacts/channels';
import { DomainError } from '../../domain/shared/errors';

const rejection = (
  kind: ChannelKind,
  raw: string,
  options?: { defaultCountry?: CountryCode; field?: string },
) => {
  try {
    normaliseChannelValue(kind, raw, options);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error(`expected ${kind} ${JSON.stringify(raw)} to be refused`);
};

describe('channelKinds', () => {
  it('lists the five kinds a person can be reached on', () => {
    expect(channelKinds).toEqual(['email', 'phone', 'linkedin', 'telegram', 'whatsapp']);
  });
});

describe('email', () => {
  it.each([
    ['  Ana.Lopez@Example.COM ', 'ana.lopez@example.com', 'Ana.Lopez@Example.COM'],
    ['ANA@EXAMPLE.COM', 'ana@example.com', 'ANA@EXAMPLE.COM'],
    ['ana+crm@gmail.com', 'ana+crm@gmail.com', 'ana+crm@gmail.com'],
    ['a.n.a@gmail.com', 'a.n.a@gmail.com', 'a.n.a@gmail.com'],
    ['ana@mail.example.co.uk', 'ana@mail.example.co.uk', 'ana@mail.example.co.uk'],
    ['josé@bücher.de', 'josé@xn--bcher-kva.de', 'josé@bücher.de'],
    ['Info@MÜNCHEN.de', 'info@xn--mnchen-3ya.de', 'Info@MÜNCHEN.de'],
    ['ana@xn--bcher-kva.de', 'ana@xn--bcher-kva.de', 'ana@xn--bcher-kva.de'],
    ['Ünal@Example.com', 'ünal@example.com', 'Ünal@Example.com'],
    ['ana@例え.テスト', 'ana@xn--r8jz45g.xn--zckzah', 'ana@例え.テスト'],
    ["o'brien@example.ie", "o'brien@example.ie", "o'brien@example.ie"],
    // What a copied link, a mail header or a web page gives: the address in it.
    ['mailto:Ana@Example.com', 'ana@example.com', 'Ana@Example.com'],
    ['MAILTO:ana@example.com?subject=Hello%20there', 'ana@example.com', 'ana@example.com'],
    ['Ana López <Ana@Example.com>', 'ana@example.com', 'Ana@Example.com'],
    ['"López, Ana" <ana@example.com>', 'ana@example.com', 'ana@example.com'],
    ['<ana@example.com>', 'ana@example.com', 'ana@example.com'],
    ['Ana López (ana@example.com)', 'ana@example.com', 'ana@example.com'],
    ['\u200bana@example.com\u200b', 'ana@example.com', 'ana@example.com'],
    ['\ufeffana@exam\u00adple.com', 'ana@example.com', 'ana@example.com'],
  ])('normalises %j to %j', (raw, normalized, display) => {
    expect(normaliseChannelValue('email', raw)).toEqual({ normalized, display });
    // canonical: normalising the canonical form changes nothing
    expect(normaliseChannelValue('email', normalized).normalized).toBe(normalized);
  });

  it('treats a decomposed accent like the composed one', () => {
    expect(normaliseChannelValue('email', 'jose\u0301@example.com').normalized).toBe('josé@example.com');
  });

  it.each([
    ['', 'Enter an email address'],
    ['   ', 'Enter an email address'],
    ['ana', 'exactly one @'],
    ['ana@', 'exactly one @'],
    ['@example.com', 'exactly one @'],
    ['ana@@example.com', 'exactly one @'],
    ['a@b@example.com', 'exactly one @'],
    ['ana lopez@example.com', 'spaces'],
    ['ana@exa mple.com', 'spaces'],
    ['"ana"@example.com', 'quotes'],
    ['ana,lopez@example.com', 'commas'],
    ['Ana <ana@example.com> <bo@example.com>', 'exactly one @'],
    ['ana@example.com <bo@example.com>', 'exactly one @'],
    ['.ana@example.com', 'dot'],
    ['ana.@example.com', 'dot'],
    ['ana..lopez@example.com', 'dot'],
    ['ana@example', 'not a valid domain'],
    ['ana@localhost', 'not a valid domain'],
    ['ana@example.com.', 'not a valid domain'],
    ['ana@example..com', 'not a valid domain'],
    ['ana@-example.com', 'not a valid domain'],
    ['ana@example-.com', 'not a valid domain'],
    ['ana@foo_bar.com', 'not a valid domain'],
    ['ana@1.2.3.4', 'not a valid domain'],
    ['ana@[127.0.0.1]', 'not a valid domain'],
    ['ana@ex%41mple.com', 'not a valid domain'],
    ['ana@example.c', 'not a valid domain'],
    [`${'a'.repeat(65)}@example.com`, 'too long'],
    [`ana@${['b', 'c', 'd', 'e'].map((c) => c.repeat(62)).join('.')}.com`, 'too long'], // 259 characters
  ])('refuses %j (%s)', (raw, hint) => {
    const error = rejection('email', raw, { field: 'body.channels.0.value' });
    expect(error.code).toBe('validation_failed');
    expect(error.details.fields).toEqual([
      { field: 'body.channels.0.value', message: expect.stringContaining(hint), code: 'invalid_email' },
    ]);
  });

  it('names the field `value` when none is given', () => {
    expect(rejection('email', 'nope').details.fields?.[0]?.field).toBe('value');
  });

  it.each([
    ['ana@example.com', 'example.com'],
    ['josé@xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['ana@mail.example.co.uk', 'mail.example.co.uk'],
  ])('emailDomain(%j) is %j', (email, domain) => {
    expect(emailDomain(email)).toBe(domain);
  });
});

describe.each(['phone', 'whatsapp'] as const)('%s', (kind) => {
  it.each<[string, CountryCode | undefined, string, string]>([
    ['020 7123 4567', 'GB', '+442071234567', '+44 20 7123 4567'],
    ['+44 20 7123 4567', undefined, '+442071234567', '+44 20 7123 4567'],
    ['+44 (0)20 7123 4567', undefined, '+442071234567', '+44 20 7123 4567'],
    ['+44 20 7123 4567', 'US', '+442071234567', '+44 20 7123 4567'],
    ['0044 20 7123 4567', 'DE', '+442071234567', '+44 20 7123 4567'],
    ['07400 123456', 'GB', '+447400123456', '+44 7400 123456'],
    ['tel:+442071234567', undefined, '+442071234567', '+44 20 7123 4567'],
    ['＋４４ ２０ ７１２３ ４５６７', undefined, '+442071234567', '+44 20 7123 4567'],
    ['(415) 555-2671', 'US', '+14155552671', '+1 415 555 2671'],
    ['415.555.2671', 'US', '+14155552671', '+1 415 555 2671'],
    ['+1 415-555-2671', undefined, '+14155552671', '+1 415 555 2671'],
    ['030 1234567', 'DE', '+49301234567', '+49 30 1234567'],
    ['+49 1512 3456789', undefined, '+4915123456789', '+49 1512 3456789'],
    ['0151 23456789', 'DE', '+4915123456789', '+49 1512 3456789'],
    ['+55 11 91234-5678', undefined, '+5511912345678', '+55 11 91234 5678'],
    ['(11) 91234-5678', 'BR', '+5511912345678', '+55 11 91234 5678'],
    ['+7 912 345-67-89', undefined, '+79123456789', '+7 912 345 67 89'],
    ['8 (912) 345-67-89', 'RU', '+79123456789', '+7 912 345 67 89'],
    ['+39 06 6982 1234', undefined, '+390669821234', '+39 06 6982 1234'],
    ['06 6982 1234', 'IT', '+390669821234', '+39 06 6982 1234'],
    // A leading 00 is the international prefix, with or without a default country.
    ['0044 20 7123 4567', undefined, '+442071234567', '+44 20 7123 4567'],
    ['tel:0044 20 7123 4567', undefined, '+442071234567', '+44 20 7123 4567'],
    // Copied from a right-to-left page or a chat app: direction marks and zero-width spaces are dropped.
    ['\u200e+972 54-765-4321\u200f', undefined, '+972547654321', '+972 54 765 4321'],
    ['\u2066+44 20\u200b7123 4567\u2069', undefined, '+442071234567', '+44 20 7123 4567'],
  ])('normalises %j (default country %s) to %s', (raw, defaultCountry, normalized, display) => {
    expect(normaliseChannelValue(kind, raw, { defaultCountry })).toEqual({ normalized, display });
    expect(normaliseChannelValue(kind, normalized).normalized).toBe(normalized);
  });

  it.each<[string, CountryCode | undefined, string]>([
    ['020 7123 4567', undefined, 'country code'],
    ['2071234567', undefined, 'country code'],
    ['020 7123 4567', 'US', 'country code'],
    ['+1 555 555 5555', undefined, 'not a valid'], // a possible length but not a real US range
    ['+55 11 1234-5678', undefined, 'not a valid'], // BR landlines never start with 1 (`min` metadata accepts it)
    ['+44 20 7123 456', undefined, 'not a valid'],
    ['+44 20 7123 4567 89', undefined, 'not a valid'],
    ['+999 123 4567', undefined, 'country code'],
    ['12', 'GB', 'not a valid'],
    ['call me', 'GB', 'digits'],
    ['1-800-FLOWERS', 'US', 'digits'],
    ['+44 20 7123 4567 ext 12', undefined, 'digits'],
    ['', 'GB', 'Enter a'],
  ])('refuses %j (default country %s)', (raw, defaultCountry, hint) => {
    const error = rejection(kind, raw, { defaultCountry, field: 'body.value' });
    expect(error.code).toBe('validation_failed');
    expect(error.details.fields).toEqual([
      { field: 'body.value', message: expect.stringContaining(hint), code: `invalid_${kind}` },
    ]);
    expect(error.message).toBe(error.details.fields?.[0]?.message);
  });
});

/**
 * WhatsApp business-scoped user IDs: "ISO 3166 alpha-2 country code, a period, up to 128 alphanumeric
 * characters", a parent one with `ENT` (Meta's business-scoped user IDs page,
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/,
 * copied at https://support.chatarchitect.com/books/meta-whatsapp/page/business-scoped-user-ids-developer-documentation).
 */
describe('whatsapp business-scoped user IDs', () => {
  it.each([
    ['US.13491208655302741918', 'US.13491208655302741918'],
    ['US.ENT.11815799212886844830', 'US.ENT.11815799212886844830'],
    [' br.1502576394655843 ', 'BR.1502576394655843'],
    ['IN.aBc123', 'IN.aBc123'],
    [`US.${'7'.repeat(128)}`, `US.${'7'.repeat(128)}`],
  ])('keeps %j as %s, shown as it is', (raw, normalized) => {
    expect(normaliseChannelValue('whatsapp', raw)).toEqual({ normalized, display: normalized });
    expect(isWhatsAppUserId(normalized)).toBe(true);
  });

  it.each(['US.', 'US.134-912', 'US.1349 1208', `US.${'7'.repeat(129)}`, 'US.ent.118'])('refuses %j', (raw) => {
    const error = rejection('whatsapp', raw, { field: 'body.value' });
    expect(error.details.fields).toEqual([{ field: 'body.value', message: expect.stringContaining('WhatsApp user id'), code: 'invalid_whatsapp' }]);
  });

  it('is a WhatsApp value only: a phone number is still digits', () => {
    expect(rejection('phone', 'US.13491208655302741918').details.fields?.[0]?.code).toBe('invalid_phone');
    expect(isWhatsAppUserId('+14155552671')).toBe(false);
  });
});

describe('linkedin', () => {
  const ana = 'https://www.linkedin.com/in/ana-lopez';
  it.each([
    ['linkedin.com/in/Ana-Lopez/', ana],
    ['https://uk.linkedin.com/in/ana-lopez?trk=x', ana],
    ['www.linkedin.com/in/ana-lopez/details/', ana],
    ['in/ana-lopez', ana],
    ['/in/Ana-Lopez?trk=public_profile', ana],
    ['HTTP://LinkedIn.com/in/ANA-LOPEZ', ana],
    ['https://m.linkedin.com/in/ana-lopez/recent-activity/all/', ana],
    ['https://de.linkedin.com/in/ana-lopez#experience', ana],
    [ana, ana],
    ['https://www.linkedin.com/in/ana-lopez-1a2b3c4d', 'https://www.linkedin.com/in/ana-lopez-1a2b3c4d'],
    ['https://www.linkedin.com/in/jos%C3%A9-n%C3%BA%C3%B1ez/', 'https://www.linkedin.com/in/josé-núñez'],
    ['https://www.linkedin.com/in/JOS%C3%89', 'https://www.linkedin.com/in/josé'],
    ['linkedin.com/in/josé-núñez', 'https://www.linkedin.com/in/josé-núñez'],
  ])('normalises %j to %s', (raw, normalized) => {
    expect(normaliseChannelValue('linkedin', raw)).toEqual({ normalized, display: normalized });
    expect(normaliseChannelValue('linkedin', normalized).normalized).toBe(normalized);
  });

  it.each([
    ['https://www.linkedin.com/company/acme', 'company'],
    ['https://www.linkedin.com/school/mit/', 'company'],
    ['linkedin.com/pub/ana-lopez/1a/2b/3c', '/in/ URL'],
    ['https://www.linkedin.com/in/ACoAABcdEfGhIjKlMnOpQrStUvWxYz', 'member-id'],
    ['https://evil.com/in/ana-lopez', 'other sites'],
    ['https://linkedin.com.evil.com/in/ana-lopez', 'other sites'],
    ['https://notlinkedin.com/in/ana-lopez', 'other sites'],
    ['ftp://linkedin.com/in/ana-lopez', 'other sites'],
    ['lnkd.in/abc123', 'other sites'],
    ['https://www.linkedin.com/in/', 'not a LinkedIn profile name'],
    ['https://www.linkedin.com/in/ana%20lopez', 'not a LinkedIn profile name'],
    ['https://www.linkedin.com/in/ab', 'not a LinkedIn profile name'],
    ['https://www.linkedin.com/in/%E0%A4%A', 'badly encoded'],
    ['https://www.linkedin.com/feed/', 'linkedin.com/in/'],
    ['ana-lopez', 'linkedin.com/in/'],
    ['', 'Enter a LinkedIn'],
  ])('refuses %j', (raw, hint) => {
    const error = rejection('linkedin', raw, { field: 'body.value' });
    expect(error.details.fields).toEqual([
      { field: 'body.value', message: expect.stringContaining(hint), code: 'invalid_linkedin' },
    ]);
  });
});

describe('telegram', () => {
  it.each([
    ['123456789', '123456789', '123456789'],
    [' -1001234567890 ', '-1001234567890', '-1001234567890'],
    ['-42', '-42', '-42'],
    ['000123', '123', '123'],
    ['9007199254740991', '9007199254740991', '9007199254740991'],
    ['@Ana_Lopez', '@ana_lopez', '@Ana_Lopez'],
    ['ana_lopez', '@ana_lopez', '@ana_lopez'],
    ['https://t.me/Ana_Lopez', '@ana_lopez', '@Ana_Lopez'],
    ['t.me/ana_lopez', '@ana_lopez', '@ana_lopez'],
    ['@mono', '@mono', '@mono'], // a 4-character collectible username
    [`@${'a'.repeat(32)}`, `@${'a'.repeat(32)}`, `@${'a'.repeat(32)}`],
    ['@SupportBot', '@supportbot', '@SupportBot'],
  ])('normalises %j to %j', (raw, normalized, display) => {
    expect(normaliseChannelValue('telegram', raw)).toEqual({ normalized, display });
    expect(normaliseChannelValue('telegram', normalized).normalized).toBe(normalized);
  });

  it('keeps ids and usernames apart: an id never starts with @, a username always does', () => {
    expect(normaliseChannelValue('telegram', '@abcde').normalized).not.toBe(
      normaliseChannelValue('telegram', '12345').normalized,
    );
  });

  it.each([
    ['@abc', '4-32'],
    [`@${'a'.repeat(33)}`, '4-32'],
    ['@1abcde', '4-32'],
    ['@ana-lopez', '4-32'],
    ['@ana lopez', '4-32'],
    ['@', '4-32'],
    ['@josé_n', '4-32'],
    ['0', 'out of range'],
    ['-0', 'out of range'],
    ['9007199254740992', 'out of range'],
    ['+44 20 7123 4567', 'phone number'],
    ['', 'Enter a Telegram'],
  ])('refuses %j', (raw, hint) => {
    const error = rejection('telegram', raw, { field: 'body.value' });
    expect(error.details.fields).toEqual([
      { field: 'body.value', message: expect.stringContaining(hint), code: 'invalid_telegram' },
    ]);
  });
});
