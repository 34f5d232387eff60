import * as z from 'zod';
import { listContacts } from '../contacts/contact-lists.service';
import type { ContactSummary } from '../contacts/contacts.schemas';
import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import {
  conflict,
  DomainError,
  forbidden,
  invalid,
  invalidCursor,
  invalidReference,
  lostRace,
  stale,
  type FieldIssue,
} from '../shared/errors';
import type { Page } from '../shared/pagination';
import { nameSortKey } from '../shared/text';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import { claimGuard, releaseGuard } from '../store/unique-guard-ops';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import type {
  Company,
  CreateCompanyInput,
  ListCompaniesQuery,
  ListCompanyContactsQuery,
  UpdateCompanyInput,
} from './companies.schemas';
import { companyDomainScope, normaliseCompanyDomain } from './company-domains';
import { findCompanyIdByDomain } from './company-links';
import { companyNameWordOps, listCompaniesByWord } from './company-name-words';
import { companyNameKey, findCompany, readCompany, toCompany, type CompanyItem } from './company-record';

const companyRef = (companyId: string) => ({ type: 'company' as const, id: companyId });

// ---------------------------------------------------------------------------------------------
// Reading

export async function getCompany(deps: CoreDeps, caller: CallerContext, companyId: string): Promise<Company> {
  return toCompany(await readCompany(deps, caller.workspaceId, companyId));
}

/**
 * `k`: the by-name key last listed; with `w`, the list has moved on to the name words, and `k` is the
 * word item last read (`<words>#<companyId>`), empty before the first.
 */
const cursorSchema = z.object({ v: z.literal(1), f: z.string(), k: z.string(), w: z.literal(1).optional() });

const encodeCursor = (fingerprint: string, key: string, inWords = false) =>
  Buffer.from(JSON.stringify({ v: 1, f: fingerprint, k: key, ...(inWords ? { w: 1 } : {}) })).toString(
    'base64url',
  );

/**
 * The workspace's companies by name (case- and accent-insensitive), active or archived. `q` lists
 * those whose name begins with it, by name (one Query on the by-name index per page), then those with
 * a later word of their name beginning with it ("agricole" for Crédit Agricole), in the order of those
 * words (company-name-words.ts). Each company comes once.
 */
export async function listCompanies(
  deps: CoreDeps,
  caller: CallerContext,
  query: ListCompaniesQuery,
): Promise<Page<Company>> {
  const { workspaceId } = caller;
  const status = query.archived ? 'archived' : 'active';
  const prefix = query.q === undefined ? '' : nameSortKey(query.q);
  if (query.q !== undefined && prefix === nameSortKey('')) {
    throw invalid('query.q', 'Type at least one letter or digit of the name');
  }
  const fingerprint = JSON.stringify([status, prefix]);
  let after: string | undefined;
  let inWords = false;
  if (query.cursor) {
    let parsed: z.infer<typeof cursorSchema>;
    try {
      parsed = cursorSchema.parse(JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')));
    } catch {
      throw invalidCursor();
    }
    inWords = parsed.w === 1;
    const fits = inWords
      ? prefix !== '' && (parsed.k === '' || parsed.k.startsWith(prefix))
      : parsed.k.startsWith(prefix);
    if (parsed.f !== fingerprint || !fits) throw invalidCursor();
    after = parsed.k === '' ? undefined : parsed.k;
  }
  const items: Company[] = [];
  if (!inWords) {
    // ElectroDB's cursor is the base64url JSON of the last key: the table key and the index key.
    const start = after
      ? Buffer.from(
          JSON.stringify({
            pk: `WS#${workspaceId}#COMPANY#${after.slice(after.lastIndexOf('#') + 1)}`,
            sk: 'COMPANY',
            gsi1pk: `WS#${workspaceId}#COMPANIES#${status}`,
            gsi1sk: after,
          }),
        ).toString('base64url')
      : null;
    const base = deps.db.entities.company.query.byName({ workspaceId, status });
    const result = await (prefix ? base.begins({ nameKey: prefix }) : base).go({
      limit: query.limit,
      cursor: start,
    });
    const named = result.data as CompanyItem[];
    items.push(...named.map(toCompany));
    const last = named[named.length - 1];
    if (result.cursor && last) return { items, nextCursor: encodeCursor(fingerprint, last.nameKey) };
    if (!prefix) return { items, nextCursor: null };
    after = undefined;
  }
  const room = query.limit - items.length;
  if (room === 0) return { items, nextCursor: encodeCursor(fingerprint, '', true) };
  const words = await listCompaniesByWord(deps, workspaceId, status, prefix, after, room);
  items.push(...words.items.map(toCompany));
  return {
    items,
    nextCursor: words.more && words.position ? encodeCursor(fingerprint, words.position, true) : null,
  };
}

/** A company's contacts, served by the contacts' own `company:<id>:<status>` list. */
export async function listCompanyContacts(
  deps: CoreDeps,
  caller: CallerContext,
  companyId: string,
  query: ListCompanyContactsQuery,
): Promise<Page<ContactSummary>> {
  await readCompany(deps, caller.workspaceId, companyId);
  return listContacts(deps, caller, { ...query, companyId });
}

// ---------------------------------------------------------------------------------------------
// Rules

/** Seed 000 ownership, as for contacts: owner/admin write any company; a member their own or unclaimed ones. */
export function assertCanWriteCompany(caller: CallerContext, item: Pick<CompanyItem, 'ownerId'>): void {
  if (isManager(caller) || !item.ownerId || item.ownerId === caller.userId) return;
  throw forbidden('This company is claimed by another user: only they, an owner or an admin can change it');
}

async function assertAssignableOwner(deps: CoreDeps, caller: CallerContext, ownerId: string) {
  if (!isManager(caller) && ownerId !== caller.userId)
    throw forbidden('A member can only make themselves the owner');
  const { data } = await deps.db.entities.user.get({ workspaceId: caller.workspaceId, userId: ownerId }).go();
  if (!data || data.status !== 'active')
    throw invalidReference('body.ownerId', 'No active user with this id in the workspace');
}

const validationError = (fields: FieldIssue[]) =>
  new DomainError('validation_failed', 'The request is invalid', { fields });

/** Normalised, de-duplicated domains; every bad one is named in one 400. */
function normaliseDomains(raw: string[]): string[] {
  const issues: FieldIssue[] = [];
  const domains: string[] = [];
  raw.forEach((value, index) => {
    const result = normaliseCompanyDomain(value, `body.domains.${index}`);
    if ('issue' in result) issues.push(result.issue);
    else if (!domains.includes(result.domain)) domains.push(result.domain);
  });
  if (issues.length) throw validationError(issues);
  return domains;
}

/** `acme.com/about` → `https://acme.com/about`; only http(s) URLs of a real host. */
function normaliseWebsite(raw: string): string {
  const value = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname.includes('.')) {
    throw invalid('body.website', 'Enter a web address like https://acme.com');
  }
  return value;
}

