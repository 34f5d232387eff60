/**
 * Text decoding for CSV files. Parsing works on bytes: a UTF-8 file, or one in a legacy code page
 * (Windows-1252, Mac Roman and the other one-byte code pages below, or an East Asian one:
 * multi-byte-encodings.ts) is parsed as
 * Latin-1 (one byte, one character, so the parser's byte counts are file offsets and a continuation
 * can start at any record boundary), and each field is then decoded from its bytes. UTF-16 is turned
 * into UTF-8 for the parser, with a count of UTF-16 code units that maps the parser's offsets back to
 * the file's.
 */
import {
  isMultiByteEncoding,
  multiByteEncodingOf,
  multiByteEncodings,
  multiByteText,
  multiByteTextLeniently,
  type MultiByteEncoding,
} from './multi-byte-encodings';

export type TextEncoding = 'utf-8' | LegacyEncoding | 'utf-16le' | 'utf-16be';
/**
 * The one-byte encodings of text that is not UTF-8: Excel's "CSV" on Windows writes the system's ANSI
 * code page (Western 1252, Central European 1250, Cyrillic 1251, Greek 1253, Turkish 1254, Hebrew 1255,
 * Arabic 1256, Baltic 1257, Vietnamese 1258, Thai 874), Excel for Mac writes Mac Roman.
 */
export const oneByteEncodings = [
  'windows-1252',
  'macintosh',
  'windows-1250',
  'windows-1251',
  'windows-1253',
  'windows-1254',
  'windows-1255',
  'windows-1256',
  'windows-1257',
  'windows-1258',
  'windows-874',
] as const;
export type OneByteEncoding = (typeof oneByteEncodings)[number];
export const isOneByteEncoding = (encoding: TextEncoding | undefined): encoding is OneByteEncoding =>
  (oneByteEncodings as readonly string[]).includes(encoding ?? '');

/** The code pages of text that is neither UTF-8 nor UTF-16: one-byte and East Asian. */
export const legacyEncodings = [...oneByteEncodings, ...multiByteEncodings] as const;
export type LegacyEncoding = OneByteEncoding | MultiByteEncoding;
export const isLegacyEncoding = (encoding: TextEncoding | undefined): encoding is LegacyEncoding =>
  isOneByteEncoding(encoding) || isMultiByteEncoding(encoding);

/**
 * Which legacy code page text that is not UTF-8 is in (`bytes`: one byte per character): an East
 * Asian one when its detector says so, unless the text reads as Russian or Greek words in Windows-1251
 * or -1253 (a few of them can be well-formed GBK, with characters ICU counts as common); else the
 * one-byte code page its bytes read best in.
 */
export function legacyEncodingOf(bytes: string): LegacyEncoding {
  // Before the East Asian detector: Vietnamese pairs such as ê + tilde (EA DE) are well-formed GBK.
  if (readsAsVietnamese(bytes)) return 'windows-1258';
  const multiByte = multiByteEncodingOf(bytes);
  if (
    multiByte &&
    !readsAsWords(bytes, 'windows-1251', cyrillicRun) &&
    !readsAsWords(bytes, 'windows-1253', greekRun)
  ) {
    return multiByte;
  }
  return oneByteEncodingOf(bytes);
}

const cyrillicRun = /\p{Script=Cyrillic}{2,}/gu;
const greekRun = /\p{Script=Greek}{2,}/gu;
const casedAsWritten = /^\p{Lu}?\p{Ll}+$|^\p{Lu}+$/u;

/**
 * Whether the text, read in a one-byte code page, is words of its script as people write them: nine in
 * ten of them lowercase after an optional capital, or all capitals, and nine in ten of its non-ASCII
 * bytes in them. East Asian text read so is letters of random case broken up by symbols.
 */
function readsAsWords(bytes: string, encoding: 'windows-1251' | 'windows-1253', run: RegExp): boolean {
  let high = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes.charCodeAt(i) >= 0x80) high++;
  let words = 0;
  let cased = 0;
  let letters = 0;
  for (const [word] of oneByteText(bytes, encoding).matchAll(run)) {
    words++;
    letters += word.length;
    if (casedAsWritten.test(word)) cased++;
  }
  return words >= 2 && cased * 10 >= words * 9 && letters * 10 >= high * 9;
}

