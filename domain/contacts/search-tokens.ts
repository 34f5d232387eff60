import { domainToUnicode } from 'node:url';
import { DomainError } from '../shared/errors';
import { foldText, spacedOut, spellUmlautsOut, truncateUnits } from '../shared/text';
import { emailDomain, type ChannelKind } from './channels';
import { parsePhoneNumber } from './phone-numbers';

/*
 * Contact search by key: one token item per token, partition = the first 2 characters of the token,
 * sort key = `<token>#<contactId>`, and a search is `begins_with(sk, normaliseSearchQuery(q).token)` in
 * partition `searchPartition(token)`. So a contact is found when the normalised query is a prefix of
 * one of its tokens; both sides below must normalise the same way.
 *
 * "Characters" are code points for the 2-character minimum and the partition (a partition key must not
 * hold half a surrogate pair), and UTF-16 units for the 64 maximum (cut without splitting a pair).
 *
 * Phone numbers (the digit rule): a phone token or query is its digits with every leading zero removed.
 * Tokens are the E.164 digits (`442071234567`), the national significant number (`2071234567`) and the
 * digits of the national dialling format (`89123456789` for Russia's `8 (912) ...`); queries drop
 * `(0)`, keep the digits and drop leading zeros. Dropping zeros folds the usual trunk prefix ("020 7123"
 * → `207123`), the `00` international prefix ("0044 20" → `4420`) and Italy's leading 0, which belongs
 * to the number ("06 6982" → `66982`; the token drops it too), without knowing the query's country.
 * A query written with the trunk prefix `1` ("1 415 555") matches the E.164 digits instead.
 */

export interface SearchableContact {
  name: string;
  companyName?: string | null;
  channels: { kind: ChannelKind; normalized: string }[];
}

export interface SearchQuery {
  /** The normalised query: a prefix of the tokens it should find. */
  token: string;
  kind: 'text' | 'phone';
}

const maxTokens = 32;
const maxTokenLength = 64;
const minTokenLength = 2;

/*
 * When a contact has more than 32 tokens, the least useful go first. Tiers, most useful first:
 * 0 full name, full emails, phone E.164 digits, LinkedIn slug, Telegram username or id
 * 1 the rest of the name from each word on ("maria lopez", "lopez"), full company name
 * 2 national phone forms, email domains
 * 3 the rest of the company name from each word on
 * 4 variants: punctuation read as spaces ("jean luc"), words without punctuation ("obrien"),
 *   the name's first word before a later word on ("ana lopez" for "Ana María López"), German umlauts
 *   spelled out ("mueller" for "Müller"), emails and domains with their IDN domain in Unicode
 * Within a tier, tokens keep the order of the name's words and of the channels sorted by kind and value,
 * so the same contact always gets the same tokens.
 */
type Tier = 0 | 1 | 2 | 3 | 4;

/**
 * Search tokens of a contact: unique, each 2 to 64 characters, at most 32, deterministic. A contact is
 * found by any prefix of a token: the name from any word on (so "ana mar" and "maria lo" both find
 * "Ana María López"), its first word with the words in between left out ("ana lopez", as people name
 * someone by given name and surname), with umlauts spelled out ("mueller"), the company name likewise,
 * full email address (its local part is a prefix) and domain, phone digits (see the digit rule above),
 * LinkedIn slug, Telegram username (without `@`) or id.
 */
export const searchTokens = (contact: SearchableContact): string[] => {
  const tiers = new Map<string, Tier>();
  const add = (tier: Tier, candidate: string) => {
    const token = truncateUnits(candidate, maxTokenLength).trimEnd();
    if (codePoints(token) < minTokenLength) return;
    const known = tiers.get(token);
    if (known === undefined || tier < known) tiers.set(token, tier);
  };

  addWords(add, contact.name, 0, 1, true);
  if (contact.companyName) addWords(add, contact.companyName, 1, 3, false);

  const channels = [...contact.channels].sort((a, b) =>
    a.kind === b.kind ? compare(a.normalized, b.normalized) : compare(a.kind, b.kind),
  );
  for (const { kind, normalized } of channels) {
    switch (kind) {
      case 'email': {
        const domain = emailDomain(normalized);
        const local = normalized.slice(0, normalized.length - domain.length - 1);
        add(0, foldText(normalized));
        add(2, domain);
        const unicodeDomain = foldText(domainToUnicode(domain));
        if (unicodeDomain !== domain && unicodeDomain !== '') {
          add(4, foldText(`${local}@${unicodeDomain}`));
          add(4, unicodeDomain);
        }
        break;
      }
      case 'phone':
      case 'whatsapp':
        add(0, phoneDigits(normalized));
        for (const national of nationalForms(normalized)) add(2, phoneDigits(national));
        break;
      case 'linkedin':
        add(0, foldText(normalized.slice(normalized.lastIndexOf('/') + 1)));
        break;
      case 'telegram':
        // usernames without their `@`, ids without their sign: the query side folds the same way
        add(0, normalized.startsWith('@') ? normalized.slice(1) : normalized.replace(/^-/, ''));
        break;
    }
  }

  return [...tiers.entries()]
    .map(([token, tier], order) => ({ token, tier, order }))
    .sort((a, b) => a.tier - b.tier || a.order - b.order)
    .slice(0, maxTokens)
    .map(({ token }) => token);
};

