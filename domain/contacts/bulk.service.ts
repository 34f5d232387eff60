import { forEachLimited } from '../shared/concurrency';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, invalidCursor, invalidReference, isConflict } from '../shared/errors';
import { checkCursor } from '../shared/pagination';
import { retryLostRaces } from '../shared/retry';
import { maxBulkContacts, type BulkContactsInput, type BulkContactsResult, type BulkItemResult, type BulkOutcome } from './bulk.schemas';
import { assertNoneDeleting, ensureTags } from '../tags/tag-record';
import { addTags, assertMayChangeTags, removeTags } from './contact-tags.service';
import type { Contact } from './contacts.schemas';
import {
  archiveContact,
  assertCanWrite,
  assignOwner,
  claimContact,
  readContact,
  releaseContact,
  suppressContact,
  unarchiveContact,
  unsuppressContact,
} from './contacts.service';

/** Contacts changed at the same time: each is a read and a transaction, so 500 take ~63 rounds. */
const concurrency = 8;

type Operation = (deps: CoreDeps, contactId: string) => Promise<Contact>;

/**
 * Seed 000 "Bulk operations" / "Bulk claim from the customer table": one action on up to 500 contacts.
 * The request is checked as a whole first (action-level rights: a member cannot assign, nor touch
 * `bot:` tags; the new owner must be an active user), then every contact goes through the same domain
 * function as the single operation (same rights per contact, same events, same conditional write),
 * 8 at a time. A contact that changed under us is read again and the action re-applied (bounded, as
 * for every write). Each contact gets its own outcome; one failing never stops the others.
 */
export async function bulkChangeContacts(
  deps: CoreDeps,
  caller: CallerContext,
  input: BulkContactsInput,
  options: { onUnexpectedError?: (contactId: string, error: unknown) => void } = {},
): Promise<BulkContactsResult> {
  // The segment is read before `prepare`, whose tag check may create library entries: a refused
  // segment (unknown, another workspace's) leaves nothing written.
  const { contactIds, nextCursor } = input.segmentId
    ? await segmentMemberPage(deps, caller, input.segmentId, input.cursor)
    : { contactIds: [...new Set(input.contactIds ?? [])], nextCursor: null };
  const operation = await prepare(deps, caller, input);
  const results: BulkItemResult[] = new Array(contactIds.length);
  await forEachLimited(contactIds, concurrency, async (contactId, index) => {
    results[index] = await runOne(deps, operation, contactId, options.onUnexpectedError);
  });
  const counts = { changed: 0, unchanged: 0, failed: 0 };
  for (const { outcome } of results) {
    if (outcome === 'changed' || outcome === 'unchanged') counts[outcome] += 1;
    else counts.failed += 1;
  }
  return { results, counts, nextCursor };
}

/**
 * The next `maxBulkContacts` members of a segment, by contact id (one Query of its member items): the
 * order holds while members join and leave, so a bulk action continued with the cursor reaches every
 * contact that stayed a member. The cursor must be this segment's.
 */
async function segmentMemberPage(deps: CoreDeps, caller: CallerContext, segmentId: string, cursor: string | undefined) {
  const partition = `WS#${caller.workspaceId}#SEGMENT#${segmentId}`;
  const checked = checkCursor(caller.workspaceId, cursor);
  if (checked !== undefined) {
    const key = JSON.parse(Buffer.from(checked, 'base64url').toString('utf8')) as Record<string, string>;
    if (key.pk !== partition || !key.sk?.startsWith('MEMBER#')) throw invalidCursor();
  }
  const [segment, page] = await Promise.all([
    deps.db.entities.segment.get({ workspaceId: caller.workspaceId, segmentId }).go(),
    deps.db.entities.segmentMember.query
      .byKey({ workspaceId: caller.workspaceId, segmentId })
      .go({ limit: maxBulkContacts, cursor: checked ?? null, attributes: ['contactId'] }),
  ]);
  if (!segment.data) throw invalidReference('body.segmentId', 'No segment with this id in the workspace');
  return { contactIds: (page.data as { contactId: string }[]).map((member) => member.contactId), nextCursor: page.cursor ?? null };
}

