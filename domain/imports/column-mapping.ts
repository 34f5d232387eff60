import * as z from 'zod';
import { ImportFileError } from './import-file-error';

/**
 * Which contact field each column of an import file fills: the canonical headers (the template's and
 * the export's, so an export re-imports as it is), the usual export headers of other CRMs and address
 * books (recognised case-, space- and punctuation-insensitively), and an explicit mapping that
 * overrides both.
 */

/** What a column can fill. `custom:<key>` (a custom field key) is the other target. */
export const fieldTargets = [
  'name',
  'firstName',
  'middleName',
  'lastName',
  'email',
  'phone',
  'whatsapp',
  'telegram',
  'linkedin',
  'company',
  'jobTitle',
  'role',
  'segment',
  'city',
  'state',
  'country',
  'tags',
  'owner',
  'ignore',
] as const;
export type FieldTarget = (typeof fieldTargets)[number];
export type CustomTarget = `custom:${string}`;
export type ColumnTarget = FieldTarget | CustomTarget;

/** A custom field's key (custom-fields.schemas.ts). */
export const customKeyPattern = /^[a-z][a-z0-9_]{0,39}$/;
const customTargetPattern = /^custom:[a-z][a-z0-9_]{0,39}$/;

export const isColumnTarget = (value: string): value is ColumnTarget =>
  (fieldTargets as readonly string[]).includes(value) || customTargetPattern.test(value);

export const columnTargetSchema = z
  .union([
    z.enum(fieldTargets),
    z.string().regex(customTargetPattern, 'A custom field as custom:<key>, e.g. custom:plan'),
  ])
  .meta({
    id: 'ImportColumnTarget',
    description:
      'The field a column fills: a contact field, `custom:<key>` for a custom field, or `ignore`. `firstName`, `middleName` and `lastName` are joined into the name when the row has no `name`.',
  });

/** An explicit mapping, header text → target, for the import job's input. */
export const columnMappingSchema = z
  .record(z.string().min(1).max(1000), columnTargetSchema)
  .refine((mapping) => Object.keys(mapping).length <= 1000, 'At most 1,000 columns')
  .meta({
    id: 'ImportColumnMapping',
    description:
      'Column header (as in the file; case, spaces and punctuation do not matter) → field. It overrides the recognised headers; columns neither mapped nor recognised are not imported and are listed in the job result.',
  });
export type ColumnMapping = Record<string, string>;

/**
 * The canonical columns, in order: the import template's header, and the export's. Custom fields
 * follow, one column each, headed `customFieldHeader(key)`. Several values in one cell (emails,
 * phones, tags...) are separated by `multiValueSeparator`.
 */
export const canonicalColumns = [
  { header: 'Name', target: 'name' },
  { header: 'Email', target: 'email' },
  { header: 'Phone', target: 'phone' },
  { header: 'WhatsApp', target: 'whatsapp' },
  { header: 'Telegram', target: 'telegram' },
  { header: 'LinkedIn', target: 'linkedin' },
  { header: 'Company', target: 'company' },
  { header: 'Job Title', target: 'jobTitle' },
  { header: 'Role', target: 'role' },
  { header: 'Segment', target: 'segment' },
  { header: 'City', target: 'city' },
  { header: 'State', target: 'state' },
  { header: 'Country', target: 'country' },
  { header: 'Tags', target: 'tags' },
  { header: 'Owner', target: 'owner' },
] as const satisfies readonly { header: string; target: FieldTarget }[];

export const customFieldHeaderPrefix = 'Custom: ';
export const customFieldHeader = (key: string) => `${customFieldHeaderPrefix}${key}`;
export const multiValueSeparator = ' ::: ';

/** A header reduced for recognition: accents, case, spaces and punctuation dropped ("E-mail 1 - Value" → "email1value"). */
export const headerKey = (header: string): string =>
  header
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