/** The text of `bytes` (one byte per character) in a legacy code page; undefined when not well-formed there. */
export const legacyText = (bytes: string, encoding: LegacyEncoding): string | undefined =>
  isOneByteEncoding(encoding) ? oneByteText(bytes, encoding) : multiByteText(bytes, encoding);

/** As `legacyText`, with U+FFFD for what is not well-formed (for error reports). */
export const legacyTextLeniently = (bytes: string, encoding: LegacyEncoding): string =>
  isOneByteEncoding(encoding) ? oneByteText(bytes, encoding) : multiByteTextLeniently(bytes, encoding);

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
const upperHalfOf = (encoding: Exclude<OneByteEncoding, 'windows-1252' | 'macintosh'>): string => {
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

// What ends a word in `bytes`: not an ASCII letter or digit, nor a byte above ASCII (a letter, maybe).
const outsideWord = /^(?:[^A-Za-z0-9\x80-\xff])?$/;
const asciiLetterOrDigit = /[A-Za-z0-9]/;
const endsSentence = /[A-Za-z0-9.,!?]/;
const spaceOrDigit = /[ 0-9]/;

/**
 * Whether `char` reads as the typographic punctuation Word, Outlook and Excel's AutoCorrect put in text,
 * where it stands: an opening quote before a word, a closing one or an ellipsis after one, a dash
 * between spaces or digits ("2019–2024"). The Windows code pages have them on 0x85 and 0x91–0x97, Mac
 * Roman on 0xC9 and 0xD0–0xD5, letters in the other. Only places where that letter is next to never
 * found count: no word starts with Mac Roman's ì or ends with its î, ñ and ó are no word alone. Not “
 * as a closing quote (German „so“: Italian "così" ends on its byte), nor „ (Spanish "Ñandú" starts on it).
 */
const fitsAsPunctuation = (char: string, before: string, after: string) => {
  switch (char) {
    case '\u201c': // “
    case '\u2018': // ‘
      return asciiLetterOrDigit.test(after) && outsideWord.test(before);
    case '\u201d': // ”
    case '\u2026': // …
      return endsSentence.test(before) && outsideWord.test(after);
    case '\u2013': // –
    case '\u2014': // —
      return spaceOrDigit.test(before) && spaceOrDigit.test(after);
    default:
      return false;
  }
};

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
// The same bytes are Windows-1257's Š š Ž ž (Lithuanian, Latvian). A Baltic file has letters beside them
// that Turkish never writes (ą į ā ę č ė ģ ķ ī ļ ņ ų ū and their capitals: à á â æ è ë ì í î ï ò ø û in
// Windows-1254), and not Turkish's ı or İ.
const balticLetter =
  /[\xc0\xc1\xc2\xc6\xc8\xcb\xcc\xcd\xce\xcf\xd2\xd8\xdb\xe0\xe1\xe2\xe6\xe8\xeb\xec\xed\xee\xef\xf2\xf8\xfb]/;
const turkishDotless = /[\xdd\xfd]/;
// Icelandic, written in Windows-1252, has Ð ð Þ þ on those bytes and Ý ý on Turkish's İ ı, beside
// vowels with an acute accent on nearly every line (-dóttir, Jón, Guðrún). Turkish writes no acute
// accent and no æ, and Icelandic no ç or ü; of those vowels, é ó ú are not Baltic letters either
// (the others are Windows-1257's į ķ ę and their capitals).
const icelandicVowel = /[\xc1\xc6\xc9\xcd\xd3\xda\xe1\xe6\xe9\xed\xf3\xfa]/g;
const icelandicNotBalticVowel = /[\xc9\xd3\xda\xe9\xf3\xfa]/g;
const turkishNotIcelandic = /[\xc7\xdc\xe7\xfc]/;
const dotlessOrY = /[\xdd\xfd]/g;

/** Icelandic rather than Turkish (or Baltic): `vowels` there, no ç or ü, and at least as many of them as ı/ý. */
const readsAsIcelandic = (bytes: string, vowels: RegExp) => {
  const found = bytes.match(vowels)?.length ?? 0;
  return found > 0 && !turkishNotIcelandic.test(bytes) && found >= (bytes.match(dotlessOrY)?.length ?? 0);
};

// Windows-1258 (Vietnamese) writes most tones as combining marks after their vowel (0xCC grave, 0xEC
// acute, 0xD2 hook above, 0xDE tilde, 0xF2 dot below: "Nguyễn" is Nguyê, tilde, n), the vowel an ASCII one
// or one of its own (Â Ă Ê Ô Ơ Ư and lowercase), and has ư ơ side by side ("Trương"). The other code
// pages have letters on those bytes (Ì ì Ò ò Þ, Turkish Ş, ...) that words write after a consonant, if
// at all, East Asian text has no ASCII letter before its vowel byte, and after a tone Vietnamese goes
// on in ASCII: one such byte elsewhere, and the text is not Vietnamese. Nor is text with Ç Ö Ü ç ö ü, which Vietnamese never writes. A tone after a
// capital is weak evidence (Turkish "AYŞE", Italian "PUÒ"): it counts beside Ă ă Ơ ơ ("NGUYỄN VĂN").
const vietnameseTone = new Set([0xcc, 0xd2, 0xde, 0xec, 0xf2]);
const vietnameseVowel = new Set([0xc2, 0xc3, 0xca, 0xd4, 0xd5, 0xdd, 0xe2, 0xe3, 0xea, 0xf4, 0xf5, 0xfd]);
const vietnameseLowercaseVowel = new Set([0xe2, 0xe3, 0xea, 0xf4, 0xf5, 0xfd]);
// Đ đ: a consonant of its own, which may stand before a vowel byte ("Đặng").
const vietnameseConsonant = new Set([0xd0, 0xf0]);
// Ă ă Ơ ơ: in the other Latin code pages Ã ã Õ õ, which Turkish never writes.
const vietnameseBreveOrHorn = new Set([0xc3, 0xd5, 0xe3, 0xf5]);
const notVietnamese = new Set([0xc7, 0xd6, 0xdc, 0xe7, 0xf6, 0xfc]);
const asciiVowel = /[aeiouyAEIOUY]/;
const asciiLowercaseVowel = /[aeiouy]/;

function readsAsVietnamese(bytes: string): boolean {
  let strong = 0;
  let weak = 0;
  let breveOrHorn = 0;
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    if (code < 0x80) continue;
    if (notVietnamese.has(code)) return false;
    if (vietnameseBreveOrHorn.has(code)) breveOrHorn++;
    // ư then ơ (or their capitals): no other language writes ýõ, ıõ.
    if ((code === 0xfd && bytes.charCodeAt(i + 1) === 0xf5) || (code === 0xdd && bytes.charCodeAt(i + 1) === 0xd5)) strong++;
    if (!vietnameseTone.has(code)) continue;
    let start = i - 1;
    while (start >= 0 && i - start <= 3 && vietnameseVowel.has(bytes.charCodeAt(start))) start--;
    const before = bytes[start] ?? ' ';
    const afterVowel =
      start === i - 1
        ? asciiVowel.test(before)
        : (before < '\x80' && !/\d/.test(before)) || vietnameseConsonant.has(before.charCodeAt(0));
    // After the tone, the word goes on in ASCII or ends (Cyrillic, Greek or Arabic text goes on in letters above it).
    if (!afterVowel || bytes.charCodeAt(i + 1) >= 0x80) return false;
    const vowel = bytes[i - 1]!;
    if (asciiLowercaseVowel.test(vowel) || vietnameseLowercaseVowel.has(vowel.charCodeAt(0))) strong++;
    else weak++;
  }
  return strong > 0 || (weak > 0 && breveOrHorn > 0);
}

