/**
 * Text decoding for CSV files. Parsing works on bytes: a UTF-8 or one-byte (Windows-1252, Mac Roman,
 * Windows-1250, Windows-1251) file is parsed as
 * Latin-1 (one byte, one character, so the parser's byte counts are file offsets and a continuation
 * can start at any record boundary), and each field is then decoded from its bytes. UTF-16 is turned
 * into UTF-8 for the parser, with a count of UTF-16 code units that maps the parser's offsets back to
 * the file's.
 */

export type TextEncoding = 'utf-8' | OneByteEncoding | 'utf-16le' | 'utf-16be';
/**
 * The one-byte encodings of text that is not UTF-8: Excel's "CSV" on Windows writes the system's ANSI
 * code page (Western 1252, Central European 1250, Cyrillic 1251, Greek 1253, Turkish 1254), Excel for
 * Mac writes Mac Roman.
 */
export type OneByteEncoding = 'windows-1252' | 'macintosh' | 'windows-1250' | 'windows-1251' | 'windows-1253' | 'windows-1254';
export const oneByteEncodings = ['windows-1252', 'macintosh', 'windows-1250', 'windows-1251', 'windows-1253', 'windows-1254'] as const satisfies readonly OneByteEncoding[];
export const isOneByteEncoding = (encoding: TextEncoding | undefined): encoding is OneByteEncoding =>
  (oneByteEncodings as readonly string[]).includes(encoding ?? '');

// Windows-1252 differs from Latin-1 only in 0x80–0x9F (five of which it leaves undefined: kept as is).
const cp1252High =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** Windows-1252 text from a string holding one byte per character (as the Latin-1 parse gives). */
export const windows1252FromBytes = (bytes: string): string =>
  bytes.replace(/[\x80-\x9f]/g, (char) => cp1252High[char.charCodeAt(0) - 0x80]!);

// Mac OS Roman's 0x80–0xFF, which Excel for Mac's "Comma Separated Values (.csv)" still writes.
const macRomanHigh =
  '\u00c4\u00c5\u00c7\u00c9\u00d1\u00d6\u00dc\u00e1\u00e0\u00e2\u00e4\u00e3\u00e5\u00e7\u00e9\u00e8' +
  '\u00ea\u00eb\u00ed\u00ec\u00ee\u00ef\u00f1\u00f3\u00f2\u00f4\u00f6\u00f5\u00fa\u00f9\u00fb\u00fc' +
  '\u2020\u00b0\u00a2\u00a3\u00a7\u2022\u00b6\u00df\u00ae\u00a9\u2122\u00b4\u00a8\u2260\u00c6\u00d8' +
  '\u221e\u00b1\u2264\u2265\u00a5\u00b5\u2202\u2211\u220f\u03c0\u222b\u00aa\u00ba\u03a9\u00e6\u00f8' +
  '\u00bf\u00a1\u00ac\u221a\u0192\u2248\u2206\u00ab\u00bb\u2026\u00a0\u00c0\u00c3\u00d5\u0152\u0153' +
  '\u2013\u2014\u201c\u201d\u2018\u2019\u00f7\u25ca\u00ff\u0178\u2044\u20ac\u2039\u203a\ufb01\ufb02' +
  '\u2021\u00b7\u201a\u201e\u2030\u00c2\u00ca\u00c1\u00cb\u00c8\u00cd\u00ce\u00cf\u00cc\u00d3\u00d4' +
  '\uf8ff\u00d2\u00da\u00db\u00d9\u0131\u02c6\u02dc\u00af\u02d8\u02d9\u02da\u00b8\u02dd\u02db\u02c7';

/** Mac Roman text from a string holding one byte per character. */
export const macRomanFromBytes = (bytes: string): string =>
  bytes.replace(/[\x80-\xff]/g, (char) => macRomanHigh[char.charCodeAt(0) - 0x80]!);

