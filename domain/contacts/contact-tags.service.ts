import { newEvent } from '../../events/event-log';
import { requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { limitExceeded, stale } from '../shared/errors';
import { distinctTags, isSystemTag, maxTagsPerContact, tagKey } from '../tags/tag-names';
import { assertNotReserved, ensureTags } from '../tags/tag-record';
import type { Contact } from './contacts.schemas';
import { assertCanWrite, changeContact, readContact } from './contacts.service';

const contactRef = (contactId: string) => ({ type: 'contact' as const, id: contactId });

/**
 * Seed 000: `bot:` tags steer the autoreply bot, so only an owner/admin (or the system) sets or removes
 * them. Checked on the request, before the contact is read: a member asking for one gets 403 even when
 * the contact already is as asked.
 */
export function assertMayChangeTags(caller: CallerContext, names: readonly string[], adding = true, field = 'body.tags'): void {
  if (names.some(isSystemTag)) requireManager(caller, 'add or remove `bot:` system tags');
  // Of the `bot:` tags people add only `bot:on` / `bot:off` (an owner/admin may still remove any, to tidy up).
  if (adding) assertNotReserved(caller, names, field);
}

/**
 * Adds tags to a contact under the usual write rules (owner/admin: any contact; member: their own or
 * unclaimed). Tags match by key: one the contact already has, in any spelling, changes nothing, and the
 * contact keeps the spelling first used. One `tag.added` event per tag added, in the same transaction.
 */
export async function addTags(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  names: readonly string[],
  expectedVersion?: number,
  /** `libraryChecked`: the caller already ran `ensureTags` on these names (a bulk request does it once). */
  options: { libraryChecked?: boolean } = {},
): Promise<Contact> {
  assertMayChangeTags(caller, names);
  if (!options.libraryChecked) {
    // A request refused (no such contact, another's, a stale If-Match) adds nothing to the library either.
    const contact = await readContact(deps, caller.workspaceId, contactId);
    assertCanWrite(caller, contact);
    if (expectedVersion !== undefined && expectedVersion !== contact.version) throw stale();
  }
  // The tag library lists a new tag at once (created on first use); a tag being renamed lands as its new name.
  const wanted = options.libraryChecked ? distinctTags(names) : await ensureTags(deps, caller, names);
  return changeContact(
    deps,
    caller,
    contactId,
    (before) => {
      const current = before.tags ?? [];
      const present = new Set(current.map(tagKey));
      const added = wanted.filter((tag) => !present.has(tag.key));
      if (added.length === 0) return undefined;
      if (current.length + added.length > maxTagsPerContact) {
        const message = `A contact has at most ${maxTagsPerContact} tags: this one has ${current.length} and the request adds ${added.length}`;
        throw limitExceeded('body.tags', message, maxTagsPerContact);
      }
      return {
        after: { ...before, tags: [...current, ...added.map((tag) => tag.name)] },
        events: added.map((tag) =>
          newEvent(deps, caller, 'tag.added', contactRef(contactId), {
            tag: tag.name,
            system: isSystemTag(tag.key),
          }),
        ),
      };
    },
    { expectedVersion },
  );
}

/**
 * Removes tags from a contact, matched by key; tags it does not have change nothing. One `tag.removed`
 * event per tag removed (naming the tag as the contact spelled it), in the same transaction.
 */
export async function removeTags(
  deps: CoreDeps,
  caller: CallerContext,
  contactId: string,
  names: readonly string[],
  expectedVersion?: number,
  /** `evenIfMerged`: the tag library's own clean-up reaches merged contacts too. */
  options: { evenIfMerged?: boolean } = {},
): Promise<Contact> {
  assertMayChangeTags(caller, names, false);
  const keys = new Set(distinctTags(names).map((tag) => tag.key));
  return changeContact(
    deps,
    caller,
    contactId,
    (before) => {
      const current = before.tags ?? [];
      const removed = current.filter((name) => keys.has(tagKey(name)));
      if (removed.length === 0) return undefined;
      return {
        after: { ...before, tags: current.filter((name) => !keys.has(tagKey(name))) },
        events: removed.map((name) =>
          newEvent(deps, caller, 'tag.removed', contactRef(contactId), {
            tag: name,
            system: isSystemTag(name),
          }),
        ),
      };
    },
    { expectedVersion, evenIfMerged: options.evenIfMerged },
  );
}
