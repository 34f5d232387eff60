/**
 * The East Asian code pages Excel writes its "CSV" in on Windows: Japanese (Shift_JIS, code page 932),
 * Simplified Chinese (GBK, 936), Traditional Chinese (Big5, 950) and Korean (EUC-KR with its UHC
 * extension, 949). Their second bytes are never a delimiter, a quote or a line end (all are 0x40 or
 * above), so a file in one of them is parsed as bytes like any other and decoded field by field.
 */
import { big5, euc_kr, gb_18030, sjis } from 'chardet/lib/encoding/mbcs';
import type { Context, Recogniser } from 'chardet/lib/encoding';

export const multiByteEncodings = ['shift_jis', 'gbk', 'big5', 'euc-kr'] as const;
export type MultiByteEncoding = (typeof multiByteEncodings)[number];
export const isMultiByteEncoding = (encoding: string | undefined): encoding is MultiByteEncoding =>
  (multiByteEncodings as readonly string[]).includes(encoding ?? '');

// ICU's detectors (through chardet): each checks that the bytes are well-formed in its code page and
// counts its language's commonest characters among them.
const recognisers: readonly [MultiByteEncoding, Recogniser][] = [
  ['shift_jis', new sjis()],
  ['gbk', new gb_18030()],
  ['big5', new big5()],
  ['euc-kr', new euc_kr()],
];
// ICU gives any well-formed reading of ten double-byte characters or fewer 10, and a reading whose
// common characters stand out 50 and more. A one-byte file read as GBK mostly scores 10 to 40; a few
// Russian words can score more, which legacyEncodingOf (text-decoding.ts) looks out for.
const minConfidence = 50;

const asciiLetterBesideWide = /[A-Za-z][^\x00-\x7f]|[^\x00-\x7f][A-Za-z]/u;
// Kana, kanji and Japanese punctuation: not the full-width Latin letters that a one-byte code page's
// 0x82 or 0x83 before an ASCII letter reads as (Mac Roman's "Ça" is Shift_JIS's "Ｂ").
const japanese =
  /^[\x00-\x7f\u3000-\u303f\u3041-\u3096\u309b-\u309e\u30a1-\u30fa\u30fc-\u30fe\u4e00-\u9fff]*$/u;

/**
 * Which of these code pages `bytes` (one byte per character) are in, or undefined when none is likely:
 * ICU's verdict when it is confident, else, for text too short for that (a few names under ASCII
 * headers), Shift_JIS when it reads as Japanese would (`readsAsShortJapanese`).
 */
export function multiByteEncodingOf(bytes: string): MultiByteEncoding | undefined {
  const input = Buffer.from(bytes, 'latin1');
  const byteStats = new Array<number>(256).fill(0);
  for (const byte of input) byteStats[byte]!++;
  const context: Context = {
    byteStats,
    c1Bytes: byteStats.slice(0x80, 0xa0).some((count) => count > 0),
    rawInput: input,
    rawLen: input.length,
    inputBytes: input,
    inputLen: input.length,
  };
  let best: { encoding: MultiByteEncoding; confidence: number } | undefined;
  for (const [encoding, recogniser] of recognisers) {
    const confidence = recogniser.match(context)?.confidence ?? 0;
    if (confidence > (best?.confidence ?? 0)) best = { encoding, confidence };
  }
  // ICU tolerates a few broken pairs; a real file has none (but for a character cut at the end of a sample).
  if (best && best.confidence >= minConfidence && strictly(best.encoding, input, true) !== undefined)
    return best.encoding;
  return readsAsShortJapanese(input) ? 'shift_jis' : undefined;
}

/**
 * Whether a short text is Shift_JIS: at least two double-byte characters, three in four of them
 * punctuation, kana or the common kanji of JIS level 1 (lead bytes 0x81–0x98), no half-width katakana
 * (single bytes 0xA1–0xDF: what Chinese and Korean text, whose lead bytes are mostly 0xB0 and above,
 * reads as in Shift_JIS), well-formed, and no character beside an ASCII letter (where the accented
 * letters of a one-byte code page stand).
 */
function readsAsShortJapanese(input: Uint8Array): boolean {
  let pairs = 0;
  let common = 0;
  for (let i = 0; i < input.length; i++) {
    const lead = input[i]!;
    if (lead < 0x80) continue;
    if (!((lead >= 0x81 && lead <= 0x9f) || (lead >= 0xe0 && lead <= 0xfc))) return false;
    pairs++;
    if (lead <= 0x98) common++;
    i++;
  }
  if (pairs < 2 || common * 4 < pairs * 3) return false;
  const text = strictly('shift_jis', input);
  return text !== undefined && japanese.test(text) && !asciiLetterBesideWide.test(text);
}

// The platform's decoders (WHATWG: `shift_jis` is Windows-31J, `gbk` reads all of GB18030, `euc-kr` is
// code page 949), strict and lenient, made once each.
const strictDecoders = new Map<MultiByteEncoding, InstanceType<typeof TextDecoder>>();
const lenientDecoders = new Map<MultiByteEncoding, InstanceType<typeof TextDecoder>>();

/** `input` decoded, or undefined when it is not well-formed; `cut`: it may end inside a character. */
function strictly(encoding: MultiByteEncoding, input: Uint8Array, cut = false): string | undefined {
  if (cut) {
    try {
      // A decoder of its own: one left mid-stream would carry the cut bytes into the next call.
      return new TextDecoder(encoding, { fatal: true }).decode(input, { stream: true });
    } catch {
      return undefined;
    }
  }
  let decoder = strictDecoders.get(encoding);
  if (!decoder) strictDecoders.set(encoding, (decoder = new TextDecoder(encoding, { fatal: true })));
  try {
    return decoder.decode(input);
  } catch {
    return undefined;
  }
}

/** The text of `bytes` (one byte per character), or undefined when they are not well-formed in `encoding`. */
export const multiByteText = (bytes: string, encoding: MultiByteEncoding): string | undefined =>
  strictly(encoding, Buffer.from(bytes, 'latin1'));

/** As `multiByteText`, with U+FFFD for what is not well-formed (for error reports). */
export function multiByteTextLeniently(bytes: string, encoding: MultiByteEncoding): string {
  let decoder = lenientDecoders.get(encoding);
  if (!decoder) lenientDecoders.set(encoding, (decoder = new TextDecoder(encoding)));
  return decoder.decode(Buffer.from(bytes, 'latin1'));
}
