import { rejectCodes } from './import-row';

/** What became of a row of an import file that was not rejected (a rejected row has an importError). */
export const importRowOutcomes = ['blank', 'created', 'updated', 'unchanged', 'skipped', 'merged'] as const;
export type ImportRowOutcome = (typeof importRowOutcomes)[number];

/** Row numbers in sort keys are zero-padded to this width: an import holds at most 1,048,576 rows. */
const rowDigits = 7;
/** The job's partition (its item's, job.entity.ts), where its rows' outcomes and errors are kept. */
const jobPartition = {
  field: 'pk',
  composite: ['workspaceId', 'jobId'],
  template: 'WS#${workspaceId}#JOB#${jobId}',
  casing: 'none',
} as const;
/** A row's error entries: its rejection (0), or the channel values left out of it (1, 2, ...). */
export const maxErrorPartsPerRow = 10;

/**
 * The outcome of one row of an import job, in the job's partition (beside the job item, sk `JOB`).
 * Written in the same transaction as the contact change it records (created, updated, merged), or
 * put on its own (by BatchWriteItem) when the row changed nothing. A chunk run again (a redelivered
 * message, a resumed job) reads its rows' outcomes first and redoes none of them, so the report's
 * counts stay exact. Expires `expiresAt` (30 days): needed only while the job may still run.
 * Access pattern: pk WS#<workspaceId>#JOB#<jobId>, sk ROW#<row, 7 digits> (a chunk's rows are one
 * consistent Query of the key range of its first to its last row).
 */
export const importRowSchema = {
  model: { service: 'crm', entity: 'importRow', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    jobId: { type: 'string', required: true, readOnly: true },
    row: { type: 'number', required: true, readOnly: true, padding: { length: rowDigits, char: '0' } },
    outcome: { type: importRowOutcomes, required: true },
    /** The contact the row created, updated, merged into, found unchanged or skipped. */
    contactId: { type: 'string' },
    /** Channel values the reader left out of the row (each listed with the errors, `part` ≥ 1). */
    droppedValues: { type: 'number' },
    expiresAt: { type: 'number' },
  },
  indexes: {
    byRow: {
      pk: jobPartition,
      sk: { field: 'sk', composite: ['row'], template: 'ROW#${row}', casing: 'none' },
    },
  },
} as const;

/**
 * An entry of an import job's error report: a rejected row (`part` 0: where it is in the file, why,
 * and the record as read; it is also the row's outcome for a chunk run again), or a channel value left
 * out of a row that was imported (`part` 1, 2, ...; at most 9 a row, the last one saying how many more).
 * The record is kept with each entry, each field at most 2,000 characters and 80,000 in all, so the item
 * stays far below DynamoDB's 400 KB. Kept as long as the job (the error report reads them).
 * Access pattern: pk WS#<workspaceId>#JOB#<jobId>, sk ERR#<row, 7 digits>#<part, 2 digits>: the
 * entries in row order are one Query per page (the error listing, the CSV report); a chunk's are the key
 * range of its rows.
 */
export const importErrorSchema = {
  model: { service: 'crm', entity: 'importError', version: '1' },
  attributes: {
    workspaceId: { type: 'string', required: true, readOnly: true },
    jobId: { type: 'string', required: true, readOnly: true },
    row: { type: 'number', required: true, readOnly: true, padding: { length: rowDigits, char: '0' } },
    part: { type: 'number', required: true, readOnly: true, padding: { length: 2, char: '0' } },
    line: { type: 'number', required: true },
    /** The row a spreadsheet shows the record on (RowPosition.sheetRow). */
    sheetRow: { type: 'number' },
    column: { type: 'string' },
    code: { type: rejectCodes, required: true },
    message: { type: 'string', required: true },
    raw: { type: 'list', items: { type: 'string' }, required: true },
    /** Whether `raw` was cut to fit the item. */
    rawTruncated: { type: 'boolean' },
  },
  indexes: {
    byRow: {
      pk: jobPartition,
      sk: { field: 'sk', composite: ['row', 'part'], template: 'ERR#${row}#${part}', casing: 'none' },
    },
  },
} as const;
