import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { ok } from '../support/ok';

/**
 * Contact imports end to end: a file PUT to its presigned URL, `POST /v1/imports`, the real
 * `import_contacts` job run through the stream dispatcher and the local queue runner, then what a user
 * sees: the job's counts, the contacts, the rejected rows and the error report.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;
/** Called after each run of the import handler (a test's way to act between runs, or to crash one). */
let afterImportRun: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // Chunks of 50 rows: continuations and cancels after a few dozen rows, not thousands (DynamoDB Local is shared).
  process.env.IMPORT_CHUNK_ROWS = '50';
  stack = await createTestStack();
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
  jobs = await startTestJobs(stack, ['import_contacts', 'export_contacts'], {
    wrap: (kind, handler) =>
      kind === 'import_contacts'
        ? async (event, context) => {
            const response = await handler(event, context);
            await afterImportRun?.();
            return response;
          }
        : handler,
  });
});
afterAll(async () => {
  delete process.env.IMPORT_CHUNK_ROWS;
  await jobs?.stop();
  await stack?.destroy();
});

/** Uploads `bytes` as an import file through the API; returns the upload id. */
async function upload(bytes: Uint8Array | string, fileName = 'contacts.csv', token = acme.owner.token) {
  const body = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  const created = await ok(stack.api('POST', '/v1/imports/uploads', { token, body: { fileName, sizeBytes: body.length } }), 201);
  const put = await fetch(created.uploadUrl, { method: 'PUT', headers: created.uploadHeaders, body });
  expect(put.status).toBe(200);
  return created as { uploadId: string; format: 'csv' | 'xlsx' };
}

/** Uploads and imports a file, waits for the job to end, returns the finished job as the API shows it. */
async function importFile(
  bytes: Uint8Array | string,
  options: Record<string, unknown> = {},
  { fileName = 'contacts.csv', token = acme.owner.token, workspaceId = acme.workspace.id } = {},
) {
  const { uploadId, format } = await upload(bytes, fileName, token);
  const job = await ok(stack.api('POST', '/v1/imports', { token, body: { uploadId, format, ...options } }), 201);
  expect(job).toMatchObject({ id: uploadId, kind: 'import_contacts', status: 'queued' });
  await jobs.finished(workspaceId, job.id);
  return ok(stack.api('GET', `/v1/jobs/${job.id}`, { token }));
}

const lookup = async (email: string, token = acme.owner.token) => {
  const res = await stack.api('GET', '/v1/contacts/lookup', { token, query: { kind: 'email', value: email } });
  return res.status === 200 ? res.body : undefined;
};

const errorsOf = async (jobId: string, token = acme.owner.token) => {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await ok(stack.api('GET', `/v1/imports/${jobId}/errors`, { token, query: { limit: '2', ...(cursor ? { cursor } : {}) } }));
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
};

const sumOf = (counts: any) =>
  counts.blank + counts.rejected + counts.created + counts.updated + counts.unchanged + counts.skipped + counts.merged;