// Exact keys. English headers of HubSpot, Salesforce, Outlook, Google Contacts, Pipedrive, Zoho,
// Apple/Thunderbird and other CRMs (Freshsales' "Work number" and "Sales owner", Bitrix24's "Responsible
// person", Odoo's "Salesperson", Copper's "Owned By", Brevo's "SMS", Teamleader's "GSM", folk's
// "Companies"), the commonest German, French and Spanish ones, then others as spelled.
const knownKeys: Record<string, FieldTarget> = {
  ...keys('name', 'name fullname contactname displayname personname nome nombre nom ten nume'),
  ...keys('firstName', 'firstname givenname first forename vorname prenom'),
  ...keys('middleName', 'middlename additionalname middle middlenames'),
  ...keys('lastName', 'lastname familyname surname last nachname nomdefamille apellido apellidos'),
  ...keys('email', 'emails emailadresse courriel adresseemail adressecourriel correo correoelectronico'),
  ...keys('company', 'company companies companyname organization organisation organizations organisations organizationname organisationname organization1name organisation1name account accountname employer associatedcompany firma unternehmen entreprise societe empresa'),
  ...keys('jobTitle', 'jobtitle position organizationtitle organisationtitle organization1title organisation1title jobposition designation funktion fonction poste cargo'),
  ...keys('role', 'role'),
  ...keys('segment', 'segment'),
  ...keys('city', 'town ort stadt ville ciudad'),
  ...keys('state', 'bundesland'),
  ...keys('country', 'land pays pais'),
  ...keys('tags', 'tags tag labels groupmembership categories'),
  ...keys('owner', 'owner contactowner recordowner leadowner assignedto ownername owneremail hubspotowner salesowner responsibleperson responsible salesperson ownedby'),
  ...keys('phone', 'worknumber homenumber othernumber officenumber businessnumber directnumber gsm sms'),
  // Italian, Portuguese, Dutch, Swedish, Norwegian, Danish, Finnish, Icelandic, Hungarian and Vietnamese (HubSpot's own translations among them:
  // "Numero di telefono", "Proprietário do contato", "Contacteigenaar"), more Spanish, French and German.
  // "Nome", "Nombre" and "Nom" are decided beside the other columns (planColumns); two surname columns
  // ("Apellido paterno", "Apellido materno") are joined (row-normaliser.ts).
  ...keys('name', 'nomecompleto nomeecognome nominativo nombrecompleto nomcomplet naam volledigenaam namn navn fulltnavn nimi kokonimi'),
  ...keys('firstName', 'primeironome primernombre voornaam fornamn fornavn etunimi'),
  ...keys('middleName', 'tussenvoegsel segundonombre'),
  ...keys('lastName', 'cognome sobrenome ultimonome primerapellido segundoapellido apellidopaterno apellidomaterno apellido1 apellido2 achternaam efternamn etternavn efternavn sukunimi'),
  ...keys('email', 'indirizzoemail postaelettronica enderecodeemail enderecoeletronico correioeletronico emailadres epost epostadress epostadresse sahkoposti sahkopostiosoite'),
  ...keys('phone', 'telefone numerodetelefone numerodetelefono numeroditelefono numerodetelephone numerodecelular numerodicellulare numerodetelefonomovil numerodetelephonemobile cellulare telefonocellulare telemovel telefoonnummer telefoon mobiel mobielnummer mobieltelefoonnummer mobielenummer telefonnummer mobilnummer mobiltelefonnummer handynummer puhelin puhelinnumero matkapuhelin matkapuhelinnumero'),
  ...keys('company', 'azienda nomeazienda societa ditta ragionesociale nomedaempresa companhia nombredelaempresa compania nomdelentreprise namedesunternehmens firmenname bedrijf bedrijfsnaam organisatie foretag foretagsnamn bolag bedrift selskap firmanavn virksomhed virksomhedsnavn yritys yrityksennimi'),
  ...keys('jobTitle', 'qualifica mansione posizione ruolo funcao puesto intituleduposte berufsbezeichnung functie functietitel befattning jobbtitel yrkestitel stilling stillingstittel jobtitel titteli tehtava tehtavanimike'),
  ...keys('city', 'citta comune localita cidade municipio poblacion localidad plaats woonplaats stad sted poststed by kaupunki paikkakunta kunta'),
  ...keys('state', 'provincia regione statoregione estado estadoregiao uf estadoregion etatregion bundeslandregion provincie staatregio lan fylke maakunta'),
  ...keys('country', 'paese nazione paeseregione paisregiao paisregion paysregion landregion landregio landomrade maa maaalue'),
  ...keys('tags', 'etichette etiquetas marcadores etiquettes'),
  ...keys('owner', 'proprietario proprietariodelcontatto proprietariodocontato propietario propietariodelcontacto proprietaire proprietaireducontact kontaktinhaber eigenaar contacteigenaar agare kontaktagare eier kontakteier ejer kontaktejer omistaja yhteyshenkilonomistaja'),
  ...spelled('name', ['Họ và tên', 'Họ tên', 'Tên khách hàng', 'Tên liên hệ', 'Họ và tên khách hàng']),
  ...spelled('middleName', ['Tên đệm']),
  ...spelled('lastName', ['Họ', '姓氏']),
  ...spelled('firstName', ['名字']),
  ...spelled('email', ['Địa chỉ email', 'Thư điện tử']),
  ...spelled('phone', ['Số điện thoại', 'Điện thoại', 'Di động', 'Số di động', 'SĐT', 'Điện thoại di động']),
  ...spelled('company', ['Công ty', 'Tên công ty', 'Doanh nghiệp']),
  ...spelled('jobTitle', ['Chức vụ', 'Chức danh']),
  ...spelled('city', ['Thành phố', 'Tỉnh/Thành phố', 'Tỉnh/TP', 'Tỉnh thành']),
  ...spelled('country', ['Quốc gia']),
  ...spelled('tags', ['Nhãn']),
  ...spelled('owner', ['Người phụ trách', 'Nhân viên phụ trách']),
  // Romanian, Croatian, Serbian, Bosnian and Slovenian (Latin), Slovak, Bulgarian, Indonesian and Malay, Persian.
  ...spelled('name', ['Nume complet', 'Ime i prezime', 'Ime in priimek', 'Meno a priezvisko', 'Име и фамилия', 'Nama', 'Nama lengkap', 'نام و نام خانوادگی', 'نام کامل', 'نام']),
  ...spelled('firstName', ['Prenume', 'Ime', 'Meno', 'Krstné meno', 'Име', 'Nama depan', 'Nama pertama']),
  ...spelled('lastName', ['Prezime', 'Priimek', 'Priezvisko', 'Nama belakang', 'Nama keluarga', 'نام خانوادگی']),
  ...spelled('email', ['Adresă de e-mail', 'Adresa de email', 'E-pošta', 'Adresa e-pošte', 'Имейл', 'Електронна поща', 'Surel', 'Alamat email', 'E-mel', 'ایمیل', 'پست الکترونیک']),
  ...spelled('phone', ['Număr de telefon', 'Telefon mobil', 'Broj telefona', 'Mobitel', 'Telefonska številka', 'Telefónne číslo', 'Телефонен номер', 'Мобилен телефон', 'Телефон', 'Telepon', 'Nomor telepon', 'No. HP', 'Nombor telefon', 'تلفن', 'شماره تلفن', 'موبایل', 'تلفن همراه']),
  ...spelled('company', ['Companie', 'Firmă', 'Tvrtka', 'Poduzeće', 'Preduzeće', 'Podjetje', 'Spoločnosť', 'Фирма', 'Компания', 'Perusahaan', 'Syarikat', 'شرکت', 'نام شرکت']),
  ...spelled('jobTitle', ['Funcție', 'Radno mjesto', 'Pozicija', 'Delovno mesto', 'Pracovná pozícia', 'Длъжност', 'Jabatan', 'سمت', 'عنوان شغلی']),
  ...spelled('city', ['Oraș', 'Localitate', 'Grad', 'Mjesto', 'Mesto', 'Град', 'Kota', 'Bandar', 'شهر']),
  ...spelled('country', ['Țară', 'Država', 'Štát', 'Държава', 'Negara', 'کشور']),
  ...spelled('name', ['Név', 'Teljes név']),
  ...spelled('firstName', ['Keresztnév', 'Utónév']),
  ...spelled('lastName', ['Vezetéknév']),
  ...spelled('email', ['E-mail cím']),
  ...spelled('phone', ['Telefonszám', 'Mobilszám', 'Mobiltelefonszám']),
  ...spelled('company', ['Cég', 'Cégnév']),
  ...spelled('jobTitle', ['Beosztás', 'Pozíció']),
  ...spelled('city', ['Város', 'Település']),
  ...spelled('country', ['Ország']),
  ...spelled('name', ['Nafn', 'Fullt nafn']),
  ...spelled('firstName', ['Fornafn']),
  ...spelled('lastName', ['Eftirnafn']),
  ...spelled('email', ['Netfang', 'Tölvupóstur']),
  ...spelled('phone', ['Sími', 'Símanúmer', 'Farsími']),
  ...spelled('company', ['Fyrirtæki', 'Vinnustaður']),
  ...spelled('jobTitle', ['Starfsheiti']),
  ...spelled('city', ['Staður', 'Bær', 'Sveitarfélag', 'Póststöð']),
  // Headers of Excel sheets and CRMs in Russian, Ukrainian, Polish, Czech, Turkish, Greek, Hebrew, Arabic,
  // Japanese, Chinese, Korean, Thai, Lithuanian, Latvian and Estonian, as written (reduced by headerKey, which also drops Arabic's hamza:
  // الأول and الاول are one key, and makes full-width letters ASCII: Ｅメール is Eメール).
  ...spelled('name', ['ФИО', 'Полное имя', 'Контактное лицо', 'ПІБ', 'Imię i nazwisko', 'Jméno a příjmení', 'Celé jméno', 'שם', 'שם מלא', 'الاسم', 'الاسم الكامل', '氏名', '名前', 'お名前', '姓名', '联系人', '聯絡人', '이름', '성명', 'ชื่อ-นามสกุล', 'ชื่อ นามสกุล', 'ชื่อเต็ม', 'Vardas ir pavardė', 'Vardas, pavardė', 'Vārds, uzvārds']),
  ...spelled('firstName', ['Имя', 'Ім’я', "Ім'я", 'Imię', 'Jméno', 'Křestní jméno', 'Adı', 'İsim', 'Όνομα', 'שם פרטי', 'الاسم الأول', '名', 'ชื่อ', 'Vardas', 'Vārds', 'Eesnimi']),
  ...spelled('middleName', ['Отчество', 'По батькові', 'Drugie imię']),
  ...spelled('lastName', ['Фамилия', 'Прізвище', 'Nazwisko', 'Příjmení', 'Soyadı', 'Soyad', 'Soyisim', 'Επώνυμο', 'שם משפחה', 'اسم العائلة', 'الاسم الأخير', 'اللقب', '姓', '성', 'นามสกุล', 'Pavardė', 'Uzvārds', 'Perekonnanimi']),
  ...spelled('email', ['Электронная почта', 'Эл. почта', 'Почта', 'Рабочий email', 'Рабочий e-mail', 'Личный email', 'Личный e-mail', 'Електронна пошта', 'Adres e-mail', 'E-mailová adresa', 'E-posta', 'E-posta adresi', 'Ηλεκτρονικό ταχυδρομείο', 'דוא"ל', 'דואר אלקטרוני', 'כתובת דואר אלקטרוני', 'البريد الإلكتروني', 'البريد', 'メールアドレス', 'メール', 'Eメール', '電子メール', '电子邮件', '电子邮箱', '邮箱', '邮件', '電子郵件', '郵箱', '이메일', '전자우편', '메일', 'อีเมล', 'อีเมล์', 'El. paštas', 'E. paštas', 'E-pasts', 'E-post']),
  ...spelled('phone', ['Телефон', 'Мобильный', 'Мобильный телефон', 'Рабочий телефон', 'Сотовый', 'Сотовый телефон', 'Номер телефона', 'Мобільний', 'Мобільний телефон', 'Номер телефону', 'Telefon komórkowy', 'Numer telefonu', 'Telefon służbowy', 'Mobil', 'Telefonní číslo', 'Cep telefonu', 'Cep', 'Telefon numarası', 'Τηλέφωνο', 'Κινητό', 'Κινητό τηλέφωνο', 'טלפון', 'נייד', 'טלפון נייד', 'טלפון בעבודה', 'פלאפון', 'מספר טלפון', 'الهاتف', 'رقم الهاتف', 'الجوال', 'رقم الجوال', 'الهاتف المحمول', 'الموبايل', 'هاتف العمل', '電話番号', '電話', '携帯電話', '携帯', '携帯番号', '携帯電話番号', '电话', '电话号码', '手机', '手机号', '手机号码', '联系电话', '電話號碼', '手機', '聯絡電話', '전화번호', '전화', '휴대폰', '휴대전화', '핸드폰', '연락처', 'โทรศัพท์', 'เบอร์โทร', 'เบอร์โทรศัพท์', 'มือถือ', 'เบอร์มือถือ', 'Telefonas', 'Mobilusis telefonas', 'Tel. nr.', 'Tālrunis', 'Mobilais tālrunis', 'Telefona numurs']),
  ...spelled('company', ['Компания', 'Организация', 'Название компании', 'Компанія', 'Організація', 'Nazwa firmy', 'Společnost', 'Şirket', 'Şirket adı', 'Firma adı', 'Εταιρεία', 'חברה', 'שם החברה', 'الشركة', 'اسم الشركة', '会社名', '会社', '企業名', '取引先名', '公司', '公司名称', '单位', '公司名稱', '회사', '회사명', 'บริษัท', 'ชื่อบริษัท', 'Įmonė', 'Uzņēmums', 'Ettevõte']),
  ...spelled('jobTitle', ['Должность', 'Посада', 'Stanowisko', 'Pozice', 'Funkce', 'Unvan', 'Ünvan', 'Pozisyon', 'Θέση', 'תפקיד', 'المسمى الوظيفي', 'الوظيفة', '役職', '肩書き', '职位', '职务', '職稱', '職位', '직책', '직위', '직함', 'ตำแหน่ง', 'Pareigos', 'Amats', 'Ametikoht']),
  ...spelled('city', ['Город', 'Місто', 'Miasto', 'Miejscowość', 'Město', 'Şehir', 'Πόλη', 'עיר', 'المدينة', '市区町村', '城市', '도시', 'เมือง', 'Miestas', 'Pilsēta', 'Linn']),
  ...spelled('state', ['Область', 'Регион', 'Województwo', '都道府県', '省份', '省', 'จังหวัด']),
  ...spelled('country', ['Страна', 'Країна', 'Państwo', 'Země', 'Ülke', 'Χώρα', 'ארץ', 'الدولة', 'البلد', '国', '国家', '國家', '국가', 'ประเทศ', 'Šalis', 'Valsts', 'Riik']),
  ...spelled('tags', ['Теги', 'Тэги', 'Метки', 'Теги контакта', 'Tagi', 'Štítky', 'תגיות', 'الوسوم', 'タグ', '标签', '標籤', '태그']),
  ...spelled('owner', ['Ответственный', 'Владелец', 'Відповідальний', 'Opiekun', 'Właściciel', 'אחראי', 'المسؤول', '担当者', '所有者', '负责人', '負責人', '담당자']),
};

