import { resolveContactCompany } from '../companies/company-links';
import { loadCustomFieldDefinitions, validateCustomFieldValues } from '../custom-fields/custom-field-values';
import { isManager, requireManager, systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import {
  conflict,
  DomainError,
  forbidden,
  invalidReference,
  limitExceeded,
  lostRace,
  notFound,
  stale,
  type FieldIssue,
} from '../shared/errors';
import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { writeTransaction } from '../store/transaction';
import { claimGuard, releaseGuard } from '../store/unique-guard-ops';
import type { TxEntities } from '../store/db';
import { maxChannelsPerContact, normaliseChannelValue, type ChannelKind } from './channels';
import { contactIndexOps, type ContactOp } from './contact-index-ops';
import {
  channelScope,
  tokensOf,
  toContact,
  type ChannelItem,
  type ContactItem,
} from './contact-record';
import type { ChannelInput, Contact, CreateContactInput, UpdateContactInput } from './contacts.schemas';

/** DynamoDB's limit on the items of one transaction. */
export const maxTransactionItems = 100;

// ---------------------------------------------------------------------------------------------
// Reading

/** One GetItem; `consistent` for a read that a conditional write follows. */
export async function readContact(
  deps: CoreDeps,
  workspaceId: string,
  contactId: string,
  consistent = false,
): Promise<ContactItem> {
  const { data } = await deps.db.entities.contact.get({ workspaceId, contactId }).go({ consistent });
  if (!data) throw notFound('Contact');
  return data as ContactItem;
}

/** Seed 001 Contact.get(): one GetItem. */
export async function getContact(deps: CoreDeps, caller: CallerContext, contactId: string): Promise<Contact> {
  return toContact(await readContact(deps, caller.workspaceId, contactId));
}

/** The contact holding a channel value (inbound messages route through it): one GetItem on the guard. */
export async function findContactIdByChannel(
  deps: CoreDeps,
  workspaceId: string,
  kind: ChannelKind,
  normalized: string,
): Promise<string | undefined> {
  const { data } = await deps.db.entities.uniqueGuard
    .get({ workspaceId, scope: channelScope(kind), value: normalized })
    .go();
  return data?.ownerId;
}

export async function lookupContactByChannel(
  deps: CoreDeps,
  caller: CallerContext,
  input: { kind: ChannelKind; value: string; defaultCountry?: string },
): Promise<Contact> {
  const { normalized } = normaliseChannelValue(input.kind, input.value, {
    defaultCountry: input.defaultCountry as never,
    field: 'query.value',
  });
  const contactId = await findContactIdByChannel(deps, caller.workspaceId, input.kind, normalized);
  if (!contactId) throw notFound('Contact');
  return getContact(deps, caller, contactId);
}

// ---------------------------------------------------------------------------------------------
// Rules

/** Seed 000 ownership: owner/admin write any contact; a member writes their own or unclaimed ones. */
export function assertCanWrite(caller: CallerContext, item: Pick<ContactItem, 'ownerId'>): void {
  if (isManager(caller) || !item.ownerId || item.ownerId === caller.userId) return;
  throw forbidden('This contact is claimed by another user: only they, an owner or an admin can change it');
}

async function assertAssignableOwner(deps: CoreDeps, caller: CallerContext, ownerId: string, field: string) {
  if (!isManager(caller) && ownerId !== caller.userId) {
    throw forbidden('A member can only make themselves the owner');
  }
  const { data } = await deps.db.entities.user.get({ workspaceId: caller.workspaceId, userId: ownerId }).go();
  if (!data || data.status !== 'active') throw invalidReference(field, 'No active user with this id in the workspace');
}

/** Where each channel of a write came from in the request, for the fields its errors name. */
interface ChannelFields {
  /** The field of the whole set (a cap, two primaries): `body.channels`. */
  set: string;
  /** The field of one channel's value: `body.channels.<index>.value`. */
  value: (index: number) => string;
}

const channelsField: ChannelFields = { set: 'body.channels', value: (index) => `body.channels.${index}.value` };

/**
 * Normalises a set of channels: canonical values, no duplicates, exactly one primary per kind, at
 * most `maxChannelsPerContact` (422 beyond). Channels already on the contact keep their ids.
 */
export function buildChannels(
  deps: CoreDeps,
  inputs: ChannelInput[],
  defaultCountry: string | undefined,
  existing: ChannelItem[],
  fields: ChannelFields = channelsField,
): ChannelItem[] {
  if (inputs.length > maxChannelsPerContact) {
    throw limitExceeded(
      fields.set,
      `A contact has at most ${maxChannelsPerContact} channels: this would give it ${inputs.length}. Remove one first`,
      maxChannelsPerContact,
    );
  }
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  const channels: ChannelItem[] = [];
  inputs.forEach((input, index) => {
    try {
      const { normalized, display } = normaliseChannelValue(input.kind, input.value, {
        defaultCountry: defaultCountry as never,
        field: fields.value(index),
      });
      const key = `${input.kind}|${normalized}`;
      if (seen.has(key)) {
        issues.push({ field: fields.value(index), message: 'The same channel is given twice' });
        return;
      }
      seen.add(key);
      const previous = existing.find((channel) => channel.kind === input.kind && channel.normalized === normalized);
      channels.push({
        channelId: previous?.channelId ?? deps.newId('ch'),
        kind: input.kind,
        value: display,
        normalized,
        // Left out, a channel kept keeps its label; null or '' clears it.
        ...(input.label ? { label: input.label } : input.label === undefined && previous?.label ? { label: previous.label } : {}),
        primary: input.primary ?? false,
      });
    } catch (error) {
      if (error instanceof DomainError && error.details.fields) issues.push(...error.details.fields);
      else throw error;
    }
  });
  const kinds = new Set(channels.map((channel) => channel.kind));
  for (const kind of kinds) {
    const ofKind = channels.filter((channel) => channel.kind === kind);
    const primaries = ofKind.filter((channel) => channel.primary);
    if (primaries.length > 1) {
      issues.push({ field: fields.set, message: `Only one ${kind} channel can be primary` });
    } else if (primaries.length === 0) {
      ofKind[0]!.primary = true;
    }
  }
  if (issues.length) throw new DomainError('validation_failed', 'The request is invalid', { fields: issues });
  return channels;
}

// ---------------------------------------------------------------------------------------------
// Writing

class ChannelTaken extends Error {
  constructor(readonly channel: ChannelItem) {
    super('channel taken');
  }
}

/**
 * The items of one contact change's transaction, in order: the contact (conditional on the version
 * read, or created), the guards of added and removed channel values, the list entries and search
 * tokens that changed, the events, then `extraOps` (records written with the change). Exposed so a
 * caller batching changes (the import) can size a transaction before it commits it.
 */
export function contactChangeOps(
  before: ContactItem | undefined,
  after: ContactItem,
  events: EventRecord[],
  extraOps: ContactOp[] = [],
): { ops: ContactOp[]; addedChannels: ChannelItem[] } {
  const channelKey = (channel: ChannelItem) => `${channel.kind}|${channel.normalized}`;
  const beforeChannels = new Set((before?.channels ?? []).map(channelKey));
  const afterChannels = new Set(after.channels.map(channelKey));
  const addedChannels = after.channels.filter((channel) => !beforeChannels.has(channelKey(channel)));
  const removedChannels = (before?.channels ?? []).filter((channel) => !afterChannels.has(channelKey(channel)));

  const { workspaceId, contactId } = after;
  const now = after.updatedAt;
  type Op = ContactOp;
  const ops: Op[] = [
    before
      ? (tx) =>
          tx.contact
            .put(after)
            .where((attr, { eq }) => eq(attr.version, before.version))
            .commit()
      : (tx) => tx.contact.create(after).commit(),
    ...addedChannels.map<Op>(
      (channel) => (tx) =>
        claimGuard(tx, { workspaceId, scope: channelScope(channel.kind), value: channel.normalized }, contactId, now),
    ),
    ...removedChannels.map<Op>(
      (channel) => (tx) =>
        releaseGuard(tx, { workspaceId, scope: channelScope(channel.kind), value: channel.normalized }, contactId),
    ),
    ...contactIndexOps(before, after),
    ...events.map<Op>((event) => (tx) => appendEvent(tx, event)),
    // Records written with the change (e.g. a score's history item); last, so the indexes above hold.
    ...extraOps,
  ];
  return { ops, addedChannels };
}

/**
 * Writes a change of a contact in ONE transaction: the contact (conditional on the version read),
 * the guards of added and removed channel values, its list entries and search tokens (only what
 * changed), and the events. Nothing is half-written: any failed condition cancels all of it.
 */
export async function commitContact(
  deps: CoreDeps,
  caller: CallerContext,
  before: ContactItem | undefined,
  after: ContactItem,
  events: EventRecord[],
  options: {
    extraOps?: ((tx: TxEntities) => unknown)[];
    /** A change that follows the contact wherever it is (a company merged, a tag renamed), merged or not. */
    evenIfMerged?: boolean;
  } = {},
): Promise<void> {
  // A merged contact is a tombstone pointing at the one it became: a change sent to it (an old link, a
  // request racing the merge) would stay on the archived record, and a channel added there would be
  // held by it. It goes to the contact it was merged into instead.
  if (before?.mergedInto && !options.evenIfMerged && caller.userId !== systemActor(caller.workspaceId).userId) {
    throw conflict('record_merged', `This contact was merged into ${before.mergedInto}: change that one`, {
      mergedInto: before.mergedInto,
    });
  }
  const { ops, addedChannels } = contactChangeOps(before, after, events, options.extraOps);
  const { workspaceId } = after;
  if (ops.length > maxTransactionItems) {
    throw new DomainError(
      'unprocessable',
      `This change would write ${ops.length} items at once (the contact, its list entries, search tokens and events), more than the ${maxTransactionItems} one transaction allows: change fewer channels at once, or remove some of the contact's tags first`,
    );
  }
  const firstAdded = 1;
  try {
    await writeTransaction(
      deps.db,
      (tx) => ops.map((op) => op(tx)),
      (failed) => {
        const index = failed[0]!;
        // The version read is gone: the request runs again from the read (412 then, with If-Match).
        if (index === 0) return before ? lostRace('The contact') : conflict('already_exists', 'A contact with this id already exists');
        if (index >= firstAdded && index < firstAdded + addedChannels.length) {
          return new ChannelTaken(addedChannels[index - firstAdded]!);
        }
        return lostRace('The contact');
      },
    );
  } catch (error) {
    if (!(error instanceof ChannelTaken)) throw error;
    const holder = await findContactIdByChannel(deps, workspaceId, error.channel.kind, error.channel.normalized);
    throw conflict(
      'channel_taken',
      `The ${error.channel.kind} ${error.channel.normalized} belongs to another contact${holder ? ` (${holder})` : ''}`,
      {
        conflictingContactId: holder ?? null,
        fields: [{ field: 'body.channels', message: `${error.channel.normalized} is taken by contact ${holder ?? 'unknown'}` }],
      },
    );
  }
  void caller;
}

/** What a change did to the fields `contact.updated` reports (companyId included), by field. */
export function contactChanges(before: ContactItem, after: ContactItem) {
  const changes = changesBetween(before, after);
  if (before.companyId !== after.companyId) {
    changes.companyId = { from: before.companyId ?? null, to: after.companyId ?? null };
  }
  return changes;
}

/** A channel as a change names it: `email:ana@example.com*` (primary), with its label in brackets. */
const channelSummary = (c: ChannelItem) => `${c.kind}:${c.normalized}${c.primary ? '*' : ''}${c.label ? ` [${c.label}]` : ''}`;

function changesBetween(before: ContactItem, after: ContactItem) {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  const fields = [
    'name', 'jobTitle', 'role', 'segment', 'city', 'state', 'country', 'companyName', 'customFields', 'channels',
  ] as const;
  for (const field of fields) {
    const from = field === 'channels' ? before.channels.map(channelSummary) : before[field];
    const to = field === 'channels' ? after.channels.map(channelSummary) : after[field];
    if (JSON.stringify(from ?? null) !== JSON.stringify(to ?? null)) changes[field] = { from: from ?? null, to: to ?? null };
  }
  return changes;
}

/** Applies optional text fields: undefined keeps, null or '' clears. */
function applyText<T extends object>(target: T, input: Record<string, unknown>, fields: readonly string[]): T {
  const result = { ...target } as Record<string, unknown>;
  for (const field of fields) {
    const value = input[field];
    if (value === undefined) continue;
    if (value === null || value === '') delete result[field];
    else result[field] = value;
  }
  return result as T;
}

const textFields = ['jobTitle', 'role', 'segment', 'city', 'state', 'country', 'companyName'] as const;

/** Seed 001 Contact.create(). */
export async function createContact(deps: CoreDeps, caller: CallerContext, input: CreateContactInput): Promise<Contact> {
  if (input.ownerId) await assertAssignableOwner(deps, caller, input.ownerId, 'body.ownerId');
  const definitions = await loadCustomFieldDefinitions(deps, caller.workspaceId, 'contact');
  const customFields = validateCustomFieldValues(definitions, input.customFields, 'create');
  const now = deps.clock.nowIso();
  const contactId = deps.newId('ct');
  const channels = buildChannels(deps, input.channels, input.defaultCountry, []);
  const base: ContactItem = {
    workspaceId: caller.workspaceId,
    contactId,
    name: input.name,
    status: 'active',
    suppressed: false,
    channels,
    tags: [],
    customFields,
    createdBy: caller.userId,
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...(input.ownerId ? { ownerId: input.ownerId } : {}),
  };
  const item = applyText(base, input, textFields);
  // An explicit companyId, else the company named as companyName, else the one holding the primary
  // email's domain (companyName follows it).
  const link = await resolveContactCompany(deps, caller.workspaceId, {
    requested: input.companyId,
    current: undefined,
    channels,
    name: input.companyName,
  });
  if (link) Object.assign(item, link);
  item.searchTokens = tokensOf(item);
  await commitContact(deps, caller, undefined, item, contactCreatedEvents(deps, caller, item));
  return toContact(item);
}

/**
 * The events of a new contact: `contact.created`, and `owner.claimed` when it has an owner.
 * `jobId`: the background job (an import) that created it.
 */
export function contactCreatedEvents(
  deps: CoreDeps,
  caller: CallerContext,
  item: ContactItem,
  jobId?: string,
): EventRecord[] {
  const ref = { type: 'contact' as const, id: item.contactId };
  return [
    newEvent(deps, caller, 'contact.created', ref, {
      name: item.name,
      ownerId: item.ownerId ?? null,
      channels: item.channels.map(({ kind, normalized }) => ({ kind, normalized })),
      ...(jobId ? { jobId } : {}),
    }),
    ...(item.ownerId
      ? [
          newEvent(deps, caller, 'owner.claimed', ref, {
            ownerId: item.ownerId,
            previousOwnerId: null,
            assignedBy: item.ownerId === caller.userId ? null : caller.userId,
          }),
        ]
      : []),
  ];
}

/** Seed 001 Contact.update(): a partial update, conditional on the version read (If-Match when given). */
export const updateContact = (
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  input: UpdateContactInput,
  expectedVersion?: number,
): Promise<Contact> => reviseContact(deps, caller, contactId, () => input, expectedVersion);

/**
 * The update path of every field change: reads the contact (consistently), checks If-Match and the
 * write rules, applies `inputOf(before)` (the update as it reads against the contact as it is now, so
 * a request run again after a lost race applies itself on top of the change that won), commits on
 * the version read.
 */
async function reviseContact(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  inputOf: (before: ContactItem) => UpdateContactInput,
  expectedVersion?: number,
  fields: ChannelFields = channelsField,
): Promise<Contact> {
  const before = await readContact(deps, caller.workspaceId, contactId, true);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  assertCanWrite(caller, before);
  const input = inputOf(before);
  let after = applyText(before, input, textFields);
  if (input.name !== undefined) after.name = input.name;
  if (input.customFields !== undefined) {
    const definitions = await loadCustomFieldDefinitions(deps, caller.workspaceId, 'contact');
    const values = validateCustomFieldValues(definitions, input.customFields, 'update');
    after.customFields = mergeCustomFields(before.customFields, values);
  }
  if (input.channels !== undefined) {
    after.channels = buildChannels(deps, input.channels, input.defaultCountry, before.channels, fields);
  }
  const link = await resolveContactCompany(deps, caller.workspaceId, {
    requested: input.companyId,
    current: before.companyId,
    channels: input.channels !== undefined ? after.channels : undefined,
    name: input.companyName,
  });
  if (link === null) delete after.companyId;
  else if (link) Object.assign(after, link);
  const changes = contactChanges(before, after);
  if (Object.keys(changes).length === 0) return toContact(before);
  after = { ...after, version: before.version + 1, updatedAt: deps.clock.nowIso() };
  after.searchTokens = tokensOf(after);
  const event = newEvent(deps, caller, 'contact.updated', { type: 'contact', id: contactId }, { changes });
  await commitContact(deps, caller, before, after, [event]);
  return toContact(after);
}

/** null removes a custom field's value; other keys are set. */
function mergeCustomFields(current: Record<string, unknown> | undefined, patch: Record<string, unknown>) {
  const result: Record<string, unknown> = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = value;
  }
  return result;
}

