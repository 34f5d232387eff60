/**
 * Deterministic contacts for tests and benches at scale: contact `i` of a workspace is always the same
 * contact, built as createContact stores it (channels normalised, search tokens from tokensOf), with
 * names, companies and phone numbers from many countries (accents, apostrophes, IDN-free domains).
 */
import { normaliseChannelValue } from '../../domain/contacts/channels';
import { channelScope, tokensOf, type ChannelItem, type ContactItem } from '../../domain/contacts/contact-record';
import { foldText } from '../../domain/shared/text';


export function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: () => number, values: readonly T[]): T => values[Math.floor(random() * values.length)]!;

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A ULID for time `ms` with a random part from `random`: the shape of `ulidGenerator` ids. */
export function ulidAt(ms: number, random: () => number): string {
  let time = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    time = crockford[rest % 32]! + time;
    rest = Math.floor(rest / 32);
  }
  let tail = '';
  for (let i = 0; i < 16; i++) tail += crockford[Math.floor(random() * 32)]!;
  return time + tail;
}

const firstNames = [
  'José', 'María', 'Ana María', 'Zoë', 'Émilie', 'Jürgen', 'Søren', 'Łukasz', 'François', 'Jean-Luc', 'Chloé', 'Björn',
  'Žofia', 'Đorđe', 'Nuño', 'Inés', 'Renée', 'Ågot', 'Çağla', 'Ömer', 'Anaïs', 'Maël', 'Stéphane', 'Małgorzata',
  'Ana', 'Mark', 'Maria', 'Marco', 'Martin', 'Mary', 'John', 'James', 'Sarah', 'Sophie', 'Lucas', 'Liam', 'Olivia',
  'Emma', 'Noah', 'Mia', 'Elena', 'Ella', 'David', 'Daniel', 'Priya', 'Arjun', 'Wei', 'Yuki', 'Hiro', 'Fatima',
  'Omar', 'Aisha', 'Kofi', 'Amara', 'Ingrid', 'Lars', 'Pieter', 'Anouk', 'Giulia', 'Matteo', 'Chiara', 'Tomás',
] as const;
const lastNames = [
  'López', 'García', 'Müller', "O'Brien", 'Nowak', 'Dubois', 'Åström', 'Çelik', 'Kovačević', 'Ferreira', 'Smith',
  'Johnson', 'Nguyễn', 'Papadopoulos', 'Rossi', 'Schröder', 'Øvergaard', 'Żurawski', 'Lefèvre', 'Gómez', 'Martín',
  'Martínez', 'Marchetti', 'Brown', 'Williams', 'Jones', 'Taylor', 'Wilson', 'Anderson', 'Thomas', 'Moore', 'Jackson',
  'Lee', 'Kim', 'Park', 'Chen', 'Wang', 'Singh', 'Patel', 'Kumar', 'Sato', 'Tanaka', 'Suzuki', 'Okafor', 'Mensah',
  'Haddad', 'Cohen', 'Levi', 'Novak', 'Horvat', 'Jansen', 'de Vries', 'van Dijk', 'Bakker', 'Larsen', 'Hansen',
  'Nielsen', 'Berg', 'Lindqvist', 'Costa', 'Silva', 'Santos', 'Oliveira', 'Pereira', 'Fernández', 'Sánchez',
] as const;
const companyHeads = [
  'Acme', 'Nordic', 'Blue River', 'Atlas', 'Helios', 'Zenith', 'Müller & Söhne', 'Crédit', 'Öko', 'Pacific', 'Summit',
  'Orion', 'Vértice', 'Lumen', 'Kestrel', 'Granite', 'Harbor', 'Maple', 'Quantum', 'Sierra', 'Tundra', 'Aurora',
] as const;
const companyTails = ['Logistics', 'Analytics', 'Foods', 'Energy', 'Labs', 'Studio', 'Partners', 'Systems', 'Health', 'Textiles'] as const;
const companyForms = ['', ' Ltd', ' GmbH', ' SA', ' Inc.', ' S.L.', ' BV', ' AB'] as const;
const freeMail = ['gmail.com', 'outlook.com', 'icloud.com', 'proton.me'] as const;
const jobTitles = ['Head of Sales', 'Buyer', 'CTO', 'Office Manager', 'Procurement Lead', 'Founder', 'Account Manager'] as const;
const cities = ['London', 'Madrid', 'München', 'Paris', 'Kraków', 'São Paulo', 'Zürich', 'Göteborg', 'New York'] as const;

const slug = (text: string) => foldText(text).replace(/[^a-z0-9]+/g, '');

