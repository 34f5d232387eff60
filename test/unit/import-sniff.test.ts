import { describe, expect, it } from 'vitest';
import { detectDelimiter, sniffImportFile } from '../../domain/imports/file-sniffer';
import {
  FieldDecoder,
  legacyEncodingOf,
  oneByteEncodingOf,
  utf8Evidence,
  windows1252FromBytes,
} from '../../domain/imports/text-decoding';
import { legacyBytes } from '../fixtures/imports/csv-fixtures';

const bytes = (text: string, encoding: BufferEncoding = 'utf8') => Buffer.from(text, encoding);

/** `text` in a code page, one byte per character, as the reader holds a field. */
const encode = (text: string, encoding: string) => legacyBytes(text, encoding).toString('latin1');

/** Through the entry point the reader uses: told to be `encoding`, and decoded back to `text`. */
const readsBack = (text: string, encoding: string) => {
  const bytes = encode(text, encoding);
  expect(legacyEncodingOf(bytes), `${text} in ${encoding}`).toBe(encoding);
  expect(new FieldDecoder('utf-8', false).decode(bytes)).toBe(text);
};

describe('sniffing an import file', () => {
  it('settles the encoding from the BOM, else from what the start holds', () => {
    expect(sniffImportFile(bytes('\ufeffName,Email\n'), 'csv', true)).toMatchObject({
      encoding: 'utf-8',
      bomBytes: 3,
      settled: true,
    });
    expect(
      sniffImportFile(
        Buffer.concat([Buffer.from([0xff, 0xfe]), bytes('Name;Email\n', 'utf16le')]),
        'csv',
        true,
      ),
    ).toMatchObject({ encoding: 'utf-16le', bomBytes: 2, delimiter: ';' });
    expect(
      sniffImportFile(
        Buffer.concat([Buffer.from([0xfe, 0xff]), bytes('Name\tEmail\n', 'utf16le').swap16()]),
        'csv',
        true,
      ),
    ).toMatchObject({ encoding: 'utf-16be', bomBytes: 2, delimiter: '\t' });
    expect(sniffImportFile(bytes('Name,Email\nZoë,z@x.com\n'), 'csv', true)).toMatchObject({
      encoding: 'utf-8',
      bomBytes: 0,
      settled: true,
    });
    expect(sniffImportFile(bytes('Name,Email\nZo\xeb,z@x.com\n', 'latin1'), 'csv', true)).toMatchObject({
      encoding: 'windows-1252',
      settled: true,
    });
    expect(sniffImportFile(bytes('Name,Email\nZoe,z@x.com\n'), 'csv', true)).toMatchObject({
      encoding: 'utf-8',
      settled: false,
    });
  });

  it('counts UTF-8 evidence: a character cut at the end of a partial read is no evidence', () => {
    expect(utf8Evidence(bytes('Zoë 東京 😀'), true)).toEqual({ valid: 4, invalid: 0 });
    expect(utf8Evidence(bytes('Zo\xeb \x80', 'latin1'), true)).toEqual({ valid: 0, invalid: 2 });
    expect(utf8Evidence(bytes('東').subarray(0, 2), false)).toEqual({ valid: 0, invalid: 0 });
    expect(utf8Evidence(bytes('東').subarray(0, 2), true)).toEqual({ valid: 0, invalid: 2 });
    expect(utf8Evidence(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), true).valid).toBe(0);
  });

  it('detects the delimiter of the first non-blank line, outside quotes', () => {
    expect(detectDelimiter('\r\n\r\nName;Email;"A,B,C"\r\nx,y,z,w,v')).toBe(';');
    expect(detectDelimiter('Name\tEmail\tPhone, mobile')).toBe('\t');
    expect(detectDelimiter('Email')).toBe(',');
  });

  it('reads the delimiter on the header, not on a report title above it', () => {
    expect(
      detectDelimiter('Contacts by Account\r\nFiltered By: Source, Web\r\n\r\nName\tEmail\tPhone\r\n'),
    ).toBe('\t');
    // Two columns and no title: the first line decides, as before.
    expect(detectDelimiter('Name;Email\r\nAna, Bo;a@example.com\r\n')).toBe(';');
  });

  it('says what a file is when it is not what it claims', () => {
    expect(() => sniffImportFile(bytes('Name,Email\n'), 'xlsx', true)).toThrow(
      expect.objectContaining({ code: 'not_xlsx', message: expect.stringContaining('upload it as CSV') }),
    );
    expect(() => sniffImportFile(bytes('PK\x03\x04rest', 'latin1'), 'csv', false)).toThrow(
      expect.objectContaining({ code: 'not_csv', message: expect.stringContaining('upload it as XLSX') }),
    );
    expect(() => sniffImportFile(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d]), 'csv', false)).toThrow(
      expect.objectContaining({ code: 'binary', message: 'This is a PNG image, not a CSV file' }),
    );
    expect(() => sniffImportFile(bytes('Name,Email\r\n', 'utf16le'), 'csv', true)).toThrow(
      expect.objectContaining({
        code: 'binary',
        message: expect.stringContaining('UTF-16 text without a byte-order mark'),
      }),
    );
    expect(sniffImportFile(bytes('PK\x03\x04rest', 'latin1'), 'xlsx', false)).toEqual({ format: 'xlsx' });
    expect(() =>
      sniffImportFile(
        bytes('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEMAIL:ada@example.com\r\nEND:VCARD\r\n'),
        'csv',
        true,
      ),
    ).toThrow(expect.objectContaining({ code: 'not_csv', message: expect.stringContaining('vCard') }));
    expect(() =>
      sniffImportFile(
        Buffer.concat([Buffer.from([0xff, 0xfe]), bytes('BEGIN:VCARD\nVERSION:4.0\n', 'utf16le')]),
        'csv',
        true,
      ),
    ).toThrow(expect.objectContaining({ code: 'not_csv' }));
    expect(() =>
      sniffImportFile(
        bytes('\n<!DOCTYPE html>\n<html><body><table><tr><td>Email</td></tr></table></body></html>'),
        'csv',
        true,
      ),
    ).toThrow(expect.objectContaining({ code: 'not_csv', message: expect.stringContaining('web page') }));
    // A CSV whose first column is named "BEGIN" or holds HTML is still a CSV.
    expect(sniffImportFile(bytes('Begin,Email\n<b>x</b>,a@example.com\n'), 'csv', true)).toMatchObject({
      format: 'csv',
    });
  });
});