/**
 * Changes one aspect of a contact (status, suppression, owner, tags, score...) with its events, under
 * the same rules: read, authorise (default: the caller may write the contact), apply, commit on version.
 * `change` returns undefined when the contact is already as asked: repeating a request changes nothing.
 */
export async function changeContact(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  change: (before: ContactItem, now: string) => { after: ContactItem; events: EventRecord[] } | undefined,
  options: {
    authorise?: (before: ContactItem) => void;
    expectedVersion?: number;
    /** More items for the same transaction (e.g. a history record of the change). */
    extraOps?: ((tx: TxEntities) => unknown)[];
    evenIfMerged?: boolean;
  } = {},
): Promise<Contact> {
  const before = await readContact(deps, caller.workspaceId, contactId, true);
  if (options.expectedVersion !== undefined && options.expectedVersion !== before.version) throw stale();
  (options.authorise ?? ((item) => assertCanWrite(caller, item)))(before);
  const now = deps.clock.nowIso();
  const result = change(before, now);
  if (!result) return toContact(before); // already so: repeating the request changes nothing
  const after = { ...result.after, version: before.version + 1, updatedAt: now };
  await commitContact(deps, caller, before, after, result.events, {
    extraOps: options.extraOps,
    evenIfMerged: options.evenIfMerged,
  });
  return toContact(after);
}