/** Checks what holds for the whole request, once, and picks the single operation for each contact. */
async function prepare(deps: CoreDeps, caller: CallerContext, input: BulkContactsInput): Promise<Operation> {
  switch (input.action) {
    case 'claim':
      return (d, id) => claimContact(d, caller, id);
    case 'release':
      return (d, id) => releaseContact(d, caller, id);
    case 'assign': {
      const ownerId = input.ownerId!;
      requireManager(caller, 'assign contacts to other users');
      const { data } = await deps.db.entities.user
        .get({ workspaceId: caller.workspaceId, userId: ownerId })
        .go();
      if (!data || data.status !== 'active')
        throw invalidReference('body.ownerId', 'No active user with this id in the workspace');
      return (d, id) => assignOwner(d, caller, id, ownerId);
    }
    case 'tag':
    case 'untag': {
      const tags = input.tags!;
      assertMayChangeTags(caller, tags, input.action === 'tag');
      if (input.action === 'untag') return (d, id) => removeTags(d, caller, id, tags);
      await assertNoneDeleting(deps, caller.workspaceId, tags);
      // The library is checked (new tags created) once for the whole request, and only once a contact
      // passed its own checks: a request every contact refuses adds nothing to the library.
      let library: Promise<string[]> | undefined;
      return async (d, id) => {
        if (!library) {
          assertCanWrite(caller, await readContact(d, caller.workspaceId, id));
          library ??= ensureTags(deps, caller, tags).then((resolved) => resolved.map((tag) => tag.name));
        }
        return addTags(d, caller, id, await library, undefined, { libraryChecked: true });
      };
    }
    case 'archive':
      return (d, id) => archiveContact(d, caller, id);
    case 'unarchive':
      return (d, id) => unarchiveContact(d, caller, id);
    case 'suppress':
      return (d, id) => suppressContact(d, caller, id, input.reason);
    case 'unsuppress':
      return (d, id) => unsuppressContact(d, caller, id);
  }
}

async function runOne(
  deps: CoreDeps,
  operation: Operation,
  contactId: string,
  onUnexpectedError: ((contactId: string, error: unknown) => void) | undefined,
): Promise<BulkItemResult> {
  // Every change of a contact appends its events in the same transaction, and a request that finds
  // the contact already as asked appends none: so "an event id was drawn" (in the run that wrote)
  // tells changed from unchanged without reading the contact twice.
  let appended = false;
  const observed: CoreDeps = {
    ...deps,
    newId: (prefix) => {
      if (prefix === 'evt') appended = true;
      return deps.newId(prefix);
    },
  };
  try {
    // A contact changed under us is read again and the action applied on top (the request's rule).
    const contact = await retryLostRaces(() => {
      appended = false;
      return operation(observed, contactId);
    });
    return { contactId, outcome: appended ? 'changed' : 'unchanged', version: contact.version };
  } catch (error) {
    if (error instanceof DomainError) return { contactId, outcome: outcomeOf(error), message: error.message };
    onUnexpectedError?.(contactId, error);
    return { contactId, outcome: 'error', message: 'Unexpected error: retry this contact' };
  }
}

function outcomeOf(error: DomainError): BulkOutcome {
  if (isConflict(error)) return 'conflict';
  switch (error.code) {
    case 'not_found':
      return 'not_found';
    case 'forbidden':
    case 'unauthenticated':
      return 'forbidden';
    case 'precondition_failed':
      return 'conflict';
    case 'validation_failed':
    case 'limit_exceeded':
    case 'invalid_reference':
    case 'unprocessable':
      return 'invalid';
    default:
      return 'error';
  }
}
