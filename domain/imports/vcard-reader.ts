import { maxCustomFieldsPerEntityType } from '../custom-fields/custom-field.entity';
import { customKeyPattern } from './column-mapping';
import { tagCellText } from './tag-cells';
import { FieldDecoder, legacyEncodings, legacyText, utf16AsUtf8, type LegacyEncoding } from './text-decoding';

/**
 * vCard files (.vcf: Apple and iCloud Contacts, Google Contacts, Outlook, Android, any address book),
 * versions 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350), read card by card as rows under fixed headers, so
 * the rest of an import (column plan, mapping, normalising, the error report) treats them as it treats
 * a sheet's rows. The headers the import recognises fill the contact; the others ("Notes", "Website",
 * "Birthday", ...) are reported as columns not imported, and a mapping can send them to custom fields.
 */
export const vcardHeaders = [
  'Name',
  'First Name',
  'Middle Name',
  'Last Name',
  'Nickname',
  'Email',
  'Phone',
  'Fax',
  'WhatsApp',
  'Telegram',
  'LinkedIn',
  'Company',
  'Department',
  'Job Title',
  'Role',
  'Street',
  'City',
  'State',
  'Postal Code',
  'Country',
  'Tags',
  'Segment',
  'Owner',
  'Website',
  'Birthday',
  'Notes',
] as const;
type VcardHeader = (typeof vcardHeaders)[number];
const column = Object.fromEntries(vcardHeaders.map((header, index) => [header, index])) as Record<
  VcardHeader,
  number
>;

/** Several values in one cell, as the import reads them (column-mapping.ts `multiValueSeparator`). */
const joinValues = (values: readonly string[]) => values.join(' ::: ');

export interface VcardPosition {
  /** Byte offset in the file. */
  offset: number;
  /** Physical line (1-based). */
  line: number;
}

/** One card, as a row under `vcardHeaders`, with where it starts and where the next one may. */
export interface VcardRecord {
  fields: string[];
  /** The card's BEGIN:VCARD line. */
  line: number;
  /** Why the card cannot be imported; `fields` then holds what was read of it. */
  problem?: string;
  next: VcardPosition;
}

/** The most text a card may hold, photos and other binary values left out. */
export const maxCardBytes = 1024 * 1024;

/** Properties whose values are binary (or links to binary) and never imported. */
const binaryProperties = new Set(['PHOTO', 'LOGO', 'SOUND', 'KEY']);
/** The properties a row is made of (`cardFields`); the others (LABEL, X-ABLabel, X-MS-OL-DESIGN...) are not kept nor decoded. */
const readProperties = new Set([
  'FN',
  'N',
  'NICKNAME',
  'X-ANDROID-CUSTOM',
  'EMAIL',
  'TEL',
  'URL',
  'X-SOCIALPROFILE',
  'ORG',
  'TITLE',
  'ROLE',
  'ADR',
  'CATEGORIES',
  'BDAY',
  'NOTE',
  'X-CRM-SEGMENT',
  'X-CRM-OWNER',
]);

/**
 * The custom field key of an `X-CRM-FIELD-<KEY>` property name, as the export writes it (the key
 * upper-cased, `_` as `-`: a property name has no `_`); undefined for any other name.
 */
export function customFieldKeyOf(propertyName: string): string | undefined {
  if (!propertyName.startsWith(customFieldPropertyPrefix)) return undefined;
  const key = propertyName.slice(customFieldPropertyPrefix.length).toLowerCase().replaceAll('-', '_');
  return customKeyPattern.test(key) ? key : undefined;
}
const customFieldPropertyPrefix = 'X-CRM-FIELD-';
const customFieldLine = /^[ \t]*(?:[\w-]+\.)?X-CRM-FIELD-([A-Za-z0-9-]+)[ \t]*[;:]/gim;