const contactRef = (contactId: string) => ({ type: 'contact' as const, id: contactId });

/** Archive: the soft hide. No contact is ever deleted (seed 000: it would break deals, logs, segments). */
export const archiveContact = (deps: CoreDeps, caller: CallerContext, contactId: string, expectedVersion?: number) =>
  changeContact(
    deps,
    caller,
    contactId,
    (before, now) =>
      before.status === 'archived'
        ? undefined
        : {
            after: { ...before, status: 'archived', archivedAt: now },
            events: [newEvent(deps, caller, 'contact.archived', contactRef(contactId), {})],
          },
    { expectedVersion },
  );

export const unarchiveContact = (deps: CoreDeps, caller: CallerContext, contactId: string, expectedVersion?: number) =>
  changeContact(
    deps,
    caller,
    contactId,
    (before) => {
      if (before.status === 'active') return undefined;
      if (before.mergedInto) {
        throw conflict('record_merged', `This contact was merged into ${before.mergedInto} and stays archived`, {
          mergedInto: before.mergedInto,
        });
      }
      const { archivedAt: _archivedAt, ...rest } = before;
      return {
        after: { ...rest, status: 'active' },
        events: [newEvent(deps, caller, 'contact.unarchived', contactRef(contactId), {})],
      };
    },
    { expectedVersion },
  );

