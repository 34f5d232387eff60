import { domainToASCII } from 'node:url';
import { DomainError } from '../shared/errors';
import { parsePhoneNumber, type CountryCode, type PhoneNumber } from './phone-numbers';

/**
 * At most this many channels per contact: every one is a unique value and a few search tokens. Here,
 * not in contacts.schemas.ts: the services that check it would otherwise build every contact schema
 * at import.
 */
export const maxChannelsPerContact = 10;

/** The kinds of channel a contact (a person) can be reached on. */
export const channelKinds = ['email', 'phone', 'linkedin', 'telegram', 'whatsapp'] as const;
export type ChannelKind = (typeof channelKinds)[number];

export interface NormalisedChannelValue {
  /** Canonical form: unique per `(workspace, kind)` and the key inbound messages are routed by. */
  normalized: string;
  /** What to show a person. */
  display: string;
}

export interface NormaliseOptions {
  /** Country assumed for phone numbers written without `+` and a country code. */
  defaultCountry?: CountryCode;
  /** Field named in the validation error, e.g. `body.channels.0.value`. Defaults to `value`. */
  field?: string;
}

/**
 * Normalises a raw channel value to its canonical form, or throws a `validation_failed` DomainError
 * naming `options.field`.
 *
 * Invisible format characters (zero-width spaces, direction marks) are dropped from every kind.
 * - email: trimmed, lower-cased as a whole, IDN domain in punycode; display is the trimmed input. The
 *   address of `mailto:<address>`, `Name <address>` or `Name (address)` is taken.
 * - phone, whatsapp: E.164 (`+` and digits), valid per libphonenumber's full metadata; display is the
 *   international format. A leading `00` is `+`; without either, `defaultCountry` is needed.
 *   Extensions are refused.
 * - whatsapp also takes a business-scoped user ID (BSUID, `isWhatsAppUserId`), which Meta gives a user
 *   who hides their number behind a username: kept as given, its country code upper-cased.
 * - linkedin: `https://www.linkedin.com/in/<slug>`, slug percent-decoded and lower-cased; only personal
 *   profiles (`/in/`). Company pages, legacy `/pub/` URLs and member-id URLs are refused.
 * - telegram: a chat id as a canonical integer string (`-100123`), or a username as `@name` lower-case;
 *   the `@` keeps the two forms from ever colliding.
 */
export const normaliseChannelValue = (
  kind: ChannelKind,
  raw: string,
  options: NormaliseOptions = {},
): NormalisedChannelValue => {
  const fail = (message: string): never => {
    throw new DomainError('validation_failed', message, {
      fields: [{ field: options.field ?? 'value', message, code: `invalid_${kind}` }],
    });
  };
  // Invisible format characters (zero-width spaces, left-to-right marks, a stray BOM) come along when a
  // value is copied from a web page or a right-to-left text, and are never part of it.
  const value = raw.replace(/\p{Cf}/gu, '').trim();
  if (value === '') return fail(`Enter ${article(kind)} ${label[kind]}`);
  if (value.length > 512) return fail(`That ${label[kind]} is too long`);
  switch (kind) {
    case 'email':
      return normaliseEmail(value, fail);
    case 'whatsapp':
      if (whatsappUserIdShape.test(value)) return normaliseWhatsAppUserId(value, fail);
      return normalisePhone(value, label[kind], options.defaultCountry, fail);
    case 'phone':
      return normalisePhone(value, label[kind], options.defaultCountry, fail);
    case 'linkedin':
      return normaliseLinkedIn(value, fail);
    case 'telegram':
      return normaliseTelegram(value, fail);
  }
};

/** The domain of a normalised email address (the part after the last `@`), in punycode. */
export const emailDomain = (normalizedEmail: string): string =>
  normalizedEmail.slice(normalizedEmail.lastIndexOf('@') + 1);

type Fail = (message: string) => never;

const label: Record<ChannelKind, string> = {
  email: 'email address',
  phone: 'phone number',
  whatsapp: 'WhatsApp number',
  linkedin: 'LinkedIn profile URL',
  telegram: 'Telegram username or chat id',
};
const article = (kind: ChannelKind) => (kind === 'email' ? 'an' : 'a');

// ---- email ----

