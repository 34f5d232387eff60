import { newEvent, type EventRecord } from '../../events/event-log';
import { autoMatchDomain, companyLinksByDomain, type CompanyLink } from '../companies/company-links';
import { emailDomain } from '../contacts/channels';
import { channelScope, tokensOf, type ChannelItem, type ContactItem } from '../contacts/contact-record';
import type { ContactOp } from '../contacts/contact-index-ops';
import { maxChannelsPerContact } from '../contacts/channels';
import {
  assertCanWrite,
  buildChannels,
  commitContact,
  contactChangeOps,
  contactChanges,
  contactCreatedEvents,
  maxTransactionItems,
} from '../contacts/contacts.service';
import {
  customFieldValueFromText,
  loadCustomFieldDefinitions,
  validateCustomFieldValues,
  type CustomFieldValue,
} from '../custom-fields/custom-field-values';
import type { CustomField } from '../custom-fields/custom-fields.schemas';
import { forEachLimited } from '../shared/concurrency';
import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, LostRace } from '../shared/errors';
import { retryLostRaces } from '../shared/retry';
import { batchGetAll } from '../store/batch-get';
import { asRecordTooLarge } from '../store/transaction';
import { isReservedTag, isSystemTag, maxTagNameLength, maxTagsPerContact, tagDisplay, tagKey, tagName } from '../tags/tag-names';
import { ensureTags, type TagItem } from '../tags/tag-record';
import type { UserItem } from '../users/users.service';
import {
  importableTextFields,
  type DroppedValue,
  type ImportCandidate,
  type ImportableTextField,
  type NormalisedRow,
  type RejectCode,
  type RowRejection,
} from './import-row';
import { maxErrorPartsPerRow, type ImportRowOutcome } from './import-row.entity';
import { estimateItemBytes, keyAllowanceBytes, maxItemBytes } from './record-size';
import { importValueLimits } from './row-normaliser';
import type { ImportCounts, ImportWriteOptions } from './import-writer.schemas';

/*
 * The import writer: turns the normalised rows of a chunk of an import file into contacts, exactly
 * once, and records every row's outcome.
 *
 * Dedupe is sequential, in file order: a row's channel values are looked up among the contacts that
 * hold them (the channel guards, one consistent BatchGetItem for the chunk) and among those the rows
 * before it created or changed; a row reaching one contact joins it, a row reaching none creates one.
 * So rows are one contact transitively along the file (r1 {a}, r2 {a, b}, r3 {b, c} are one), and
 * whether a chunk holds 1, 7 or all rows changes nothing in the result: a chunk starts from what the
 * chunks before it wrote. A row reaching two different contacts is rejected `channel_conflict`
 * (r1 {a}, r2 {b}, r3 {a, b}: r3 would join two people; merging contacts is a decision for a user).
 *
 * Exactness: each row's outcome is an item (import-row.entity.ts). Rows that changed a contact have
 * theirs in the contact's transaction; the others are put after every transaction of the chunk
 * succeeded. A chunk first reads its rows' outcomes and redoes none: after a crash, a redelivered
 * message or a lost race (another chunk, or a user, claimed a value first: the transaction fails
 * on the guard and the chunk is read and applied again) the counts are still those of one run.
 */

export interface ImportJobRef {
  workspaceId: string;
  jobId: string;
}

export interface ImportWriteJob extends ImportJobRef {
  /** The job's creator: the import writes with their rights, and the events name them. */
  caller: CallerContext;
  options: ImportWriteOptions;
}

/** The counts of one chunk: they add up to `rowsRead` (the chunk's rows). */
export type ChunkOutcome = ImportCounts;

export interface WriteChunkOptions {
  /** Contact transactions in flight at once (default 16). */
  concurrency?: number;
  /**
   * Awaited before each contact transaction of a run (0, 1, ...). What it throws stops the chunk there,
   * once the transactions in flight have settled, and is thrown (the job's looks at its user and at a
   * cancel; a crash in tests); what it writes meanwhile is a concurrent writer (tests).
   */
  beforeTransaction?: (index: number) => void | Promise<void>;
  /**
   * Test seam: false leaves out the size check before writing, so that DynamoDB's own refusal of an
   * item past 400 KB is met (what the writer then does is the same: the row is rejected on its own).
   */
  checkItemSize?: boolean;
}

/** Import rows' outcomes are kept this long: the job may be resumed or redelivered meanwhile. */
const rowOutcomeTtlSeconds = 30 * 24 * 60 * 60;
/** The raw record kept with an error: each field, and all of them, cut to these lengths. */
const maxRawFieldLength = 2_000;
const maxRawLength = 80_000;

export const emptyImportCounts = (): ImportCounts => ({
  rowsRead: 0,
  blank: 0,
  rejected: 0,
  rejectedByCode: {},
  created: 0,
  updated: 0,
  unchanged: 0,
  skipped: 0,
  merged: 0,
  droppedValues: 0,
});

/** A job's total with one more chunk's counts added (neither argument is changed). */
export function addImportCounts(total: ImportCounts, chunk: ImportCounts): ImportCounts {
  const rejectedByCode = { ...total.rejectedByCode };
  for (const [code, count] of Object.entries(chunk.rejectedByCode) as [RejectCode, number][]) {
    rejectedByCode[code] = (rejectedByCode[code] ?? 0) + count;
  }
  return {
    rowsRead: total.rowsRead + chunk.rowsRead,
    blank: total.blank + chunk.blank,
    rejected: total.rejected + chunk.rejected,
    rejectedByCode,
    created: total.created + chunk.created,
    updated: total.updated + chunk.updated,
    unchanged: total.unchanged + chunk.unchanged,
    skipped: total.skipped + chunk.skipped,
    merged: total.merged + chunk.merged,
    droppedValues: total.droppedValues + chunk.droppedValues,
  };
}

/** A channel value the reader left out of a row that is imported: an entry of the error report. */
interface DroppedEntry {
  part: number;
  column: string;
  code: RejectCode;
  message: string;
}

/** What became of one row. */
type RowDecision =
  | { row: number; outcome: ImportRowOutcome; contactId?: string; droppedValues: number }
  | { row: number; rejection: RowRejection };