/**
 * The custom field keys a file's cards carry (`X-CRM-FIELD-<KEY>`), in the order they first appear,
 * at most as many as a workspace may define: the columns a vCard import adds after `vcardHeaders`.
 * Reads the whole file once, looking only at line starts (a folded line's continuation starts with a
 * space and names no property; text inside a card that merely looks like one costs a column no row fills).
 */
export async function vcardCustomFieldKeys(
  source: AsyncIterable<Uint8Array>,
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be',
): Promise<string[]> {
  const chunks = encoding === 'utf-8' ? source : utf16AsUtf8(source, encoding).chunks;
  const keys = new Set<string>();
  let pending = '';
  const scan = (text: string) => {
    for (const match of text.matchAll(customFieldLine)) {
      const key = customFieldKeyOf(`${customFieldPropertyPrefix}${match[1]!.toUpperCase()}`);
      if (key && keys.size < maxCustomFieldsPerEntityType) keys.add(key);
    }
  };
  for await (const chunk of chunks) {
    const text = pending + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const lastBreak = text.lastIndexOf('\n');
    // The part after the last line break may be the start of a property name: read with the next chunk.
    scan(text.slice(0, lastBreak + 1));
    pending = text.slice(lastBreak + 1);
    // A line longer than any property name is not one to hold on to.
    if (pending.length > 256) pending = pending.slice(0, 256);
  }
  scan(pending);
  return [...keys];
}

interface ContentLine {
  name: string;
  /** Parameter name → values (upper-case names; TYPE values lower-case). 2.1's bare parameters are TYPE values. */
  params: Map<string, string[]>;
  /** The raw value: bytes as Latin-1 characters (one per byte), or UTF-8 text read from UTF-16. */
  value: string;
}

/**
 * Reads the cards of `source` (the file's bytes from `from.offset`; `encoding` UTF-16 when the file has
 * a UTF-16 BOM, which the caller skips). Lines are unfolded (a line starting with a space or tab
 * continues the previous one; in 2.1 a quoted-printable value ending with `=` continues on the next line
 * whatever it starts with); base64 values (2.1 puts them on lines of their own, ending with a blank
 * line) are skipped. Text outside cards is ignored. A card without END:VCARD (before the next
 * BEGIN:VCARD or the end of the file) is yielded with a problem, as is one over `maxCardBytes`.
 * Values without a CHARSET are UTF-8, or the file's legacy code page when they are not (`decoder`,
 * shared so the caller can save it in a cursor).
 */
export async function* readVcardRecords(
  source: AsyncIterable<Uint8Array>,
  from: VcardPosition,
  options: {
    encoding: 'utf-8' | 'utf-16le' | 'utf-16be';
    decoder: FieldDecoder;
    /** Custom field keys whose X-CRM-FIELD-<KEY> values fill the columns after `vcardHeaders`, in this order. */
    customKeys?: readonly string[];
  },
): AsyncGenerator<VcardRecord> {
  const transcoded = options.encoding === 'utf-8' ? undefined : utf16AsUtf8(source, options.encoding);
  const chunks = transcoded ? transcoded.chunks : source;
  const offsetOf = (readOffset: number) =>
    from.offset + (transcoded ? transcoded.sourceOffset(readOffset) : readOffset);
  const cards = new CardAssembler(options.decoder, transcoded !== undefined, options.customKeys ?? []);

  let pending = '';
  let read = 0; // bytes of `chunks` before `pending`
  let line = from.line;
  // A line longer than any card may be (an unfolded photo, or not a vCard line at all) is not held.
  let dropping: 'binary' | 'text' | undefined;
  const take = (text: string, after: number) => {
    const lineStart = { offset: offsetOf(read), line };
    read = after;
    const record = cards.line(text, {
      start: () => lineStart,
      next: () => ({ offset: offsetOf(read), line: line + 1 }),
    });
    line += 1;
    return record;
  };
  for await (const chunk of chunks) {
    pending += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    let start = 0;
    for (;;) {
      const end = pending.indexOf('\n', start);
      if (end < 0) break;
      const lineEnd = pending[end - 1] === '\r' ? end - 1 : end;
      const text = dropping ? cards.dropped(dropping) : pending.slice(start, lineEnd);
      dropping = undefined;
      const record = take(text, read + end + 1 - start);
      start = end + 1;
      if (record) yield record;
    }
    pending = pending.slice(start);
    if (pending.length > maxCardBytes && !dropping) {
      dropping = /^\s*(?:[\w-]+\.)?(?:PHOTO|LOGO|SOUND|KEY)[;:]/i.test(pending) ? 'binary' : 'text';
    }
    if (dropping) {
      // Keep counting the bytes, not holding them.
      read += pending.length;
      pending = '';
    }
  }
  if (pending !== '' || dropping) {
    const text = dropping ? cards.dropped(dropping) : pending.endsWith('\r') ? pending.slice(0, -1) : pending;
    const record = take(text, read + pending.length);
    if (record) yield record;
  }
  const last = cards.end({ offset: offsetOf(read), line });
  if (last) yield last;
}