/** Seed 000 "Exit — Suppress": outbound messages to the contact are refused from now on. */
export const suppressContact = (
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  reason?: string,
  expectedVersion?: number,
) =>
  changeContact(
    deps,
    caller,
    contactId,
    (before, now) =>
      before.suppressed
        ? undefined
        : {
            after: { ...before, suppressed: true, suppressedAt: now, ...(reason ? { suppressedReason: reason } : {}) },
            events: [newEvent(deps, caller, 'contact.suppressed', contactRef(contactId), { reason: reason ?? null })],
          },
    { expectedVersion },
  );

export const unsuppressContact = (deps: CoreDeps, caller: CallerContext, contactId: string, expectedVersion?: number) =>
  changeContact(
    deps,
    caller,
    contactId,
    (before) => {
      if (!before.suppressed) return undefined;
      const { suppressedAt: _at, suppressedReason: _reason, ...rest } = before;
      return {
        after: { ...rest, suppressed: false },
        events: [newEvent(deps, caller, 'contact.unsuppressed', contactRef(contactId), {})],
      };
    },
    { expectedVersion },
  );

/** Seed 000: a sales rep claims an unclaimed contact (owner/admin may claim any). */
export const claimContact = (deps: CoreDeps, caller: CallerContext, contactId: string, expectedVersion?: number) =>
  changeContact(
    deps,
    caller,
    contactId,
    (before) => {
      if (before.ownerId === caller.userId) return undefined;
      return {
        after: { ...before, ownerId: caller.userId },
        events: [
          newEvent(deps, caller, 'owner.claimed', contactRef(contactId), {
            ownerId: caller.userId,
            previousOwnerId: before.ownerId ?? null,
            assignedBy: null,
          }),
        ],
      };
    },
    {
      authorise: (before) => {
        if (before.ownerId && before.ownerId !== caller.userId && !isManager(caller)) {
          throw conflict('already_claimed', `This contact is already claimed by ${before.ownerId}`, {
            ownerId: before.ownerId,
          });
        }
      },
      expectedVersion,
    },
  );

