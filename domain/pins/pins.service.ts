import { toSummary, type ContactItem } from '../contacts/contact-record';
import { readContact } from '../contacts/contacts.service';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, invalidReference, lostRace } from '../shared/errors';
import { writeTransaction } from '../store/transaction';
import { batchGetAll } from '../store/batch-get';
import type { Pin } from './pins.schemas';

interface PinItem {
  workspaceId: string;
  userId: string;
  slot: number;
  contactId: string;
  pinnedAt: string;
  updatedAt: string;
}

/** The guard scope holding "this user pinned this contact"; its ownerId is the slot. */
export const pinScope = (userId: string) => `pin:${userId}`;

/**
 * A pin change reads the user's slots, then writes conditioned on what it read. When a concurrent
 * change got in between, a condition fails: that is a `LostRace`, and the request runs again from its
 * read (the HTTP handler's retry), re-applying itself on top of the other change.
 */
const pinsChanged = () => lostRace('Your pins');

const toPin = (pin: PinItem, contact: ContactItem | undefined): Pin => ({
  slot: pin.slot,
  contactId: pin.contactId,
  contact: contact ? toSummary(contact) : null,
  pinnedAt: pin.pinnedAt,
  updatedAt: pin.updatedAt,
});

async function readPins(deps: CoreDeps, caller: CallerContext, consistent = false): Promise<PinItem[]> {
  const { data } = await deps.db.entities.contactPin.query
    .byUser({ workspaceId: caller.workspaceId, userId: caller.userId })
    .go({ consistent });
  return (data as PinItem[]).sort((a, b) => a.slot - b.slot);
}

/** One BatchGetItem for the contacts (at most five), re-asking for any the table left unprocessed. */
async function readContacts(deps: CoreDeps, workspaceId: string, contactIds: string[]) {
  const keys = [...new Set(contactIds)].map((contactId) => ({ workspaceId, contactId }));
  const items = await batchGetAll(keys, (batch) => deps.db.entities.contact.get(batch).go());
  return new Map((items as ContactItem[]).map((item) => [item.contactId, item]));
}

/** The contact to pin: one of the workspace (422 naming `body.contactId` otherwise). */
async function pinnableContact(deps: CoreDeps, workspaceId: string, contactId: string): Promise<ContactItem> {
  try {
    return await readContact(deps, workspaceId, contactId);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'not_found') {
      throw invalidReference('body.contactId', 'No contact with this id in the workspace');
    }
    throw error;
  }
}

/** Seed 001 ContactPin.list(): the caller's pins in slot order, each with its contact's summary. */
export async function listPins(deps: CoreDeps, caller: CallerContext): Promise<{ items: Pin[] }> {
  const pins = await readPins(deps, caller);
  const contacts = pins.length ? await readContacts(deps, caller.workspaceId, pins.map((pin) => pin.contactId)) : new Map();
  return { items: pins.map((pin) => toPin(pin, contacts.get(pin.contactId))) };
}

/**
 * Seed 001 ContactPin.set(): puts a contact in one of the caller's slots. A contact already pinned in
 * another slot moves (that slot is cleared); a contact already in the slot is replaced. Everything is
 * one transaction conditioned on the slots read, and the guard `pin:<userId>` / <contactId> is created
 * only if absent, so concurrent sets can never leave a contact in two slots.
 * Any user may pin any contact of the workspace (everyone reads workspace-wide); pins are private.
 */
export async function setPin(deps: CoreDeps, caller: CallerContext, slot: number, contactId: string): Promise<Pin> {
  const { workspaceId, userId } = caller;
  const contact = await pinnableContact(deps, workspaceId, contactId);
  const scope = pinScope(userId);
  const pins = await readPins(deps, caller, true);
  const inSlot = pins.find((pin) => pin.slot === slot);
  const moving = pins.find((pin) => pin.contactId === contactId);
  if (inSlot?.contactId === contactId) return toPin(inSlot, contact); // already so
  const now = deps.clock.nowIso();
  const pin: PinItem = { workspaceId, userId, slot, contactId, pinnedAt: moving?.pinnedAt ?? now, updatedAt: now };
  await writeTransaction(
    deps.db,
    (tx) => [
      ...(moving
        ? [
            tx.contactPin
              .delete({ workspaceId, userId, slot: moving.slot })
              .where((attr, { eq }) => eq(attr.contactId, contactId))
              .commit(),
            tx.uniqueGuard
              .patch({ workspaceId, scope, value: contactId })
              .set({ ownerId: String(slot) })
              .where((attr, { eq }) => eq(attr.ownerId, String(moving.slot)))
              .commit(),
          ]
        : [tx.uniqueGuard.create({ workspaceId, scope, value: contactId, ownerId: String(slot), createdAt: now }).commit()]),
      inSlot
        ? tx.contactPin
            .put(pin)
            .where((attr, { eq }) => eq(attr.contactId, inSlot.contactId))
            .commit()
        : tx.contactPin.create(pin).commit(),
      ...(inSlot
        ? [
            tx.uniqueGuard
              .delete({ workspaceId, scope, value: inSlot.contactId })
              .where((attr, { eq }) => eq(attr.ownerId, String(slot)))
              .commit(),
          ]
        : []),
    ],
    pinsChanged,
  );
  return toPin(pin, contact);
}

/** Seed 001 ContactPin.clear(): empties a slot. Clearing an empty slot changes nothing. */
export async function clearPin(deps: CoreDeps, caller: CallerContext, slot: number): Promise<void> {
  const { workspaceId, userId } = caller;
  const { data } = await deps.db.entities.contactPin.get({ workspaceId, userId, slot }).go({ consistent: true });
  if (!data) return;
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.contactPin
        .delete({ workspaceId, userId, slot })
        .where((attr, { eq }) => eq(attr.contactId, data.contactId))
        .commit(),
      tx.uniqueGuard
        .delete({ workspaceId, scope: pinScope(userId), value: data.contactId })
        .where((attr, { eq }) => eq(attr.ownerId, String(slot)))
        .commit(),
    ],
    pinsChanged,
  );
}