function keys(target: FieldTarget, list: string): Record<string, FieldTarget> {
  return Object.fromEntries(list.split(' ').map((key) => [key, target]));
}

function spelled(target: FieldTarget, headers: string[]): Record<string, FieldTarget> {
  return Object.fromEntries(headers.map((header) => [headerKey(header), target]));
}

// Up to two kind words: "Work Direct Phone", "First Phone" (Apollo), "Other Home Phone".
const kindPrefix = '(?:primary|secondary|work|home|other|personal|business|private|main|office|direct|first|second|third){0,2}';
// German Outlook: "Telefon geschäftlich", "E-Mail 2 privat".
const kindSuffix = '(?:value|work|home|other|personal|business|private|main|office|mobile|geschaftlich|privat|dienstlich)?';
// "Mailing City", "Address 1: City" (Dynamics), "ADDRESS_MAIL_CITY" (Insightly), "Primary location > City" (Attio)
const address =
  '(?:mailing|business|home|other|primary|billing|shipping|work|postal)?(?:address\\d*(?:mail|mailing|postal|billing|shipping|work|home|other)?|location)?';
const knownPatterns: [RegExp, FieldTarget][] = [
  // "Email", "E-mail Address", "E-mail 2 Address" (Outlook), "E-mail 1 - Value" (Google), "Email - Work" (Pipedrive)
  [new RegExp(`^${kindPrefix}e?mail\\d*(?:address(?:es)?|adresse)?\\d*${kindSuffix}$`), 'email'],
  // "Phone Number", "Mobile Phone Number" (HubSpot), "Business Phone 2" (Outlook), "Phone 1 - Value" (Google),
  // "Phone numbers" (Attio), "Phones" (folk); not faxes, not an assistant's or the company's number
  [
    new RegExp(
      `^${kindPrefix}(?:mobile|cell)?(?:phones?|telephone|tel|mobile|cell|cellphone|handy|telefon|mobiltelefon|telefono|portable|movil|celular)\\d*(?:numbers?|no|nr)?\\d*${kindSuffix}$`,
    ),
    'phone',
  ],
  [/^whatsapp(?:number|phone|phonenumber|id)?$/, 'whatsapp'],
  [/^telegram(?:username|handle|id|user|name)?$/, 'telegram'],
  [/^linkedin(?:url|profile|profileurl|link)?$/, 'linkedin'],
  [new RegExp(`^${address}city$`), 'city'],
  [new RegExp(`^${address}(?:state|region|province|stateregion|stateprovince)$`), 'state'],
  [new RegExp(`^${address}(?:country|countryregion|countryname|countrycode)$`), 'country'],
];