const textFields = ['industry', 'size', 'city', 'state', 'country'] as const;

/** Applies optional fields: undefined keeps, null or '' clears. */
function applyFields(target: CompanyItem, input: UpdateCompanyInput | CreateCompanyInput): CompanyItem {
  const result = { ...target } as Record<string, unknown>;
  for (const field of [...textFields, 'website'] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (value === null || value === '') delete result[field];
    else result[field] = field === 'website' ? normaliseWebsite(value) : value;
  }
  return result as unknown as CompanyItem;
}

// ---------------------------------------------------------------------------------------------
// Writing

class DomainTaken extends Error {
  constructor(readonly domain: string) {
    super('domain taken');
  }
}

/** The 409 for a domain another company holds, naming that company. */
async function domainTakenError(deps: CoreDeps, workspaceId: string, domain: string): Promise<DomainError> {
  const holderId = await findCompanyIdByDomain(deps, workspaceId, domain);
  const holder = holderId ? await findCompany(deps, workspaceId, holderId) : undefined;
  const named = holder ? `${holder.name} (${holder.companyId})` : (holderId ?? 'another company');
  return conflict('domain_taken', `The domain ${domain} belongs to the company ${named}`, {
    conflictingCompanyId: holderId ?? null,
    fields: [{ field: 'body.domains', message: `${domain} is taken by company ${named}` }],
  });
}

/**
 * Writes a change of a company in ONE transaction: the company (conditional on the version read),
 * the guards of its added and removed domains, the events, and its name words.
 */
async function commitCompany(
  deps: CoreDeps,
  before: CompanyItem | undefined,
  after: CompanyItem,
  events: EventRecord[],
): Promise<void> {
  const { workspaceId, companyId } = after;
  const previous = new Set(before?.domains ?? []);
  const added = after.domains.filter((domain) => !previous.has(domain));
  const removed = (before?.domains ?? []).filter((domain) => !after.domains.includes(domain));
  type Op = (tx: TxEntities) => unknown;
  const ops: Op[] = [
    before
      ? (tx) =>
          tx.company
            .put(after)
            .where((attr, { eq }) => eq(attr.version, before.version))
            .commit()
      : (tx) => tx.company.create(after).commit(),
    ...added.map<Op>(
      (domain) => (tx) =>
        claimGuard(tx, { workspaceId, scope: companyDomainScope, value: domain }, companyId, after.updatedAt),
    ),
    ...removed.map<Op>(
      (domain) => (tx) =>
        releaseGuard(tx, { workspaceId, scope: companyDomainScope, value: domain }, companyId),
    ),
    ...events.map<Op>((event) => (tx) => appendEvent(tx, event)),
    ...companyNameWordOps(before, after),
  ];
  try {
    await writeTransaction(
      deps.db,
      (tx) => ops.map((op) => op(tx)),
      (failed) => {
        const index = failed[0]!;
        // The version read is gone: the request runs again from the read (412 then, with If-Match).
        if (index === 0)
          return before
            ? lostRace('The company')
            : conflict('already_exists', 'A company with this id already exists');
        if (index <= added.length) return new DomainTaken(added[index - 1]!);
        return lostRace('The company');
      },
    );
  } catch (error) {
    if (error instanceof DomainTaken) throw await domainTakenError(deps, workspaceId, error.domain);
    throw error;
  }
}

