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
 * ICU's verdict when it is confident, else, for names and text too short for that (a few names
 * under ASCII headers), the reading whose characters are what Japanese, Korean or Chinese names are
 * made of (`readsAsShortJapanese`, `readsAsHangul`, `chineseByPairs`).
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
  if (readsAsShortJapanese(input)) return 'shift_jis';
  return koreanOrChinese(input);
}

const hangulOnly = /^[\x00-\x7f\uac00-\ud7a3]*$/u;
const ideographsOnly = /^[\x00-\x7f\u4e00-\u9fff\u3000-\u303f]*$/u;
// The syllables of most Korean names and company names, and the characters of most Chinese names
// (the commonest surnames and given-name characters, simplified and traditional) and company names.
const koreanNameSyllables = new Set(
  '김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부' +
    '준연훈수빈은윤시호린영재희혜미숙순자상철동태규광병종승혁율온건찬아다보소리슬별솔결겸율환범헌웅흠균선설애옥란분' +
    '삼전대차회식산업그룹행험통신물화학약건설개발',
);
const chineseNameCharacters = new Set(
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤' +
    '張劉陳楊黃趙吳孫馬羅鄭謝許韓馮鄧蕭葉蘇呂盧鍾譚陸賈韋鄒龔錢嚴湯' +
    '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯晨欣怡婷雪琳晶莉颖佳慧博俊峰波志新春云飞海亮林涛小大' +
    '偉靜麗強軍艷傑濤剛華蘭紅鵬輝國凱穎雲飛' +
    '公司有限科技集团贸易实业股份责任电子网络信息中国北京上海深圳广州' +
    '集團貿易實業責任電網絡資訊臺灣台北香港',
);

/**
 * Korean or Chinese names and words, which ICU's lists (of prose) miss: the readings in which every
 * character is a Hangul syllable (code page 949) or an ideograph (GBK, Big5), none beside an ASCII
 * letter, and at least two of them; of those, the one with the most characters that names are made of.
 * Hangul and GB2312's common hanzi share their bytes (lead 0xB0–0xC8, second byte 0xA1 and up), and so
 * do much of GBK and Big5, so the bytes alone cannot tell these apart.
 */
function koreanOrChinese(input: Uint8Array): 'euc-kr' | 'gbk' | 'big5' | undefined {
  let best: { encoding: 'euc-kr' | 'gbk' | 'big5'; named: number } | undefined;
  let tied = false;
  for (const encoding of ['gbk', 'euc-kr', 'big5'] as const) {
    const text = strictly(encoding, input, true);
    if (text === undefined || asciiLetterBesideWide.test(text)) continue;
    if (!(encoding === 'euc-kr' ? hangulOnly : ideographsOnly).test(text)) continue;
    const wide = [...text].filter((char) => char.charCodeAt(0) >= 0x80);
    if (wide.length < 2) continue;
    const names = encoding === 'euc-kr' ? koreanNameSyllables : chineseNameCharacters;
    const named = wide.filter((char) => names.has(char)).length / wide.length;
    if (named < 0.5) continue;
    if (!best || named > best.named) [best, tied] = [{ encoding, named }, false];
    else if (named === best.named) tied = true;
  }
  return tied ? undefined : best?.encoding;
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