// RFC 5322 specials and anything invisible are not allowed unquoted; quoted local parts are refused
// altogether (nobody uses them and they would make "one @" ambiguous).
const badLocalChar = /[\s\p{C}()<>[\]:;@\\,"]/u;
const domainLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

// What a copied link, a mail header or an address book holds: "mailto:ana@example.com?subject=Hi",
// "Ana López <ana@example.com>", `"López, Ana" <ana@example.com>`, "Ana López (ana@example.com)".
const mailtoLink = /^mailto:([^?]*)(?:\?.*)?$/i;
const nameAndAddress = /^(?:"[^"]*"\s*|[^"<>()@]*)(?:<\s*([^<>\s]+)\s*>|\(\s*([^()\s]+)\s*\))$/;
const addressIn = (given: string): string => {
  const named = nameAndAddress.exec(given);
  return named ? (named[1] ?? named[2]!) : (mailtoLink.exec(given)?.[1] ?? given);
};

const normaliseEmail = (given: string, fail: Fail): NormalisedChannelValue => {
  const example = 'Enter an email address like ana@example.com';
  const value = addressIn(given).trim();
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@') || at === value.length - 1) {
    return fail(`${example}: it needs exactly one @ with text on both sides`);
  }
  const local = value.slice(0, at).normalize('NFC');
  const domain = value.slice(at + 1);
  if (badLocalChar.test(local) || /\s/u.test(domain)) {
    return fail(`${example}: spaces, quotes, brackets and commas are not allowed`);
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return fail(`${example}: the part before @ cannot start or end with a dot or have two dots in a row`);
  }
  if (Buffer.byteLength(local, 'utf8') > 64)
    return fail('The part of the email address before @ is too long');
  // domainToASCII would percent-decode or accept IP literals; neither is a mail domain a CRM should hold.
  const asciiDomain = /[%[\]]/.test(domain) ? '' : domainToASCII(domain);
  const labels = asciiDomain.split('.');
  const tld = labels[labels.length - 1] ?? '';
  if (
    labels.length < 2 ||
    !labels.every((l) => domainLabel.test(l)) ||
    !/^(?:[a-z]{2,63}|xn--[a-z0-9-]+)$/.test(tld)
  ) {
    return fail(`${example}: "${domain}" is not a valid domain`);
  }
  // The whole address is lower-cased, not only the domain. RFC 5321 lets a server treat the local part
  // case-sensitively, but no mainstream provider does, and CRMs dedupe addresses case-insensitively: were
  // "Ana@x.com" and "ana@x.com" two values, one person would become two contacts and an inbound reply
  // from the other spelling would not route. (Dots and +tags are kept: those are real, distinct mailboxes.)
  const normalized = `${local.toLowerCase()}@${asciiDomain}`;
  if (normalized.length > 254) return fail('That email address is too long (at most 254 characters)');
  return { normalized, display: value };
};

// ---- phone and WhatsApp ----

const phoneChars = /^(?:tel:)?\+?[\d\s().\-/]+$/i;

const normalisePhone = (
  value: string,
  what: string,
  defaultCountry: CountryCode | undefined,
  fail: Fail,
): NormalisedChannelValue => {
  const hint = `include the country code, e.g. +44 20 7123 4567`;
  // NFKC turns full-width digits and odd spaces into ASCII; a leading 00 is the international prefix.
  const text = value.normalize('NFKC').replace(/^(tel:)?00(?=[\s\d])/i, '$1+');
  if (!phoneChars.test(text)) {
    return fail(`Enter the ${what} with digits, spaces and + - . ( ) only, and ${hint}`);
  }
  const international = /^(?:tel:)?\+/i.test(text);
  if (!international && !defaultCountry) return fail(`Enter the ${what} in international format: ${hint}`);
  let phone: PhoneNumber;
  try {
    phone = parsePhoneNumber(text, international ? undefined : defaultCountry);
  } catch {
    return fail(`That is not a valid ${what}: ${hint}`);
  }
  if (phone.ext) return fail(`Enter the ${what} without an extension`);
  if (!phone.isValid()) {
    return fail(`${phone.formatInternational()} is not a valid ${what}: check the digits and ${hint}`);
  }
  return { normalized: phone.number, display: phone.formatInternational() };
};

// ---- WhatsApp business-scoped user IDs ----

/**
 * A WhatsApp business-scoped user ID (BSUID): the user's ISO 3166 alpha-2 country code, a period, and up
 * to 128 alphanumeric characters (`US.13491208655302741918`); a parent BSUID, shared by linked business
 * portfolios, has `ENT.` after the period (`US.ENT.11815799212886844830`). Meta identifies a user by it
 * in webhooks (`user_id`, `from_user_id`) and a message can be sent to it (`recipient`); when the user
 * adopts a username it may be the only identifier given. Opaque: kept as given, the country upper-cased.
 * Source: https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
 * (copy: https://support.chatarchitect.com/books/meta-whatsapp/page/business-scoped-user-ids-developer-documentation).
 */