/**
 * Normalises a search query to the token prefix to look up. A query of only digits, spaces and
 * `+ - . ( )` with at least 3 digits is a phone query: its digits, `(0)` dropped, leading zeros
 * dropped. Anything else is folded like `foldText`, with a leading `@` (a Telegram handle) removed.
 * Throws a `validation_failed` DomainError on `query.q` when fewer than 2 characters remain.
 */
export const normaliseSearchQuery = (q: string): SearchQuery => {
  const text = q.normalize('NFKC').trim();
  const digitCount = text.replace(/\D/g, '').length;
  const query: SearchQuery =
    /^[\d\s+\-.()]+$/.test(text) && digitCount >= 3
      ? { token: phoneDigits(text.replace(/\(\s*0\s*\)/g, '')), kind: 'phone' }
      : { token: foldText(q).replace(/^@/, '').trimStart(), kind: 'text' };
  query.token = truncateUnits(query.token, maxTokenLength).trimEnd();
  if (codePoints(query.token) < minTokenLength) {
    const message =
      query.kind === 'phone'
        ? 'Type at least 2 digits of the phone number after its leading zeros'
        : 'Type at least 2 letters or digits to search';
    throw new DomainError('validation_failed', message, { fields: [{ field: 'query.q', message }] });
  }
  return query;
};

/** The partition of a token item: its first 2 characters (code points). */
export const searchPartition = (token: string): string => Array.from(token).slice(0, 2).join('');

type Add = (tier: Tier, token: string) => void;

/**
 * The text from each word on; then the same with punctuation read as spaces, and words squashed; then
 * with its umlauts spelled out. For a person's name (`skips`), also its first word before each later
 * word on, the words between left out.
 */
const addWords = (add: Add, raw: string, fullTier: Tier, restTier: Tier, skips: boolean) => {
  const folded = foldText(raw);
  const spaced = spacedOut(folded);
  addTails(add, folded.split(' '), fullTier, restTier);
  if (spaced !== folded) {
    addTails(add, spaced.split(' '), 4, 4);
    for (const word of folded.split(' ')) add(4, word.replace(/[^\p{L}\p{N}]+/gu, ''));
  }
  const spelledOut = foldText(spellUmlautsOut(raw));
  if (spelledOut !== folded) {
    addTails(add, spelledOut.split(' '), 4, 4);
    const spelledSpaced = spacedOut(spelledOut);
    if (spelledSpaced !== spelledOut) addTails(add, spelledSpaced.split(' '), 4, 4);
  }
  if (!skips) return;
  addSkips(add, folded.split(' '));
  if (spaced !== folded) addSkips(add, spaced.split(' '));
};


const addTails = (add: Add, words: string[], fullTier: Tier, restTier: Tier) => {
  words.forEach((_, i) => add(i === 0 ? fullTier : restTier, words.slice(i).join(' ')));
};

/** "ana lopez garcia" and "ana garcia" for "ana maria lopez garcia": the first word, then a later run. */
const addSkips = (add: Add, words: string[]) => {
  for (let i = 2; i < words.length; i++) add(4, `${words[0]} ${words.slice(i).join(' ')}`);
};

const phoneDigits = (s: string) => s.replace(/\D/g, '').replace(/^0+/, '');

/** The national significant number and the national dialling format, e.g. `2071234567`, `020 7123 4567`. */
const nationalForms = (e164: string): string[] => {
  try {
    const phone = parsePhoneNumber(e164);
    return [phone.nationalNumber, phone.formatNational()];
  } catch {
    return [];
  }
};

const codePoints = (s: string) => Array.from(s).length;
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
