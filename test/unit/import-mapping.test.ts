import { describe, expect, it } from 'vitest';
import {
  canonicalColumns,
  columnMappingSchema,
  customFieldHeader,
  headerKey,
  planColumns,
  recogniseHeader,
} from '../../domain/imports/column-mapping';

const targets = (headers: string[], mapping?: Record<string, string>) =>
  Object.fromEntries(planColumns(headers, mapping).columns.map((column) => [column.header, column.target]));

describe('header recognition', () => {
  it('recognises every canonical header and custom field columns, so an export re-imports as it is', () => {
    for (const { header, target } of canonicalColumns) expect(recogniseHeader(header)).toBe(target);
    expect(recogniseHeader(customFieldHeader('plan'))).toBe('custom:plan');
    expect(recogniseHeader('custom:  Renewal_Date ')).toBe('custom:renewal_date');
    expect(recogniseHeader('Custom: not a key!')).toBeUndefined();
  });

  it('ignores case, spaces, punctuation and accents', () => {
    expect(headerKey(' E-mail 1 - Value ')).toBe('email1value');
    expect(recogniseHeader('E_MAIL')).toBe('email');
    expect(recogniseHeader('  job   title ')).toBe('jobTitle');
    expect(recogniseHeader('Prénom')).toBe('firstName');
    expect(recogniseHeader('\ufeffName')).toBe('name');
  });

  it.each([
    [
      'Google Contacts',
      ['Name', 'Given Name', 'Additional Name', 'Family Name', 'Group Membership', 'E-mail 1 - Type', 'E-mail 1 - Value', 'E-mail 2 - Value', 'Phone 1 - Type', 'Phone 1 - Value', 'Organization 1 - Name', 'Organization 1 - Title', 'Address 1 - City', 'Address 1 - Region', 'Address 1 - Country'],
      { Name: 'name', 'Given Name': 'firstName', 'Additional Name': 'middleName', 'Family Name': 'lastName', 'Group Membership': 'tags', 'E-mail 1 - Value': 'email', 'E-mail 2 - Value': 'email', 'Phone 1 - Value': 'phone', 'Organization 1 - Name': 'company', 'Organization 1 - Title': 'jobTitle', 'Address 1 - City': 'city', 'Address 1 - Region': 'state', 'Address 1 - Country': 'country' },
    ],
    [
      'Google Contacts (2023 format)',
      ['First Name', 'Middle Name', 'Last Name', 'Labels', 'E-mail 1 - Label', 'E-mail 1 - Value', 'Phone 1 - Label', 'Phone 1 - Value', 'Organization Name', 'Organization Title'],
      { 'First Name': 'firstName', 'Middle Name': 'middleName', 'Last Name': 'lastName', Labels: 'tags', 'E-mail 1 - Value': 'email', 'Phone 1 - Value': 'phone', 'Organization Name': 'company', 'Organization Title': 'jobTitle' },
    ],
    [
      'Outlook (German)',
      ['Anrede', 'Vorname', 'Nachname', 'Firma', 'Position', 'Telefon geschäftlich', 'Telefon privat', 'Mobiltelefon', 'Fax geschäftlich', 'E-Mail-Adresse', 'E-Mail 2: Adresse'],
      { Vorname: 'firstName', Nachname: 'lastName', Firma: 'company', Position: 'jobTitle', 'Telefon geschäftlich': 'phone', 'Telefon privat': 'phone', Mobiltelefon: 'phone', 'E-Mail-Adresse': 'email', 'E-Mail 2: Adresse': 'email' },
    ],
    [
      'Outlook',
      ['Title', 'First Name', 'Middle Name', 'Last Name', 'Suffix', 'Company', 'Department', 'Job Title', 'Business City', 'Business State', 'Business Country/Region', 'Business Fax', 'Business Phone', 'Business Phone 2', 'Home Phone', 'Mobile Phone', "Assistant's Phone", 'Categories', 'E-mail Address', 'E-mail Type', 'E-mail Display Name', 'E-mail 2 Address', 'E-mail 3 Address'],
      { 'First Name': 'firstName', 'Middle Name': 'middleName', 'Last Name': 'lastName', Company: 'company', 'Job Title': 'jobTitle', 'Business City': 'city', 'Business State': 'state', 'Business Country/Region': 'country', 'Business Phone': 'phone', 'Business Phone 2': 'phone', 'Home Phone': 'phone', 'Mobile Phone': 'phone', Categories: 'tags', 'E-mail Address': 'email', 'E-mail 2 Address': 'email', 'E-mail 3 Address': 'email' },
    ],
    [
      'Salesforce',
      ['Salutation', 'First Name', 'Last Name', 'Title', 'Account Name', 'Email', 'Phone', 'Mobile', 'Mailing City', 'Mailing State/Province', 'Mailing Country', 'Contact Owner', 'Lead Source'],
      { 'First Name': 'firstName', 'Last Name': 'lastName', Title: 'jobTitle', 'Account Name': 'company', Email: 'email', Phone: 'phone', Mobile: 'phone', 'Mailing City': 'city', 'Mailing State/Province': 'state', 'Mailing Country': 'country', 'Contact Owner': 'owner' },
    ],
    [
      'HubSpot',
      ['Record ID', 'First Name', 'Last Name', 'Email', 'Phone Number', 'Mobile Phone Number', 'Company Name', 'Job Title', 'City', 'State/Region', 'Country/Region', 'Contact owner', 'Lifecycle Stage', 'WhatsApp Phone Number', 'LinkedIn URL'],
      { 'First Name': 'firstName', 'Last Name': 'lastName', Email: 'email', 'Phone Number': 'phone', 'Mobile Phone Number': 'phone', 'Company Name': 'company', 'Job Title': 'jobTitle', City: 'city', 'State/Region': 'state', 'Country/Region': 'country', 'Contact owner': 'owner', 'WhatsApp Phone Number': 'whatsapp', 'LinkedIn URL': 'linkedin' },
    ],
    [
      'Pipedrive',
      ['Person - Name', 'Person - Email - Work', 'Person - Email - Home', 'Person - Phone - Mobile', 'Person - Organization', 'Person - Owner', 'Person - Labels'],
      { 'Person - Name': 'name', 'Person - Email - Work': 'email', 'Person - Email - Home': 'email', 'Person - Phone - Mobile': 'phone', 'Person - Organization': 'company', 'Person - Owner': 'owner', 'Person - Labels': 'tags' },
    ],
    [
      'Zoho',
      ['Full Name', 'Email', 'Secondary Email', 'Phone', 'Other Phone', 'Account Name', 'Title', 'Mailing City', 'Tag'],
      { 'Full Name': 'name', Email: 'email', 'Secondary Email': 'email', Phone: 'phone', 'Other Phone': 'phone', 'Account Name': 'company', Title: 'jobTitle', 'Mailing City': 'city', Tag: 'tags' },
    ],
    [
      'a Russian sheet',
      ['ФИО', 'Имя', 'Отчество', 'Фамилия', 'Мобильный телефон', 'Рабочий телефон', 'Электронная почта', 'Компания', 'Должность', 'Город', 'Страна', 'Теги', 'Ответственный', 'Комментарий'],
      { ФИО: 'name', Имя: 'firstName', Отчество: 'middleName', Фамилия: 'lastName', 'Мобильный телефон': 'phone', 'Рабочий телефон': 'phone', 'Электронная почта': 'email', Компания: 'company', Должность: 'jobTitle', Город: 'city', Страна: 'country', Теги: 'tags', Ответственный: 'owner' },
    ],
    [
      'a Ukrainian sheet',
      ['Прізвище', 'Ім’я', 'По батькові', 'Мобільний телефон', 'Електронна пошта', 'Організація', 'Посада', 'Місто'],
      { Прізвище: 'lastName', 'Ім’я': 'firstName', 'По батькові': 'middleName', 'Мобільний телефон': 'phone', 'Електронна пошта': 'email', Організація: 'company', Посада: 'jobTitle', Місто: 'city' },
    ],
    [
      'a Polish sheet',
      ['Imię', 'Nazwisko', 'Adres e-mail', 'Telefon komórkowy', 'Nazwa firmy', 'Stanowisko', 'Miasto', 'Województwo', 'Uwagi'],
      { Imię: 'firstName', Nazwisko: 'lastName', 'Adres e-mail': 'email', 'Telefon komórkowy': 'phone', 'Nazwa firmy': 'company', Stanowisko: 'jobTitle', Miasto: 'city', Województwo: 'state' },
    ],
    [
      'a Czech sheet',
      ['Jméno', 'Příjmení', 'E-mail', 'Telefon', 'Mobil', 'Společnost', 'Pozice', 'Město', 'Země', 'Štítky', 'Poznámka'],
      { Jméno: 'firstName', Příjmení: 'lastName', 'E-mail': 'email', Telefon: 'phone', Mobil: 'phone', Společnost: 'company', Pozice: 'jobTitle', Město: 'city', Země: 'country', Štítky: 'tags' },
    ],
    [
      'a prospecting tool (Apollo-style phone columns)',
      ['First Name', 'Last Name', 'Title', 'Company', 'Email', 'Email Status', 'First Phone', 'Work Direct Phone', 'Home Phone', 'Mobile Phone', 'Corporate Phone', 'Other Phone', 'Person Linkedin Url', 'Company Linkedin Url', 'City', 'State', 'Country', 'Company City'],
      { 'First Name': 'firstName', 'Last Name': 'lastName', Title: 'jobTitle', Company: 'company', Email: 'email', 'First Phone': 'phone', 'Work Direct Phone': 'phone', 'Home Phone': 'phone', 'Mobile Phone': 'phone', 'Other Phone': 'phone', 'Person Linkedin Url': 'linkedin', City: 'city', State: 'state', Country: 'country' },
    ],
    [
      'a Greek sheet',
      ['Όνομα', 'Επώνυμο', 'Email', 'Κινητό τηλέφωνο', 'Εταιρεία', 'Θέση', 'Πόλη', 'Χώρα'],
      { Όνομα: 'firstName', Επώνυμο: 'lastName', Email: 'email', 'Κινητό τηλέφωνο': 'phone', Εταιρεία: 'company', Θέση: 'jobTitle', Πόλη: 'city', Χώρα: 'country' },
    ],
    [
      'a Turkish sheet',
      ['Adı', 'Soyadı', 'E-posta', 'Cep Telefonu', 'Şirket', 'Unvan', 'Şehir', 'Ülke', 'Notlar'],
      { Adı: 'firstName', Soyadı: 'lastName', 'E-posta': 'email', 'Cep Telefonu': 'phone', Şirket: 'company', Unvan: 'jobTitle', Şehir: 'city', Ülke: 'country' },
    ],
    [
      'a Hebrew sheet (Outlook and Excel in Hebrew)',
      ['שם פרטי', 'שם משפחה', 'דוא"ל', 'טלפון נייד', 'טלפון בעבודה', 'חברה', 'תפקיד', 'עיר', 'הערות'],
      { 'שם פרטי': 'firstName', 'שם משפחה': 'lastName', 'דוא"ל': 'email', 'טלפון נייד': 'phone', 'טלפון בעבודה': 'phone', חברה: 'company', תפקיד: 'jobTitle', עיר: 'city' },
    ],
    [
      'an Arabic sheet, with and without hamza',
      ['الاسم الأول', 'اسم العائلة', 'البريد الالكتروني', 'الجوال', 'رقم الهاتف', 'اسم الشركة', 'المسمى الوظيفي', 'المدينة', 'الدولة', 'ملاحظات'],
      { 'الاسم الأول': 'firstName', 'اسم العائلة': 'lastName', 'البريد الالكتروني': 'email', الجوال: 'phone', 'رقم الهاتف': 'phone', 'اسم الشركة': 'company', 'المسمى الوظيفي': 'jobTitle', المدينة: 'city', الدولة: 'country' },
    ],
    [
      'Freshsales, Bitrix24, Odoo, Copper and Teamleader (their phone and owner headers)',
      ['Name', 'Emails', 'Work number', 'GSM', 'Sales owner', 'Responsible person', 'Salesperson', 'Owned By'],
      { Name: 'name', Emails: 'email', 'Work number': 'phone', GSM: 'phone', 'Sales owner': 'owner', 'Responsible person': 'owner', Salesperson: 'owner', 'Owned By': 'owner' },
    ],
    [
      'Insightly, Attio, folk, Close and Brevo',
      ['FIRST_NAME', 'LAST_NAME', 'ADDRESS_MAIL_CITY', 'ADDRESS_MAIL_COUNTRY', 'Phone numbers', 'Phones', 'Companies', 'Primary location > City', 'primary_contact_email', 'contact_phones', 'SMS'],
      { FIRST_NAME: 'firstName', LAST_NAME: 'lastName', ADDRESS_MAIL_CITY: 'city', ADDRESS_MAIL_COUNTRY: 'country', 'Phone numbers': 'phone', Phones: 'phone', Companies: 'company', 'Primary location > City': 'city', primary_contact_email: 'email', contact_phones: 'phone', SMS: 'phone' },
    ],
    [
      'a Japanese sheet (and Salesforce in Japanese)',
      ['氏名', 'フリガナ', '会社名', '役職', 'メールアドレス', '電話番号', '携帯電話', '都道府県', '市区町村', '取引先名', '所有者'],
      { 氏名: 'name', 会社名: 'company', 役職: 'jobTitle', メールアドレス: 'email', 電話番号: 'phone', 携帯電話: 'phone', 都道府県: 'state', 市区町村: 'city', 取引先名: 'company', 所有者: 'owner' },
    ],
    [
      'a Chinese sheet, simplified and traditional',
      ['姓名', '手机', '电子邮件', '公司', '职位', '城市', '备注', '電子郵件', '公司名稱', '職稱', '負責人'],
      { 姓名: 'name', 手机: 'phone', 电子邮件: 'email', 公司: 'company', 职位: 'jobTitle', 城市: 'city', 電子郵件: 'email', 公司名稱: 'company', 職稱: 'jobTitle', 負責人: 'owner' },
    ],
    [
      'a Korean sheet',
      ['이름', '휴대폰', '이메일', '회사', '직책', '도시', '메모', '담당자'],
      { 이름: 'name', 휴대폰: 'phone', 이메일: 'email', 회사: 'company', 직책: 'jobTitle', 도시: 'city', 담당자: 'owner' },
    ],
    [
      'a Thai sheet',
      ['ชื่อ', 'นามสกุล', 'อีเมล', 'เบอร์โทรศัพท์', 'บริษัท', 'ตำแหน่ง', 'จังหวัด', 'ประเทศ', 'หมายเหตุ'],
      { ชื่อ: 'firstName', นามสกุล: 'lastName', อีเมล: 'email', เบอร์โทรศัพท์: 'phone', บริษัท: 'company', ตำแหน่ง: 'jobTitle', จังหวัด: 'state', ประเทศ: 'country' },
    ],
    [
      'Lithuanian, Latvian and Estonian sheets',
      ['Vardas', 'Pavardė', 'El. paštas', 'Telefonas', 'Įmonė', 'Pareigos', 'Miestas', 'Uzvārds', 'Tālrunis', 'Uzņēmums', 'Eesnimi', 'E-post', 'Ettevõte'],
      { Vardas: 'firstName', Pavardė: 'lastName', 'El. paštas': 'email', Telefonas: 'phone', Įmonė: 'company', Pareigos: 'jobTitle', Miestas: 'city', Uzvārds: 'lastName', Tālrunis: 'phone', Uzņēmums: 'company', Eesnimi: 'firstName', 'E-post': 'email', Ettevõte: 'company' },
    ],
    [
      'HubSpot in Portuguese (Brazil)',
      ['Nome', 'Sobrenome', 'E-mail', 'Número de telefone', 'Número de celular', 'Nome da empresa', 'Cargo', 'Cidade', 'Estado/Região', 'País/Região', 'Proprietário do contato', 'Fase do ciclo de vida'],
      { Nome: 'firstName', Sobrenome: 'lastName', 'E-mail': 'email', 'Número de telefone': 'phone', 'Número de celular': 'phone', 'Nome da empresa': 'company', Cargo: 'jobTitle', Cidade: 'city', 'Estado/Região': 'state', 'País/Região': 'country', 'Proprietário do contato': 'owner' },
    ],
    [
      'a Brazilian sheet (one name column)',
      ['Nome', 'E-mail', 'Telefone', 'Celular', 'Empresa', 'Função', 'Cidade', 'UF', 'Marcadores'],
      { Nome: 'name', 'E-mail': 'email', Telefone: 'phone', Celular: 'phone', Empresa: 'company', Função: 'jobTitle', Cidade: 'city', UF: 'state', Marcadores: 'tags' },
    ],
    [
      'HubSpot in Italian, and an Italian sheet',
      ['Nome', 'Cognome', 'E-mail', 'Numero di telefono', 'Numero di cellulare', 'Nome azienda', 'Qualifica', 'Città', 'Stato/Regione', 'Paese/regione', 'Proprietario del contatto', 'Ragione sociale', 'Provincia', 'Etichette'],
      { Nome: 'firstName', Cognome: 'lastName', 'E-mail': 'email', 'Numero di telefono': 'phone', 'Numero di cellulare': 'phone', 'Nome azienda': 'company', Qualifica: 'jobTitle', Città: 'city', 'Stato/Regione': 'state', 'Paese/regione': 'country', 'Proprietario del contatto': 'owner', 'Ragione sociale': 'company', Provincia: 'state', Etichette: 'tags' },
    ],
    [
      'HubSpot in Spanish, and Nombre beside Apellidos',
      ['Nombre', 'Apellidos', 'Correo', 'Número de teléfono', 'Número de teléfono móvil', 'Nombre de la empresa', 'Puesto', 'Ciudad', 'Estado/Región', 'País/región', 'Propietario del contacto'],
      { Nombre: 'firstName', Apellidos: 'lastName', Correo: 'email', 'Número de teléfono': 'phone', 'Número de teléfono móvil': 'phone', 'Nombre de la empresa': 'company', Puesto: 'jobTitle', Ciudad: 'city', 'Estado/Región': 'state', 'País/región': 'country', 'Propietario del contacto': 'owner' },
    ],
    [
      'HubSpot in French (Nom is the surname beside Prénom)',
      ['Prénom', 'Nom', 'E-mail', 'Numéro de téléphone', 'Numéro de téléphone mobile', "Nom de l'entreprise", 'Intitulé du poste', 'Ville', 'État/Région', 'Pays/région', 'Propriétaire du contact'],
      { Prénom: 'firstName', Nom: 'lastName', 'E-mail': 'email', 'Numéro de téléphone': 'phone', 'Numéro de téléphone mobile': 'phone', "Nom de l'entreprise": 'company', 'Intitulé du poste': 'jobTitle', Ville: 'city', 'État/Région': 'state', 'Pays/région': 'country', 'Propriétaire du contact': 'owner' },
    ],
    [
      'HubSpot in German',
      ['Vorname', 'Nachname', 'E-Mail', 'Telefonnummer', 'Mobiltelefonnummer', 'Name des Unternehmens', 'Berufsbezeichnung', 'Stadt', 'Bundesland/Region', 'Land/Region', 'Kontaktinhaber'],
      { Vorname: 'firstName', Nachname: 'lastName', 'E-Mail': 'email', Telefonnummer: 'phone', Mobiltelefonnummer: 'phone', 'Name des Unternehmens': 'company', Berufsbezeichnung: 'jobTitle', Stadt: 'city', 'Bundesland/Region': 'state', 'Land/Region': 'country', Kontaktinhaber: 'owner' },
    ],
    [
      'HubSpot in Dutch, and a Dutch sheet with tussenvoegsel',
      ['Voornaam', 'Tussenvoegsel', 'Achternaam', 'E-mailadres', 'Telefoonnummer', 'Mobiel telefoonnummer', 'Bedrijfsnaam', 'Functie', 'Plaats', 'Provincie', 'Land/regio', 'Contacteigenaar'],
      { Voornaam: 'firstName', Tussenvoegsel: 'middleName', Achternaam: 'lastName', 'E-mailadres': 'email', Telefoonnummer: 'phone', 'Mobiel telefoonnummer': 'phone', Bedrijfsnaam: 'company', Functie: 'jobTitle', Plaats: 'city', Provincie: 'state', 'Land/regio': 'country', Contacteigenaar: 'owner' },
    ],
    [
      'Swedish, Norwegian and Danish sheets',
      ['Förnamn', 'Efternamn', 'E-postadress', 'Mobilnummer', 'Företag', 'Befattning', 'Ort', 'Län', 'Kontaktägare', 'Fornavn', 'Etternavn', 'E-postadresse', 'Firmanavn', 'Stillingstittel', 'Poststed', 'Efternavn', 'Virksomhed', 'Jobtitel', 'By', 'Land/område', 'Kontaktejer'],
      { Förnamn: 'firstName', Efternamn: 'lastName', 'E-postadress': 'email', Mobilnummer: 'phone', Företag: 'company', Befattning: 'jobTitle', Ort: 'city', Län: 'state', Kontaktägare: 'owner', Fornavn: 'firstName', Etternavn: 'lastName', 'E-postadresse': 'email', Firmanavn: 'company', Stillingstittel: 'jobTitle', Poststed: 'city', Efternavn: 'lastName', Virksomhed: 'company', Jobtitel: 'jobTitle', By: 'city', 'Land/område': 'country', Kontaktejer: 'owner' },
    ],
    [
      'a Finnish sheet',
      ['Etunimi', 'Sukunimi', 'Sähköposti', 'Puhelinnumero', 'Matkapuhelin', 'Yrityksen nimi', 'Tehtävänimike', 'Kaupunki', 'Maa', 'Yhteyshenkilön omistaja'],
      { Etunimi: 'firstName', Sukunimi: 'lastName', Sähköposti: 'email', Puhelinnumero: 'phone', Matkapuhelin: 'phone', 'Yrityksen nimi': 'company', Tehtävänimike: 'jobTitle', Kaupunki: 'city', Maa: 'country', 'Yhteyshenkilön omistaja': 'owner' },
    ],
    [
      'an Icelandic sheet',
      ['Nafn', 'Netfang', 'Sími', 'Farsími', 'Fyrirtæki', 'Starfsheiti', 'Staður', 'Land'],
      { Nafn: 'name', Netfang: 'email', Sími: 'phone', Farsími: 'phone', Fyrirtæki: 'company', Starfsheiti: 'jobTitle', Staður: 'city', Land: 'country' },
    ],
    [
      'a Vietnamese sheet (Họ, Tên đệm, Tên)',
      ['Họ', 'Tên đệm', 'Tên', 'Email', 'Số điện thoại', 'Di động', 'Công ty', 'Chức vụ', 'Tỉnh/Thành phố', 'Quốc gia', 'Người phụ trách', 'Ghi chú'],
      { Họ: 'lastName', 'Tên đệm': 'middleName', Tên: 'firstName', Email: 'email', 'Số điện thoại': 'phone', 'Di động': 'phone', 'Công ty': 'company', 'Chức vụ': 'jobTitle', 'Tỉnh/Thành phố': 'city', 'Quốc gia': 'country', 'Người phụ trách': 'owner' },
    ],
    [
      'a Hungarian sheet',
      ['Vezetéknév', 'Keresztnév', 'E-mail cím', 'Telefonszám', 'Cégnév', 'Beosztás', 'Város', 'Ország'],
      { Vezetéknév: 'lastName', Keresztnév: 'firstName', 'E-mail cím': 'email', Telefonszám: 'phone', Cégnév: 'company', Beosztás: 'jobTitle', Város: 'city', Ország: 'country' },
    ],
    [
      'a Romanian sheet (Nume beside Prenume is the surname)',
      ['Nume', 'Prenume', 'Adresă de e-mail', 'Număr de telefon', 'Companie', 'Funcție', 'Oraș', 'Țară'],
      { Nume: 'lastName', Prenume: 'firstName', 'Adresă de e-mail': 'email', 'Număr de telefon': 'phone', Companie: 'company', Funcție: 'jobTitle', Oraș: 'city', Țară: 'country' },
    ],
    [
      'Croatian, Slovak and Bulgarian sheets',
      ['Ime', 'Prezime', 'E-pošta', 'Mobitel', 'Tvrtka', 'Radno mjesto', 'Grad', 'Država', 'Priezvisko', 'Spoločnosť', 'Mesto', 'Фамилия', 'Имейл', 'Телефонен номер', 'Длъжност'],
      { Ime: 'firstName', Prezime: 'lastName', 'E-pošta': 'email', Mobitel: 'phone', Tvrtka: 'company', 'Radno mjesto': 'jobTitle', Grad: 'city', Država: 'country', Priezvisko: 'lastName', Spoločnosť: 'company', Mesto: 'city', Фамилия: 'lastName', Имейл: 'email', 'Телефонен номер': 'phone', Длъжност: 'jobTitle' },
    ],
    [
      'Indonesian and Persian sheets',
      ['Nama depan', 'Nama belakang', 'Surel', 'Nomor telepon', 'Perusahaan', 'Jabatan', 'Kota', 'نام', 'نام خانوادگی', 'ایمیل', 'شماره تلفن', 'شرکت', 'شهر', 'کشور'],
      { 'Nama depan': 'firstName', 'Nama belakang': 'lastName', Surel: 'email', 'Nomor telepon': 'phone', Perusahaan: 'company', Jabatan: 'jobTitle', Kota: 'city', نام: 'firstName', 'نام خانوادگی': 'lastName', ایمیل: 'email', 'شماره تلفن': 'phone', شرکت: 'company', شهر: 'city', کشور: 'country' },
    ],
  ])('recognises the export headers of %s', (_vendor, headers, expected) => {
    expect(targets(headers)).toEqual(expected);
  });

  it('reads Nome and Nombre as the given name beside a surname column, Nom as the surname beside Prénom, each else as the whole name', () => {
    expect(targets(['Nome', 'Cognome', 'Email'])).toMatchObject({ Nome: 'firstName', Cognome: 'lastName' });
    expect(targets(['Nome', 'Email'])).toMatchObject({ Nome: 'name' });
    expect(targets(['Nombre', 'Email'])).toMatchObject({ Nombre: 'name' });
    expect(targets(['Tên', 'Email'])).toMatchObject({ Tên: 'name' });
    expect(targets(['Họ', 'Tên', 'Email'])).toMatchObject({ Họ: 'lastName', Tên: 'firstName' });
    expect(targets(['Nom', 'Email'])).toMatchObject({ Nom: 'name' });
    expect(targets(['Nom', 'Prénom', 'Email'])).toMatchObject({ Nom: 'lastName', Prénom: 'firstName' });
    expect(targets(['Nume', 'Email'])).toMatchObject({ Nume: 'name' });
    expect(targets(['نام', 'Email'])).toMatchObject({ نام: 'name' });
    // A surname column named by the mapping counts too.
    expect(targets(['Nome', 'Apelido', 'Email'], { Apelido: 'lastName' })).toMatchObject({ Nome: 'firstName', Apelido: 'lastName' });
  });

  it('reads Outlook’s Title as a name prefix beside a Job Title column, as a job title without one', () => {
    const outlook = planColumns(['Title', 'First Name', 'Job Title', 'Email']);
    expect(outlook.skipped).toEqual([{ index: 0, header: 'Title', why: 'ignored' }]);
    expect(targets(['Title', 'Email'])).toEqual({ Title: 'jobTitle', Email: 'email' });
  });

  it('reads "URL" as the LinkedIn profile in LinkedIn’s Connections.csv (beside "Connected On"), and nowhere else', () => {
    const linkedIn = ['First Name', 'Last Name', 'URL', 'Email Address', 'Company', 'Position', 'Connected On'];
    expect(targets(linkedIn)).toEqual({ 'First Name': 'firstName', 'Last Name': 'lastName', URL: 'linkedin', 'Email Address': 'email', Company: 'company', Position: 'jobTitle' });
    expect(targets(['Name', 'Email', 'URL'])).toEqual({ Name: 'name', Email: 'email' });
  });

  it('lists the columns it does not import', () => {
    const plan = planColumns(['Email', 'Notes', '', 'Lifecycle Stage']);

    expect(plan.skipped).toEqual([
      { index: 1, header: 'Notes', why: 'unrecognised' },
      { index: 2, header: '', why: 'unrecognised' },
      { index: 3, header: 'Lifecycle Stage', why: 'unrecognised' },
    ]);
  });
});