// Windows-874 (Thai): its vowel and tone marks that sit above or below a letter follow a consonant
// (0xA1–0xCE) or another such mark, its vowels written first (เ แ โ ใ ไ) come before a consonant, and it
// has no letters at 0xDB–0xDE or 0xFC–0xFF. Cyrillic, Greek or Latin text read so breaks these at once,
// but for Greek capitals (0xC1–0xD9), which have none of the consonants below 0xC1 (ก to ภ) that Thai
// text always has.
const thaiConsonant = (code: number) => code >= 0xa1 && code <= 0xce;
const thaiMark = (code: number) =>
  code === 0xd1 || (code >= 0xd4 && code <= 0xda) || (code >= 0xe7 && code <= 0xee);
const notThai = (code: number) =>
  (code >= 0x81 && code <= 0x84) ||
  (code >= 0x86 && code <= 0x90) ||
  (code >= 0x98 && code <= 0x9f) ||
  (code >= 0xdb && code <= 0xde) ||
  code >= 0xfc;

function readsAsThai(bytes: string): boolean {
  let placed = 0;
  let lowConsonant = false;
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    if (code < 0x80) continue;
    if (notThai(code)) return false;
    if (code <= 0xc0 && thaiConsonant(code)) lowConsonant = true;
    if (thaiMark(code)) {
      const previous = bytes.charCodeAt(i - 1);
      if (!thaiConsonant(previous) && !thaiMark(previous)) return false;
      placed++;
    } else if (code >= 0xe0 && code <= 0xe4) {
      if (!thaiConsonant(bytes.charCodeAt(i + 1))) return false;
      placed++;
    }
  }
  return placed >= 2 && lowConsonant;
}

