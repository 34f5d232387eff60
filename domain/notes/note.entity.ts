/**
 * A note (seed 000 CustomerNote): internal markdown anchored to a contact, deal or company. Never
 * removed from the table: a delete sets `deletedAt`, which takes the note out of its anchor's list
 * (the index below is written only for live notes) and out of every read of the API.
 * Access patterns:
 * - get a note: pk WS#<workspaceId>#NOTE#<noteId>, sk NOTE (one GetItem)
 * - an anchor's live notes, newest first: gsi1 pk WS#<workspaceId>#NOTES#<anchorKind>#<anchorId>,
 *   sk <noteId> (ULIDs: creation order; Query descending). Sparse: absent once deleted.
 * - a note's earlier versions, newest first: noteRevision, pk as the note, sk REV#<revisionId>
 */
export const noteSchema = {
  model: { service: 'crm', entity: 'note', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    noteId: { type: 'string', required: true, readOnly: true },
    anchorKind: { type: 'string', required: true },
    anchorId: { type: 'string', required: true },
    markdown: { type: 'string', required: true },
    authorId: { type: 'string', required: true, readOnly: true },
    /** Who wrote the current text (the author, or an admin who edited it). */
    updatedBy: { type: 'string', required: true },
    /** How many edits the text has had; each earlier text is a noteRevision. */
    revisions: { type: 'number', required: true },
    deletedAt: { type: 'string' },
    deletedBy: { type: 'string' },
    version: { type: 'number', required: true },
    createdAt: { type: 'string', required: true, readOnly: true },
    updatedAt: { type: 'string', required: true },
  },
  indexes: {
    byId: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'noteId'],
        template: 'WS#${workspaceId}#NOTE#${noteId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: [], template: 'NOTE', casing: 'none' },
    },
    byAnchor: {
      index: 'gsi1',
      // Deleted notes leave their anchor's list (their gsi1 keys are not written).
      condition: (attr: { deletedAt?: string }) => attr.deletedAt === undefined,
      pk: {
        field: 'gsi1pk',
        composite: ['workspaceId', 'anchorKind', 'anchorId'],
        template: 'WS#${workspaceId}#NOTES#${anchorKind}#${anchorId}',
        casing: 'none',
      },
      sk: { field: 'gsi1sk', composite: ['noteId'], template: '${noteId}', casing: 'none' },
    },
  },
} as const;

/**
 * An earlier text of a note, written in the same transaction as the edit that replaced it. Kept when
 * the note is deleted.
 * Access pattern: a note's history, newest first: pk WS#<workspaceId>#NOTE#<noteId>, sk REV#<revisionId>
 * (ULIDs; Query descending on the key range REV#).
 */
export const noteRevisionSchema = {
  model: { service: 'crm', entity: 'noteRevision', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    noteId: { type: 'string', required: true, readOnly: true },
    revisionId: { type: 'string', required: true, readOnly: true },
    /** The note's version while it held this text. */
    version: { type: 'number', required: true, readOnly: true },
    markdown: { type: 'string', required: true, readOnly: true },
    /** Who wrote this text, and when. */
    writtenBy: { type: 'string', required: true, readOnly: true },
    writtenAt: { type: 'string', required: true, readOnly: true },
    /** Who replaced it, and when. */
    replacedBy: { type: 'string', required: true, readOnly: true },
    replacedAt: { type: 'string', required: true, readOnly: true },
  },
  indexes: {
    byNote: {
      pk: {
        field: 'pk',
        composite: ['workspaceId', 'noteId'],
        template: 'WS#${workspaceId}#NOTE#${noteId}',
        casing: 'none',
      },
      sk: { field: 'sk', composite: ['revisionId'], template: 'REV#${revisionId}', casing: 'none' },
    },
  },
} as const;