describe('importing a messy CSV', () => {
  // UTF-8 with BOM, CRLF, a quoted field with a comma, doubled quotes and a line break, accents and
  // non-Latin names, phones in national and international forms, the same person twice in other case
  // and formatting, a blank row, a short row, a row without a channel, an invalid email.
  const file =
    '\ufeffFirst Name,Last Name,E-mail Address,Mobile Phone,Company,Job Title\r\n' +
    'José,Núñez,Jose.Nunez@Example.COM,+34 612 34 56 78,"Acme, S.L.","Head of ""Growth"""\r\n' +
    'Ирина,Петрова,irina@example.ru,0049 30 901820,Берлин GmbH,\r\n' +
    '小龙,李,,020 7946 0958,,"Line one\r\nline two"\r\n' +
    ',,,,,\r\n' +
    'jose,nunez, jose.nunez@example.com ,,\r\n' +
    'Nobody,Here,,,Ghost Inc,\r\n' +
    'Bad,Email,not-an-email,,,\r\n' +
    'Short,Row,short@example.com\r\n';

  let job: any;
  beforeAll(async () => {
    job = await importFile(file, { defaultCountry: 'GB', tags: ['imported'] });
  });

  it('finishes with counts that add up to every row of the file', () => {
    expect(job.status).toBe('succeeded');
    const counts = job.result.counts;
    expect(counts).toMatchObject({
      rowsRead: 8,
      blank: 1,
      created: 4,
      merged: 1,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      rejected: 2,
      rejectedByCode: { no_channel: 1, invalid_email: 1 },
    });
    expect(sumOf(counts)).toBe(counts.rowsRead);
    expect(job.progress).toMatchObject({ processed: 8, total: 8 });
    expect(job.result.file).toMatchObject({ format: 'csv', encoding: 'utf-8', delimiter: ',' });
  });

  it('creates the contacts as the file says, once each', async () => {
    const jose = await lookup('jose.nunez@example.com');
    expect(jose).toMatchObject({ name: 'José Núñez', companyName: 'Acme, S.L.', jobTitle: 'Head of "Growth"' });
    expect(jose.channels.map((c: any) => c.value ?? c.normalized)).toEqual(
      expect.arrayContaining(['jose.nunez@example.com', expect.stringMatching(/^\+34/)]),
    );
    expect(jose.tags).toContain('imported');
    const irina = await lookup('irina@example.ru');
    expect(irina.name).toBe('Ирина Петрова');
    expect(JSON.stringify(irina.channels)).toContain('+4930901820');
    const short = await lookup('short@example.com');
    expect(short.name).toBe('Short Row');
    // The London number took the default country; a line break in a one-line field is a space.
    const li = await ok(stack.api('GET', '/v1/contacts/lookup', { token: acme.owner.token, query: { kind: 'phone', value: '+442079460958' } }));
    // A Chinese name is written family name (Last Name) first, without a space.
    expect(li).toMatchObject({ name: '李小龙', jobTitle: 'Line one line two' });
  });

  it('lists each rejected row with its line, row, column, code and raw record, in the API and the error report', async () => {
    const errors = await errorsOf(job.id);
    expect(errors).toEqual([
      // The quoted line break makes the 3rd record two lines long: lines and rows part there.
      // A spreadsheet shows the 3rd record on one row: the rows there are the header's 1 + the data row.
      expect.objectContaining({ row: 6, line: 8, sheetRow: 7, code: 'no_channel', raw: ['Nobody', 'Here', '', '', 'Ghost Inc', ''] }),
      expect.objectContaining({ row: 7, line: 9, sheetRow: 8, code: 'invalid_email', column: 'E-mail Address' }),
    ]);
    expect(job.files).toContain('errors.csv');
    const link = await ok(stack.api('GET', `/v1/jobs/${job.id}/files/errors.csv`, { token: acme.owner.token }));
    const csv = await (await fetch(link.url)).text();
    const lines = csv.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines[0]).toBe('line,row,column,code,message,sheetRow,First Name,Last Name,E-mail Address,Mobile Phone,Company,Job Title');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^8,6,.*no_channel,.*,7,Nobody,Here,/);
  });

  it('re-running the same file creates nothing and reports every contact unchanged', async () => {
    const again = await importFile(file, { defaultCountry: 'GB', tags: ['imported'] });
    // Both of José's rows now reach a contact that was there before this job: unchanged, not merged.
    expect(again.result.counts).toMatchObject({ rowsRead: 8, created: 0, unchanged: 5, merged: 0, updated: 0, rejected: 2, blank: 1 });
  });
});