/** Phone number templates, each unique per contact index (the index is the subscriber digits). */
const phoneTemplates: ((i: number) => string)[] = [
  (i) => `+44 20 7${String(i).padStart(7, '0')}`,
  (i) => `+1 212 2${String(i % 1_000_000).padStart(6, '0')}`,
  (i) => `+33 6 ${String(i).padStart(8, '0')}`,
  (i) => `+34 6${String(i).padStart(8, '0')}`,
  (i) => `+49 151 ${String(i).padStart(8, '0')}`,
];

export interface Seeded {
  item: ContactItem;
  guards: { workspaceId: string; scope: string; value: string; ownerId: string; createdAt: string }[];
  /** Raw words to take search prefixes from: first name, last name, email. */
  searchable: string[];
}

const baseTime = Date.parse('2024-01-01T08:00:00.000Z');
/** Phone templates that did not parse and fell back to the first (reported by the bench; expected 0). */
export const seedStats = { phoneFallbacks: 0 };
/** Shares of the seeded contacts: suppressed ones serve the filtered list; owned ones fill an owner list. */
export const suppressedEvery = 50; // 2%
export const ownedEvery = 3; // ~33%, claimed by the workspace owner

/**
 * Contact `i` of the bench workspace, built as createContact builds it: channels normalised with
 * normaliseChannelValue (one primary email, one primary phone), no custom field definitions, no company
 * record to link, search tokens from tokensOf. Every 50th contact is suppressed (as suppressContact
 * leaves it: version 2, a later updatedAt); every 3rd is claimed by the owner.
 */
export function seededContact(workspaceId: string, ownerUserId: string, i: number): Seeded {
  const random = mulberry32(0x5eed0000 ^ i);
  const first = pick(random, firstNames);
  const last = pick(random, lastNames);
  const name = `${first} ${last}`;
  const company = `${pick(random, companyHeads)} ${pick(random, companyTails)}${pick(random, companyForms)}`;
  const domain = random() < 0.4 ? pick(random, freeMail) : `${slug(company)}.com`;
  const rawEmail = `${slug(first)}.${slug(last)}${i}@${domain}`;
  const template = phoneTemplates[i % phoneTemplates.length]!;
  const createdMs = baseTime + i * 600_000 + Math.floor(random() * 300_000);
  const createdAt = new Date(createdMs).toISOString();
  const contactId = `ct_${ulidAt(createdMs, random)}`;

  const email = normaliseChannelValue('email', rawEmail);
  let phone;
  try {
    phone = normaliseChannelValue('phone', template(i));
  } catch {
    seedStats.phoneFallbacks++;
    phone = normaliseChannelValue('phone', phoneTemplates[0]!(i));
  }
  const channels: ChannelItem[] = [
    { channelId: `ch_${ulidAt(createdMs, random)}`, kind: 'email', value: email.display, normalized: email.normalized, primary: true },
    { channelId: `ch_${ulidAt(createdMs, random)}`, kind: 'phone', value: phone.display, normalized: phone.normalized, primary: true },
  ];
  const item: ContactItem = {
    workspaceId,
    contactId,
    name,
    status: 'active',
    suppressed: false,
    channels,
    tags: [],
    customFields: {},
    createdBy: ownerUserId,
    version: 1,
    createdAt,
    updatedAt: createdAt,
    ...(i % ownedEvery === 0 ? { ownerId: ownerUserId } : {}),
    ...(random() < 0.5 ? { jobTitle: pick(random, jobTitles) } : {}),
    ...(random() < 0.5 ? { city: pick(random, cities) } : {}),
    companyName: company,
  };
  item.searchTokens = tokensOf(item);
  if (i % suppressedEvery === 7) {
    const suppressedAt = new Date(createdMs + 86_400_000 + Math.floor(random() * 30 * 86_400_000)).toISOString();
    Object.assign(item, { suppressed: true, suppressedAt, suppressedReason: 'Hard bounce', version: 2, updatedAt: suppressedAt });
  }
  const guards = channels.map((channel) => ({
    workspaceId,
    scope: channelScope(channel.kind),
    value: channel.normalized,
    ownerId: contactId,
    createdAt,
  }));
  return { item, guards, searchable: [first, last, rawEmail] };
}

type PutResult = { unprocessed: unknown[] };

/** An ElectroDB batch put, re-sending unprocessed items (puts are idempotent: the items are deterministic). */
export async function putAll(
  put: (items: never[]) => { go(options: { concurrent: number }): Promise<PutResult> },
  items: unknown[],
  concurrent = 2,
) {
  let pending = items;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 8) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed after 8 retries`);
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
    const { unprocessed } = await put(pending as never[]).go({ concurrent });
    pending = unprocessed;
  }
}
