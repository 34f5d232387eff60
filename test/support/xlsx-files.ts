import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Hand-built XLSX files for the import tests: what Excel and other tools write, with the details
 * that matter to a streaming reader under the test's control (part order, shared or inline strings,
 * data descriptors, phonetic runs, the 1904 date system).
 */

export type XlsxCell =
  | string
  | number
  | boolean
  | null
  | { date: number; format?: 'date' | 'datetime' }
  | { formula: string; result: string | number; format?: 'date' }
  | { error: string }
  | { rich: string[] }
  | { phonetic: [text: string, reading: string] };

export interface XlsxSheetSpec {
  name: string;
  /** Row i is sheet row i + 1; `undefined` leaves the row out of the XML (as Excel does for empty rows). */
  rows: (XlsxCell[] | undefined)[];
  hidden?: boolean;
}

export interface XlsxOptions {
  /** `shared`: strings in sharedStrings.xml (Excel); `inline`: `t="inlineStr"` cells (some exporters). */
  strings?: 'shared' | 'inline';
  /** `excel`: sheets before styles and shared strings, as Excel writes; `parts-first`: the reverse. */
  order?: 'excel' | 'parts-first';
  /** Sizes and CRC in data descriptors after the data (streaming writers), not in the local headers. */
  dataDescriptors?: boolean;
  date1904?: boolean;
  /** Where the workbook part is (Excel: `xl/workbook.xml`); the relationships point to it. */
  workbookPath?: string;
}

const xmlEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const column = (index: number): string => {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
};

const styleIndex = { date: 1, datetime: 2 } as const;

export function buildXlsx(sheets: XlsxSheetSpec[], options: XlsxOptions = {}): Uint8Array {
  const strings = options.strings ?? 'shared';
  const shared: string[] = [];
  const sharedIndex = new Map<string, number>();
  const share = (xml: string) => {
    if (!sharedIndex.has(xml)) {
      sharedIndex.set(xml, shared.length);
      shared.push(xml);
    }
    return sharedIndex.get(xml)!;
  };
  const text = (t: string) => `<t xml:space="preserve">${xmlEscape(t)}</t>`;
  const stringCell = (ref: string, xml: string) =>
    strings === 'shared' ? `<c r="${ref}" t="s"><v>${share(xml)}</v></c>` : `<c r="${ref}" t="inlineStr"><is>${xml}</is></c>`;

  const cellXml = (cell: XlsxCell, ref: string): string => {
    if (cell === null) return '';
    if (typeof cell === 'string') return stringCell(ref, text(cell));
    if (typeof cell === 'number') return `<c r="${ref}"><v>${cell}</v></c>`;
    if (typeof cell === 'boolean') return `<c r="${ref}" t="b"><v>${cell ? 1 : 0}</v></c>`;
    if ('date' in cell) return `<c r="${ref}" s="${styleIndex[cell.format ?? 'date']}"><v>${cell.date}</v></c>`;
    if ('formula' in cell) {
      const style = cell.format ? ` s="${styleIndex[cell.format]}"` : '';
      const type = typeof cell.result === 'string' ? ' t="str"' : '';
      return `<c r="${ref}"${style}${type}><f>${xmlEscape(cell.formula)}</f><v>${xmlEscape(String(cell.result))}</v></c>`;
    }
    if ('error' in cell) return `<c r="${ref}" t="e"><v>${xmlEscape(cell.error)}</v></c>`;
    if ('rich' in cell) return stringCell(ref, cell.rich.map((run, i) => `<r>${i % 2 ? '<rPr><b/></rPr>' : ''}${text(run)}</r>`).join(''));
    const [t, reading] = cell.phonetic;
    return stringCell(ref, `${text(t)}<rPh sb="0" eb="${t.length}">${text(reading)}</rPh><phoneticPr fontId="1"/>`);
  };

  const sheetXml = (sheet: XlsxSheetSpec) => {
    const rows = sheet.rows
      .map((row, r) =>
        row === undefined ? '' : `<row r="${r + 1}">${row.map((cell, c) => cellXml(cell, `${column(c)}${r + 1}`)).join('')}</row>`,
      )
      .join('');
    return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><dimension ref="A1"/><sheetData>${rows}</sheetData></worksheet>`;
  };
  // Sheet XML first: it fills the shared strings.
  const sheetParts = sheets.map((sheet, i) => [`xl/worksheets/sheet${i + 1}.xml`, sheetXml(sheet)] as const);

  const workbookPath = options.workbookPath ?? 'xl/workbook.xml';
  const workbookDir = workbookPath.slice(0, workbookPath.lastIndexOf('/') + 1);
  const relsPath = `${workbookDir}_rels/${workbookPath.slice(workbookDir.length)}.rels`;
  const workbook = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr${options.date1904 ? ' date1904="1"' : ''}/><sheets>${sheets
    .map((sheet, i) => `<sheet name="${xmlEscape(sheet.name)}" sheetId="${i + 1}"${sheet.hidden ? ' state="hidden"' : ''} r:id="rId${i + 1}"/>`)
    .join('')}</sheets></workbook>`;
  const relTarget = (path: string) => '/' + path;
  const workbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheets
    .map(
      (_, i) =>
        `<Relationship Id="rId${i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="${relTarget(`xl/worksheets/sheet${i + 1}.xml`)}"/>`,
    )
    .join('')}<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="${relTarget('xl/styles.xml')}"/>${
    strings === 'shared'
      ? `<Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="${relTarget('xl/sharedStrings.xml')}"/>`
      : ''
  }</Relationships>`;
  const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`;
  const sharedStrings = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${shared.length}" uniqueCount="${shared.length}">${shared
    .map((si) => `<si>${si}</si>`)
    .join('')}</sst>`;
  const contentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>`;
  const rootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="${workbookPath}"/></Relationships>`;

  const head: [string, string][] = [
    ['[Content_Types].xml', contentTypes],
    ['_rels/.rels', rootRels],
    [workbookPath, workbook],
    [relsPath, workbookRels],
  ];
  const parts: [string, string][] = [['xl/styles.xml', styles], ...(strings === 'shared' ? [['xl/sharedStrings.xml', sharedStrings] as [string, string]] : [])];
  const ordered = options.order === 'parts-first' ? [...head, ...parts, ...sheetParts] : [...head, ...sheetParts, ...parts];
  return zip(ordered.map(([name, content]) => [name, Buffer.from(content, 'utf8')]), options.dataDescriptors ?? false);
}

/** A zip archive of the files, deflated, with a central directory. */
export function zip(files: [name: string, data: Uint8Array][], dataDescriptors = false): Uint8Array {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [fileName, data] of files) {
    const name = Buffer.from(fileName, 'utf8');
    const compressed = deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800 | (dataDescriptors ? 0x08 : 0), 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0x21, 12);
    if (!dataDescriptors) {
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(compressed.length, 18);
      local.writeUInt32LE(data.length, 22);
    }
    local.writeUInt16LE(name.length, 26);
    const descriptor = Buffer.alloc(dataDescriptors ? 16 : 0);
    if (dataDescriptors) {
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(compressed.length, 8);
      descriptor.writeUInt32LE(data.length, 12);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800 | (dataDescriptors ? 0x08 : 0), 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed, descriptor);
    directory.push(central, name);
    offset += local.length + name.length + compressed.length + descriptor.length;
  }
  const directoryBytes = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directoryBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directoryBytes, end]);
}