/** Counts a row's outcome (or rejection) into `counts` (mutated). */
export function countDecision(
  counts: ImportCounts,
  decision: { outcome: ImportRowOutcome; droppedValues?: number } | { code: RejectCode },
) {
  counts.rowsRead += 1;
  if ('code' in decision) {
    counts.rejected += 1;
    counts.rejectedByCode[decision.code] = (counts.rejectedByCode[decision.code] ?? 0) + 1;
  } else {
    counts[decision.outcome] += 1;
    counts.droppedValues += decision.droppedValues ?? 0;
  }
}

/** The report's entries for the values left out of a row: one each, at most `maxErrorPartsPerRow - 1`. */
function droppedEntries(candidate: ImportCandidate): DroppedEntry[] {
  const dropped = candidate.dropped ?? [];
  const room = maxErrorPartsPerRow - 1;
  return dropped.slice(0, room).map((value, index) => {
    const more = index === room - 1 && dropped.length > room ? ` (and ${dropped.length - room} more values left out of this row)` : '';
    return {
      part: index + 1,
      column: value.column,
      code: value.code,
      message: `${value.message}${more}`,
    };
  });
}

/**
 * Writes one chunk of an import job's rows (any rows of the file, in any chunking; each row number
 * once) and returns their counts. Run again with the same rows (a redelivered message, a resumed
 * job, a crash part-way), it writes only what the earlier run did not and returns the same counts.
 * Two chunks of one job may run at once: one contact per channel value still holds (the guards'
 * conditions decide; the chunk that lost reads again and folds its rows into what the other wrote),
 * and the counts still match the rows' recorded outcomes.
 */
export async function writeImportChunk(
  deps: CoreDeps,
  job: ImportWriteJob,
  rows: readonly NormalisedRow[],
  options: WriteChunkOptions = {},
): Promise<ChunkOutcome> {
  const sorted = [...rows].sort((a, b) => rowNumber(a) - rowNumber(b));
  sorted.forEach((row, index) => {
    if (index > 0 && rowNumber(row) === rowNumber(sorted[index - 1]!)) {
      throw new Error(`Row ${rowNumber(row)} is given twice in one chunk`);
    }
  });
  if (sorted.length === 0) return emptyImportCounts();
  // A lost race (a guard or version condition, a marker written meanwhile) is a ChunkRaced: the chunk
  // is read again (markers first) and what is left applied on top of the change that won.
  return retryLostRaces(() => runChunk(deps, job, sorted, options));
}

const rowNumber = (row: NormalisedRow) =>
  row.kind === 'blank' ? row.position.row : row.kind === 'candidate' ? row.candidate.row : row.rejection.row;

const foldName = (name: string) => name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();

function uniqueBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T> {
  const found = new Map<string, T | undefined>();
  for (const item of items) {
    const key = keyOf(item);
    found.set(key, found.has(key) ? undefined : item);
  }
  return new Map([...found].filter((entry): entry is [string, T] => entry[1] !== undefined));
}

/**
 * The user an owner cell names: by id, by email, or by name (the owner column of HubSpot, Salesforce,
 * Pipedrive and Zoho exports holds the owner's full name) when exactly one active user has it.
 */
function findOwner(named: string, context: ChunkContext): UserItem | undefined {
  return context.usersById.get(named) ?? context.usersByEmail.get(named.toLowerCase()) ?? context.usersByName.get(foldName(named));
}

/**
 * A row whose owner is no active user of the workspace (someone who left, a user of the CRM the file
 * came from, an id of that CRM) is imported as if it named none: losing the contact for it would lose
 * more than it keeps. The report lists the owner left out (`unknown_owner`, not rejected).
 */
function withKnownOwner(candidate: ImportCandidate, context: ChunkContext): ImportCandidate {
  const named = candidate.owner?.trim();
  if (!named || findOwner(named, context)) return candidate;
  const { owner: _owner, ...rest } = candidate;
  const dropped: DroppedValue = {
    code: 'unknown_owner',
    column: candidate.ownerColumn ?? 'Owner',
    value: named,
    message: `No active user of the workspace is "${named}": the contact was imported without this owner`,
  };
  return { ...rest, dropped: [...(candidate.dropped ?? []), dropped] };
}

class ChunkRaced extends LostRace {
  constructor() {
    super('Contacts this import chunk writes');
  }
}

