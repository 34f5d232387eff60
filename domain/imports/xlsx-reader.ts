import { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import type ExcelJS from 'exceljs';
import { loadExcelJs } from '../shared/exceljs';
import { cellText } from './cell-text';
import { ImportFileError } from './import-file-error';
import { StringTable } from './string-table';
import { entryDataOffset, readZipDirectory, zipStream, type ReadRange, type StreamRange, type ZipEntry, type ZipPart } from './zip-entries';

/**
 * Streaming XLSX reading with exceljs's `WorkbookReader`, never the whole workbook in memory.
 *
 * exceljs reads the zip as a stream, front to back, and needs the shared strings (and the styles, to
 * tell dates from numbers) before a sheet; Excel itself writes them *after* the sheets, and exceljs
 * then spools each sheet to a temporary file and parses it at the end. Instead, the zip's directory
 * (at the end of the file) is read with byte ranges, and exceljs is given a zip stream built from the
 * parts it needs in the order it needs them: workbook, its relationships, styles, shared strings, and
 * the one sheet asked for, each part's compressed bytes streamed from S3 as they are. Other sheets,
 * images and the like are never downloaded.
 *
 * exceljs bugs worked around: it decodes each chunk of XML as UTF-8 on its own, so a character split
 * between two chunks became two U+FFFD (the XML is now decoded as one stream before it is given to
 * it); it took a string's phonetic reading (`<rPh>`, Japanese furigana) for its text, and kept only
 * the last run of a rich inline string (string items are flattened to plain text before it parses
 * them). Left as it is: a formula's boolean result reads as 1 or 0.
 *
 * Memory: the shared strings table (every distinct text of the workbook) must be held while the sheet
 * is read, as a cell refers to a string by its index. exceljs hands the strings over one by one
 * (`sharedStrings: 'emit'`) and they are kept in a `StringTable`: UTF-8 bytes in 1 MiB buffers outside
 * the V8 heap, 4 bytes of offset per string, no object per string. 100k rows of contacts (186,563
 * distinct strings) take ≈ 6 MB there; exceljs's own table (a JS string each) took ~25 MB more of a
 * capped heap at that size. The rows stream through and are not kept: at 100k rows the heap used is
 * what it is at 20k, and the peak RSS ~10 MB above it, ~5 MB of it the larger table
 * (test/bench/README.md, "The reader alone").
 */

export interface SheetInfo {
  name: string;
  hidden: boolean;
}

export interface XlsxRow {
  /** The sheet's row number (1-based, as Excel shows it). */
  number: number;
  /** Cell texts by column (0 = column A); missing cells are empty. */
  cells: string[];
}

export interface XlsxWorkbook {
  /** Worksheets in tab order (chart sheets are not listed). */
  sheets: SheetInfo[];
  /** The rows of a sheet, streamed; stops (and releases the streams) when the loop breaks. */
  rows(sheet: string): AsyncGenerator<XlsxRow>;
}

const maxPartBytes = 64 * 1024 * 1024;

/**
 * Opens the workbook: its directory, relationships and sheet list (a few small range reads).
 * `onSheetBytes` hears how many compressed bytes of the sheet were streamed so far, of how many.
 */
export async function openXlsx(
  read: ReadRange,
  stream: StreamRange,
  size: number,
  onSheetBytes?: (streamed: number, total: number) => void,
): Promise<XlsxWorkbook> {
  const notWorkbook = (why: string) => new ImportFileError('not_xlsx', `This zip archive is not an Excel workbook: ${why}`);
  const entries = await readZipDirectory(read, size);
  const entry = (path: string | undefined) => (path === undefined ? undefined : entries.get(path));
  const text = async (part: ZipEntry) => {
    if (part.uncompressedSize > maxPartBytes) throw new ImportFileError('unreadable', `The workbook's ${part.name} is too large`);
    const start = await entryDataOffset(read, part);
    const data = await read(start, start + part.compressedSize);
    if (part.method === 0) return Buffer.from(data).toString('utf8');
    if (part.method !== 8) throw new ImportFileError('unreadable', `The workbook uses an unsupported compression (${part.method})`);
    return inflateRawSync(data).toString('utf8');
  };

  const rootRels = entry('_rels/.rels');
  const workbookPath =
    (rootRels && relationships(await text(rootRels), '').find((rel) => rel.type.endsWith('/officeDocument'))?.target) ??
    'xl/workbook.xml';
  const workbook = entry(workbookPath);
  if (!workbook) throw notWorkbook('it has no workbook part (is it a Word or PowerPoint file?)');
  const directory = workbookPath.includes('/') ? workbookPath.slice(0, workbookPath.lastIndexOf('/') + 1) : '';
  const relsPath = `${directory}_rels/${workbookPath.slice(directory.length)}.rels`;
  const workbookRels = entry(relsPath);
  if (!workbookRels) throw notWorkbook('its workbook has no relationships part');
  const rels = relationships(await text(workbookRels), directory);
  const workbookXml = await text(workbook);

  const sheets: (SheetInfo & { path: string })[] = [];
  for (const attributes of elements(workbookXml, 'sheet')) {
    const relId = Object.entries(attributes).find(([name]) => /^[\w.-]+:id$/.test(name))?.[1];
    const rel = rels.find((candidate) => candidate.id === relId);
    if (!rel || !rel.type.endsWith('/worksheet') || !entries.has(rel.target)) continue;
    sheets.push({ name: attributes.name ?? '', hidden: (attributes.state ?? 'visible') !== 'visible', path: rel.target });
  }
  if (sheets.length === 0) throw notWorkbook('it has no worksheet');
  const styles = entry(rels.find((rel) => rel.type.endsWith('/styles'))?.target);
  const sharedStrings = entry(rels.find((rel) => rel.type.endsWith('/sharedStrings'))?.target);

  return {
    sheets: sheets.map(({ name, hidden }) => ({ name, hidden })),
    rows: (sheet) => {
      const chosen = sheets.find((candidate) => candidate.name === sheet);
      if (!chosen) throw new Error(`No sheet "${sheet}"`);
      const wanted: [string, ZipEntry | undefined][] = [
        ['xl/workbook.xml', workbook],
        ['xl/styles.xml', styles],
        ['xl/sharedStrings.xml', sharedStrings],
        ['xl/worksheets/sheet1.xml', entries.get(chosen.path)],
      ];
      return sheetRows(read, stream, wanted, onSheetBytes);
    },
  };
}

async function* sheetRows(
  read: ReadRange,
  stream: StreamRange,
  wanted: [string, ZipEntry | undefined][],
  onSheetBytes?: (streamed: number, total: number) => void,
): AsyncGenerator<XlsxRow> {
  const parts: ZipPart[] = [];
  for (const [name, entry] of wanted) {
    if (entry) parts.push({ name, entry, dataOffset: await entryDataOffset(read, entry) });
    // exceljs parses a sheet at once only when it has seen shared strings and the workbook's
    // relationships: give it (empty) ones of each, so that it never spools the sheet to disk.
    else if (name === 'xl/sharedStrings.xml') parts.push({ name, content: emptySharedStrings });
    if (name === 'xl/workbook.xml') parts.push({ name: 'xl/_rels/workbook.xml.rels', content: emptyRelationships });
  }
  const sheet = parts.at(-1);
  const counted: StreamRange = async (start, end) => {
    const bytes = await stream(start, end);
    if (!onSheetBytes || !sheet || !('entry' in sheet) || start !== sheet.dataOffset) return bytes;
    return (async function* () {
      let streamed = 0;
      for await (const chunk of bytes) {
        streamed += chunk.length;
        onSheetBytes(streamed, end - start);
        yield chunk;
      }
    })();
  };
  const excel = await loadExcelJs();
  const input = Readable.from(zipStream(parts, counted), { objectMode: false });
  const reader = new excel.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'emit',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  }) as unknown as PatchableReader;
  const strings = new StringTable();
  patch(reader, strings);

  // exceljs pipes the input into its unzipper, and a pipe does not pass errors on: a read that fails for
  // good (the object gone, the connection dropped past every retry) would leave it waiting for bytes, and the
  // error event unheard would end the process. Each wait also listens for the input's failure.
  // (Not Promise.race with one long-pending promise: each race would leave a reaction on it, one per row.)
  let failure: { error: unknown } | undefined;
  let failWaiting: ((error: unknown) => void) | undefined;
  input.once('error', (error) => {
    failure = { error };
    failWaiting?.(error);
  });
  const orFailure = <T>(next: Promise<T>): Promise<T> => {
    if (failure) return Promise.reject(failure.error);
    return new Promise<T>((resolve, reject) => {
      failWaiting = reject;
      next.then(resolve, reject).finally(() => {
        if (failWaiting === reject) failWaiting = undefined;
      });
    });
  };

  const worksheets = reader[Symbol.asyncIterator]();
  let rows: AsyncIterator<ExcelJS.Row> | undefined;
  try {
    const worksheet = await orFailure(worksheets.next());
    if (worksheet.done) return;
    rows = (worksheet.value as AsyncIterable<ExcelJS.Row>)[Symbol.asyncIterator]();
    for (;;) {
      const row = await orFailure(rows.next());
      if (row.done) break;
      const cells: string[] = [];
      row.value.eachCell((cell, column) => {
        cells[column - 1] = cellText(sharedString(cell.value, strings), cell.numFmt);
      });
      for (let i = 0; i < cells.length; i++) cells[i] ??= '';
      yield { number: row.value.number, cells };
    }
    // Let exceljs finish the zip (nothing after the sheet), so that no stream is left half-read.
    await orFailure(worksheets.next());
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError('unreadable', `The worksheet cannot be read: ${(error as Error).message}`);
  } finally {
    const closing = (async () => {
      await rows?.return?.(undefined);
      await worksheets.return?.(undefined);
    })();
    // After a failed input exceljs never finishes its iterators: stop waiting for them.
    await orFailure(closing).catch(() => undefined);
    input.destroy();
  }
}