/** The owner (or an owner/admin) hands the contact back to the pool. */
export const releaseContact = (deps: CoreDeps, caller: CallerContext, contactId: string, expectedVersion?: number) =>
  changeContact(
    deps,
    caller,
    contactId,
    (before) => {
      if (!before.ownerId) return undefined;
      const { ownerId: previousOwnerId, ...rest } = before;
      return {
        after: rest,
        events: [newEvent(deps, caller, 'owner.released', contactRef(contactId), { previousOwnerId })],
      };
    },
    { expectedVersion },
  );

/** Seed 000 "assign-owner": owner/admin give the contact to a user of the workspace. */
export async function assignOwner(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  ownerId: string,
  expectedVersion?: number,
) {
  requireManager(caller, 'assign contacts to other users');
  await assertAssignableOwner(deps, caller, ownerId, 'body.ownerId');
  return changeContact(
    deps,
    caller,
    contactId,
    (before) =>
      before.ownerId === ownerId
        ? undefined
        : {
            after: { ...before, ownerId },
            events: [
              newEvent(deps, caller, 'owner.claimed', contactRef(contactId), {
                ownerId,
                previousOwnerId: before.ownerId ?? null,
                assignedBy: caller.userId,
              }),
            ],
          },
    { expectedVersion },
  );
}