async function runChunk(
  deps: CoreDeps,
  job: ImportWriteJob,
  rows: NormalisedRow[],
  options: WriteChunkOptions,
): Promise<ChunkOutcome> {
  const counts = emptyImportCounts();
  const done = await readDoneRows(deps, job, rowNumber(rows[0]!), rowNumber(rows[rows.length - 1]!));
  const pending: NormalisedRow[] = [];
  for (const row of rows) {
    const previous = done.get(rowNumber(row));
    if (previous) countDecision(counts, previous);
    else pending.push(row);
  }
  if (pending.length === 0) return counts;

  const decisions: RowDecision[] = [];
  const rawCandidates: ImportCandidate[] = [];
  for (const row of pending) {
    if (row.kind === 'blank') decisions.push({ row: row.position.row, outcome: 'blank', droppedValues: 0 });
    else if (row.kind === 'rejected') decisions.push({ row: row.rejection.row, rejection: row.rejection });
    else rawCandidates.push(row.candidate);
  }
  const now = deps.clock.nowIso();
  const context = await loadContext(deps, job, rawCandidates);
  const candidates = job.options.ownerId === null ? rawCandidates : rawCandidates.map((candidate) => withKnownOwner(candidate, context));
  const simulation = new Simulation(deps, job, context, now, options.checkItemSize ?? true);
  for (const candidate of candidates) decisions.push(simulation.apply(candidate));

  const { transactions, inTransactions } = simulation.plan();
  await createUsedTags(deps, job, context, transactions);
  await commitTransactions(deps, job, transactions, options);
  // Every contact change of the chunk is in: the rows that changed nothing can say so now.
  await putRowOutcomes(
    deps,
    job,
    decisions.filter((decision) => !inTransactions.has(decision.row)),
    candidates,
  );
  for (const decision of decisions) {
    countDecision(counts, 'rejection' in decision ? { code: decision.rejection.code } : decision);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** The outcomes already recorded for rows first..last: two consistent Queries of the job's partition. */
async function readDoneRows(deps: CoreDeps, job: ImportJobRef, first: number, last: number) {
  const key = { workspaceId: job.workspaceId, jobId: job.jobId };
  const [outcomes, errors] = await Promise.all([
    deps.db.entities.importRow.query
      .byRow(key)
      .between({ row: first }, { row: last })
      .go({ pages: 'all', consistent: true }),
    deps.db.entities.importError.query
      .byRow(key)
      .between({ row: first, part: 0 }, { row: last, part: 0 })
      .go({ pages: 'all', consistent: true, attributes: ['row', 'part', 'code'] }),
  ]);
  const done = new Map<number, { outcome: ImportRowOutcome; droppedValues?: number } | { code: RejectCode }>();
  for (const item of outcomes.data) done.set(item.row, { outcome: item.outcome, droppedValues: item.droppedValues ?? 0 });
  // Part 0 is a rejection; the others list values left out of an imported row (its outcome says so).
  for (const item of errors.data) if (item.part === 0) done.set(item.row!, { code: item.code! });
  return done;
}

interface ChunkContext {
  usersById: Map<string, UserItem>;
  usersByEmail: Map<string, UserItem>;
  /** Folded name → the one active user with it (names two users share are not here). */
  usersByName: Map<string, UserItem>;
  definitions: Map<string, CustomField>;
  /** Tag key → the tag to write (a tag being renamed resolves to its new name), or why not. */
  tags: Map<string, { name: string; key: string } | { problem: string }>;
  /** Keys of `tags` the library lacks: created only for the rows that are written. */
  missingTags: Set<string>;
  /** `<kind>|<normalized>` → the contact holding the value. */
  holders: Map<string, string>;
  contacts: Map<string, ContactItem>;
  links: Map<string, CompanyLink | undefined>;
}

const channelKey = (channel: Pick<ChannelItem, 'kind' | 'normalized'>) => `${channel.kind}|${channel.normalized}`;

/** Rounds of re-asking for what a batch read or write left unprocessed. */
const maxBatchRounds = 8;
/** BatchGetItem / BatchWriteItem requests in flight at once (a chunk of 500 rows reads ~10 of guards). */
const batchConcurrency = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What the chunk's rows need of the table, read once: the workspace's users (one Query) and contact
 * custom fields (one Query), the tags' library entries (consistent BatchGetItem), the guards of every
 * channel value (consistent BatchGetItem, 100 a request), the contacts holding them (the same), and
 * the companies of the email domains (company-links.ts).
 */
async function loadContext(deps: CoreDeps, job: ImportWriteJob, candidates: ImportCandidate[]): Promise<ChunkContext> {
  const { workspaceId } = job;
  const valueKeys = new Map<string, { kind: ChannelItem['kind']; value: string }>();
  const domains = new Set<string>();
  const tagNames = new Map<string, string>();
  const addTag = (name: string) => {
    const display = tagDisplay(name);
    // Only valid names reach the library: the rows with others are rejected.
    if (tagName.safeParse(display).success && !tagNames.has(tagKey(display))) tagNames.set(tagKey(display), display);
  };
  job.options.tags.forEach(addTag);
  for (const candidate of candidates) {
    for (const channel of candidate.channels) {
      valueKeys.set(`${channel.kind}|${channel.value}`, channel);
      if (channel.kind === 'email' && channel.value.includes('@')) domains.add(emailDomain(channel.value));
    }
    // A row with too many tags is rejected: its tags need no library entries.
    if (new Set([...candidate.tags, ...job.options.tags].map(tagKey)).size <= maxTagsPerContact) {
      candidate.tags.forEach(addTag);
    }
  }
  const [users, definitions, tags, guards] = await Promise.all([
    deps.db.entities.user.query.byId({ workspaceId }).go({ pages: 'all' }),
    loadCustomFieldDefinitions(deps, workspaceId, 'contact'),
    lookupTags(deps, job.caller, tagNames),
    batchGetAll(
      [...valueKeys.values()].map(({ kind, value }) => ({ workspaceId, scope: channelScope(kind), value })),
      (keys) => deps.db.entities.uniqueGuard.get(keys).go({ consistent: true, concurrent: batchConcurrency }),
    ),
  ]);
  const holders = new Map<string, string>();
  for (const guard of guards) holders.set(`${guard.scope.slice('channel:'.length)}|${guard.value}`, guard.ownerId);
  const contactIds = [...new Set(holders.values())];
  const contacts = new Map<string, ContactItem>();
  const found = await batchGetAll(
    contactIds.map((contactId) => ({ workspaceId, contactId })),
    (keys) => deps.db.entities.contact.get(keys).go({ consistent: true, concurrent: batchConcurrency }),
  );
  for (const item of found as ContactItem[]) {
    // Read between a merge's guard move and its archive: read again, the guards now name the target.
    if (item.mergedInto) throw new ChunkRaced();
    contacts.set(item.contactId, item);
    const primaryEmail = item.channels.find((channel) => channel.kind === 'email' && channel.primary);
    if (primaryEmail) domains.add(emailDomain(primaryEmail.normalized));
  }
  if (contacts.size !== contactIds.length) throw new ChunkRaced(); // a guard without its contact: mid-write
  const active = (users.data as UserItem[]).filter((user) => user.status === 'active');
  return {
    usersById: new Map(active.map((user) => [user.userId, user])),
    usersByEmail: new Map(active.map((user) => [user.email.trim().toLowerCase(), user])),
    usersByName: uniqueBy(active, (user) => foldName(user.name)),
    definitions: new Map(definitions.map((definition) => [definition.key, definition])),
    tags: tags.resolved,
    missingTags: tags.missing,
    holders,
    contacts,
    links: await companyLinksByDomain(deps, workspaceId, domains),
  };
}

/**
 * The library entry of each tag, read (consistently) but not created: a tag being renamed resolves to
 * its new name, one being deleted cannot be added, one the library lacks is `missing` (created by
 * `createUsedTags` once the rows are decided, only if a row that is written uses it: a rejected row
 * leaves no tag behind).
 */
async function lookupTags(deps: CoreDeps, caller: CallerContext, names: Map<string, string>) {
  const resolved = new Map<string, { name: string; key: string } | { problem: string }>();
  const missing = new Set<string>();
  const entries = [...names].filter(([key]) => !isReservedTag(key) && (isManager(caller) || !isSystemTag(key)));
  const found = await batchGetAll(
    entries.map(([key]) => ({ workspaceId: caller.workspaceId, key })),
    (keys) => deps.db.entities.tag.get(keys).go({ consistent: true, concurrent: batchConcurrency }),
  );
  const items = new Map((found as TagItem[]).map((item) => [item.key, item]));
  for (const [key, name] of entries) {
    const item = items.get(key);
    if (!item) {
      missing.add(key);
      resolved.set(key, { name, key });
    } else if (item.pending?.kind === 'delete') {
      resolved.set(key, { problem: `The tag "${item.name}" is being deleted: it cannot be added now` });
    } else if (item.pending?.kind === 'rename' && item.pending.toKey && item.pending.toKey !== item.key) {
      resolved.set(key, { name: item.pending.toName!, key: item.pending.toKey });
    } else {
      resolved.set(key, { name, key });
    }
  }
  return { resolved, missing };
}

/**
 * Creates the library entries of the tags the planned transactions write that the library lacked
 * (as tagging a contact does: `ensureTags`, with `tag.created`). A tag that turned out renamed or
 * being deleted meanwhile makes the chunk run again from its reads.
 */
async function createUsedTags(deps: CoreDeps, job: ImportWriteJob, context: ChunkContext, transactions: PlannedTransaction[][]) {
  if (context.missingTags.size === 0) return;
  const names = new Map<string, string>();
  for (const parts of transactions) {
    for (const { after } of parts) {
      for (const tag of after.tags ?? []) if (context.missingTags.has(tagKey(tag))) names.set(tagKey(tag), tag);
    }
  }
  if (names.size === 0) return;
  let created: { name: string; key: string }[];
  try {
    created = await ensureTags(deps, job.caller, [...names.values()]);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'tag_deleting') throw new ChunkRaced();
    throw error;
  }
  if (created.some((tag) => !names.has(tag.key))) throw new ChunkRaced();
}

// ---------------------------------------------------------------------------------------------
// Applying the rows, in memory

/** A row's values, checked and resolved, before they meet a contact. */
interface RowPlan {
  candidate: ImportCandidate;
  channels: ChannelItem[];
  tags: { name: string; key: string }[];
  ownerId?: string;
  /** Custom field values read from their text (validation follows, once create or update is known). */
  customFields: Record<string, unknown>;
}

/** One row applied to a contact: the state after it. */
interface Step {
  row: number;
  candidate: ImportCandidate;
  outcome: ImportRowOutcome;
  changed: boolean;
  state: ContactItem;
}

/** A contact the chunk reaches: as read (none when the chunk creates it), as the rows leave it. */
interface Working {
  contactId: string;
  persisted?: ContactItem;
  state: ContactItem;
  /** Created by this job (in this chunk or an earlier one): the rows reaching it count as merged. */
  ownJob: boolean;
  steps: Step[];
}

/** One transaction: a contact from `before` to `after`, with the outcomes of the rows it carries. */
interface PlannedTransaction {
  before?: ContactItem;
  after: ContactItem;
  rows: { row: number; outcome: ImportRowOutcome; candidate: ImportCandidate }[];
}

/** A row applied without a rejection (its values left out are added by `apply`). */
type Applied = { row: number; outcome: ImportRowOutcome; contactId: string };

/** The items a row's outcome takes: its own, and one per value left out of it. */
const outcomeItems = (candidate: ImportCandidate) => 1 + Math.min(candidate.dropped?.length ?? 0, maxErrorPartsPerRow - 1);

/** Column headers named in errors (the canonical import template's). */
const fieldColumns: Record<ImportableTextField | 'name', string> = {
  name: 'Name',
  jobTitle: 'Job Title',
  role: 'Role',
  segment: 'Segment',
  city: 'City',
  state: 'State',
  country: 'Country',
  companyName: 'Company',
};
/** The reader's limits (the contact API's), checked again: the writer takes rows from anywhere. */
const fieldLimits: Record<ImportableTextField | 'name', number> = {
  name: importValueLimits.name,
  jobTitle: importValueLimits.text,
  role: importValueLimits.text,
  segment: importValueLimits.text,
  city: importValueLimits.text,
  state: importValueLimits.text,
  country: importValueLimits.country,
  companyName: importValueLimits.text,
};

class Rejected extends Error {
  constructor(
    readonly code: RejectCode,
    message: string,
    readonly column?: string,
  ) {
    super(message);
  }
}

class Simulation {
  private readonly working = new Map<string, Working>();
  private readonly holders: Map<string, string>;

  constructor(
    private readonly deps: CoreDeps,
    private readonly job: ImportWriteJob,
    private readonly context: ChunkContext,
    private readonly now: string,
    private readonly checkItemSize: boolean,
  ) {
    this.holders = new Map(context.holders);
  }

  /** Decides one row (in file order) and applies it to the contacts in memory. */
  apply(candidate: ImportCandidate): RowDecision {
    try {
      const applied = this.applyPlan(this.prepare(candidate));
      return { ...applied, droppedValues: candidate.dropped?.length ?? 0 };
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      return {
        row: candidate.row,
        rejection: {
          row: candidate.row,
          line: candidate.line,
          ...(candidate.sheetRow === undefined ? {} : { sheetRow: candidate.sheetRow }),
          code: error.code,
          ...(error.column ? { column: error.column } : {}),
          message: error.message,
          raw: candidate.raw,
        },
      };
    }
  }

  /** The checks that need no contact: lengths, channels, tags, owner; custom field values read. */
  private prepare(candidate: ImportCandidate): RowPlan {
    const { caller, options } = this.job;
    if (candidate.name.length > fieldLimits.name) {
      throw new Rejected('too_long', `A name has at most ${fieldLimits.name} characters`, fieldColumns.name);
    }
    for (const field of importableTextFields) {
      const value = candidate.fields[field];
      if (value !== undefined && value.length > fieldLimits[field]) {
        throw new Rejected('too_long', `At most ${fieldLimits[field]} characters`, fieldColumns[field]);
      }
    }
    const channels = this.buildRowChannels(candidate);

    const tagKeys = new Set([...candidate.tags, ...options.tags].map(tagKey).filter((key) => key !== ''));
    if (tagKeys.size > maxTagsPerContact) {
      throw new Rejected('too_many_tags', `A contact has at most ${maxTagsPerContact} tags: this row gives ${tagKeys.size}`, 'Tags');
    }
    const tags = new Map<string, { name: string; key: string }>();
    for (const name of [...candidate.tags, ...options.tags]) {
      const display = tagDisplay(name);
      if (display === '') continue;
      const parsed = tagName.safeParse(display);
      if (!parsed.success) {
        if (display.length > maxTagNameLength) {
          throw new Rejected('too_long', `A tag has at most ${maxTagNameLength} characters: "${display.slice(0, 60)}…"`, 'Tags');
        }
        throw new Rejected('invalid_tag', `"${display}" is not a valid tag name: ${parsed.error.issues[0]?.message}`, 'Tags');
      }
      if (isSystemTag(display) && !isManager(caller)) {
        throw new Rejected('not_permitted', `Only an owner or admin can set the system tag "${display}"`, 'Tags');
      }
      if (isReservedTag(display)) {
        throw new Rejected('not_permitted', `The tag "${display}" is reserved for the system: of the \`bot:\` tags, people set only \`bot:on\` and \`bot:off\``, 'Tags');
      }
      const resolved = this.context.tags.get(tagKey(display));
      if (!resolved) throw new Error(`Tag "${display}" was not resolved`);
      if ('problem' in resolved) throw new Rejected('invalid_tag', resolved.problem, 'Tags');
      if (!tags.has(resolved.key)) tags.set(resolved.key, resolved);
    }

    let ownerId: string | undefined;
    const named = candidate.owner?.trim();
    if (options.ownerId === null) ownerId = undefined;
    else if (named) {
      const user = findOwner(named, this.context);
      if (!user) throw new Rejected('unknown_owner', `No active user of the workspace is "${named}"`, candidate.ownerColumn ?? 'Owner');
      ownerId = user.userId;
    } else if (options.ownerId) {
      if (!this.context.usersById.has(options.ownerId)) {
        throw new Rejected('unknown_owner', `The import's owner ${options.ownerId} is no longer an active user of the workspace`);
      }
      ownerId = options.ownerId;
    }
    if (ownerId && !isManager(caller) && ownerId !== caller.userId) {
      throw new Rejected('not_permitted', 'A member can only make themselves the owner', candidate.ownerColumn ?? 'Owner');
    }

    const customFields: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(candidate.customFields)) {
      if (text.trim() === '') continue;
      const definition = this.context.definitions.get(key);
      customFields[key] = definition ? customFieldValueFromText(definition, text) : text;
    }
    return { candidate, channels, tags: [...tags.values()], ...(ownerId ? { ownerId } : {}), customFields };
  }

  private buildRowChannels(candidate: ImportCandidate): ChannelItem[] {
    const seen = new Set<string>();
    const inputs = candidate.channels.filter((channel) => {
      const key = `${channel.kind}|${channel.value}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (!inputs.some((channel) => channel.kind === 'email' || channel.kind === 'phone')) {
      throw new Rejected('no_channel', 'The row has no valid email address or phone number');
    }
    try {
      return buildChannels(this.deps, inputs, undefined, []);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === 'limit_exceeded') throw new Rejected('too_many_channels', error.message);
      const issue = error.details.fields?.[0];
      const code: RejectCode =
        issue?.code === 'invalid_email' ? 'invalid_email' : issue?.code === 'invalid_phone' || issue?.code === 'invalid_whatsapp' ? 'invalid_phone' : 'malformed_record';
      throw new Rejected(code, issue?.message ?? error.message);
    }
  }

  private applyPlan(plan: RowPlan): Applied {
    const { candidate } = plan;
    const reached = [...new Set(plan.channels.flatMap((channel) => this.holders.get(channelKey(channel)) ?? []))];
    if (reached.length > 1) {
      const owners = plan.channels
        .filter((channel) => this.holders.has(channelKey(channel)))
        .map((channel) => `${channel.normalized} (${this.holders.get(channelKey(channel))})`);
      throw new Rejected(
        'channel_conflict',
        `The row's values belong to ${reached.length} different contacts: ${owners.join(', ')}. Merge those contacts, or split the row`,
      );
    }
    if (reached.length === 0) return this.create(plan);

    const working = this.workingOf(reached[0]!);
    if (!working.ownJob) {
      if (this.job.options.mode === 'skip_existing') {
        working.steps.push({ row: candidate.row, candidate, outcome: 'skipped', changed: false, state: working.state });
        return { row: candidate.row, outcome: 'skipped', contactId: working.contactId };
      }
      if (this.job.options.mode === 'create_only') {
        throw new Rejected(
          'already_exists',
          `This row's contact already exists (${working.contactId}): the import creates new contacts only`,
        );
      }
    }
    if (working.persisted) {
      try {
        assertCanWrite(this.job.caller, working.state);
      } catch {
        throw new Rejected(
          'not_permitted',
          `This row's contact (${working.contactId}) is claimed by another user: only they, an owner or an admin can change it`,
        );
      }
    }
    const customFields = this.validateCustomFields(plan, 'update');
    const overwrite = !working.ownJob && this.job.options.overwrite;
    let next = this.applyRow(working.state, plan, customFields, overwrite);
    const changed = fingerprint(next) !== fingerprint(working.state);
    if (!changed) next = working.state;
    else {
      if (next.channels.length > maxChannelsPerContact) {
        throw new Rejected(
          'too_many_channels',
          `A contact has at most ${maxChannelsPerContact} channels: ${working.contactId} has ${working.state.channels.length} and this row adds ${next.channels.length - working.state.channels.length}`,
        );
      }
      if ((next.tags?.length ?? 0) > maxTagsPerContact) {
        throw new Rejected(
          'too_many_tags',
          `A contact has at most ${maxTagsPerContact} tags: ${working.contactId} has ${working.state.tags?.length ?? 0} and this row adds ${(next.tags?.length ?? 0) - (working.state.tags?.length ?? 0)}`,
          'Tags',
        );
      }
      this.assertFits(working.state, next, candidate);
      this.assertFitsItem(working.persisted, next, candidate);
    }
    const outcome: ImportRowOutcome = working.ownJob ? 'merged' : changed ? 'updated' : 'unchanged';
    for (const channel of next.channels) this.holders.set(channelKey(channel), working.contactId);
    working.steps.push({ row: candidate.row, candidate, outcome, changed, state: next });
    working.state = next;
    return { row: candidate.row, outcome, contactId: working.contactId };
  }

  private create(plan: RowPlan): Applied {
    const { candidate } = plan;
    const { caller, workspaceId, jobId } = this.job;
    const customFields = this.validateCustomFields(plan, 'create');
    const item: ContactItem = {
      workspaceId,
      contactId: this.deps.newId('ct'),
      name: candidate.name,
      status: 'active',
      suppressed: false,
      channels: plan.channels,
      tags: plan.tags.map((tag) => tag.name),
      customFields,
      createdBy: caller.userId,
      importJobId: jobId,
      version: 1,
      createdAt: this.now,
      updatedAt: this.now,
      ...(plan.ownerId ? { ownerId: plan.ownerId } : {}),
    };
    for (const field of importableTextFields) {
      const value = candidate.fields[field];
      if (value) item[field] = value;
    }
    // As createContact: the company holding the primary email's domain (companyName follows it).
    const link = this.linkFor(item.channels);
    if (link) Object.assign(item, link);
    item.searchTokens = tokensOf(item);
    this.assertFits(undefined, item, candidate);
    this.assertFitsItem(undefined, item, candidate);
    for (const channel of item.channels) this.holders.set(channelKey(channel), item.contactId);
    this.working.set(item.contactId, {
      contactId: item.contactId,
      state: item,
      ownJob: true,
      steps: [{ row: candidate.row, candidate, outcome: 'created', changed: true, state: item }],
    });
    return { row: candidate.row, outcome: 'created', contactId: item.contactId };
  }

  /**
   * The row's values added to a contact: channels it lacks (the first of a kind it has none of
   * becomes primary), empty fields filled (`overwrite`: the row's replace them), tags and custom
   * fields it lacks, the owner when it has none. A name made from a channel value counts as empty.
   */
  private applyRow(
    state: ContactItem,
    plan: RowPlan,
    customFields: Record<string, CustomFieldValue>,
    overwrite: boolean,
  ): ContactItem {
    const { candidate } = plan;
    const next: ContactItem = {
      ...state,
      channels: [...state.channels],
      tags: [...(state.tags ?? [])],
      customFields: { ...(state.customFields ?? {}) },
    };
    if (candidate.named && candidate.name !== state.name && (overwrite || isDerivedName(state))) {
      next.name = candidate.name;
    }
    for (const field of importableTextFields) {
      const value = candidate.fields[field];
      if (!value) continue;
      if (field === 'companyName' && next.companyId) continue; // a linked company names it
      if (next[field] === undefined || (overwrite && next[field] !== value)) next[field] = value;
    }
    const present = new Set(next.channels.map(channelKey));
    const added = plan.channels.filter((channel) => !present.has(channelKey(channel)));
    for (const channel of added) {
      const hasPrimary = next.channels.some((existing) => existing.kind === channel.kind && existing.primary);
      next.channels.push({ ...channel, primary: !hasPrimary });
    }
    const tagKeys = new Set(next.tags!.map(tagKey));
    for (const tag of plan.tags) {
      if (tagKeys.has(tag.key)) continue;
      tagKeys.add(tag.key);
      next.tags!.push(tag.name);
    }
    for (const [key, value] of Object.entries(customFields)) {
      if (value === null) continue;
      if (next.customFields![key] === undefined || (overwrite && next.customFields![key] !== value)) {
        next.customFields![key] = value;
      }
    }
    if (plan.ownerId && plan.ownerId !== next.ownerId && (!next.ownerId || overwrite)) next.ownerId = plan.ownerId;
    if (added.length > 0 && !next.companyId) {
      const link = this.linkFor(next.channels);
      if (link) Object.assign(next, link);
    }
    next.updatedAt = this.now;
    next.searchTokens = tokensOf(next);
    return next;
  }

  private linkFor(channels: ChannelItem[]): CompanyLink | undefined {
    const domain = autoMatchDomain(channels);
    return domain ? this.context.links.get(domain) : undefined;
  }

  private validateCustomFields(plan: RowPlan, mode: 'create' | 'update') {
    try {
      return validateCustomFieldValues([...this.context.definitions.values()], plan.customFields, mode);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const issue = error.details.fields?.[0];
      const key = issue?.field.replace(/^body\.customFields\.?/, '');
      // Say which value, in which of the file's columns: the user fixes the file, not the API call.
      const given = key ? plan.candidate.customFields[key] : undefined;
      const message = `${issue?.message ?? error.message}${given === undefined ? '' : ` ("${given}")`}`;
      throw new Rejected('invalid_custom_field', message, key ? (plan.candidate.customFieldColumns?.[key] ?? `Custom: ${key}`) : undefined);
    }
  }

  /** One row's change must fit one transaction with its outcome (DynamoDB's 100 items). */
  private assertFits(before: ContactItem | undefined, after: ContactItem, candidate: ImportCandidate) {
    const size = transactionSize(before, after) + outcomeItems(candidate);
    if (size > maxTransactionItems) {
      throw new Rejected(
        'too_many_tags',
        `This row would change the contact with ${size} items at once, more than the ${maxTransactionItems} one transaction allows: give it fewer tags or channels`,
        'Tags',
      );
    }
  }

  /**
   * The contact, and the `contact.updated` event of a change to one read from the table (its changes
   * carry the custom fields before and after), must each fit DynamoDB's 400 KB item: a row that
   * would pass it is rejected on its own, before anything of it is written.
   */
  private assertFitsItem(persisted: ContactItem | undefined, after: ContactItem, candidate: ImportCandidate) {
    if (!this.checkItemSize) return;
    const contactBytes = estimateItemBytes(after as unknown as Record<string, unknown>) + keyAllowanceBytes;
    const eventBytes = persisted ? estimateItemBytes({ payload: contactChanges(persisted, after) }) + keyAllowanceBytes : 0;
    const bytes = Math.max(contactBytes, eventBytes);
    if (bytes <= maxItemBytes) return;
    // Name the row's largest value: that is what to shorten in the file.
    const largest = Object.entries(candidate.customFields).reduce<[string, string] | undefined>(
      (best, entry) => (!best || Buffer.byteLength(entry[1]) > Buffer.byteLength(best[1]) ? entry : best),
      undefined,
    );
    const column = largest ? (candidate.customFieldColumns?.[largest[0]] ?? `Custom: ${largest[0]}`) : undefined;
    const what = contactBytes >= eventBytes ? 'The contact' : 'The change to the contact (its event, the values before and after)';
    throw new Rejected(
      'record_too_large',
      `${what} would take about ${Math.ceil(bytes / 1024)} KB, more than the 400 KB a record may hold: shorten this row's longest values${
        largest ? ` (the longest: ${column}, ${Math.ceil(Buffer.byteLength(largest[1]) / 1024)} KB)` : ''
      }`,
      column,
    );
  }

  private workingOf(contactId: string): Working {
    let working = this.working.get(contactId);
    if (!working) {
      const persisted = this.context.contacts.get(contactId);
      if (!persisted) throw new Error(`Contact ${contactId} was not read`);
      working = {
        contactId,
        persisted,
        state: persisted,
        ownJob: persisted.importJobId === this.job.jobId,
        steps: [],
      };
      this.working.set(contactId, working);
    }
    return working;
  }

  /**
   * The transactions that write the chunk's contact changes: one per contact, split where the
   * next row's change would take it past 100 items (each part conditional on the one before). A row
   * that changed its contact has its outcome in that transaction: run again after a crash, it must
   * not find its own change and call itself unchanged. The rows that changed nothing are not in one.
   */
  plan(): { transactions: PlannedTransaction[][]; inTransactions: Set<number> } {
    const itemsOf = (steps: Step[]) => steps.reduce((sum, step) => sum + outcomeItems(step.candidate), 0);
    const transactions: PlannedTransaction[][] = [];
    const inTransactions = new Set<number>();
    for (const working of this.working.values()) {
      const parts: { before?: ContactItem; after: ContactItem; rows: Step[] }[] = [];
      let base = working.persisted;
      let last = working.persisted;
      let rows: Step[] = [];
      for (const step of working.steps) {
        if (!step.changed) continue;
        if (rows.length > 0 && transactionSize(base, step.state) + itemsOf(rows) + outcomeItems(step.candidate) > maxTransactionItems) {
          parts.push({ before: base, after: last!, rows });
          base = last;
          rows = [];
        }
        rows.push(step);
        last = step.state;
      }
      if (rows.length > 0) parts.push({ before: base, after: last!, rows });
      if (parts.length === 0) continue;
      // Versions: each part is conditional on the one written before it.
      let previous = working.persisted;
      const planned = parts.map((part) => {
        const after: ContactItem = {
          ...part.after,
          version: (previous?.version ?? 0) + 1,
          ...(previous ? {} : { createdAt: this.now }),
          updatedAt: this.now,
        };
        const transaction = { before: previous, after, rows: part.rows.map(({ row, outcome, candidate }) => ({ row, outcome, candidate })) };
        previous = after;
        return transaction;
      });
      for (const transaction of planned) for (const { row } of transaction.rows) inTransactions.add(row);
      transactions.push(planned);
    }
    return { transactions, inTransactions };
  }
}

