import { WorkInProgress } from '../../domain/shared/errors';
import { bulkChangeContacts } from '../../domain/contacts/bulk.service';
import { listContacts, searchContacts } from '../../domain/contacts/contact-lists.service';
import { mergeContacts } from '../../domain/contacts/contact-merge.service';
import { listContactTimeline } from '../../domain/contacts/contact-timeline.service';
import { addTags, removeTags } from '../../domain/contacts/contact-tags.service';
import {
  addChannel,
  archiveContact,
  assignOwner,
  claimContact,
  createContact,
  getContact,
  lookupContactByChannel,
  releaseContact,
  removeChannel,
  suppressContact,
  unarchiveContact,
  unsuppressContact,
  updateContact,
} from '../../domain/contacts/contacts.service';
import {
  addContactScore,
  getContactQualification,
  listContactScores,
  setContactQualification,
} from '../../domain/contacts/scoring.service';
import { toEventDto } from '../../events/event-log';
import { logger } from '../shared/logger';
import { createHttpHandler, RawResponse } from './http-handler';
import { contactsRoutes } from './routes/contacts.routes';

export const handler = createHttpHandler('contacts', contactsRoutes, {
  listContacts: ({ caller, query }, deps) => listContacts(deps, caller, query),
  searchContacts: ({ caller, query }, deps) => searchContacts(deps, caller, query),
  lookupContact: ({ caller, query }, deps) => lookupContactByChannel(deps, caller, query),
  createContact: ({ caller, body }, deps) => createContact(deps, caller, body),
  getContact: ({ caller, params }, deps) => getContact(deps, caller, params.contactId),
  updateContact: ({ caller, params, body, expectedVersion }, deps) =>
    updateContact(deps, caller, params.contactId, body, expectedVersion),
  addContactChannel: ({ caller, params, body, expectedVersion }, deps) =>
    addChannel(deps, caller, params.contactId, body, expectedVersion),
  removeContactChannel: ({ caller, params, expectedVersion }, deps) =>
    removeChannel(deps, caller, params.contactId, params.channelId, expectedVersion),
  archiveContact: ({ caller, params, expectedVersion }, deps) =>
    archiveContact(deps, caller, params.contactId, expectedVersion),
  unarchiveContact: ({ caller, params, expectedVersion }, deps) =>
    unarchiveContact(deps, caller, params.contactId, expectedVersion),
  suppressContact: ({ caller, params, body, expectedVersion }, deps) =>
    suppressContact(deps, caller, params.contactId, body.reason, expectedVersion),
  unsuppressContact: ({ caller, params, expectedVersion }, deps) =>
    unsuppressContact(deps, caller, params.contactId, expectedVersion),
  claimContact: ({ caller, params, expectedVersion }, deps) => claimContact(deps, caller, params.contactId, expectedVersion),
  releaseContact: ({ caller, params, expectedVersion }, deps) =>
    releaseContact(deps, caller, params.contactId, expectedVersion),
  assignContactOwner: ({ caller, params, body, expectedVersion }, deps) =>
    assignOwner(deps, caller, params.contactId, body.ownerId, expectedVersion),
  addContactTags: ({ caller, params, body, expectedVersion }, deps) =>
    addTags(deps, caller, params.contactId, body.tags, expectedVersion),
  removeContactTag: ({ caller, params, expectedVersion }, deps) =>
    removeTags(deps, caller, params.contactId, [params.tag], expectedVersion),
  bulkChangeContacts: ({ caller, body }, deps) =>
    bulkChangeContacts(deps, caller, body, {
      onUnexpectedError: (contactId, error) => logger.error('Bulk item failed', { contactId, error: error as Error }),
    }),
  addContactScore: ({ caller, params, body }, deps) => addContactScore(deps, caller, params.contactId, body),
  listContactScores: ({ caller, params, query }, deps) => listContactScores(deps, caller, params.contactId, query),
  setContactQualification: async ({ caller, params, body }, deps) => {
    const { qualification, contact } = await setContactQualification(deps, caller, params.contactId, body);
    return { qualification, contact };
  },
  getContactQualification: ({ caller, params, query }, deps) =>
    getContactQualification(deps, caller, params.contactId, query),
  listContactTimeline: async ({ caller, params, query }, deps) => {
    const page = await listContactTimeline(deps, caller, params.contactId, query);
    return { items: page.items.map((entry) => ({ ...entry, event: toEventDto(entry.event) })), nextCursor: page.nextCursor };
  },
  mergeContacts: async ({ caller, params, body }, deps) => {
    try {
      return await mergeContacts(deps, caller, params.contactId, body);
    } catch (error) {
      // Notes, tasks or deals are left to move: 202, and the client repeats the same request.
      if (!(error instanceof WorkInProgress)) throw error;
      const progress = { status: 'in_progress', detail: error.message, ...error.progress };
      return new RawResponse(202, JSON.stringify(progress), { 'content-type': 'application/json' });
    }
  },
});