describe('files that are not what they claim', () => {
  it('refuses them up front with a reason, and makes no job', async () => {
    const zip = Buffer.from('PK\u0003\u0004 not really a workbook');
    const { uploadId } = await upload(zip, 'contacts.csv');
    const res = await stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId, format: 'csv' } });
    expect(res.status).toBe(422);
    expect(res.body.reason).toBe('not_csv');
    expect((await stack.api('GET', `/v1/jobs/${uploadId}`, { token: acme.owner.token })).status).toBe(404);

    const text = await upload('Name,Notes\nAda,hello\n', 'people.csv');
    const noChannel = await stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId: text.uploadId, format: 'csv' } });
    expect(noChannel.status).toBe(422);
    expect(noChannel.body.reason).toBe('no_channel_column');
  });

  it('refuses a file over 512 MiB before the upload, and an upload never made', async () => {
    const big = await stack.api('POST', '/v1/imports/uploads', {
      token: acme.owner.token,
      body: { fileName: 'huge.csv', sizeBytes: 512 * 1024 * 1024 + 1 },
    });
    expect(big.status).toBe(422);
    expect(big.body.code).toBe('limit_exceeded');
    const reserved = await ok(
      stack.api('POST', '/v1/imports/uploads', { token: acme.owner.token, body: { fileName: 'later.csv', sizeBytes: 10 } }),
      201,
    );
    const missing = await stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId: reserved.uploadId, format: 'csv' } });
    expect(missing.status).toBe(422);
    expect(missing.body.code).toBe('invalid_reference');
  });
});

describe('an XLSX export of another CRM', () => {
  it('reads shared strings, numbers stored as numbers and dates, from the named sheet', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Notes').addRow(['nothing here']);
    const sheet = workbook.addWorksheet('Contacts');
    sheet.addRow(['Full Name', 'Email', 'Phone Number', 'Custom: renewal']);
    sheet.addRow(['Grace Hopper', 'grace@navy.example', 2079460999, new Date(Date.UTC(2025, 2, 1))]);
    sheet.addRow(['Alan Turing', 'ALAN@bletchley.example', '+44 20 7946 0018', null]);
    const bytes = new Uint8Array(await workbook.xlsx.writeBuffer());
    await ok(
      stack.api('POST', '/v1/custom-fields', { token: acme.owner.token, body: { entityType: 'contact', key: 'renewal', label: 'Renewal', type: 'date' } }),
      201,
    );
    const job = await importFile(bytes, { sheet: 'Contacts', defaultCountry: 'GB' }, { fileName: 'hubspot.xlsx' });
    expect(job.status).toBe('succeeded');
    expect(job.result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    expect(job.result.file).toMatchObject({ format: 'xlsx', sheet: 'Contacts' });
    const grace = await lookup('grace@navy.example');
    // A national number Excel stored as a number (its leading 0 gone) takes the default country.
    expect(JSON.stringify(grace.channels)).toContain('+442079460999');
    expect(grace.customFields).toMatchObject({ renewal: '2025-03-01' });
    expect(await lookup('alan@bletchley.example')).toBeDefined();
  });

  it('takes phones that Excel stored as numbers for the numbers they were: international ones without their +, national ones without their 0', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Contacts');
    sheet.addRow(['Name', 'Email', 'Phone', 'WhatsApp']);
    // `+33 6 12 34 56 78`, `+44 7911 123456`, `+49 151 12345678`, `+971 50 123 4567` and `06 12 34 56 79`
    // typed into cells that Excel took for numbers.
    sheet.addRow(['Marie Curie', 'marie@sorbonne.example', 33612345678, 447911123456]);
    sheet.addRow(['Lise Meitner', 'lise@kwi.example', 4915112345678, null]);
    sheet.addRow(['Ada Lovelace', 'ada@analytical.example', 971501234567, null]);
    sheet.addRow(['Émilie du Châtelet', 'emilie@cirey.example', 612345679, null]);
    // Valid in the default country: that reading stays (as +49 30 12345 it would be a Berlin number).
    sheet.addRow(['Nice Office', 'nice@office.example', 493012345, null]);
    const bytes = new Uint8Array(await workbook.xlsx.writeBuffer());

    const job = await importFile(bytes, { defaultCountry: 'FR' }, { fileName: 'phones.xlsx' });

    expect(job.status).toBe('succeeded');
    expect(job.result.counts).toMatchObject({ rowsRead: 5, created: 5, rejected: 0 });
    const channels = async (email: string) =>
      (await lookup(email)).channels.map((c: any) => `${c.kind} ${c.normalized}`).filter((c: string) => !c.startsWith('email'));
    expect(await channels('marie@sorbonne.example')).toEqual(['phone +33612345678', 'whatsapp +447911123456']);
    expect(await channels('lise@kwi.example')).toEqual(['phone +4915112345678']);
    expect(await channels('ada@analytical.example')).toEqual(['phone +971501234567']);
    expect(await channels('emilie@cirey.example')).toEqual(['phone +33612345679']);
    expect(await channels('nice@office.example')).toEqual(['phone +33493012345']);
    expect(await errorsOf(job.id)).toEqual([]);
  });

  it('reads Excel text literals (`="0612…"`), which some exports write to keep leading zeros, as their text', async () => {
    const file =
      'Name,Email,Phone,Postal Code\r\n' +
      '"=""Sophie Germain""",sophie@lyon.example,"=""06 12 34 56 80""","=""01000"""\r\n' +
      'Henri Poincaré,henri@nancy.example,"=""+33 6 12 34 56 81""",54000\r\n';
    const job = await importFile(file, { defaultCountry: 'FR' }, { fileName: 'literals.csv' });
    expect(job.result.counts).toMatchObject({ rowsRead: 2, created: 2, rejected: 0 });
    const sophie = await lookup('sophie@lyon.example');
    expect(sophie).toMatchObject({ name: 'Sophie Germain' });
    expect(sophie.channels.filter((c: any) => c.kind === 'phone').map((c: any) => c.normalized)).toEqual(['+33612345680']);
    const henri = await lookup('henri@nancy.example');
    expect(henri.channels.filter((c: any) => c.kind === 'phone').map((c: any) => c.normalized)).toEqual(['+33612345681']);
  });
});