/** The contact as far as an import can change it: equal fingerprints, nothing to write. */
const fingerprint = (item: ContactItem) =>
  JSON.stringify([
    item.name,
    ...importableTextFields.map((field) => item[field] ?? null),
    item.channels.map((channel) => `${channelKey(channel)}|${channel.primary}`),
    item.tags ?? [],
    item.customFields ?? {},
    item.ownerId ?? null,
    item.companyId ?? null,
  ]);

/** A name the reader made from a channel value (the row had none): a named row may replace it. */
const isDerivedName = (item: ContactItem) => {
  const name = item.name.trim().toLowerCase();
  return item.channels.some((channel) => channel.normalized.toLowerCase() === name || channel.value.trim().toLowerCase() === name);
};

/** The items of a contact change's transaction without the rows' outcomes. */
function transactionSize(before: ContactItem | undefined, after: ContactItem): number {
  return contactChangeOps(before, after, []).ops.length + eventsOf(before, after).length;
}

/** The events of a contact change, as what to build: created (+ owner claimed), updated, owner claimed, tags added. */
function eventsOf(before: ContactItem | undefined, after: ContactItem): ('created' | 'updated' | 'owner' | string)[] {
  const beforeTags = new Set((before?.tags ?? []).map(tagKey));
  const tagsAdded = (after.tags ?? []).filter((tag) => !beforeTags.has(tagKey(tag))).map((tag) => `tag:${tag}`);
  if (!before) return ['created', ...(after.ownerId ? ['owner'] : []), ...tagsAdded];
  return [
    ...(Object.keys(contactChanges(before, after)).length > 0 ? ['updated'] : []),
    ...(after.ownerId && after.ownerId !== before.ownerId ? ['owner'] : []),
    ...tagsAdded,
  ];
}

