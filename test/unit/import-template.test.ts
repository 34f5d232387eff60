import { describe, expect, it } from 'vitest';
import { canonicalColumns } from '../../domain/imports/column-mapping';
import { openImportFile } from '../../domain/imports/import-file';
import { importTemplate, importTemplateContentTypes, templateHeaders } from '../../domain/imports/import-template';
import { fakeBlobStore } from '../support/fakes';

const headers = [
  'Name', 'Email', 'Phone', 'WhatsApp', 'Telegram', 'LinkedIn', 'Company', 'Job Title', 'Role', 'Segment',
  'City', 'State', 'Country', 'Tags', 'Owner', 'Custom: plan', 'Custom: renewal_date',
];

describe('import template', () => {
  it('has the canonical headers, then one column per custom field', () => {
    expect(templateHeaders(['plan', 'renewal_date'])).toEqual(headers);
    expect(canonicalColumns.map((column) => column.header)).toEqual(headers.slice(0, 15));
  });

  it('CSV: UTF-8 with a BOM, the header line and nothing else', async () => {
    const bytes = await importTemplate('csv', ['plan', 'renewal_date']);

    expect(Buffer.from(bytes).toString('utf8')).toBe(`\ufeff${headers.join(',')}\r\n`);
  });

  it.each(['csv', 'xlsx'] as const)('%s: reads back with every column recognised and no rows', async (format) => {
    const blobs = fakeBlobStore();
    await blobs.put(`template.${format}`, await importTemplate(format, ['plan', 'renewal_date']), importTemplateContentTypes[format]);

    const file = await openImportFile(blobs, `template.${format}`, { claimedFormat: format });
    const rows = [];
    for await (const read of file.rows()) rows.push(read);

    expect(file.info.headers).toEqual(headers);
    expect(file.info.skippedColumns).toEqual([]);
    expect(file.info.columns.map((column) => column.target)).toEqual([
      ...canonicalColumns.map((column) => column.target),
      'custom:plan',
      'custom:renewal_date',
    ]);
    expect(rows).toEqual([]);
  });
});