describe('a long import', () => {
  it('continues itself over several runs from its cursor, with exact counts', async () => {
    const rows = ['Email,Name'];
    for (let i = 0; i < 125; i++) rows.push(`long-${i}@example.com,Long ${i}`);
    // Every run stops after one chunk (50 rows here): three runs.
    process.env.JOB_RUN_BUDGET_MS = '1';
    try {
      const job = await importFile(`${rows.join('\n')}\n`);
      expect(job.status).toBe('succeeded');
      expect(job.result.counts).toMatchObject({ rowsRead: 125, created: 125 });
    } finally {
      delete process.env.JOB_RUN_BUDGET_MS;
    }
    expect(await lookup('long-124@example.com')).toBeDefined();
  });

  it('skips a report footer that a run resumes just before, after the blank line that ends a chunk', async () => {
    const rows = ['Email,Name'];
    for (let i = 0; i < 49; i++) rows.push(`footer-${i}@example.com,Footer ${i}`);
    // Row 50, the blank line, ends the first run's chunk: the second run starts at the footer.
    rows.push('', '"Grand Totals (49 records)"', '', '"Confidential Information - Do Not Distribute"', '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."');
    process.env.JOB_RUN_BUDGET_MS = '1';
    try {
      const job = await importFile(`${rows.join('\n')}\n`);
      expect(job.status).toBe('succeeded');
      expect(job.result.counts).toMatchObject({ rowsRead: 50, created: 49, blank: 1, rejected: 0 });
      expect(job.result.notes).toEqual([{ code: 'report_footer_skipped', message: expect.stringMatching(/^Lines 52–55 are the footer/) }]);
    } finally {
      delete process.env.JOB_RUN_BUDGET_MS;
    }
  });
});