/** How the bytes of a file's Cyrillic-looking words (read as Windows-1251) fall. */
interface NonLatinTally {
  /** Bytes 0xC0–0xDF (but ׳ ״): capitals in Windows-1251. */
  upper: number;
  /** Bytes 0xE0–0xFF: lowercase in Windows-1251. */
  lower: number;
  /** Those of `lower` on which Windows-1256 has an Arabic letter (ل م ن ه و ى ي). */
  arabicLower: number;
  /** Bytes 0x80–0xBF on which Windows-1256 has neither a letter nor ، ؛ ؟ (Greek Ά, Ukrainian і, Russian ё). */
  notArabic: number;
  /** Bytes on which Windows-1255 has no letter and no mark, but Windows-1251 has a letter. */
  notHebrew: number;
  /** Hebrew's word-final letters (ך ם ן ף ץ) where a word goes on. */
  finalMidWord: number;
  /** Greek's ά έ ή ί after a lowercase letter: Ь Э Ю Я there in Windows-1251, where no Russian word has a capital. */
  greekTonos: number;
}

// Windows-1256's Arabic letters among 0xE0–0xFF; the rest of that range is Latin (à, ç, é, ...) and vowel marks.
const arabicLowerBytes = new Set([0xe1, 0xe3, 0xe4, 0xe5, 0xe6, 0xec, 0xed]);
// Windows-1256's letters among 0x80–0xBF (Persian and Urdu ones: پ چ ژ گ ک ...), and its ، ؛ ؟,
// which read as letters in Windows-1251 (Ў є ї).
const arabicHighBytes = new Set([
  0x81, 0x8a, 0x8d, 0x8e, 0x8f, 0x90, 0x98, 0x9a, 0x9f, 0xaa, 0xa1, 0xba, 0xbf,
]);
// Windows-1255's final forms (ך ם ן ף ץ): к, н, п, у, х in Windows-1251, anywhere in a Russian word.
const hebrewFinalBytes = new Set([0xea, 0xed, 0xef, 0xf3, 0xf5]);