const asInput = (channel: ChannelItem): ChannelInput => ({
  kind: channel.kind,
  value: channel.value,
  ...(channel.label ? { label: channel.label } : {}),
  primary: channel.primary,
});

/** Adds one channel to a contact (If-Match honoured); the 11th is a 422 naming `body.value`. */
export function addChannel(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  input: ChannelInput & { defaultCountry?: string },
  expectedVersion?: number,
) {
  const { defaultCountry, ...channel } = input;
  return reviseContact(
    deps,
    caller,
    contactId,
    (before) => ({
      channels: [
        ...before.channels.map((existing) => ({
          ...asInput(existing),
          primary: channel.primary && existing.kind === channel.kind ? false : existing.primary,
        })),
        channel,
      ],
      defaultCountry,
    }),
    expectedVersion,
    // The request names one channel: its errors name the body's fields.
    { set: 'body.value', value: () => 'body.value' },
  );
}

/** Removes one channel (If-Match honoured); the next of its kind becomes primary. */
export function removeChannel(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  channelId: string,
  expectedVersion?: number,
) {
  return reviseContact(
    deps,
    caller,
    contactId,
    (before) => {
      if (!before.channels.some((channel) => channel.channelId === channelId)) throw notFound('Channel');
      return { channels: before.channels.filter((channel) => channel.channelId !== channelId).map(asInput) };
    },
    expectedVersion,
  );
}