/** The events a planned transaction appends: what createContact, updateContact, addTags and claims append. */
function buildEvents(deps: CoreDeps, job: ImportWriteJob, before: ContactItem | undefined, after: ContactItem): EventRecord[] {
  const { caller, jobId } = job;
  const ref = { type: 'contact' as const, id: after.contactId };
  const tagEvents = eventsOf(before, after)
    .filter((event) => event.startsWith('tag:'))
    .map((event) => {
      const tag = event.slice('tag:'.length);
      return newEvent(deps, caller, 'tag.added', ref, { tag, system: isSystemTag(tag) });
    });
  if (!before) return [...contactCreatedEvents(deps, caller, after, jobId), ...tagEvents];
  const events: EventRecord[] = [];
  const changes = contactChanges(before, after);
  if (Object.keys(changes).length > 0) events.push(newEvent(deps, caller, 'contact.updated', ref, { changes, jobId }));
  if (after.ownerId && after.ownerId !== before.ownerId) {
    events.push(
      newEvent(deps, caller, 'owner.claimed', ref, {
        ownerId: after.ownerId,
        previousOwnerId: before.ownerId ?? null,
        assignedBy: after.ownerId === caller.userId ? null : caller.userId,
      }),
    );
  }
  return [...events, ...tagEvents];
}

