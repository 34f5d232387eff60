import { describe, expect, it } from 'vitest';
import type { ContactItem } from '../../domain/contacts/contact-record';
import { contactVcard, foldLine } from '../../domain/exports/contact-vcards';
import { exportColumns } from '../../domain/exports/contact-rows';
import { FieldDecoder } from '../../domain/imports/text-decoding';
import { readVcardRecords, vcardHeaders } from '../../domain/imports/vcard-reader';

const contact = (overrides: Partial<ContactItem> = {}): ContactItem => ({
  workspaceId: 'ws_1',
  contactId: 'ct_01JABCDEF',
  name: 'Zoë "Z" Ångström; Łukasiewicz, PhD\\Dr',
  jobTitle: 'Head of Sales, EMEA',
  role: 'Decision maker',
  segment: 'Enterprise',
  city: 'São Paulo',
  state: 'SP',
  country: 'BR',
  companyName: 'Müller & Söhne; Partner',
  ownerId: 'usr_1',
  status: 'active',
  suppressed: false,
  channels: [
    {
      channelId: 'ch_1',
      kind: 'email',
      value: 'zoe.work@example.org',
      normalized: 'zoe.work@example.org',
      primary: false,
    },
    {
      channelId: 'ch_2',
      kind: 'email',
      value: 'Zoe@Example.com',
      normalized: 'zoe@example.com',
      primary: true,
    },
    {
      channelId: 'ch_3',
      kind: 'phone',
      value: '+44 20 7946 0000',
      normalized: '+442079460000',
      primary: true,
    },
    {
      channelId: 'ch_4',
      kind: 'whatsapp',
      value: '+34 612 345 678',
      normalized: '+34612345678',
      primary: true,
    },
    { channelId: 'ch_5', kind: 'telegram', value: '@yamada_taro', normalized: 'yamada_taro', primary: true },
    {
      channelId: 'ch_6',
      kind: 'linkedin',
      value: 'https://www.linkedin.com/in/zoe',
      normalized: 'https://www.linkedin.com/in/zoe',
      primary: true,
    },
  ],
  tags: ['VIP', 'Partners, EMEA'],
  customFields: { notes: 'Line one\nline two, with a comma', seats: 12, renewal_date: '2027-01-31' },
  createdBy: 'usr_1',
  version: 3,
  createdAt: '2026-01-02T03:04:05.000Z',
  updatedAt: '2026-02-03T04:05:06.000Z',
  ...overrides,
});

const allColumns = [...exportColumns, 'Custom: notes', 'Custom: seats', 'Custom: renewal_date'];

async function readBack(text: string) {
  const bytes = Buffer.from(text, 'utf8');
  const records = [];
  const source = (async function* () {
    yield bytes;
  })();
  for await (const record of readVcardRecords(
    source,
    { offset: 0, line: 1 },
    { encoding: 'utf-8', decoder: new FieldDecoder('utf-8', false) },
  )) {
    records.push(Object.fromEntries(vcardHeaders.map((header, i) => [header, record.fields[i]])));
  }
  return records;
}

describe('a contact as a vCard', () => {
  it('writes vCard 3.0 with UID and REV, the primary email and phone first and marked pref, profiles, one ADR, categories and X-CRM properties', () => {
    const text = contactVcard(contact(), allColumns, new Map([['usr_1', 'owner@acme.example']]));
    const unfolded = text.replace(/\r\n[ \t]/g, '');
    expect(unfolded.split('\r\n')).toEqual([
      'BEGIN:VCARD',
      'VERSION:3.0',
      'UID:ct_01JABCDEF',
      'FN:Zoë "Z" Ångström\\; Łukasiewicz\\, PhD\\\\Dr',
      'N:;Zoë "Z" Ångström\\; Łukasiewicz\\, PhD\\\\Dr;;;',
      'EMAIL;TYPE=INTERNET,pref:Zoe@Example.com',
      'EMAIL;TYPE=INTERNET:zoe.work@example.org',
      'TEL;TYPE=VOICE,pref:+44 20 7946 0000',
      'X-SOCIALPROFILE;TYPE=whatsapp:+34 612 345 678',
      'X-SOCIALPROFILE;TYPE=telegram:@yamada_taro',
      'X-SOCIALPROFILE;TYPE=linkedin:https://www.linkedin.com/in/zoe',
      'ORG:Müller & Söhne\\; Partner',
      'TITLE:Head of Sales\\, EMEA',
      'ROLE:Decision maker',
      'ADR;TYPE=WORK:;;;São Paulo;SP;;BR',
      'CATEGORIES:VIP,Partners\\, EMEA',
      'X-CRM-SEGMENT:Enterprise',
      'X-CRM-OWNER:owner@acme.example',
      'X-CRM-FIELD-NOTES:Line one\\nline two\\, with a comma',
      'X-CRM-FIELD-SEATS:12',
      'X-CRM-FIELD-RENEWAL-DATE:2027-01-31',
      'REV:2026-02-03T04:05:06.000Z',
      'END:VCARD',
      '',
    ]);
  });

  it('writes only the properties of the columns asked for', () => {
    const text = contactVcard(contact(), ['Name', 'Phone'], new Map());
    expect(text.split('\r\n').map((line) => line.split(/[;:]/)[0])).toEqual([
      'BEGIN',
      'VERSION',
      'UID',
      'FN',
      'N',
      'TEL',
      'REV',
      'END',
      '',
    ]);
    expect(
      contactVcard(contact({ city: undefined, state: undefined, country: undefined }), allColumns, new Map()),
    ).not.toContain('ADR');
  });

  it('reads back through the import: name, channels, company, fields and tags exactly, escapes and all', async () => {
    const [read] = await readBack(
      contactVcard(contact(), allColumns, new Map([['usr_1', 'owner@acme.example']])),
    );
    expect(read).toMatchObject({
      Name: 'Zoë "Z" Ångström; Łukasiewicz, PhD\\Dr',
      Email: 'Zoe@Example.com ::: zoe.work@example.org',
      Phone: '+44 20 7946 0000',
      WhatsApp: '+34 612 345 678',
      Telegram: '@yamada_taro',
      LinkedIn: 'https://www.linkedin.com/in/zoe',
      Company: 'Müller & Söhne; Partner',
      'Job Title': 'Head of Sales, EMEA',
      Role: 'Decision maker',
      City: 'São Paulo',
      State: 'SP',
      Country: 'BR',
      Tags: 'VIP ::: Partners, EMEA',
      Segment: 'Enterprise',
      Owner: 'owner@acme.example',
    });
  });

  it('folds lines at 75 octets between whole characters, and unfolds to the same text', async () => {
    const name = '山田太郎'.repeat(40) + ' Ωmega';
    const text = contactVcard(contact({ name, jobTitle: 'x'.repeat(300) }), ['Name', 'Job Title'], new Map());
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    // No line starts or ends inside a character: every physical line is valid UTF-8 on its own.
    for (const line of text.split('\r\n'))
      expect(
        Buffer.from(Buffer.from(line, 'utf8').toString('utf8'), 'utf8').equals(Buffer.from(line, 'utf8')),
      ).toBe(true);
    const [read] = await readBack(text);
    expect(read).toMatchObject({ Name: name, 'Job Title': 'x'.repeat(300) });
    expect(foldLine('short')).toBe('short');
    expect(foldLine('a'.repeat(75))).toBe('a'.repeat(75));
    expect(foldLine('a'.repeat(76))).toBe(`${'a'.repeat(75)}\r\n a`);
  });
});
