import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDirectory } from '../fixtures/imports/csv-fixtures';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { importThroughApi, uploadImportFile, type Importer } from '../support/import-through-api';
import { ok } from '../support/ok';

/**
 * vCard files as address books write them (test/fixtures/imports/vcards/, with EXPECTED.md saying
 * what each card holds and where its shape comes from), imported the way a user does: upload with a
 * .vcf name, `POST /v1/imports`, the job, then the contacts and the error report.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  jobs = await startTestJobs(stack, ['import_contacts']);
  for (const field of [
    { key: 'notes', label: 'Notes', type: 'text' },
    { key: 'birthday', label: 'Birthday', type: 'text' },
  ]) {
    await ok(
      stack.api('POST', '/v1/custom-fields', {
        token: acme.owner.token,
        body: { entityType: 'contact', ...field },
      }),
      201,
    );
  }
});
afterAll(async () => {
  await jobs?.stop();
  await stack?.destroy();
});

const vcard = (name: string) => readFileSync(join(fixturesDirectory, 'vcards', name));

const importer = (): Importer => ({ stack, jobs, token: acme.owner.token, workspaceId: acme.workspace.id });
const upload = (bytes: Uint8Array, fileName: string) => uploadImportFile(importer(), bytes, fileName);

async function importFile(bytes: Uint8Array, fileName: string, options: Record<string, unknown> = {}) {
  const imported = await importThroughApi(importer(), bytes, fileName, { defaultCountry: 'US', ...options });
  expect(imported.upload.format).toBe('vcf');
  return imported;
}

const contact = async (value: string) => {
  const res = await stack.api('GET', '/v1/contacts/lookup', {
    token: acme.owner.token,
    query: { kind: 'email', value },
  });
  expect(res.status, `${value}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
};
const channelsOf = (found: any) => found.channels.map((c: any) => `${c.kind} ${c.normalized}`);
const shortly = (errors: any[]) =>
  errors.map(
    (e) => `${e.line}/${e.row} ${e.code}${e.rejected ? '' : ' (kept)'}${e.column ? ` [${e.column}]` : ''}`,
  );

describe('Apple Contacts export (3.0: item groups, folded values, photo, company card, a name-only card)', () => {
  let result: Awaited<ReturnType<typeof importFile>>;
  beforeAll(async () => {
    result = await importFile(vcard('apple-contacts.vcf'), 'Contacts.vcf', {
      mapping: { Notes: 'custom:notes', Birthday: 'custom:birthday' },
    });
  });

  it('creates a contact per card with an email or phone, and lists what a vCard holds that a contact does not', () => {
    expect(result.counts).toMatchObject({
      rowsRead: 4,
      created: 3,
      rejected: 1,
      rejectedByCode: { no_channel: 1 },
    });
    expect(result.job.result.file).toMatchObject({ format: 'vcf', encoding: 'utf-8', headerLine: 0 });
    expect(result.job.result.file.skippedColumns.map((c: any) => c.header)).toEqual([
      'Nickname',
      'Fax',
      'Department',
      'Street',
      'Postal Code',
      'Website',
    ]);
  });

  it('reads the name, company, title, preferred address, categories, LinkedIn and the mapped note and birthday', async () => {
    const elodie = await contact('elodie.md@example.org');
    expect(elodie).toMatchObject({
      name: 'Dr. Élodie Anne Marchand-Durand',
      companyName: 'Laboratoires Vérène',
      jobTitle: 'Directrice scientifique',
      city: 'Paris',
      state: 'Île-de-France',
      country: 'France',
      tags: ['Friends', 'Work'],
      customFields: {
        notes:
          'Rencontrée au salon BIO-Europe, Vienne (nov. 2023).\nPréfère être contactée le matin; jamais le vendredi.',
        birthday: '1981-07-14',
      },
    });
    expect(channelsOf(elodie)).toEqual([
      'email elodie.marchand-durand@example.com',
      'email elodie.md@example.org',
      'phone +33199005218',
      'linkedin https://www.linkedin.com/in/elodie-marchand-durand',
    ]);
    const misaki = await contact('misaki.sato@example.com');
    expect(misaki).toMatchObject({
      name: '佐藤 美咲',
      companyName: '株式会社サンプル商事',
      jobTitle: '課長',
      city: '千代田区',
      customFields: { birthday: '--03-03' },
    });
    const bakery = await contact('bestellung@example.com');
    expect(bakery).toMatchObject({
      name: 'Nordlicht Bäckerei GmbH',
      companyName: 'Nordlicht Bäckerei GmbH',
      city: 'Berlin',
      tags: ['Lieferanten'],
    });
    // The fax is not a number to call or text.
    expect(channelsOf(bakery)).toEqual(['email bestellung@example.com', 'phone +493090182045']);
  });

  it('reports each value left out and the card without email or phone at its BEGIN:VCARD line', () => {
    expect(shortly(result.errors)).toEqual([
      '1/1 invalid_phone (kept) [Phone]',
      '1/1 invalid_phone (kept) [Phone]',
      '50/2 invalid_phone (kept) [Phone]',
      '94/4 no_channel',
    ]);
    expect(result.errors[3].raw.slice(0, 4)).toEqual(['Øystein Bråthen', 'Øystein', '', 'Bråthen']);
  });
});

describe('Google Contacts export (3.0 with a BOM: escaped colons, system groups, an empty address)', () => {
  it('imports the three people, without Google’s own groups as tags nor an address from an empty ADR', async () => {
    const result = await importFile(vcard('google-contacts.vcf'), 'contacts.vcf');
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const jose = await contact('ja.garcia@example.com');
    expect(jose).toMatchObject({
      name: 'José Antonio García Núñez',
      companyName: 'Ejemplo Logística S.L.',
      city: 'Madrid',
      country: 'España',
      tags: ['Clientes'],
    });
    expect(channelsOf(jose)).toContain('linkedin https://www.linkedin.com/in/jagarcianunez-example');
    const priya = await contact('priya.alt@example.com');
    expect(priya).toMatchObject({ name: 'Priya Raghunathan', state: 'NSW', tags: ['Friends', 'Work'] });
    expect(channelsOf(priya).filter((c: string) => c.startsWith('phone'))).toEqual([
      'phone +61491570156',
      'phone +61255501234',
    ]);
    const kwame = await contact('kwame.mb@example.com');
    expect(kwame).toMatchObject({ name: 'Kwame Mensah-Bonsu', tags: [] });
    expect(kwame.city ?? null).toBeNull();
  });
});

describe('Outlook vCards (2.1 in Windows-1252: CHARSET, quoted-printable with soft line breaks, base64 photo)', () => {
  it('reads € – ’ and “ ” as Windows-1252 writes them, and the preferred email first', async () => {
    const result = await importFile(vcard('outlook-2.1.vcf'), 'Jürgen Weiß.vcf', {
      mapping: { Notes: 'custom:notes' },
    });
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    const juergen = await contact('juergen.weiss@example.org');
    expect(juergen).toMatchObject({
      name: 'Dr. Jürgen Karl Weiß',
      companyName: 'Bäckerei Sonnenschön GmbH',
      jobTitle: 'Geschäftsführer',
      city: 'Berlin',
      country: 'Deutschland',
    });
    expect(juergen.customFields.notes).toContain(
      'ca. 25.000 € netto – Entscheidung fällt voraussichtlich im März',
    );
    expect(channelsOf(juergen)).toEqual([
      'email j.weiss@example.com',
      'email juergen.weiss@example.org',
      'phone +493090182011',
      'phone +493090182012',
      'linkedin https://www.linkedin.com/in/juergen-weiss-example',
    ]);
    const siobhan = await contact('siobhan.oconnor@example.com');
    expect(siobhan).toMatchObject({
      name: 'Siobhán O’Connor',
      companyName: 'Harbour & Finch LLP',
      customFields: { notes: 'PA: Tom Reilly – ext. 4417\nPrefers “Siobhán”, not “Shiv”.' },
    });
  });
});

describe('Android export (2.1: every byte quoted-printable, soft breaks inside characters, a card with a number only)', () => {
  it('reads Chinese and Cyrillic names, the preferred address, and names the number-only card by its number', async () => {
    const result = await importFile(vcard('android-2.1.vcf'), '00001.vcf');
    expect(result.counts).toMatchObject({ rowsRead: 3, created: 3, rejected: 0 });
    expect(await contact('zxm1988@example.org')).toMatchObject({
      name: '张晓梅',
      companyName: '示例科技有限公司',
      jobTitle: '市场总监',
      city: '上海市',
      country: '中国',
    });
    expect(await contact('a.smirnova@example.org')).toMatchObject({
      name: 'Александра Викторовна Смирнова',
      jobTitle: 'Старший аналитик закупок',
      city: 'London',
    });
    const numberOnly = await stack.api('GET', '/v1/contacts/lookup', {
      token: acme.owner.token,
      query: { kind: 'phone', value: '+12125550199' },
    });
    expect(numberOnly.status).toBe(200);
    expect(numberOnly.body.name).toBe('+1 212 555 0199');
  });
});

describe('vCard 4.0 (RFC 6350: tel: URIs, PREF=1, ALTID names, quoted parameters)', () => {
  it('takes the PREF=1 email and address, one name for the ALTID pair, and a category with a comma', async () => {
    const result = await importFile(vcard('rfc6350-4.0.vcf'), 'export.vcard');
    expect(result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    const mathilde = await contact('mathilde.levesque@example.com');
    expect(mathilde).toMatchObject({
      name: 'Mathilde Lévesque-Tremblay',
      city: 'Montréal',
      state: 'QC',
      country: 'Canada',
      tags: ['Friends', 'Work'],
    });
    expect(channelsOf(mathilde).slice(0, 2)).toEqual([
      'email mathilde.lt@example.org',
      'email mathilde.levesque@example.com',
    ]);
    const kenta = await contact('kenta@example.org');
    expect(kenta).toMatchObject({
      name: '大久保 健太',
      jobTitle: '主任研究員',
      city: 'Cambridge',
      tags: ['Work', 'Trade fair, Tokyo'],
    });
  });
});

describe('files claimed as vCard that are not', () => {
  it('refuses a CSV named .vcf, and a vCard named .csv says to upload it as vcf', async () => {
    const csv = await upload(Buffer.from('Name,Email\nAna,ana@example.com\n'), 'contacts.vcf');
    const refusedCsv = await stack.api('POST', '/v1/imports', {
      token: acme.owner.token,
      body: { uploadId: csv.uploadId, format: 'vcf' },
    });
    expect(refusedCsv.status).toBe(422);
    expect(refusedCsv.body).toMatchObject({
      reason: 'not_vcf',
      detail: expect.stringMatching(/BEGIN:VCARD.*CSV/),
    });
    const card = await upload(vcard('google-contacts.vcf'), 'contacts.csv');
    expect(card.format).toBe('csv');
    const refusedCard = await stack.api('POST', '/v1/imports', {
      token: acme.owner.token,
      body: { uploadId: card.uploadId, format: 'csv' },
    });
    expect(refusedCard.status).toBe(422);
    expect(refusedCard.body).toMatchObject({
      reason: 'not_csv',
      detail: expect.stringMatching(/vCard.*vcf/),
    });
  });

  it('gives the upload of a .vcf the vCard content type', async () => {
    const created = await upload(vcard('rfc6350-4.0.vcf'), 'card.VCF');
    expect(created).toMatchObject({ format: 'vcf', uploadHeaders: { 'content-type': 'text/vcard' } });
  });
});