describe('field decoding', () => {
  it('maps the Windows-1252 range 0x80–0x9F, the rest being Latin-1', () => {
    expect(windows1252FromBytes('\x80 \x8a \x93quoted\x94 \x96 \x99 \xe9')).toBe('€ Š “quoted” – ™ é');
  });

  it('settles UTF-8 or Windows-1252 on the first non-ASCII field', () => {
    const utf8 = new FieldDecoder('utf-8', false);
    expect(utf8.decode('plain')).toBe('plain');
    expect(utf8.settled).toBe(false);
    expect(utf8.decode(Buffer.from('Zoë', 'utf8').toString('latin1'))).toBe('Zoë');
    expect(utf8.decode('Zo\xeb')).toBeUndefined();
    expect(utf8.encoding).toBe('utf-8');

    const ansi = new FieldDecoder('utf-8', false);
    expect(ansi.decode('Zo\xeb')).toBe('Zoë');
    expect(ansi.encoding).toBe('windows-1252');
    expect(ansi.decode(Buffer.from('Zoë', 'utf8').toString('latin1'))).toBe('ZoÃ«');

    const mac = new FieldDecoder('utf-8', false);
    expect(mac.decode('Ren\x8e')).toBe('René');
    expect(mac.encoding).toBe('macintosh');
    expect(mac.decode('Wei\xa7 \xd2quoted\xd3 O\xd5Brien \xdb')).toBe('Weiß “quoted” O’Brien €');
  });
});