/** Builds cards from physical lines. */
class CardAssembler {
  private card:
    { line: number; version: string; lines: ContentLine[]; bytes: number; problem?: string } | undefined;
  /** The logical line being unfolded, and whether it is a quoted-printable value cut by a soft line break. */
  private logical: string | undefined;
  private softBreak = false;
  /** Skipping the lines of a 2.1 base64 value. */
  private inBase64 = false;
  private readonly cardDecoder: ValueDecoder;
  private readonly customColumns: ReadonlyMap<string, number>;

  constructor(decoder: FieldDecoder, utf8Only: boolean, customKeys: readonly string[]) {
    this.cardDecoder = new ValueDecoder(decoder, utf8Only);
    this.customColumns = new Map(customKeys.map((key, index) => [key, vcardHeaders.length + index]));
  }

  /** Takes one physical line; answers the card it ends, if it ends one. */
  line(text: string, at: { start: () => VcardPosition; next: () => VcardPosition }): VcardRecord | undefined {
    const card = this.card;
    if (!card) {
      if (/^\s*BEGIN\s*:\s*VCARD\s*$/i.test(text)) this.open(at.start().line);
      return undefined;
    }
    if (this.softBreak) {
      this.logical = this.logical!.slice(0, -1) + text;
      this.softBreak = text.endsWith('=');
      return undefined;
    }
    if ((text.startsWith(' ') || text.startsWith('\t')) && (this.logical !== undefined || this.inBase64)) {
      // RFC 2425 unfolding drops the line break and one white space; 2.1 (RFC 822 folding) keeps the space.
      if (this.logical !== undefined) this.logical += card.version === '2.1' ? text : text.slice(1);
      return undefined;
    }
    this.flush();
    if (this.inBase64) {
      if (text.trim() === '') {
        this.inBase64 = false;
        return undefined;
      }
      if (/^[A-Za-z0-9+/=]+$/.test(text.trim())) return undefined;
      this.inBase64 = false;
    }
    if (/^\s*END\s*:\s*VCARD\s*$/i.test(text)) {
      this.card = undefined;
      return this.record(card, at.next());
    }
    if (/^\s*BEGIN\s*:\s*VCARD\s*$/i.test(text)) {
      // A card cut short: it is reported, and a continuation starts again at this line.
      const start = at.start();
      this.open(start.line);
      return this.record(card, start, `The card starting on line ${card.line} has no END:VCARD`);
    }
    if (text.trim() === '') return undefined;
    this.logical = text;
    this.softBreak = text.endsWith('=') && /^[^:]*quoted-printable/i.test(text);
    return undefined;
  }

  /**
   * A line too long to hold was skipped: a binary value written on one line is nothing to import; any
   * other makes its card unreadable. Answers the text to go on with in its place (none).
   */
  dropped(what: 'binary' | 'text'): string {
    this.flush();
    if (what === 'text' && this.card)
      this.card.problem ??= `The card has a line of more than ${maxCardBytes / 1024 / 1024} MB`;
    return '';
  }