const emptySharedStrings =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>';
const emptyRelationships =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>';

interface PatchableReader extends AsyncIterable<unknown> {
  sharedStrings?: unknown[];
  _parseSharedStrings(entry: NodeJS.ReadableStream): AsyncGenerator<unknown>;
  _parseWorksheet(iterator: AsyncIterable<unknown>, sheetNo: string): Generator<unknown>;
}

/**
 * The shared strings go to `strings` (exceljs's `emit` mode hands them over one by one, and cells
 * then hold `{ sharedString: index }`), string items are flattened and XML decoded as one stream.
 */
function patch(reader: PatchableReader, strings: StringTable) {
  const parseSharedStrings = reader._parseSharedStrings.bind(reader);
  reader._parseSharedStrings = async function* (entry) {
    const flat = Readable.from(flattenStrings(utf8Text(entry as AsyncIterable<Uint8Array>), 'si'), { objectMode: true });
    for await (const item of parseSharedStrings(flat)) {
      // Items are flattened: the text is a string, or null for an empty one.
      const { text } = item as { index: number; text: unknown };
      strings.push(typeof text === 'string' ? text : cellText(text));
    }
    // exceljs streams a sheet only once it holds a shared strings table (else it spools the sheet
    // to a temporary file and reads it at the end); in emit mode it holds none: a stand-in, which
    // goes again before the sheet is read so that cells keep their index.
    reader.sharedStrings = [];
  };
  const parseWorksheet = reader._parseWorksheet.bind(reader);
  reader._parseWorksheet = (iterator, sheetNo) => {
    delete reader.sharedStrings;
    return parseWorksheet(flattenStrings(utf8Text(iterator as AsyncIterable<Uint8Array>), 'is'), sheetNo);
  };
}