/**
 * The target a header is recognised as, or undefined. `Title` is not decided here: it is a job title
 * (Salesforce, Zoho) unless the file also has a job title column, then a name prefix (Outlook).
 */
export function recogniseHeader(header: string): ColumnTarget | undefined {
  const custom = customTargetOf(header);
  if (custom) return custom;
  const key = headerKey(header);
  if (key === '') return undefined;
  const direct = recogniseKey(key);
  if (direct) return direct;
  // "Person - Name", "Person - Email - Work" (Pipedrive), "Contact Owner" (Salesforce, HubSpot),
  // "primary_contact_email" (Close)
  for (const prefix of ['primarycontact', 'person', 'contact']) {
    if (key.startsWith(prefix) && key.length > prefix.length) {
      const target = recogniseKey(key.slice(prefix.length));
      if (target) return target;
    }
  }
  return undefined;
}

function recogniseKey(key: string): FieldTarget | undefined {
  const known = knownKeys[key];
  if (known) return known;
  return knownPatterns.find(([pattern]) => pattern.test(key))?.[1];
}

/** `Custom: plan` → `custom:plan` (the key lower-cased); undefined when the rest is not a key. */
function customTargetOf(header: string): CustomTarget | undefined {
  const match = /^\s*custom\s*:\s*(.+?)\s*$/i.exec(header);
  if (!match) return undefined;
  const key = match[1]!.toLowerCase();
  return customKeyPattern.test(key) ? `custom:${key}` : undefined;
}