// ---------------------------------------------------------------------------------------------
// Writing

const isRace = (error: unknown) =>
  error instanceof LostRace || (error instanceof DomainError && error.code === 'channel_taken');

/**
 * Commits the planned transactions, `concurrency` contacts at a time (a contact's parts in order).
 * A lost race does not stop the others (their rows are then done); once all settled, it makes the
 * chunk run again. Any other failure stops starting new ones and is thrown once the others settled.
 */
async function commitTransactions(
  deps: CoreDeps,
  job: ImportWriteJob,
  transactions: PlannedTransaction[][],
  options: WriteChunkOptions,
): Promise<void> {
  let raced = false;
  let failed: { error: unknown } | undefined;
  const tooLarge: ImportCandidate[] = [];
  let started = 0;
  const expiresAt = Math.floor(deps.clock.nowMs() / 1000) + rowOutcomeTtlSeconds;
  await forEachLimited(transactions, options.concurrency ?? 16, async (parts) => {
    for (const { before, after, rows } of parts) {
      if (failed) return;
      try {
        await options.beforeTransaction?.(started++);
        // Each row's outcome (created only if absent: a concurrent run of the chunk loses), and its values left out.
        const outcomes = rows.flatMap<ContactOp>(({ row, outcome, candidate }) => [
          (tx) =>
            tx.importRow
              .create(outcomeItem(job, { row, outcome, contactId: after.contactId, droppedValues: candidate.dropped?.length ?? 0 }, expiresAt))
              .commit(),
          ...droppedItems(job, candidate).map<ContactOp>((item) => (tx) => tx.importError.put(item).commit()),
        ]);
        await commitContact(deps, job.caller, before, after, buildEvents(deps, job, before, after), { extraOps: outcomes });
      } catch (error) {
        if (isRace(error)) raced = true;
        else if (isRecordTooLarge(error)) tooLarge.push(rows[rows.length - 1]!.candidate);
        else failed ??= { error };
        return; // the contact's later parts are conditional on this one
      }
    }
  });
  if (failed) throw failed.error;
  if (tooLarge.length > 0) {
    // The size check before (Simulation.assertFitsItem) estimates; should DynamoDB still refuse an item
    // as too large, the last row of that transaction is rejected and the chunk runs again without it.
    await putAll(
      tooLarge.map((candidate) =>
        errorItem(
          job,
          { row: candidate.row, line: candidate.line, sheetRow: candidate.sheetRow, raw: candidate.raw, code: 'record_too_large', message: tooLargeMessage },
          0,
        ),
      ),
      (item) => `${item.row}#${item.part}`,
      (batch) => deps.db.entities.importError.put(batch).go({ concurrent: batchConcurrency }),
    );
  }
  if (raced || tooLarge.length > 0) throw new ChunkRaced();
}