/** A cell's value with a shared string's index replaced by its text (an index past the table: empty). */
function sharedString(value: unknown, strings: StringTable): unknown {
  if (typeof value !== 'object' || value === null || !('sharedString' in value)) return value;
  const index = (value as { sharedString: unknown }).sharedString;
  return typeof index === 'number' ? (strings.get(index) ?? '') : value;
}

/** XML bytes as text, decoded as one stream (a character may span two chunks). */
async function* utf8Text(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text !== '') yield text;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

/**
 * XML text in which every string item (`<si>` in the shared strings, `<is>` in a sheet's inline
 * strings) is rewritten as one plain `<t>`: its runs' texts joined, its phonetic readings (`<rPh>`)
 * and formatting dropped. Works across chunk boundaries; an item is at most `maxItemChars` long
 * (a longer one, which no spreadsheet writes, is passed on as it is).
 */
export async function* flattenStrings(chunks: AsyncIterable<string>, element: 'si' | 'is'): AsyncGenerator<string> {
  const open = new RegExp(`<${element}[\\s>/]`);
  const close = `</${element}>`;
  let carry = '';
  for await (const chunk of chunks) {
    let text = carry + chunk;
    let out = '';
    carry = '';
    for (;;) {
      const start = text.search(open);
      if (start < 0) {
        // Keep a tail that may be the start of the next item's tag.
        const lt = text.lastIndexOf('<');
        const cut = lt >= 0 && text.length - lt <= element.length + 1 ? lt : text.length;
        out += text.slice(0, cut);
        carry = text.slice(cut);
        break;
      }
      out += text.slice(0, start);
      const tagEnd = text.indexOf('>', start);
      if (tagEnd >= 0 && text[tagEnd - 1] === '/') {
        out += text.slice(start, tagEnd + 1);
        text = text.slice(tagEnd + 1);
        continue;
      }
      const end = text.indexOf(close, start);
      if (end < 0) {
        if (text.length - start > maxItemChars) {
          out += text.slice(start);
        } else {
          carry = text.slice(start);
        }
        break;
      }
      out += flatItem(text.slice(start, end + close.length), element);
      text = text.slice(end + close.length);
    }
    if (out !== '') yield out;
  }
  if (carry !== '') yield carry;
}