describe('telling Windows-1252 from Mac Roman', () => {
  // Each name as the two encodings write it: the text must read back as written, whichever it is.
  const names = [
    'René Lefèvre',
    'Zoë O’Brien',
    'José Müller',
    'Søren Ågård',
    'Jürgen Weiß',
    'François Çelik',
    'Siobhán',
    'Ñuñez',
    'Ångström',
  ];

  it.each(names)('reads %s back from either', (name) => {
    for (const encoding of ['windows-1252', 'macintosh'] as const) {
      const bytes = encode(name, encoding);
      expect(oneByteEncodingOf(bytes), `${name} in ${encoding}`).toBe(encoding);
      const decoder = new FieldDecoder('utf-8', false);
      expect(decoder.decode(bytes)).toBe(name);
    }
  });

  it.each(['“hot” lead', '‘warm’ — call back…', 'Zoë “two”', 'Weiß “two”', '2019–2024 “VIP”', 'lunedì “ok”'])(
    'reads %s back from either: curly quotes, dashes and an ellipsis are punctuation where they stand',
    (text) => {
      for (const encoding of ['windows-1252', 'macintosh'] as const) {
        expect(oneByteEncodingOf(encode(text, encoding)), `${text} in ${encoding}`).toBe(encoding);
      }
    },
  );

  it.each(['così', 'Ñandú', 'España – Perú'])('keeps %s in Mac Roman, whose letters are on bytes of Windows punctuation', (text) => {
    expect(oneByteEncodingOf(encode(text, 'macintosh'))).toBe('macintosh');
  });

  it('sniffs a file start: Mac Roman when its words read so, Windows-1252 on no evidence', () => {
    const macFile = bytes(encode('Name,Company\rRené,Café Lefèvre\r', 'macintosh'), 'latin1');
    expect(sniffImportFile(macFile, 'csv', true)).toMatchObject({ encoding: 'macintosh', settled: true });
    // Bytes beside no letter say nothing: the common encoding is kept.
    expect(sniffImportFile(bytes('Amount\n\x80 12\n', 'latin1'), 'csv', true)).toMatchObject({
      encoding: 'windows-1252',
    });
  });
});