  /** The end of the file: the card still open, if any, is unfinished. */
  end(at: VcardPosition): VcardRecord | undefined {
    this.flush();
    const card = this.card;
    if (!card) return undefined;
    this.card = undefined;
    return this.record(
      card,
      at,
      `The card starting on line ${card.line} has no END:VCARD (is the file cut short?)`,
    );
  }

  private open(line: number) {
    this.card = { line, version: '', lines: [], bytes: 0 };
    this.logical = undefined;
    this.softBreak = false;
    this.inBase64 = false;
  }

  /** Ends the logical line being unfolded: parsed and kept in the card, unless it is binary. */
  private flush() {
    const text = this.logical;
    this.logical = undefined;
    this.softBreak = false;
    const card = this.card;
    if (text === undefined || !card) return;
    const content = parseContentLine(text);
    if (!content) return;
    if (content.name === 'VERSION') {
      card.version = content.value.trim();
      return;
    }
    const encoding = content.params.get('ENCODING')?.[0];
    if (binaryProperties.has(content.name) || encoding === 'base64' || encoding === 'b') {
      // 2.1 writes base64 on the following lines, up to a blank line.
      if (card.version === '2.1' && (encoding === 'base64' || encoding === 'b')) this.inBase64 = true;
      return;
    }
    if (!readProperties.has(content.name) && !this.customColumns.has(customFieldKeyOf(content.name) ?? ''))
      return;
    card.bytes += text.length;
    if (card.bytes > maxCardBytes) {
      card.problem ??= `The card holds more than ${maxCardBytes / 1024 / 1024} MB of text`;
      return;
    }
    card.lines.push(content);
  }

  private record(
    card: NonNullable<CardAssembler['card']>,
    next: VcardPosition,
    problem?: string,
  ): VcardRecord {
    const { fields, problem: unreadable } = cardFields(
      card.lines,
      card.version,
      this.cardDecoder,
      this.customColumns,
    );
    const why = problem ?? card.problem ?? unreadable;
    return { fields, line: card.line, next, ...(why ? { problem: why } : {}) };
  }
}

/**
 * One content line: `[group.]NAME[;PARAM=value[,value]...][;BARE]:value`, with quoted parameter values
 * (which may hold `:` `;` `,`). Names are upper-cased, TYPE values lower-cased; 2.1's bare parameters
 * (`;WORK;PREF`, `;QUOTED-PRINTABLE`, `;BASE64`) are read as the TYPE or ENCODING they stand for.
 */
export function parseContentLine(text: string): ContentLine | undefined {
  let colon = -1;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (char === ':' && !quoted) {
      colon = i;
      break;
    }
  }
  if (colon <= 0) return undefined;
  const [nameWithGroup, ...rawParams] = splitOutsideQuotes(text.slice(0, colon), ';');
  const name = nameWithGroup!.trim().split('.').pop()!.toUpperCase();
  if (name === '') return undefined;
  const params = new Map<string, string[]>();
  const add = (key: string, values: string[]) => params.set(key, [...(params.get(key) ?? []), ...values]);
  for (const raw of rawParams) {
    const equals = raw.indexOf('=');
    if (equals < 0) {
      const bare = raw.trim().toLowerCase();
      if (bare === '') continue;
      if (bare === 'quoted-printable' || bare === 'base64' || bare === '8bit' || bare === '7bit')
        add('ENCODING', [bare]);
      else add('TYPE', [bare]);
      continue;
    }
    const key = raw.slice(0, equals).trim().toUpperCase();
    const values = splitOutsideQuotes(raw.slice(equals + 1), ',').map((value) =>
      value.trim().replace(/^"(.*)"$/s, '$1'),
    );
    add(key, key === 'TYPE' || key === 'ENCODING' ? values.map((value) => value.toLowerCase()) : values);
  }
  return { name, params, value: text.slice(colon + 1) };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Turns a content line's raw value into text: quoted-printable, then the character set. */