const maxItemChars = 1024 * 1024;

function flatItem(item: string, element: string): string {
  const texts = item
    .replace(/<rPh[\s>][\s\S]*?<\/rPh>/g, '')
    .matchAll(/<t(?:\s[^>]*)?(?<!\/)>([\s\S]*?)<\/t>/g);
  return `<${element}><t xml:space="preserve">${[...texts].map((match) => match[1]).join('')}</t></${element}>`;
}

interface Relationship {
  id: string;
  type: string;
  /** The zip path of the target. */
  target: string;
}

function relationships(xml: string, directory: string): Relationship[] {
  return [...elements(xml, 'Relationship')].flatMap((attributes) => {
    const { Id: id, Type: type, Target: target, TargetMode: mode } = attributes;
    if (!id || !type || !target || mode === 'External') return [];
    return [{ id, type, target: resolvePath(directory, target) }];
  });
}

function resolvePath(directory: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : directory + target).split('/');
  const resolved: string[] = [];
  for (const part of parts) {
    if (part === '..') resolved.pop();
    else if (part !== '.' && part !== '') resolved.push(part);
  }
  return resolved.join('/');
}

/** The attributes of each `<name …>` (or `<prefix:name …>`) element of a small XML part. */
function* elements(xml: string, name: string): Generator<Record<string, string>> {
  const tag = new RegExp(`<(?:[\\w.-]+:)?${name}\\b([^>]*)>`, 'g');
  for (const match of xml.matchAll(tag)) {
    const attributes: Record<string, string> = {};
    for (const attribute of match[1]!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attributes[attribute[1]!] = decodeXml(attribute[2] ?? attribute[3] ?? '');
    }
    yield attributes;
  }
}

function decodeXml(text: string): string {
  return text.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot|apos));/gi, (_, hex?: string, dec?: string, named?: string) => {
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    if (dec) return String.fromCodePoint(parseInt(dec, 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[named!.toLowerCase() as 'amp']!;
  });
}