describe('explicit mapping', () => {
  it('overrides recognition, by exact header or case/space/punctuation-insensitively', () => {
    const plan = planColumns(['Email', 'Phone', 'Notes', 'Kontakt-Mail'], { phone: 'whatsapp', Notes: 'custom:notes', 'kontakt mail': 'email', Email: 'ignore' });

    expect(plan.columns.map(({ header, target, source }) => [header, target, source])).toEqual([
      ['Phone', 'whatsapp', 'mapping'],
      ['Notes', 'custom:notes', 'mapping'],
      ['Kontakt-Mail', 'email', 'mapping'],
    ]);
    expect(plan.skipped).toEqual([{ index: 0, header: 'Email', why: 'ignored' }]);
  });

  it('validates as the job input’s schema', () => {
    expect(columnMappingSchema.safeParse({ 'E-mail': 'email', Plan: 'custom:plan', X: 'ignore', N: 'firstName' }).success).toBe(true);
    expect(columnMappingSchema.safeParse({ Plan: 'custom:Not A Key' }).success).toBe(false);
    expect(columnMappingSchema.safeParse({ Plan: 'birthday' }).success).toBe(false);
    expect(columnMappingSchema.safeParse({ '': 'email' }).success).toBe(false);
  });

  it('refuses a mapping naming an absent column, listing the file’s columns', () => {
    expect(() => planColumns(['Name', 'Email'], { Phone: 'phone' })).toThrow(expect.objectContaining({ code: 'unknown_column', details: { unknownColumns: ['Phone'], headers: ['Name', 'Email'] } }));
  });

  it('reads unnamed columns right of an email, phone or tags column as more of it (a header cell merged over them)', () => {
    const plan = planColumns(['Name', 'Phone', '', '', 'Company', '', 'Email', '']);
    expect(plan.columns.map((column) => `${column.index}:${column.target}`)).toEqual(['0:name', '1:phone', '2:phone', '3:phone', '4:company', '6:email', '7:email']);
    expect(plan.skipped).toEqual([{ index: 5, header: '', why: 'unrecognised' }]);
  });

  it('refuses a plan without an email or phone column', () => {
    expect(() => planColumns(['Name', 'Email'], { Email: 'ignore' })).toThrow(expect.objectContaining({ code: 'no_channel_column' }));
    expect(() => planColumns(['Name', 'WhatsApp'])).toThrow(expect.objectContaining({ code: 'no_channel_column' }));
  });
});