describe('stopping an import', () => {
  const file = (prefix: string) => {
    const rows = ['Email,Name'];
    for (let i = 0; i < 110; i++) rows.push(`${prefix}-${i}@example.com,${prefix} ${i}`);
    return `${rows.join('\n')}\n`;
  };

  it('a canceled import stops after the run under way, keeping what it wrote, counted', async () => {
    process.env.JOB_RUN_BUDGET_MS = '1';
    let runs = 0;
    afterImportRun = async () => {
      runs += 1;
      if (runs === 1) await ok(stack.api('POST', `/v1/jobs/${jobId}/cancel`, { token: acme.owner.token }));
    };
    let jobId = '';
    try {
      const { uploadId } = await upload(file('canceled'));
      jobId = uploadId;
      await ok(stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId, format: 'csv' } }), 201);
      const done = await jobs.finished(acme.workspace.id, jobId);
      expect(done.status).toBe('canceled');
      // The first run wrote one chunk of 50 rows and saved it; nothing ran after the cancel.
      expect(done.progress.processed).toBe(50);
      expect(await lookup('canceled-49@example.com')).toBeDefined();
      expect(await lookup('canceled-50@example.com')).toBeUndefined();
    } finally {
      afterImportRun = undefined;
      delete process.env.JOB_RUN_BUDGET_MS;
    }
  });

  it('a run that dies before its message is acked is delivered again and duplicates nothing', async () => {
    process.env.JOB_RUN_BUDGET_MS = '1';
    let crashes = 0;
    afterImportRun = async () => {
      // The first two runs "die" after their work: SQS delivers their messages again.
      if (crashes < 2) {
        crashes += 1;
        throw new Error('the Lambda died before the ack');
      }
    };
    try {
      const job = await importFile(file('crashed'));
      expect(crashes).toBe(2);
      expect(job.status).toBe('succeeded');
      expect(job.result.counts).toMatchObject({ rowsRead: 110, created: 110, merged: 0, unchanged: 0 });
      const search = await ok(stack.api('GET', '/v1/contacts/search', { token: acme.owner.token, query: { q: 'crashed-109', limit: '10' } }));
      expect(search.items).toHaveLength(1);
    } finally {
      afterImportRun = undefined;
      delete process.env.JOB_RUN_BUDGET_MS;
    }
  });
});

describe('who may import, and see an import', () => {
  it('a member imports contacts as their own or unclaimed, never as another’s', async () => {
    const { uploadId } = await upload('Email\nmember-own@example.com\n', 'mine.csv', acme.member.token);
    const refused = await stack.api('POST', '/v1/imports', {
      token: acme.member.token,
      body: { uploadId, format: 'csv', ownerId: acme.admin.user.id },
    });
    expect(refused.status).toBe(403);
    const job = await importFile('Email\nmember-own@example.com\n', { ownerId: acme.member.user.id }, { token: acme.member.token, fileName: 'mine.csv' });
    expect(job.result.counts.created).toBe(1);
    expect((await lookup('member-own@example.com')).ownerId).toBe(acme.member.user.id);
  });

  it('only the user who declared an upload starts its import: to anyone else it is as if nothing was uploaded', async () => {
    const { uploadId } = await upload('Email\nmembers-upload@example.com\n', 'mine.csv', acme.member.token);
    for (const token of [acme.admin.token, acme.owner.token]) {
      const taken = await stack.api('POST', '/v1/imports', { token, body: { uploadId, format: 'csv' } });
      expect(taken.status).toBe(422);
      expect(taken.body).toMatchObject({ code: 'invalid_reference', errors: [expect.objectContaining({ field: 'body.uploadId' })] });
    }
    // No job was made: the member still starts their own upload, and it runs as them.
    expect((await stack.api('GET', `/v1/jobs/${uploadId}`, { token: acme.member.token })).status).toBe(404);
    const job = await ok(stack.api('POST', '/v1/imports', { token: acme.member.token, body: { uploadId, format: 'csv' } }), 201);
    expect(job.createdBy).toBe(acme.member.user.id);
    await jobs.finished(acme.workspace.id, job.id);
    expect((await ok(stack.api('GET', `/v1/jobs/${job.id}`, { token: acme.member.token }))).result.counts.created).toBe(1);
  });

  it('another workspace sees none of it, and cannot import another workspace’s upload', async () => {
    const { uploadId } = await upload('Email\nsecret@example.com\n', 'secret.csv');
    const stolen = await stack.api('POST', '/v1/imports', { token: globex.owner.token, body: { uploadId, format: 'csv' } });
    expect(stolen.status).toBe(422);
    const job = await ok(stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId, format: 'csv' } }), 201);
    await jobs.finished(acme.workspace.id, job.id);
    expect((await stack.api('GET', `/v1/jobs/${job.id}`, { token: globex.owner.token })).status).toBe(404);
    expect((await stack.api('GET', `/v1/imports/${job.id}/errors`, { token: globex.owner.token })).status).toBe(404);
    expect(await lookup('secret@example.com', globex.owner.token)).toBeUndefined();
    // The same upload is imported once.
    const twice = await stack.api('POST', '/v1/imports', { token: acme.owner.token, body: { uploadId, format: 'csv' } });
    expect(twice.status).toBe(409);
  });
});