const whatsappUserIdPattern = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;
/** What a BSUID looks like before its checks: letters, a period, no `+` or digits first. */
const whatsappUserIdShape = /^[A-Za-z]{2}\./;

/** True when a normalised WhatsApp value is a business-scoped user ID rather than a phone number. */
export const isWhatsAppUserId = (value: string): boolean => whatsappUserIdPattern.test(value);

const normaliseWhatsAppUserId = (value: string, fail: Fail): NormalisedChannelValue => {
  const normalized = `${value.slice(0, 2).toUpperCase()}${value.slice(2)}`;
  if (!whatsappUserIdPattern.test(normalized)) {
    return fail(
      'Enter the WhatsApp number with its country code (e.g. +44 20 7123 4567), or a WhatsApp user id like US.13491208655302741918',
    );
  }
  return { normalized, display: normalized };
};

// ---- LinkedIn ----

// LinkedIn vanity slugs: letters (any script, LinkedIn allows localised ones), digits and hyphens.
const linkedInSlug = /^[\p{L}\p{N}\p{M}_-]{3,100}$/u;
// Member-id URLs (/in/ACoAA...) are case-sensitive opaque ids; lower-casing would break them and keeping
// their case would let the same person appear under two values, so they are refused.
const memberIdSlug = /^acoa[a-z0-9_-]{20,}$/i;

const normaliseLinkedIn = (value: string, fail: Fail): NormalisedChannelValue => {
  const expected = 'Enter a LinkedIn profile URL like https://www.linkedin.com/in/ana-lopez';
  let path: string;
  if (/^\/?in\//i.test(value)) {
    path = value.startsWith('/') ? value : `/${value}`;
    path = path.replace(/[?#].*$/s, '');
  } else {
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`);
    } catch {
      return fail(expected);
    }
    const host = url.hostname.toLowerCase();
    if (
      !['http:', 'https:'].includes(url.protocol) ||
      !(host === 'linkedin.com' || host.endsWith('.linkedin.com'))
    ) {
      return fail(`${expected}: other sites are not accepted`);
    }
    path = url.pathname;
  }
  const [, section = '', rawSlug = ''] = path.split('/');
  switch (section.toLowerCase()) {
    case 'in':
      break;
    case 'company':
    case 'school':
    case 'showcase':
      return fail(`${expected}: this is a page of an organisation; link it to the company instead`);
    case 'pub':
      return fail(
        `${expected}: legacy /pub/ URLs cannot be converted; open the profile and copy its /in/ URL`,
      );
    default:
      return fail(expected);
  }
  let slug: string;
  try {
    slug = decodeURIComponent(rawSlug).normalize('NFC');
  } catch {
    return fail(`${expected}: the profile name in the URL is badly encoded`);
  }
  if (memberIdSlug.test(slug)) {
    return fail(`${expected}: this is a member-id link; open the profile and copy its public URL`);
  }
  if (!linkedInSlug.test(slug)) return fail(`${expected}: "${slug}" is not a LinkedIn profile name`);
  const normalized = `https://www.linkedin.com/in/${slug.toLowerCase()}`;
  return { normalized, display: normalized };
};

// ---- Telegram ----

// Basic usernames are 5-32 characters; collectible (Fragment) usernames can be 4. Letters, digits and
// underscores, starting with a letter.
const telegramUsername = /^[a-z][a-z0-9_]{3,31}$/i;

const normaliseTelegram = (value: string, fail: Fail): NormalisedChannelValue => {
  const expected = 'Enter a Telegram @username (4-32 letters, digits or _) or a numeric chat id';
  if (/^\+[\d\s]+$/.test(value)) return fail(`${expected}: Telegram does not identify chats by phone number`);
  if (/^-?\d+$/.test(value)) {
    const id = BigInt(value);
    // Telegram ids have at most 52 significant bits, so they are exact as JavaScript numbers too.
    if (id === 0n || id > BigInt(Number.MAX_SAFE_INTEGER) || id < -BigInt(Number.MAX_SAFE_INTEGER)) {
      return fail(`${expected}: ${value} is out of range`);
    }
    const normalized = id.toString();
    return { normalized, display: normalized };
  }
  const name = value.replace(/^(?:(?:https?:\/\/)?(?:t|telegram)\.me\/|@)/i, '');
  if (!telegramUsername.test(name)) return fail(expected);
  const normalized = `@${name.toLowerCase()}`;
  return { normalized, display: `@${name}` };
};
