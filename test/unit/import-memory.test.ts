import ExcelJS from 'exceljs';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { openImportFile } from '../../domain/imports/import-file';
import { fakeBlobStore } from '../support/fakes';

// A full collection before each sample, so that only live memory is measured.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * The reader streams: memory does not grow with the number of rows read. The live heap is sampled
 * while 100,000 rows go through; a reader that kept rows (or the file) would grow by tens of MB.
 */
async function heapWhileReading(bytes: Uint8Array, claimedFormat: 'csv' | 'xlsx') {
  const blobs = fakeBlobStore();
  await blobs.put('big', bytes, 'application/octet-stream');
  const file = await openImportFile(blobs, 'big', { claimedFormat });
  const samples: { rows: number; heapMb: number }[] = [];
  let rows = 0;
  let candidates = 0;
  for await (const { row } of file.rows()) {
    rows++;
    if (row.kind === 'candidate') candidates++;
    if (rows % 20_000 === 0) {
      collectGarbage();
      samples.push({ rows, heapMb: process.memoryUsage().heapUsed / 2 ** 20 });
    }
  }
  const at20k = samples.find((sample) => sample.rows === 20_000)!.heapMb;
  const peakAfter = Math.max(...samples.filter((sample) => sample.rows > 20_000).map((sample) => sample.heapMb));
  return { rows, candidates, growthMb: peakAfter - at20k };
}

const row = (i: number) => [`Person ${i} Łukasz Żółć`, `person.${i}@example.com`, `Company ${i % 977}`, `City ${i % 131}`];

describe('import reader memory', () => {
  it('reads a 100,000-row CSV with flat memory', async () => {
    const csv = `Name,Email,Company,City\r\n${Array.from({ length: 100_000 }, (_, i) => row(i).join(',')).join('\r\n')}\r\n`;

    const { rows, candidates, growthMb } = await heapWhileReading(Buffer.from(csv, 'utf8'), 'csv');

    expect(rows).toBe(100_000);
    expect(candidates).toBe(100_000);
    expect(growthMb).toBeLessThan(8);
  });

  it('reads a 100,000-row XLSX with flat memory (beyond its shared strings)', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
    const sheet = workbook.addWorksheet('Contacts');
    sheet.addRow(['Name', 'Email', 'Company', 'City']).commit();
    for (let i = 0; i < 100_000; i++) sheet.addRow(row(i)).commit();
    sheet.commit();
    await workbook.commit();

    const { rows, candidates, growthMb } = await heapWhileReading(Buffer.concat(chunks), 'xlsx');

    expect(rows).toBe(100_000);
    expect(candidates).toBe(100_000);
    expect(growthMb).toBeLessThan(8);
  });
});