function tallyNonLatin(tally: NonLatinTally, code: number, previous: number, endsWord: boolean): void {
  if (code >= 0xdc && code <= 0xdf && previous >= 0xe0) tally.greekTonos++;
  if (code >= 0xe0) {
    tally.lower++;
    if (arabicLowerBytes.has(code)) tally.arabicLower++;
    if (code === 0xfb || code === 0xfc || code === 0xff) tally.notHebrew++;
    if (!endsWord && hebrewFinalBytes.has(code)) tally.finalMidWord++;
  } else if (code === 0xd7 || code === 0xd8) {
    // Hebrew's ׳ and ״ (in abbreviations: מנכ״ל), Ч and Ш in Windows-1251: neither way a sign of case.
  } else if (code >= 0xc0) {
    tally.upper++;
    if (code >= 0xd9) tally.notHebrew++;
  } else {
    tally.notHebrew++;
    if (!arabicHighBytes.has(code)) tally.notArabic++;
  }
}

/**
 * Hebrew (Windows-1255) and Arabic (Windows-1256) letters read as Cyrillic in Windows-1251 too, but with
 * a pattern of case no Russian or Greek text has:
 * - Hebrew has no case. Its letters (0xE0–0xFA) all read as lowercase Cyrillic, and the capitals'
 *   bytes hold only its vowel points and ׳ ״. Russian text has a capital in nearly every name, and
 *   most of its words have ы, ь or я (no letter in Windows-1255), or к, н, п, у or х before their end
 *   (Hebrew's word-final letters).
 * - Arabic has no case either. Its letters fill the capitals' bytes, and of the lowercase ones it uses
 *   only ل م ن ه و ى ي, on which Russian has б г д е ж м н: Russian's а, о, и, т, р, с are Latin
 *   letters and vowel marks in Windows-1256.
 */
function hebrewOrArabic(tally: NonLatinTally): 'windows-1255' | 'windows-1256' | undefined {
  const { upper, lower, arabicLower, notArabic, notHebrew, finalMidWord } = tally;
  const hebrewFits = notHebrew === 0 && finalMidWord === 0;
  if (
    upper + lower >= 3 &&
    lower >= 1 &&
    notArabic === 0 &&
    arabicLower * 10 >= lower * 9 &&
    (upper >= 1 || !hebrewFits)
  ) {
    return 'windows-1256';
  }
  if (lower >= 2 && hebrewFits && upper * 10 <= lower) return 'windows-1255';
  return undefined;
}

/**
 * Which one-byte encoding text that is not UTF-8 is in (`bytes`: one byte per character).
 *
 * Thai first, when its marks stand where Thai puts them (`readsAsThai`). Then other non-Latin scripts: read as Windows-1251, a Russian or Ukrainian file has whole words of
 * non-ASCII letters (and so have Greek, Hebrew and Arabic files, whose letters sit on the same
 * bytes), which Western text almost never has: its accents sit between ASCII letters. It is one of
 * those when more non-ASCII bytes stand in such words than beside an ASCII letter, and make at least
 * half of them. Hebrew and Arabic are told by the case their words would have in Windows-1251
 * (`hebrewOrArabic`). Greek by its accented ά, έ, ή, ί after a lowercase letter (capitals there in
 * Windows-1251), else by the commonest vowels: о, а, и read as Windows-1251 against α, ο, ι read as
 * Windows-1253 (each is a rare letter in the other reading); Windows-1251 on a tie.
 *
 * The Latin ones share ASCII and differ above it: one's letter is another's punctuation or a letter
 * of the other case (Mac Roman's é is Windows-1252's Ž; Windows-1250's ł is Windows-1252's ³). Each
 * non-ASCII byte beside an ASCII letter is read every way, and counts for each encoding in which it
 * fits the word (a lowercase letter after a lowercase one, any letter elsewhere, or an apostrophe),
 * as does one that reads as a curly quote, dash or ellipsis where such punctuation stands
 * (`fitsAsPunctuation`: Windows-1252's “hot” is Mac Roman's "ìhotî", letters that fit too).
 * The most counts win, Windows-1252 (by far the most common) on a tie, except that a tie with
 * Windows-1250 goes to it when the text has Š, š, Ž or ž: Czech "Dvořák" and French "Dvoøák" both
 * read as words, but only a Central European file is likely to hold "Šťastný" too. Likewise a tie goes
 * to Windows-1254 when the text has Ğ, ğ, Ş or ş ("Doğan" is "Doðan" in Windows-1252), or to
 * Windows-1257 when those bytes (its Š š Ž ž) stand beside Baltic letters and no ı or İ ("Bērziņš"),
 * except that Icelandic stays Windows-1252: Ð ð Þ þ there beside vowels with an acute accent and no ç
 * or ü ("Sigríður Jónsdóttir"). A name of neither ("Guðmundur Björnsson") reads as Turkish alone; a
 * file's start holds enough names to tell.
 */