class ValueDecoder {
  constructor(
    private readonly decoder: FieldDecoder,
    /** The bytes are UTF-8 already (read from UTF-16): no character set to apply. */
    private readonly utf8Only: boolean,
  ) {}

  /**
   * Settles the file's encoding on a whole card (as on a CSV record): its values without a CHARSET
   * together say whether it is UTF-8 and, if not, which code page ("Dvořák" alone reads in Windows-1252
   * too; beside "Šťastný s.r.o." it does not).
   */
  settleOn(contents: readonly ContentLine[]): void {
    if (this.utf8Only) return;
    this.decoder.settleOn(contents.filter((content) => !this.charsetOf(content)).map(bytesOf));
  }

  /** The text, or undefined when it is not well-formed in the file's encoding. */
  text(content: ContentLine): string | undefined {
    const bytes = bytesOf(content);
    if (this.utf8Only) return Buffer.from(bytes, 'latin1').toString('utf8');
    const charset = this.charsetOf(content);
    if (charset) {
      const decoded = decodeInCharset(bytes, charset);
      if (decoded !== undefined) return decoded;
    }
    return this.decoder.decode(bytes);
  }

  leniently(content: ContentLine): string {
    return this.decoder.decodeLeniently(bytesOf(content));
  }

  /** The value's own CHARSET (2.1): it wins over the file's encoding while its bytes are well-formed in it. */
  private charsetOf(content: ContentLine): string | undefined {
    return content.params.get('CHARSET')?.[0]?.toLowerCase();
  }
}

/** A value's bytes (Latin-1 characters), quoted-printable decoded. */
const bytesOf = (content: ContentLine): string =>
  content.params.get('ENCODING')?.[0] === 'quoted-printable'
    ? decodeQuotedPrintable(content.value)
    : content.value;

/** Quoted-printable (RFC 2045) as bytes (Latin-1 characters); soft line breaks are unfolded already. */
export const decodeQuotedPrintable = (value: string): string =>
  value
    .replace(/=(?:\r?\n|$)/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** CHARSET labels of the code pages the import reads with its own tables (text-decoding.ts). */
const charsetLabels: Record<string, LegacyEncoding> = {
  ...Object.fromEntries(legacyEncodings.map((encoding) => [encoding, encoding])),
  // Outlook labels Windows-1252 text ISO-8859-1 or US-ASCII as often as not; 1252 reads both.
  'iso-8859-1': 'windows-1252',
  latin1: 'windows-1252',
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
  cp1252: 'windows-1252',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  'x-mac-roman': 'macintosh',
  'shift-jis': 'shift_jis',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  'windows-31j': 'shift_jis',
  gb2312: 'gbk',
  cp936: 'gbk',
  cp950: 'big5',
  cp949: 'euc-kr',
  'ks_c_5601-1987': 'euc-kr',
};

/**
 * Text in a named character set (2.1's `CHARSET=Windows-1252`, `CHARSET=SHIFT_JIS`...); undefined when
 * the bytes are not well-formed in it or Node does not know it. The code pages the import has tables
 * for are read with those (Node's TextDecoder reads windows-1252 as Latin-1: no € for 0x80).
 */
function decodeInCharset(bytes: string, charset: string): string | undefined {
  const legacy = charsetLabels[charset];
  if (legacy) return legacyText(bytes, legacy);
  try {
    return new TextDecoder(charset, { fatal: true }).decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return undefined;
  }
}

/** RFC 6350 §3.4 escapes in a text value: `\\` `\,` `\;` `\n`/`\N`. */
const unescapeText = (value: string): string =>
  value.replace(/\\([\\,;nN:])/g, (_, char: string) => (char === 'n' || char === 'N' ? '\n' : char));

/** Splits at a separator not escaped with a backslash; the parts stay escaped. */
function splitUnescaped(value: string, separator: ';' | ','): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === separator) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