/** Targets that take values from several columns (the others keep the first column's value). */
export const multiValueTargets: ReadonlySet<ColumnTarget> = new Set<ColumnTarget>(['email', 'phone', 'whatsapp', 'telegram', 'linkedin', 'tags']);

export interface PlannedColumn {
  /** 0-based position in the record. */
  index: number;
  header: string;
  target: Exclude<ColumnTarget, 'ignore'>;
  /** `mapping`: named by the explicit mapping; `recognised`: from its header. */
  source: 'mapping' | 'recognised';
}

export interface SkippedColumn {
  index: number;
  header: string;
  /** `unrecognised`: neither mapped nor recognised; `ignored`: mapped to `ignore` (or `Title` beside a job title). */
  why: 'unrecognised' | 'ignored';
}

export interface ColumnPlan {
  headers: string[];
  /** The surname column is one written before the given name (Vietnamese "Họ", Chinese 姓, Korean 성). */
  familyNameFirst: boolean;
  /** The columns that are imported, in file order. */
  columns: PlannedColumn[];
  /** The columns that are not, for the report. */
  skipped: SkippedColumn[];
}

/**
 * Decides each column's target: the mapping first (by exact header, else by `headerKey`), then
 * recognition. Refuses a mapping that names a column the file lacks (`unknown_column`, listing the
 * headers) and a plan with no email or phone column (`no_channel_column`): every row would fail.
 */