export function oneByteEncodingOf(bytes: string): OneByteEncoding {
  if (readsAsThai(bytes)) return 'windows-874';
  if (readsAsVietnamese(bytes)) return 'windows-1258';
  let high = 0;
  // Each byte is one character in every reading, so a word's place in this text is its place in `bytes`.
  const asCyrillic = oneByteText(bytes, 'windows-1251');
  let inScriptWords = 0;
  const tally: NonLatinTally = {
    upper: 0,
    lower: 0,
    arabicLower: 0,
    notArabic: 0,
    notHebrew: 0,
    finalMidWord: 0,
    greekTonos: 0,
  };
  for (const word of asCyrillic.matchAll(/[\p{L}\p{M}]+/gu)) {
    if (!cyrillicWord.test(word[0])) continue;
    inScriptWords += word[0].length;
    const end = word.index + word[0].length;
    for (let i = word.index; i < end; i++) {
      const endsWord = i === end - 1 || bytes[i + 1] === '\xd7' || bytes[i + 1] === '\xd8';
      tallyNonLatin(tally, bytes.charCodeAt(i), i > word.index ? bytes.charCodeAt(i - 1) : 0, endsWord);
    }
  }
  const nonLatin =
    hebrewOrArabic(tally) ??
    (tally.greekTonos > 0 ||
    (oneByteText(bytes, 'windows-1253').match(greekVowels)?.length ?? 0) >
      (asCyrillic.match(russianVowels)?.length ?? 0)
      ? 'windows-1253'
      : 'windows-1251');
  const counts = { 'windows-1252': 0, macintosh: 0, 'windows-1250': 0, 'windows-1254': 0, 'windows-1257': 0 };
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    if (code < 0x80) continue;
    high++;
    const before = bytes[i - 1] ?? '';
    const after = bytes[i + 1] ?? '';
    const besideLetter = asciiLetter.test(before) || asciiLetter.test(after);
    const afterLowercase = asciiLowercase.test(before);
    for (const encoding of [
      'windows-1252',
      'macintosh',
      'windows-1250',
      'windows-1254',
      'windows-1257',
    ] as const) {
      const char = oneByteText(bytes[i]!, encoding);
      if ((besideLetter && fitsWord(char, afterLowercase)) || fitsAsPunctuation(char, before, after))
        counts[encoding]++;
    }
  }
  const besideAscii = Math.max(counts['windows-1252'], counts.macintosh, counts['windows-1250']);
  if (inScriptWords > besideAscii && inScriptWords * 2 >= high) return nonLatin;
  const western = counts['windows-1252'];
  const centralEuropean = counts['windows-1250'];
  if (counts.macintosh > western && counts.macintosh > centralEuropean) return 'macintosh';
  if (
    centralEuropean > western ||
    (centralEuropean === western && western > 0 && centralEuropeanMark.test(bytes))
  )
    return 'windows-1250';
  if (western > 0 && turkishMark.test(bytes)) {
    if (readsAsIcelandic(bytes, icelandicNotBalticVowel)) return 'windows-1252';
    if (counts['windows-1257'] >= western && balticLetter.test(bytes) && !turkishDotless.test(bytes))
      return 'windows-1257';
    if (readsAsIcelandic(bytes, icelandicVowel)) return 'windows-1252';
    if (counts['windows-1254'] >= western) return 'windows-1254';
  }
  return 'windows-1252';
}

