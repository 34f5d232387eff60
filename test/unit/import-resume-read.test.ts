import { describe, expect, it } from 'vitest';
import { resumingRange } from '../../domain/imports/byte-streams';
import { openImportFile, type OpenImportFileOptions } from '../../domain/imports/import-file';
import type { NormalisedRow } from '../../domain/imports/import-row';
import { fakeBlobStore } from '../support/fakes';
import { buildXlsx } from '../support/xlsx-files';

/** Enough rows that the file spans many read chunks. */
const people = Array.from({ length: 400 }, (_, i) => [`Person ${i} Ünïcødé`, `person${i}@example.com`, `+4420794609${String(i).padStart(2, '0').slice(-2)}`]);
const csv = ['Name,Email,Phone', ...people.map((row) => row.join(','))].join('\r\n');
const xlsx = buildXlsx([{ name: 'Contacts', rows: [['Name', 'Email', 'Phone'], ...people] }]);

const summary = (row: NormalisedRow) =>
  row.kind === 'candidate' ? `${row.candidate.row} ${row.candidate.name} ${row.candidate.channels.map((c) => c.value).join(' ')}` : `${row.kind}`;

async function readAllRows(format: 'csv' | 'xlsx', breakReadsAfter: (number | null)[] = []) {
  const key = `uploads/ws_1/jobs/job_1/contacts.${format}`;
  const blobs = fakeBlobStore({ readChunkBytes: 97, breakReadsAfter });
  await blobs.put(key, format === 'csv' ? csv : xlsx, format === 'csv' ? 'text/csv' : 'application/octet-stream');
  const file = await openImportFile(blobs, key, { claimedFormat: format } as OpenImportFileOptions);
  const rows: string[] = [];
  for await (const read of file.rows()) rows.push(summary(read.row));
  return { rows, blobs };
}

describe('an import read whose connection drops part-way', () => {
  it.each(['csv', 'xlsx'] as const)('%s: reads every row once, in order, reopening where each read broke', async (format) => {
    const { rows: expected } = await readAllRows(format);
    expect(expected).toHaveLength(400);
    // Every read breaks after a few hundred bytes, three times over, at odd places (mid-character, mid-row).
    const breaks = Array.from({ length: 60 }, (_, i) => (i % 4 === 3 ? null : 301 + i * 13));
    const { rows, blobs } = await readAllRows(format, breaks);
    expect(rows).toEqual(expected);
    // It did break, and each reopened read started at the byte the broken one stopped at.
    const broken = blobs.reads.filter((read, i) => breaks[i] !== null && breaks[i] !== undefined && read.bytesServed === breaks[i]);
    expect(broken.length).toBeGreaterThan(2);
    for (const [i, read] of blobs.reads.entries()) {
      const next = blobs.reads[i + 1];
      if (breaks[i] === null || breaks[i] === undefined || read.bytesServed !== breaks[i] || !next) continue;
      if (next.key === read.key && next.end === read.end) expect(next.start).toBe(read.start + read.bytesServed);
    }
  });
});

describe('resumingRange', () => {
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const source = (failAt: (number | null)[]) => {
    const opened: number[] = [];
    const open = async (start: number, end = bytes.length) => {
      const breakAfter = failAt[opened.length] ?? null;
      opened.push(start);
      return (async function* () {
        let served = 0;
        for (let at = start; at < end; at += 64) {
          const chunk = bytes.slice(at, Math.min(at + 64, end));
          if (breakAfter !== null && served + chunk.length > breakAfter) throw new Error('socket hang up');
          served += chunk.length;
          yield chunk;
        }
      })();
    };
    return { open, opened };
  };
  const collect = async (stream: AsyncIterable<Uint8Array>) => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return Buffer.concat(chunks);
  };

  it('reopens from the first byte not handed on, within a range', async () => {
    const { open, opened } = source([128, 0, 256, null]);
    const read = await collect(resumingRange(open, 100, 900, undefined, { maxAttemptsWithoutProgress: 5, firstWaitMs: 1 }));
    expect(Buffer.compare(read, Buffer.from(bytes.slice(100, 900)))).toBe(0);
    expect(opened).toEqual([100, 228, 228, 484]);
  });

  it('gives up after failures in a row that bring no byte', async () => {
    const { open, opened } = source([0, 0, 0, 0, 0, 0]);
    await expect(collect(resumingRange(open, 0, undefined, undefined, { maxAttemptsWithoutProgress: 3, firstWaitMs: 1 }))).rejects.toThrow('socket hang up');
    expect(opened).toHaveLength(3);
  });
});

describe('a read that fails for good', () => {
  it.each(['csv', 'xlsx'] as const)('%s: the rows end with the error (no hang, no unhandled error)', async (format) => {
    const { blobs } = await readAllRows(format);
    // The last read (the rows') breaks part-way, then every reopening breaks before its first byte.
    const breaks = [...blobs.reads.slice(0, -1).map(() => null), 300, ...Array.from({ length: 10 }, () => 0)];
    await expect(readAllRows(format, breaks)).rejects.toThrow(/aborted|cannot be read/);
  });
});