export function planColumns(headers: string[], mapping: ColumnMapping = {}): ColumnPlan {
  const byKey = new Map<string, number>();
  headers.forEach((header, index) => {
    const key = headerKey(header);
    if (key !== '' && !byKey.has(key)) byKey.set(key, index);
  });
  const mapped = new Map<number, ColumnTarget>();
  const unknown: string[] = [];
  for (const [header, target] of Object.entries(mapping)) {
    if (!isColumnTarget(target)) throw new ImportFileError('unknown_column', `"${target}" is not a field a column can fill`);
    const exact = headers.flatMap((h, index) => (h === header ? [index] : []));
    const indexes = exact.length > 0 ? exact : byKey.has(headerKey(header)) ? [byKey.get(headerKey(header))!] : [];
    if (indexes.length === 0) unknown.push(header);
    for (const index of indexes) mapped.set(index, target);
  }
  if (unknown.length > 0) {
    throw new ImportFileError(
      'unknown_column',
      `The mapping names ${unknown.length === 1 ? 'a column' : 'columns'} the file does not have: ${unknown.map((h) => JSON.stringify(h)).join(', ')}. The file's columns: ${headers.map((h) => JSON.stringify(h)).join(', ')}`,
      { unknownColumns: unknown, headers },
    );
  }

  // LinkedIn's Connections.csv names the profile column just "URL"; its "Connected On" column says which file it is.
  const linkedInConnections = headers.some((header) => headerKey(header) === 'connectedon');
  const recognised = headers.map((header): ColumnTarget | undefined => {
    const key = headerKey(header);
    if (key === 'title') return undefined;
    if (key === 'url' && linkedInConnections) return 'linkedin';
    return recogniseHeader(header);
  });
  // "Nome", "Nombre", Vietnamese "Tên" and Korean 이름 are the given name beside a surname column
  // (Cognome, Sobrenome, Apellidos, Họ, 성), else the whole name; French "Nom" and Romanian "Nume" are the
  // surname beside Prénom / Prenume, else the whole name.
  const has = (target: FieldTarget) => recognised.includes(target) || [...mapped.values()].includes(target);
  const hasFirstName = has('firstName');
  const hasLastName = has('lastName');
  headers.forEach((header, index) => {
    const key = headerKey(header);
    if (['nome', 'nombre', 'ten', headerKey('이름'), headerKey('نام')].includes(key) && hasLastName) recognised[index] = 'firstName';
    if ((key === 'nom' || key === 'nume') && hasFirstName) recognised[index] = 'lastName';
  });
  const hasJobTitle = headers.some((_, index) => (mapped.get(index) ?? recognised[index]) === 'jobTitle');
  const columns: PlannedColumn[] = [];
  const skipped: SkippedColumn[] = [];
  headers.forEach((header, index) => {
    const explicit = mapped.get(index);
    let target: ColumnTarget | undefined = explicit ?? recognised[index];
    // A header cell merged over several columns ("Phone" over work and mobile) names only the first:
    // the unnamed columns right of an email, phone or tags column hold more of the same.
    const previous = columns.at(-1);
    if (target === undefined && header.trim() === '' && previous?.index === index - 1 && previous.target !== undefined && multiValueTargets.has(previous.target)) {
      columns.push({ index, header: previous.header, target: previous.target, source: previous.source });
      return;
    }
    let why: SkippedColumn['why'] = 'unrecognised';
    if (target === undefined && headerKey(header) === 'title') {
      if (hasJobTitle) why = 'ignored';
      else target = 'jobTitle';
    }
    if (target === undefined || target === 'ignore') {
      skipped.push({ index, header, why: target === 'ignore' ? 'ignored' : why });
      return;
    }
    columns.push({ index, header, target, source: explicit ? 'mapping' : 'recognised' });
  });

  if (!columns.some((column) => column.target === 'email' || column.target === 'phone')) {
    throw new ImportFileError(
      'no_channel_column',
      `No column holds emails or phone numbers, and every contact needs one: map a column to email or phone. The file's columns: ${headers.map((h) => JSON.stringify(h)).join(', ')}`,
      { headers },
    );
  }
  const surname = columns.find((column) => column.target === 'lastName');
  const familyNameFirst = surname !== undefined && familyNameFirstHeaders.has(headerKey(surname.header));
  return { headers, columns, skipped, familyNameFirst };
}

/** Surname headers of languages that write the family name first. */
const familyNameFirstHeaders = new Set(['Họ', '姓', '姓氏', '성', '氏', 'Vezetéknév'].map(headerKey));