/** How many well-formed multi-byte UTF-8 sequences, and how many bytes outside any, `bytes` holds. */
export function utf8Evidence(bytes: Uint8Array, whole: boolean): { valid: number; invalid: number } {
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length =
      lead >= 0xc2 && lead <= 0xdf
        ? 2
        : lead >= 0xe0 && lead <= 0xef
          ? 3
          : lead >= 0xf0 && lead <= 0xf4
            ? 4
            : 0;
    if (length === 0) {
      invalid++;
      i++;
      continue;
    }
    // A character cut at the end of a partial read is not evidence either way.
    if (i + length > bytes.length && !whole) break;
    const sequence = bytes.subarray(i, i + length);
    let ok = sequence.length === length;
    for (let j = 1; ok && j < length; j++) ok = (sequence[j]! & 0xc0) === 0x80;
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    if (ok && length === 3)
      ok = !(lead === 0xe0 && sequence[1]! < 0xa0) && !(lead === 0xed && sequence[1]! >= 0xa0);
    if (ok && length === 4)
      ok = !(lead === 0xf0 && sequence[1]! < 0x90) && !(lead === 0xf4 && sequence[1]! >= 0x90);
    if (ok) {
      valid++;
      i += length;
    } else {
      invalid++;
      i++;
    }
  }
  return { valid, invalid };
}

/**
 * Whether bytes with this evidence are UTF-8: as many well-formed sequences as stray bytes, or more. A
 * UTF-8 file with a few corrupt bytes stays UTF-8 (those records are rejected), while one-byte text,
 * whose letters now and then make a well-formed pair by chance (Windows-1256's ب؛ is C8 BA, Windows-1251's
 * "Ві" is C2 B3), does not. No multi-byte evidence at all (ASCII) reads as UTF-8.
 */
export const readsAsUtf8 = ({ valid, invalid }: { valid: number; invalid: number }): boolean =>
  valid >= invalid;

const ascii = /^[\x00-\x7f]*$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes fields of a file that is UTF-8 or, failing that, in a legacy code page (Excel's "CSV": the
 * ANSI code page on Windows, Mac Roman on a Mac), as `legacyEncodingOf` tells. Until a field holds a
 * non-ASCII byte they all read the same; the first such record settles it: UTF-8, otherwise the code
 * page its bytes read best in. A field that is not well-formed in the encoding settled on (invalid
 * UTF-8 in a UTF-8 file, a broken pair in a Shift_JIS one) is corrupt: `decode` answers undefined and
 * the record is rejected.
 */
export class FieldDecoder {
  constructor(
    public encoding: 'utf-8' | LegacyEncoding,
    /** Whether a non-ASCII byte has been seen (the sniffed start of the file counts). */
    public settled: boolean,
  ) {}

  /**
   * Settles the encoding on a whole record before its fields are decoded one by one: its non-ASCII
   * fields together say whether it is UTF-8 (`readsAsUtf8`) and, if not, which code page
   * ("Jiří Dvořák" alone reads in Windows-1252 too; beside "Šťastný s.r.o." it does not).
   */
  settleOn(fields: string[]): void {
    if (this.settled || this.encoding !== 'utf-8') return;
    const nonAscii = fields.filter((field) => !ascii.test(field));
    if (nonAscii.length === 0) return;
    this.settled = true;
    const joined = nonAscii.join(' ');
    if (!readsAsUtf8(utf8Evidence(Buffer.from(joined, 'latin1'), true)))
      this.encoding = legacyEncodingOf(joined);
  }

  decode(bytes: string): string | undefined {
    if (ascii.test(bytes)) return bytes;
    if (this.encoding !== 'utf-8') return legacyText(bytes, this.encoding);
    try {
      const text = strictUtf8.decode(Buffer.from(bytes, 'latin1'));
      this.settled = true;
      return text;
    } catch {
      if (this.settled) return undefined;
      this.encoding = legacyEncodingOf(bytes);
      this.settled = true;
      return legacyText(bytes, this.encoding);
    }
  }

  /** As `decode`, but what is not well-formed becomes U+FFFD instead of failing (for error reports). */
  decodeLeniently(bytes: string): string {
    if (this.encoding !== 'utf-8') return legacyTextLeniently(bytes, this.encoding);
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
