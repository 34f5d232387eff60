/**
 * Text folding for matching and sorting: case-, accent- and width-insensitive. Pure and deterministic
 * (the output depends only on the input and on the Unicode tables of the runtime), because folded
 * text is stored in keys and must compare equal to what a later query folds to.
 */

// Letters that NFKD leaves whole (they are not "letter + accent"), mapped to what a user would type
// on a plain keyboard. Lower-case only: the map is applied after lower-casing.
const letterMap: Record<string, string> = {
  ß: 'ss',
  ø: 'o',
  ł: 'l',
  æ: 'ae',
  œ: 'oe',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i', // Turkish dotless i: "IŞIK" and "ışık" both fold to "isik"
  ħ: 'h',
  ŧ: 't',
  ŋ: 'n',
  ĸ: 'k',
  ƒ: 'f',
  ȷ: 'j',
  ς: 'σ', // Greek final sigma: the same letter as σ, only written differently at the end of a word
  // Typographic apostrophes and dashes, so "O’Brien" matches "O'Brien" and "Jean‐Luc" matches "Jean-Luc".
  '\u2018': "'",
  '\u2019': "'",
  '\u02bc': "'",
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2212': '-',
};
const letterPattern = new RegExp(`[${Object.keys(letterMap).join('')}]`, 'gu');

/**
 * Folds text for comparison: compatibility decomposition (NFKD: full-width forms, ligatures, non-breaking
 * spaces), combining marks removed (é → e, ñ → n, İ → i), lower-cased, letters that do not decompose
 * mapped (ß → ss, ø → o, ł → l, æ → ae, œ → oe, đ → d, þ → th, ı → i, ...), invisible format characters
 * removed, whitespace collapsed to single spaces and trimmed. Recomposed with NFC at the end so that
 * scripts whose syllables NFKD splits without marks (Hangul) stay compact.
 */
export const foldText = (s: string): string =>
  s
    .normalize('NFKD')
    // lower-casing can itself produce combining marks ("İ" → "i" + U+0307), so decompose again after it
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(letterPattern, (ch) => letterMap[ch] ?? ch)
    .replace(/\p{Cf}/gu, '')
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim()
    .normalize('NFC');

/**
 * Key that sorts contacts by name: folded, characters other than letters, digits and spaces dropped,
 * at most 64 UTF-16 code units (never splitting a surrogate pair). An empty name gets U+10FFFF, the
 * highest code point, so it sorts after every real name in DynamoDB's UTF-8 byte order, whatever the
 * script (an ASCII `~` would sort before Cyrillic or CJK names). Word boundaries are kept as spaces:
 * a composite key `<nameSortKey>#<id>` orders "ana b" before "ana", because space sorts below `#`.
 */
export const nameSortKey = (name: string): string => {
  const key = truncateUnits(
    foldText(name)
      .replace(/[^\p{L}\p{N} ]/gu, '')
      .replace(/ {2,}/g, ' ')
      .trim(),
    64,
  ).trimEnd();
  return key === '' ? emptyNameSortKey : key;
};

const emptyNameSortKey = '\u{10FFFF}';

/** Cuts `s` to at most `max` UTF-16 code units without leaving half of a surrogate pair. */
export const truncateUnits = (s: string, max: number): string => {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
};

/** Punctuation read as spaces: "jean-luc o'brien" → "jean luc o brien" (of folded text). */
export const spacedOut = (folded: string) => folded.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

// German's umlauts as they are written without them (in email addresses, on keyboards that lack them).
const umlaut = /[äöüÄÖÜ]/g;
const umlautSpelledOut: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue' };

/** "Müller" → "Mueller": German umlauts spelled out (composed first, so a decomposed ü counts too). */
export const spellUmlautsOut = (raw: string) =>
  raw.normalize('NFC').replace(umlaut, (ch) => umlautSpelledOut[ch.toLowerCase()]!);