const tooLargeMessage = 'The contact would be larger than the 400 KB a record may hold: shorten this row\'s longest values (custom fields, text)';

const isRecordTooLarge = (error: unknown) =>
  (error instanceof DomainError && error.code === 'record_too_large') || asRecordTooLarge(error) !== undefined;

/**
 * Puts the outcomes of the rows that changed no contact (BatchWriteItem, 25 a request, 8 requests at
 * once): first the values left out of them, then the outcomes and rejections, so that a row with an
 * outcome always has its report entries (the outcome is what makes a rerun skip the row).
 */
async function putRowOutcomes(
  deps: CoreDeps,
  job: ImportWriteJob,
  decisions: RowDecision[],
  candidates: ImportCandidate[],
): Promise<void> {
  const byRow = new Map(candidates.map((candidate) => [candidate.row, candidate]));
  const expiresAt = Math.floor(deps.clock.nowMs() / 1000) + rowOutcomeTtlSeconds;
  const putErrors = (items: ReturnType<typeof errorItem>[]) =>
    putAll(items, (item) => `${item.row}#${item.part}`, (batch) => deps.db.entities.importError.put(batch).go({ concurrent: batchConcurrency }));
  await putErrors(
    decisions.flatMap((decision) => {
      const candidate = 'outcome' in decision ? byRow.get(decision.row) : undefined;
      return candidate ? droppedItems(job, candidate) : [];
    }),
  );
  await Promise.all([
    putAll(
      decisions.flatMap((decision) => ('outcome' in decision ? [outcomeItem(job, decision, expiresAt)] : [])),
      (item) => String(item.row),
      (batch) => deps.db.entities.importRow.put(batch).go({ concurrent: batchConcurrency }),
    ),
    putErrors(decisions.flatMap((decision) => ('rejection' in decision ? [errorItem(job, decision.rejection, 0)] : []))),
  ]);
}