/** Creates a company; its domains become its own in the workspace (409 naming the holder if taken). */
export async function createCompany(
  deps: CoreDeps,
  caller: CallerContext,
  input: CreateCompanyInput,
): Promise<Company> {
  const domains = normaliseDomains(input.domains);
  if (input.ownerId) await assertAssignableOwner(deps, caller, input.ownerId);
  const now = deps.clock.nowIso();
  const companyId = deps.newId('co');
  const base: CompanyItem = {
    workspaceId: caller.workspaceId,
    companyId,
    name: input.name,
    nameKey: companyNameKey(input.name, companyId),
    domains,
    status: 'active',
    createdBy: caller.userId,
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...(input.ownerId ? { ownerId: input.ownerId } : {}),
  };
  const item = applyFields(base, input);
  const event = newEvent(deps, caller, 'company.created', companyRef(companyId), {
    name: item.name,
    domains,
    ownerId: item.ownerId ?? null,
  });
  await commitCompany(deps, undefined, item, [event]);
  return toCompany(item);
}

const changeFields = ['name', 'domains', 'website', ...textFields, 'ownerId'] as const;

/**
 * A partial update, conditional on the version read (If-Match when given). `domains` replaces the
 * set: added ones are claimed and removed ones freed in the same transaction. Contacts already in
 * the workspace are not linked to a newly added domain here (that would be a background job); new
 * contacts and contacts whose channels change are.
 */
export async function updateCompany(
  deps: CoreDeps,
  caller: CallerContext,
  companyId: string,
  input: UpdateCompanyInput,
  expectedVersion?: number,
): Promise<Company> {
  const before = await readCompany(deps, caller.workspaceId, companyId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanWriteCompany(caller, before);
  if (before.mergedInto) {
    throw conflict(
      'record_merged',
      `This company was merged into ${before.mergedInto}: change that one instead`,
      {
        mergedInto: before.mergedInto,
      },
    );
  }
  const after = applyFields(before, input);
  if (input.name !== undefined) {
    after.name = input.name;
    after.nameKey = companyNameKey(input.name, companyId);
  }
  if (input.domains !== undefined) after.domains = normaliseDomains(input.domains);
  if (input.ownerId !== undefined && input.ownerId !== (before.ownerId ?? null)) {
    if (input.ownerId === null) delete after.ownerId;
    else {
      await assertAssignableOwner(deps, caller, input.ownerId);
      after.ownerId = input.ownerId;
    }
  }
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of changeFields) {
    const from = before[field] ?? null;
    const to = after[field] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
  }
  if (Object.keys(changes).length === 0) return toCompany(before);
  const next = { ...after, version: before.version + 1, updatedAt: deps.clock.nowIso() };
  const event = newEvent(deps, caller, 'company.updated', companyRef(companyId), { changes });
  await commitCompany(deps, before, next, [event]);
  return toCompany(next);
}

/**
 * Archive: the soft hide. The company keeps its domains (a new company cannot take them; unarchive or
 * merge it instead) and its contacts stay linked, but contacts are no longer auto-linked to it.
 */
export async function archiveCompany(
  deps: CoreDeps,
  caller: CallerContext,
  companyId: string,
  expectedVersion?: number,
): Promise<Company> {
  const before = await readCompany(deps, caller.workspaceId, companyId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanWriteCompany(caller, before);
  if (before.status === 'archived') return toCompany(before); // already so: a repeat changes nothing
  const now = deps.clock.nowIso();
  const after: CompanyItem = {
    ...before,
    status: 'archived',
    archivedAt: now,
    version: before.version + 1,
    updatedAt: now,
  };
  const event = newEvent(deps, caller, 'company.archived', companyRef(companyId), { mergedInto: null });
  await commitCompany(deps, before, after, [event]);
  return toCompany(after);
}

/** Brings an archived company back; a merged one stays archived. */
export async function unarchiveCompany(
  deps: CoreDeps,
  caller: CallerContext,
  companyId: string,
  expectedVersion?: number,
): Promise<Company> {
  const before = await readCompany(deps, caller.workspaceId, companyId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanWriteCompany(caller, before);
  if (before.status === 'active') return toCompany(before);
  if (before.mergedInto) {
    throw conflict('record_merged', `This company was merged into ${before.mergedInto} and stays archived`, {
      mergedInto: before.mergedInto,
    });
  }
  const { archivedAt: _archivedAt, ...rest } = before;
  const after: CompanyItem = {
    ...rest,
    status: 'active',
    version: before.version + 1,
    updatedAt: deps.clock.nowIso(),
  };
  const event = newEvent(deps, caller, 'company.unarchived', companyRef(companyId), {});
  await commitCompany(deps, before, after, [event]);
  return toCompany(after);
}