// The other code pages' 0x80–0xFF, from the platform's decoders (WHATWG tables, as browsers use
// them), each built once on first use: a table lookup per byte, as for Mac Roman.
const upperHalves = new Map<OneByteEncoding, string>();
const upperHalfOf = (encoding: 'windows-1250' | 'windows-1251' | 'windows-1253' | 'windows-1254'): string => {
  let half = upperHalves.get(encoding);
  if (half === undefined) {
    const decoder = new TextDecoder(encoding);
    half = Array.from({ length: 128 }, (_, i) => decoder.decode(Uint8Array.of(0x80 + i))).join('');
    upperHalves.set(encoding, half);
  }
  return half;
};

/** One-byte text from a string holding one byte per character. */
export const oneByteText = (bytes: string, encoding: OneByteEncoding): string => {
  switch (encoding) {
    case 'macintosh':
      return macRomanFromBytes(bytes);
    case 'windows-1252':
      return windows1252FromBytes(bytes);
    default: {
      const half = upperHalfOf(encoding);
      return bytes.replace(/[\x80-\xff]/g, (char) => half[char.charCodeAt(0) - 0x80]!);
    }
  }
};

const asciiLetter = /[A-Za-z]/;
const asciiLowercase = /[a-z]/;
const casedLetter = /[\p{Lu}\p{Ll}]/u;
const lowercaseLetter = /\p{Ll}/u;

/** Whether `char` reads as part of a word where it stands: a letter of the right case, or an apostrophe. */
const fitsWord = (char: string, afterLowercase: boolean) =>
  char === '\u2019' || (afterLowercase ? lowercaseLetter : casedLetter).test(char);

const cyrillicWord = /^\p{Script=Cyrillic}{2,}$/u;
// The commonest vowels: о, а, и in Russian (and Ukrainian) text, α, ο, ι in Greek. Each is a rare
// letter read in the other code page (Greek α is Cyrillic б; Russian о is Greek ξ).
const russianVowels = /[оаиОАИ]/gu;
const greekVowels = /[αοιΑΟΙ]/gu;

// Central European letters Windows-1250 and Windows-1252 share (Š š Ž ž): common in Czech, Slovak,
// Slovene and Croatian names, rare in Western European ones.
const centralEuropeanMark = /[\x8a\x8e\x9a\x9e]/;
// Where Windows-1254 differs from Windows-1252 in letters: Ğ ğ Ş ş (Ð ð Þ þ there, Icelandic), common
// in Turkish names (Doğan, Şahin), next to never in the other Western languages.
const turkishMark = /[\xd0\xde\xf0\xfe]/;

/**
 * Which one-byte encoding text that is not UTF-8 is in (`bytes`: one byte per character).
 *
 * Cyrillic and Greek first: read as Windows-1251, a Russian or Ukrainian file has whole words of
 * non-ASCII letters (and so has a Greek file, whose letters sit on the same bytes), which Western text
 * almost never has: its accents sit between ASCII letters. It is one of the two when more non-ASCII
 * bytes stand in such words than beside an ASCII letter, and make at least half of them. Which one,
 * the commonest vowels tell: о, а, и read as Windows-1251 against α, ο, ι read as Windows-1253 (each
 * is a rare letter in the other reading); Windows-1251 on a tie.
 *
 * The Latin ones share ASCII and differ above it: one's letter is another's punctuation or a letter
 * of the other case (Mac Roman's é is Windows-1252's Ž; Windows-1250's ł is Windows-1252's ³). Each
 * non-ASCII byte beside an ASCII letter is read every way, and counts for each encoding in which it
 * fits the word (a lowercase letter after a lowercase one, any letter elsewhere, or an apostrophe).
 * The most counts win, Windows-1252 (by far the most common) on a tie, except that a tie with
 * Windows-1250 goes to it when the text has Š, š, Ž or ž: Czech "Dvořák" and French "Dvoøák" both
 * read as words, but only a Central European file is likely to hold "Šťastný" too. Likewise a tie goes
 * to Windows-1254 when the text has Ğ, ğ, Ş or ş ("Doğan" is "Doðan" in Windows-1252).
 */