describe('the template', () => {
  it('downloads as CSV and XLSX with the canonical header and the custom fields', async () => {
    const csv = await stack.api('GET', '/v1/imports/template', { token: acme.member.token, query: { format: 'csv' } });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const text = Buffer.from(csv.raw.body!, csv.raw.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
    expect(text.replace(/^\ufeff/, '').split('\r\n')[0]).toMatch(/^Name,Email,Phone,WhatsApp,Telegram,LinkedIn,Company,Job Title/);
    const xlsx = await stack.api('GET', '/v1/imports/template', { token: acme.member.token, query: { format: 'xlsx' } });
    expect(xlsx.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(xlsx.raw.body!, 'base64') as never);
    expect(workbook.worksheets[0]!.getRow(1).values).toEqual(expect.arrayContaining(['Name', 'Email']));
  });
});

describe('export, then import into a fresh workspace', () => {
  it('reproduces every contact’s fields, channels and tags, from CSV, from XLSX and from vCard', async () => {
    const token = acme.owner.token;
    await ok(stack.api('POST', '/v1/custom-fields', { token, body: { entityType: 'contact', key: 'plan', label: 'Plan', type: 'text' } }), 201);
    const people = [
      {
        name: 'Zoë "Zo" Ångström',
        jobTitle: 'CTO, Platform',
        companyName: 'Fjord & Co',
        city: 'Malmö',
        customFields: { plan: 'Enterprise, yearly' },
        channels: [
          { kind: 'email', value: 'zoe@fjord.example' },
          { kind: 'email', value: 'zoe.private@example.net' },
          { kind: 'phone', value: '+46 70 123 45 67' },
        ],
      },
      { name: 'Мария Иванова', channels: [{ kind: 'phone', value: '+7 912 345-67-89' }], customFields: { plan: '=SUM(A1)' } },
      { name: '@handle', role: '-5 and counting', channels: [{ kind: 'email', value: 'handle@example.org' }] },
    ];
    const created: any[] = [];
    for (const person of people) {
      const contact = await ok(stack.api('POST', '/v1/contacts', { token, body: person }), 201);
      await ok(stack.api('POST', `/v1/contacts/${contact.id}/tags`, { token, body: { tags: ['roundtrip', 'vip'] } }));
      created.push(await ok(stack.api('GET', `/v1/contacts/${contact.id}`, { token })));
    }
    const comparable = (contact: any) => ({
      name: contact.name,
      jobTitle: contact.jobTitle,
      role: contact.role,
      companyName: contact.companyName,
      city: contact.city,
      customFields: contact.customFields,
      tags: [...contact.tags].sort(),
      channels: contact.channels.map((channel: any) => `${channel.kind}:${channel.normalized ?? channel.value}`).sort(),
    });

    await ok(stack.api('POST', '/v1/custom-fields', { token: globex.owner.token, body: { entityType: 'contact', key: 'plan', label: 'Plan', type: 'text' } }), 201);
    // Each format alone carries everything back: the first creates the contacts, the others change nothing.
    for (const [format, expected] of [['vcf', { created: 3 }], ['csv', { unchanged: 3 }], ['xlsx', { unchanged: 3 }]] as const) {
      const job = await ok(stack.api('POST', '/v1/exports', { token, body: { format, filters: { tag: 'roundtrip' } } }), 201);
      const done = await jobs.finished(acme.workspace.id, job.id);
      expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
      const shown = await ok(stack.api('GET', `/v1/jobs/${job.id}`, { token }));
      expect(shown.result).toMatchObject({ rows: 3, format });
      const link = await ok(stack.api('GET', `/v1/jobs/${job.id}/files/contacts.${format}`, { token }));
      const bytes = new Uint8Array(await (await fetch(link.url)).arrayBuffer());

      // Into the other workspace: its owners are not Acme's, so the import leaves the contacts unclaimed.
      const imported = await importFile(bytes, { ownerId: null }, { fileName: `export.${format}`, token: globex.owner.token, workspaceId: globex.workspace.id });
      expect(imported.result.counts, format).toMatchObject({ rowsRead: 3, rejected: 0, ...expected });
      for (const original of created) {
        const email = original.channels.find((channel: any) => channel.kind === 'email');
        const query = email ? { kind: 'email', value: email.value } : { kind: 'phone', value: original.channels[0].value };
        const copy = await ok(stack.api('GET', '/v1/contacts/lookup', { token: globex.owner.token, query }));
        expect(comparable(copy), format).toEqual(comparable(original));
      }
    }
  });
});

describe('a row whose contact would pass the 400 KB a record may hold', () => {
  // 14 text fields of 10,000 three-byte characters: each value within its cap, together ~420 KB.
  const keys = Array.from({ length: 14 }, (_, i) => `essay_${i}`);
  const essays = (n: number) => keys.map(() => '中'.repeat(n));
  const csvLine = (fields: string[]) => fields.map((field) => (/[",\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field)).join(',');
  let wordy: Awaited<ReturnType<typeof seedWorkspace>>;
  let existing: any;
  let job: any;

  beforeAll(async () => {
    wordy = await seedWorkspace(stack, 'Wordy');
    const token = wordy.owner.token;
    for (const key of keys) {
      await ok(stack.api('POST', '/v1/custom-fields', { token, body: { entityType: 'contact', key, label: key, type: 'text' } }), 201);
    }
    existing = await ok(stack.api('POST', '/v1/contacts', { token, body: { name: 'Existing Erin', channels: [{ kind: 'email', value: 'erin@wordy.example' }] } }), 201);
    const file = [
      csvLine(['Email', 'Name', 'Tags', ...keys.map((key) => `Custom: ${key}`)]),
      csvLine(['first@wordy.example', 'First Fay', 'fine', ...essays(10)]),
      csvLine(['huge@wordy.example', 'Huge Hal', 'huge-only', ...essays(10_000)]),
      csvLine(['erin@wordy.example', 'Existing Erin', 'huge-only', ...essays(10_000)]),
      csvLine(['last@wordy.example', 'Last Lou', 'fine', ...essays(10)]),
    ].join('\r\n');
    job = await importFile(file, {}, { token, workspaceId: wordy.workspace.id, fileName: 'wordy.csv' });
  });

  it('is one rejected row, `record_too_large`, the rest of the file imported and the job succeeded', async () => {
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result.counts).toMatchObject({ rowsRead: 4, created: 2, updated: 0, rejected: 2, rejectedByCode: { record_too_large: 2 } });
    const errors = await errorsOf(job.id, wordy.owner.token);
    expect(errors).toEqual([
      expect.objectContaining({ row: 2, line: 3, rejected: true, code: 'record_too_large', column: expect.stringMatching(/^Custom: essay_/) }),
      expect.objectContaining({ row: 3, line: 4, rejected: true, code: 'record_too_large' }),
    ]);
    expect(errors[0].message).toMatch(/400 KB/);
    expect(await lookup('first@wordy.example', wordy.owner.token)).toMatchObject({ name: 'First Fay', tags: ['fine'] });
    expect(await lookup('last@wordy.example', wordy.owner.token)).toBeDefined();
  });

  it('leaves nothing of the refused rows: no contact, no claim on its email, no tag, no change to the existing contact', async () => {
    const token = wordy.owner.token;
    expect(await lookup('huge@wordy.example', token)).toBeUndefined();
    // The email was never claimed: a contact can take it now.
    await ok(stack.api('POST', '/v1/contacts', { token, body: { name: 'Hal', channels: [{ kind: 'email', value: 'huge@wordy.example' }] } }), 201);
    const tags = await ok(stack.api('GET', '/v1/tags', { token }));
    expect(tags.items.map((tag: any) => tag.name)).toEqual(['fine']);
    const erin = await ok(stack.api('GET', `/v1/contacts/${existing.id}`, { token }));
    expect(erin).toMatchObject({ version: existing.version, tags: [], customFields: {} });
    const timeline = await ok(stack.api('GET', `/v1/contacts/${existing.id}/timeline`, { token }));
    expect(timeline.items.map((entry: any) => entry.event.type)).toEqual(['contact.created']);
  });

  it('run again, the chunk writes nothing more and counts the same', async () => {
    const { openImportFile } = await import('../../domain/imports/import-file');
    const { importUploadKey } = await import('../../domain/imports/import-job');
    const { writeImportChunk } = await import('../../domain/imports/import-writer');
    const file = await openImportFile(stack.blobs, importUploadKey(wordy.workspace.id, job.id, 'csv', wordy.owner.user.id), { claimedFormat: 'csv' });
    const rows = [];
    for await (const { row } of file.rows()) rows.push(row);
    const caller = { workspaceId: wordy.workspace.id, userId: wordy.owner.user.id, role: 'owner' as const };
    const again = await writeImportChunk(stack.deps, {
      workspaceId: wordy.workspace.id,
      jobId: job.id,
      caller,
      options: { mode: 'create_and_update', tags: [], overwrite: false },
    }, rows);
    expect(again).toMatchObject({ rowsRead: 4, created: 2, rejected: 2, rejectedByCode: { record_too_large: 2 } });
    expect(await errorsOf(job.id, wordy.owner.token)).toHaveLength(2);
    expect(await lookup('huge@wordy.example', wordy.owner.token)).toMatchObject({ name: 'Hal' });
    expect((await ok(stack.api('GET', '/v1/tags', { token: wordy.owner.token }))).items).toHaveLength(1);
  });
});

describe('where a user finds a rejected row in a spreadsheet', () => {
  it('a CSV: `sheetRow` counts the lines above the header, blank ones, and a record with line breaks once', async () => {
    const file =
      'Contacts by Account\r\n' +
      '\r\n' +
      'Name,Email,Notes\r\n' +
      'Multi Line,multi-line@sheet.example,"one\r\ntwo\r\nthree"\r\n' +
      'Nobody Here,,no email\r\n' +
      'Bad Email,not-an-email,\r\n';
    const job = await importFile(file);
    expect(job.result.counts).toMatchObject({ rowsRead: 3, created: 1, rejected: 2 });
    expect(job.result.file.headerLine).toBe(3);
    const errors = await errorsOf(job.id);
    // In Excel or Sheets: the title on row 1, the blank row 2, the header row 3, the multi-line record row 4.
    expect(errors.map((e: any) => ({ line: e.line, row: e.row, sheetRow: e.sheetRow, code: e.code }))).toEqual([
      { line: 7, row: 2, sheetRow: 5, code: 'no_channel' },
      { line: 8, row: 3, sheetRow: 6, code: 'invalid_email' },
    ]);
  });

  it('a CSV with Excel’s `sep=` line: Excel reads it as a setting, not a row', async () => {
    const job = await importFile('sep=;\nName;Email\nNo Body;\n');
    expect((await errorsOf(job.id)).map((e: any) => [e.line, e.row, e.sheetRow])).toEqual([[3, 1, 2]]);
  });

  it('an XLSX: `sheetRow` is the sheet’s row number', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Contacts');
    sheet.getCell('A1').value = 'Exported contacts';
    sheet.getRow(3).values = ['Name', 'Email'];
    sheet.getRow(4).values = ['Sheet Sam', 'sam@sheet.example'];
    sheet.getRow(6).values = ['No Email', ''];
    const bytes = new Uint8Array(await workbook.xlsx.writeBuffer());
    const job = await importFile(bytes, {}, { fileName: 'rows.xlsx' });
    expect(job.result.counts).toMatchObject({ rowsRead: 3, created: 1, blank: 1, rejected: 1 });
    expect((await errorsOf(job.id)).map((e: any) => [e.line, e.row, e.sheetRow, e.code])).toEqual([[6, 3, 6, 'no_channel']]);
  });
});