describe('telling the Central European and Cyrillic code pages (Excel on Windows) apart', () => {

  it.each([
    'Иван Петров',
    'Ольга Шевченко',
    'Єва Ґудзь-Їжакевич',
    'ООО «Ромашка», Москва',
    'Алексей sales@example.ru',
  ])('reads %s back from Windows-1251', (text) => readsBack(text, 'windows-1251'));

  it.each([
    'Łukasz Kozłowski',
    'Zofia Dąbrowska',
    'Wojciech Woźniak',
    'Małgorzata Jabłońska',
    'Ľubomír Šťastný',
    'Tomáš Růžička',
    'Ştefan Popescu',
  ])('reads %s back from Windows-1250', (text) => readsBack(text, 'windows-1250'));

  it.each([
    'Γιώργος Παπαδόπουλος',
    'Ελένη Ιωάννου',
    'Αθήνα, Θεσσαλονίκη',
    'ΕΤΑΙΡΕΙΑ ΑΕ',
    'Νίκος nikos@example.gr',
    'Ελένη',
    'Δημήτρης',
  ])('reads %s back from Windows-1253', (text) => readsBack(text, 'windows-1253'));

  it.each(['Ayşe Yılmaz', 'Mehmet Doğan', 'Şükrü Öztürk', 'Ertuğrul Kılıç, İstanbul'])(
    'reads %s back from Windows-1254',
    (text) => readsBack(text, 'windows-1254'),
  );

  it.each([
    'משה כהן',
    'אבי מזרחי',
    'שרה לוי, תל אביב',
    'חברת אלפא בע״מ',
    'שם פרטי;שם משפחה;דוא"ל;טלפון נייד',
    'יוסי yossi@example.co.il',
  ])('reads %s back from Windows-1255', (text) => readsBack(text, 'windows-1255'));

  it.each([
    'محمد أحمد',
    'فاطمة الزهراء',
    'عبدالله العتيبي',
    'شركة النور للتجارة',
    'الاسم الأول;اسم العائلة;البريد الإلكتروني;الجوال',
    'علي ali@example.sa',
  ])('reads %s back from Windows-1256', (text) => readsBack(text, 'windows-1256'));

  it('keeps Russian that reads as Hebrew or Arabic letters in Windows-1251', () => {
    // Lowercase-only Russian words without ы, ь or я read as Hebrew letters; a capital or one of those decides.
    for (const text of ['Демид Бегемотов', 'ООО «Ромашка»', 'ИП Петрова', 'звонить после обеда', 'Москва']) {
      readsBack(text, 'windows-1251');
    }
  });

  it('is not misled by letters that make a well-formed UTF-8 pair by chance', () => {
    // Windows-1256's ب؛ is C8 BA and Windows-1251's "Ві" is C2 B3: each a valid two-byte UTF-8 sequence.
    const arabic = encode('الاسم;ملاحظات\r\nمحمد;يفضل الواتساب؛ بعد العصر\r\n', 'windows-1256');
    expect(utf8Evidence(bytes(arabic, 'latin1'), true).valid).toBe(1);
    expect(sniffImportFile(bytes(arabic, 'latin1'), 'csv', true)).toMatchObject({
      encoding: 'windows-1256',
      settled: true,
    });
    const ukrainian = encode('Ім’я;Місто\r\nВікторія;Вінниця\r\n', 'windows-1251');
    expect(sniffImportFile(bytes(ukrainian, 'latin1'), 'csv', true)).toMatchObject({
      encoding: 'windows-1251',
      settled: true,
    });
    // The same after an ASCII start: the first record with non-ASCII fields decides on them all.
    const decoder = new FieldDecoder('utf-8', false);
    const record = [encode('Віра', 'windows-1251'), encode('Вінниця', 'windows-1251')];
    decoder.settleOn(record);
    expect(record.map((field) => decoder.decode(field))).toEqual(['Віра', 'Вінниця']);
    // A UTF-8 file with a stray byte stays UTF-8.
    expect(
      sniffImportFile(
        Buffer.concat([Buffer.from('Name\nZoë\nJosé\nRenée\n'), Buffer.from([0xe9, 0x0a])]),
        'csv',
        true,
      ),
    ).toMatchObject({ encoding: 'utf-8' });
  });

  it.each(['สมชาย ใจดี', 'บริษัท ไทยเทค จำกัด', 'กรุงเทพมหานคร', 'ชื่อ,นามสกุล,อีเมล,โทรศัพท์'])('reads %s back from Windows-874', (text) =>
    readsBack(text, 'windows-874'),
  );

  it.each(['Jānis Bērziņš', 'Žemaitė Petrauskienė', 'Šiaulių bankas', 'UAB „Šviesos spindulys“, Panevėžys'])('reads %s back from Windows-1257', (text) =>
    readsBack(text, 'windows-1257'),
  );

  it.each([
    'Sigríður Jónsdóttir',
    'Þórður Guðmundsson',
    'Guðrún Ýr Þorsteinsdóttir',
    'Eyþór Ingi Gunnlaugsson, Akureyri',
    'Davíð Þór Jónsson',
    'Ragnheiður Ásta Pétursdóttir',
    'Hrafnhildur Ýr Bæringsdóttir',
    'Þorgerður Katrín Gunnarsdóttir, Hafnarfjörður',
  ])('reads Icelandic %s back from Windows-1252, not as Turkish or Baltic', (text) => readsBack(text, 'windows-1252'));

  it('reads a Turkish file with a foreign name still as Windows-1254, and Icelandic with no accented vowel as it must', () => {
    // ç or ü, or more ı than acute vowels: Turkish.
    for (const text of ['Ayşe Yılmaz, José Pérez, Mehmet Çelik', 'Fatma Şahin; Renée Doğan; Ali Yıldız']) readsBack(text, 'windows-1254');
    // Nothing but ð and ö: the bytes read as Turkish ("Guğmundur"), as they would for a Turkish name.
    expect(legacyEncodingOf(encode('Guðmundur Björnsson', 'windows-1252'))).toBe('windows-1254');
    // A file's start holds more names: with one -dóttir among them, it is Icelandic.
    readsBack('Guðmundur Björnsson;Hafnarfjörður\r\nSigríður Jónsdóttir;Reykjavík\r\n', 'windows-1252');
  });

  it('keeps Greek capitals, which fall on Thai letters and marks, in Windows-1253', () => {
    for (const text of ['ΕΤΑΙΡΕΙΑ ΑΕ', 'ΑΘΗΝΑ', 'ΓΙΩΡΓΟΣ ΠΑΠΑΣ']) readsBack(text, 'windows-1253');
  });

  it('reads a Czech file as Windows-1250 once it holds Š, š, Ž or ž, though each name alone reads in Windows-1252 too', () => {
    // "Jiří Dvořák" is "Jiøí Dvoøák" in Windows-1252: letters either way, so alone it is the common encoding.
    expect(oneByteEncodingOf(encode('Jiří Dvořák', 'windows-1250'))).toBe('windows-1252');
    const file = encode(
      'Name,Email\r\nJiří Dvořák,jiri@example.cz\r\nKateřina Nováková,katka@example.cz\r\nPetr Kučera,petr@example.cz\r\nJana Blažková,jana@example.cz\r\n',
      'windows-1250',
    );
    expect(sniffImportFile(bytes(file, 'latin1'), 'csv', true)).toMatchObject({
      encoding: 'windows-1250',
      settled: true,
    });
  });

  it('keeps Western names in Windows-1252 with the other code pages to choose from', () => {
    for (const text of [
      'René Lefèvre',
      'Søren Ågård',
      'François Çelik',
      'Ñuñez',
      'Jürgen Weiß',
      'Zoë O’Brien',
      'Ångström',
      'São Paulo, Conceição',
    ]) {
      readsBack(text, 'windows-1252');
    }
  });
});