const clean = (text: string) => text.replace(/\r\n?/g, '\n').trim();

/** How strongly a value is preferred: PREF=1 (4.0) or TYPE=pref (2.1, 3.0) first, then file order. */
function preference(content: ContentLine): number {
  const pref = Number(content.params.get('PREF')?.[0]);
  if (Number.isInteger(pref) && pref >= 1) return pref;
  return content.params.get('TYPE')?.includes('pref') ? 1 : 101;
}

const googleSystemGroups = new Set(['mycontacts', 'starred']);

const linkedInUrl = /^(?:https?:\/\/)?(?:[a-z0-9-]+\.)*linkedin\.com\//i;

/** The row of a card: its properties under `vcardHeaders`. */
function cardFields(
  lines: ContentLine[],
  version: string,
  decoder: ValueDecoder,
  customColumns: ReadonlyMap<string, number>,
): { fields: string[]; problem?: string } {
  const fields: string[] = Array.from({ length: vcardHeaders.length + customColumns.size }, () => '');
  let problem: string | undefined;
  decoder.settleOn(lines);
  const decoded = lines
    .map((content, index) => {
      let text = decoder.text(content);
      if (text === undefined) {
        problem ??= `The card's ${content.name} is not well-formed text in the file's encoding`;
        text = decoder.leniently(content);
      }
      return { content, text: text.normalize('NFC'), index };
    })
    .sort((a, b) => preference(a.content) - preference(b.content) || a.index - b.index);
  const of = (name: string) => decoded.filter(({ content }) => content.name === name);
  const textOf = (text: string) => clean(unescapeText(text));
  const componentsOf = (text: string) => splitUnescaped(text, ';').map(textOf);
  const listOf = (text: string) =>
    splitUnescaped(text, ',')
      .map(textOf)
      .filter((value) => value !== '');
  const set = (header: VcardHeader, values: readonly string[]) => {
    const kept = [...new Set(values.map((value) => value.trim()).filter((value) => value !== ''))];
    fields[column[header]] = joinValues(kept);
  };
  // The written order, not the preferred one, for name parts and notes.
  const inFileOrder = (name: string) => of(name).sort((a, b) => a.index - b.index);
  /** The text of the first of a property (the preferred one), as a one-value list for `set`. */
  const firstText = (properties: { text: string }[]) =>
    properties.slice(0, 1).map(({ text }) => textOf(text));

  set('Name', firstText(inFileOrder('FN')));
  const name = inFileOrder('N')[0];
  if (name) {
    const [family = '', given = '', additional = ''] = componentsOf(name.text);
    // Components may be lists (RFC 6350 §6.2.2: "Smith,Jones"): their values are written with spaces.
    const words = (part: string) => part.replace(/\s*,\s*/g, ' ').trim();
    set('Last Name', [words(family)]);
    set('First Name', [words(given)]);
    set('Middle Name', [words(additional)]);
  }
  // Android writes a nickname as X-ANDROID-CUSTOM:vnd.android.cursor.item/nickname;<nickname>;...
  const androidNicknames = of('X-ANDROID-CUSTOM')
    .map(({ text }) => componentsOf(text))
    .filter(([kind]) => kind === 'vnd.android.cursor.item/nickname')
    .map(([, nickname = '']) => nickname);
  set('Nickname', [...of('NICKNAME').flatMap(({ text }) => listOf(text)), ...androidNicknames]);
  set(
    'Email',
    of('EMAIL').map(({ text }) => textOf(text).replace(/^mailto:/i, '')),
  );
  const phones = of('TEL').map(({ content, text }) => ({
    fax: content.params.get('TYPE')?.includes('fax') ?? false,
    number: phoneText(textOf(text)),
  }));
  set(
    'Phone',
    phones.filter((phone) => !phone.fax).map((phone) => phone.number),
  );
  set(
    'Fax',
    phones.filter((phone) => phone.fax).map((phone) => phone.number),
  );
  const urls = of('URL').map(({ text }) => textOf(text));
  // X-SOCIALPROFILE (Apple; this CRM's export for WhatsApp and Telegram): a profile URL, or a user name.
  const profiles = (type: string) =>
    of('X-SOCIALPROFILE')
      .filter(({ content }) => content.params.get('TYPE')?.includes(type))
      .map(({ text }) => textOf(text).replace(/^x-apple:/i, ''));
  const linkedIn = [
    ...urls.filter((url) => linkedInUrl.test(url)),
    ...of('X-SOCIALPROFILE')
      .map(({ text }) => textOf(text))
      .filter((url) => linkedInUrl.test(url)),
    ...profiles('linkedin')
      .filter((name) => /^[\p{L}\p{N}_-]+$/u.test(name))
      .map((name) => `https://www.linkedin.com/in/${name}`),
  ];
  set('LinkedIn', linkedIn.slice(0, 1));
  set('WhatsApp', profiles('whatsapp'));
  set('Telegram', profiles('telegram'));
  set(
    'Website',
    urls.filter((url) => !linkedInUrl.test(url)),
  );
  const organisation = of('ORG')[0];
  if (organisation) {
    const [company = '', ...units] = componentsOf(organisation.text);
    set('Company', [company]);
    set('Department', [units.filter((unit) => unit !== '').join(', ')]);
  }
  set('Job Title', firstText(of('TITLE')));
  set('Role', firstText(of('ROLE')));
  set('Segment', firstText(of('X-CRM-SEGMENT')));
  set('Owner', firstText(of('X-CRM-OWNER')));
  const address = of('ADR')[0];
  if (address) {
    const [poBox = '', extended = '', street = '', city = '', region = '', postalCode = '', country = ''] =
      componentsOf(address.text);
    set('Street', [[street, extended, poBox].filter((part) => part !== '').join(', ')]);
    set('City', [city]);
    set('State', [region]);
    set('Postal Code', [postalCode]);
    set('Country', [country]);
  }
  // A category may hold a comma ("Shrimp\, boats"): written so that the tag cell reads it back whole.
  // Google's own groups (every contact is in myContacts) are no tags, as in its CSV export.
  const categories = [
    ...new Set(
      of('CATEGORIES')
        .flatMap(({ text }) => listOf(text))
        .filter((category) => !googleSystemGroups.has(category.toLowerCase())),
    ),
  ];
  fields[column.Tags] = categories.length > 0 ? tagCellText(categories) : '';
  const birthday = of('BDAY')[0];
  if (birthday) {
    // Apple writes a birthday without a year in a placeholder year it names: --MM-DD, as vCard 4.0 writes it.
    const omitYear = birthday.content.params.get('X-APPLE-OMIT-YEAR')?.[0];
    const date = textOf(birthday.text);
    set('Birthday', [
      omitYear && date.startsWith(`${omitYear}-`) ? `--${date.slice(omitYear.length + 1)}` : date,
    ]);
  }
  for (const { content, text } of decoded) {
    const at = customColumns.get(customFieldKeyOf(content.name) ?? '');
    if (at !== undefined && fields[at] === '') fields[at] = textOf(text);
  }
  fields[column.Notes] = inFileOrder('NOTE')
    .map(({ text }) => textOf(text))
    .filter((note) => note !== '')
    .join('\n\n');
  if (version !== '' && !['2.1', '3.0', '4.0'].includes(version))
    problem ??= `vCard version ${version} is not one of 2.1, 3.0 and 4.0`;
  return { fields, ...(problem ? { problem } : {}) };
}

/** A TEL value as a number: a `tel:` URI (4.0) without its scheme, an extension written out. */
function phoneText(value: string): string {
  const uri = /^tel:([^;]*)((?:;[^;]*)*)$/i.exec(value);
  if (!uri) return value;
  const extension = /;ext=([^;]+)/i.exec(uri[2] ?? '')?.[1];
  return extension ? `${uri[1]} ext. ${extension}` : uri[1]!;
}