const outcomeItem = (
  job: ImportJobRef,
  decision: { row: number; outcome: ImportRowOutcome; contactId?: string; droppedValues: number },
  expiresAt: number,
) => ({
  workspaceId: job.workspaceId,
  jobId: job.jobId,
  row: decision.row,
  outcome: decision.outcome,
  expiresAt,
  ...(decision.contactId ? { contactId: decision.contactId } : {}),
  ...(decision.droppedValues > 0 ? { droppedValues: decision.droppedValues } : {}),
});

/** The report's entries (parts 1, 2, ...) for the values left out of an imported row. */
const droppedItems = (job: ImportJobRef, candidate: ImportCandidate) =>
  droppedEntries(candidate).map((entry) =>
    errorItem(job, { row: candidate.row, line: candidate.line, sheetRow: candidate.sheetRow, raw: candidate.raw, ...entry }, entry.part),
  );

/** An entry of the error report: a rejection (part 0) or a value left out (part ≥ 1), with the record as read, cut to fit. */
function errorItem(job: ImportJobRef, entry: Omit<RowRejection, 'column'> & { column?: string }, part: number) {
  let room = maxRawLength;
  const raw = entry.raw.map((field) => {
    const kept = field.slice(0, Math.max(0, Math.min(maxRawFieldLength, room)));
    room -= kept.length;
    return kept;
  });
  const rawTruncated = raw.some((field, index) => field.length < entry.raw[index]!.length);
  return {
    workspaceId: job.workspaceId,
    jobId: job.jobId,
    row: entry.row,
    part,
    line: entry.line,
    ...(entry.sheetRow === undefined ? {} : { sheetRow: entry.sheetRow }),
    code: entry.code,
    message: entry.message,
    raw,
    ...(entry.column ? { column: entry.column } : {}),
    ...(rawTruncated ? { rawTruncated } : {}),
  };
}

/** Puts items, putting again those the table left unprocessed (matched by their key). */
async function putAll<T extends { row: number; part?: number }>(
  items: T[],
  keyOf: (item: { row: number; part?: number }) => string,
  put: (items: T[]) => Promise<{ unprocessed: unknown[] }>,
) {
  let pending = items;
  for (let round = 0; pending.length > 0; round += 1) {
    if (round === maxBatchRounds) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed`);
    if (round > 0) await sleep(25 * 2 ** round);
    const { unprocessed } = await put(pending);
    const left = new Set(
      (unprocessed as { row: number | string; part?: number | string }[]).map((key) =>
        keyOf({ row: Number(key.row), ...(key.part === undefined ? {} : { part: Number(key.part) }) }),
      ),
    );
    pending = pending.filter((item) => left.has(keyOf(item)));
  }
}