export function oneByteEncodingOf(bytes: string): OneByteEncoding {
  let high = 0;
  // Greek text read as Windows-1251 is Cyrillic words too: both count here, and the vowels tell them apart.
  const asCyrillic = oneByteText(bytes, 'windows-1251');
  let inScriptWords = 0;
  for (const word of asCyrillic.split(/[^\p{L}\p{M}]+/u)) {
    if (cyrillicWord.test(word)) inScriptWords += word.length;
  }
  const nonLatin =
    (oneByteText(bytes, 'windows-1253').match(greekVowels)?.length ?? 0) > (asCyrillic.match(russianVowels)?.length ?? 0)
      ? 'windows-1253'
      : 'windows-1251';
  const counts = { 'windows-1252': 0, macintosh: 0, 'windows-1250': 0, 'windows-1254': 0 };
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    if (code < 0x80) continue;
    high++;
    const before = bytes[i - 1] ?? '';
    if (!asciiLetter.test(before) && !asciiLetter.test(bytes[i + 1] ?? '')) continue;
    const afterLowercase = asciiLowercase.test(before);
    for (const encoding of ['windows-1252', 'macintosh', 'windows-1250', 'windows-1254'] as const) {
      if (fitsWord(oneByteText(bytes[i]!, encoding), afterLowercase)) counts[encoding]++;
    }
  }
  const besideAscii = Math.max(counts['windows-1252'], counts.macintosh, counts['windows-1250']);
  if (inScriptWords > besideAscii && inScriptWords * 2 >= high) return nonLatin;
  const western = counts['windows-1252'];
  const centralEuropean = counts['windows-1250'];
  if (counts.macintosh > western && counts.macintosh > centralEuropean) return 'macintosh';
  if (centralEuropean > western || (centralEuropean === western && western > 0 && centralEuropeanMark.test(bytes))) return 'windows-1250';
  if (counts['windows-1254'] >= western && western > 0 && turkishMark.test(bytes)) return 'windows-1254';
  return 'windows-1252';
}

const ascii = /^[\x00-\x7f]*$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes fields of a file that is UTF-8 or, failing that, one-byte (Excel's "CSV": the ANSI code page
 * on Windows, Mac Roman on a Mac), as `oneByteEncodingOf` tells. Until a field holds a
 * non-ASCII byte they all read the same; the first such field settles it: valid UTF-8 → UTF-8,
 * otherwise the one-byte encoding its bytes read best in. A field that is not valid UTF-8 in a file
 * already settled as UTF-8 is corrupt: `decode` answers undefined and the record is rejected.
 */
export class FieldDecoder {
  constructor(
    public encoding: 'utf-8' | OneByteEncoding,
    /** Whether a non-ASCII byte has been seen (the sniffed start of the file counts). */
    public settled: boolean,
  ) {}

  /**
   * Settles the encoding on a whole record before its fields are decoded one by one: the first
   * non-ASCII field still says whether it is UTF-8, but a one-byte encoding is told from all the
   * record's non-ASCII fields ("Jiří Dvořák" alone reads in Windows-1252 too; beside "Šťastný s.r.o."
   * it does not).
   */
  settleOn(fields: string[]): void {
    if (this.settled || this.encoding !== 'utf-8') return;
    const nonAscii = fields.filter((field) => !ascii.test(field));
    if (nonAscii.length === 0) return;
    this.settled = true;
    try {
      strictUtf8.decode(Buffer.from(nonAscii[0]!, 'latin1'));
    } catch {
      this.encoding = oneByteEncodingOf(nonAscii.join(' '));
    }
  }

  decode(bytes: string): string | undefined {
    if (ascii.test(bytes)) return bytes;
    if (this.encoding !== 'utf-8') return oneByteText(bytes, this.encoding);
    try {
      const text = strictUtf8.decode(Buffer.from(bytes, 'latin1'));
      this.settled = true;
      return text;
    } catch {
      if (this.settled) return undefined;
      this.encoding = oneByteEncodingOf(bytes);
      this.settled = true;
      return oneByteText(bytes, this.encoding);
    }
  }

  /** As `decode`, but invalid UTF-8 becomes U+FFFD instead of failing (for error reports). */
  decodeLeniently(bytes: string): string {
    if (this.encoding !== 'utf-8') return oneByteText(bytes, this.encoding);
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