describe('telling the East Asian code pages (Excel on Windows in Japan, China, Taiwan, Korea) apart', () => {
  it.each([
    ['shift_jis', '氏名,メールアドレス,電話番号,会社名\r\n山田 太郎,taro@example.jp,03-1234-5678,株式会社サンプル\r\n'],
    ['shift_jis', '姓,名,メール\r\n佐藤,花子,hanako@example.jp\r\n'],
    // Kanji alone under ASCII headers: too short for ICU; kanji of JIS level 1 and no half-width kana.
    ['shift_jis', 'Name,Email\r\n鈴木一郎,ichiro@example.jp\r\n高橋 健,ken@example.jp\r\n田中 美咲,misaki@example.jp\r\n'],
    ['gbk', '姓名,电子邮件,电话,公司\r\n王芳,wang.fang@example.cn,138 0013 8000,北京科技有限公司\r\n'],
    ['gbk', 'Name,Email,Company\r\n张伟,zhang@example.cn,上海贸易有限公司\r\n李娜,li.na@example.cn,深圳创新科技有限公司\r\n'],
    ['big5', '姓名,電子郵件,電話,公司\r\n陳大文,chan@example.hk,+852 9123 4567,香港貿易有限公司\r\n'],
    ['euc-kr', '이름,이메일,전화번호,회사\r\n김민수,minsu@example.kr,010-1234-5678,삼성전자\r\n'],
    ['euc-kr', 'Name,Email,Company\r\n박지성,park@example.kr,현대자동차 주식회사\r\n이영희,lee@example.kr,엘지전자\r\n'],
    // A name or two under ASCII headers, too short for ICU: the reading whose characters names are made of.
    ['euc-kr', 'Name,Email\r\n김민수,minsu@example.kr\r\n'],
    ['gbk', 'Name,Email\r\n王芳,fang@example.cn\r\n李娜,na@example.cn\r\n'],
    ['big5', 'Name,Email\r\n陳大文,chan@example.hk\r\n'],
  ])('reads a %s sheet back', (encoding, text) => readsBack(text, encoding));

  it('never takes a one-byte file for an East Asian one, even where its bytes are well-formed there', () => {
    // "Соколова Анна" is well-formed GBK, with characters ICU counts as common; Mac Roman's "Ça" is Shift_JIS's "Ｂ".
    const cases: [string, string][] = [
      ['Соколова Анна,Соколова Анна@x.example', 'windows-1251'],
      ['ФИО;Телефон\r\nИванов Иван Иванович;+7 495 123 45 67\r\nПетрова Алёна;8 916 765 43 21\r\n', 'windows-1251'],
      ['Ça va,Ça va@x.example', 'macintosh'],
      ['Šťastný s.r.o.,Žižek,Łódź', 'windows-1250'],
      ['Γιώργος Παπαδόπουλος,ΕΤΑΙΡΕΙΑ ΑΕ', 'windows-1253'],
      ['René Lefèvre,Søren Ågård,Jürgen Weiß', 'windows-1252'],
      ['משה כהן,שרה לוי', 'windows-1255'],
      ['محمد أحمد,فاطمة الزهراء', 'windows-1256'],
    ];
    for (const [text, encoding] of cases) expect(legacyEncodingOf(encode(text, encoding)), text).toBe(encoding);
  });

  it('rejects a record that is not well-formed in the East Asian code page the file is in', () => {
    const decoder = new FieldDecoder('shift_jis', true);
    expect(decoder.decode(encode('山田', 'shift_jis'))).toBe('山田');
    expect(decoder.decode('\x82')).toBeUndefined();
    expect(decoder.decodeLeniently('\x82')).toBe('\ufffd');
  });
});
