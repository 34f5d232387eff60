/**
 * Text decoding for CSV files. Parsing works on bytes: a UTF-8 or Windows-1252 file is parsed as
 * Latin-1 (one byte, one character, so the parser's byte counts are file offsets and a continuation
 * can start at any record boundary), and each field is then decoded from its bytes. UTF-16 is turned
 * into UTF-8 for the parser, with a count of UTF-16 code units that maps the parser's offsets back to
 * the file's.
 */

export type TextEncoding = 'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be';

// Windows-1252 differs from Latin-1 only in 0x80–0x9F (five of which it leaves undefined: kept as is).
const cp1252High =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** Windows-1252 text from a string holding one byte per character (as the Latin-1 parse gives). */
export const windows1252FromBytes = (bytes: string): string =>
  bytes.replace(/[\x80-\x9f]/g, (char) => cp1252High[char.charCodeAt(0) - 0x80]!);

const ascii = /^[\x00-\x7f]*$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes fields of a file that is UTF-8 or, failing that, Windows-1252 (Excel's "CSV" on Western
 * Windows). Until a field holds a non-ASCII byte the two read the same; the first such field settles
 * it: valid UTF-8 → UTF-8, otherwise Windows-1252. A field that is not valid UTF-8 in a file already
 * settled as UTF-8 is corrupt: `decode` answers undefined and the record is rejected.
 */
export class FieldDecoder {
  constructor(
    public encoding: 'utf-8' | 'windows-1252',
    /** Whether a non-ASCII byte has been seen (the sniffed start of the file counts). */
    public settled: boolean,
  ) {}

  decode(bytes: string): string | undefined {
    if (ascii.test(bytes)) return bytes;
    if (this.encoding === 'windows-1252') return windows1252FromBytes(bytes);
    try {
      const text = strictUtf8.decode(Buffer.from(bytes, 'latin1'));
      this.settled = true;
      return text;
    } catch {
      if (this.settled) return undefined;
      this.encoding = 'windows-1252';
      this.settled = true;
      return windows1252FromBytes(bytes);
    }
  }

  /** As `decode`, but invalid UTF-8 becomes U+FFFD instead of failing (for error reports). */
  decodeLeniently(bytes: string): string {
    if (this.encoding === 'windows-1252') return windows1252FromBytes(bytes);
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
}

/**
 * UTF-16 bytes (without their BOM) as UTF-8 chunks, and `sourceOffset(n)`: how many source bytes
 * the first `n` UTF-8 bytes came from. Offsets must be asked in increasing order (the parser reports
 * records in order), which keeps the count a single forward scan.
 */
export function utf16AsUtf8(source: AsyncIterable<Uint8Array>, encoding: 'utf-16le' | 'utf-16be') {
  const decoder = new TextDecoder(encoding);
  const pending: Buffer[] = [];
  let scanned = 0; // UTF-8 bytes counted so far
  let pendingStart = 0; // UTF-8 offset of pending[0]
  let units = 0; // UTF-16 code units behind `scanned`

  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const text = decoder.decode(chunk, { stream: true });
      if (text === '') continue;
      const utf8 = Buffer.from(text, 'utf8');
      pending.push(utf8);
      yield utf8;
    }
    const rest = decoder.decode();
    if (rest !== '') {
      const utf8 = Buffer.from(rest, 'utf8');
      pending.push(utf8);
      yield utf8;
    }
  }

  function sourceOffset(utf8Offset: number): number {
    while (scanned < utf8Offset) {
      const chunk = pending[0];
      if (!chunk) throw new Error(`UTF-8 offset ${utf8Offset} is past the data decoded so far`);
      const stop = Math.min(chunk.length, utf8Offset - pendingStart);
      for (let i = scanned - pendingStart; i < stop; i++) {
        const byte = chunk[i]!;
        // A lead byte starts a character: four-byte ones are surrogate pairs in UTF-16.
        if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
      }
      scanned = pendingStart + stop;
      if (stop === chunk.length) {
        pending.shift();
        pendingStart += chunk.length;
      }
    }
    return units * 2;
  }

  return { chunks: chunks(), sourceOffset };
}
