import * as z from 'zod';
import { maxTagsPerContact, tagName } from '../tags/tag-names';
import { rejectCodes } from './import-row';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

/**
 * What an import does with a row whose values belong to a contact that existed before the job:
 * - `create_and_update`: adds what the contact lacks (channels, empty fields, tags, custom fields;
 *   with `overwrite`, the row's values replace the contact's); a row adding nothing is `unchanged`;
 * - `skip_existing`: leaves the contact alone, the row counts as `skipped`;
 * - `create_only`: the row is rejected `already_exists`, so the error report lists every row of the
 *   file that was not imported because its contact was already there.
 * Rows reaching a contact this same job created are folded into it (`merged`) in every mode.
 */
export const importModes = ['create_and_update', 'skip_existing', 'create_only'] as const;
export type ImportMode = (typeof importModes)[number];

export const importWriteOptions = z
  .object({
    mode: z.enum(importModes).default('create_and_update'),
    tags: z
      .array(tagName)
      .max(maxTagsPerContact)
      .default([])
      .meta({
        description: 'Tags given to every contact the import creates or updates (besides the file’s own)',
      }),
    ownerId: z.string().min(1).max(64).nullable().optional().meta({
      description:
        'Owner of the contacts the import creates (and of updated ones that have none) when the row names no owner; null leaves them unclaimed, ignoring the file’s owner column. A member may only give themselves',
    }),
    overwrite: z
      .boolean()
      .default(false)
      .meta({
        description:
          'create_and_update: the row’s non-empty values replace the contact’s (default: only empty fields are filled)',
      }),
  })
  .meta({ id: 'ImportWriteOptions' });
export type ImportWriteOptions = z.output<typeof importWriteOptions>;

const count = z.number().int().nonnegative();

/** The report of an import (or of one chunk of it): the row counts add up to `rowsRead`. */
export const importCountsSchema = z
  .object({
    rowsRead: count,
    blank: count.meta({ description: 'Records whose every field was blank: skipped, not errors' }),
    rejected: count.meta({
      description: 'Rows not imported; each has an error (GET .../errors, the error report)',
    }),
    rejectedByCode: z
      .partialRecord(z.enum(rejectCodes), count)
      .meta({ description: 'The rejected rows by reason (codes with none are left out)' }),
    created: count.meta({
      description: 'Contacts created (one row each: the first row of each new contact)',
    }),
    updated: count.meta({ description: 'Rows that added to a contact that existed before the job' }),
    unchanged: count.meta({
      description: 'Rows whose contact existed before the job and already had everything in them',
    }),
    skipped: count.meta({
      description: 'Rows whose contact existed before the job, left alone (mode skip_existing)',
    }),
    merged: count.meta({ description: 'Rows folded into a contact an earlier row of the same job created' }),
    droppedValues: count.meta({
      description:
        'Invalid channel values left out of rows that were imported (each listed with the errors; not rows, so not in the sum)',
    }),
  })
  .meta({ id: 'ImportCounts' });
export type ImportCounts = z.infer<typeof importCountsSchema>;

export const importRowErrorSchema = responseSchema(() =>
  z
    .object({
      line: z
        .number()
        .int()
        .meta({ description: 'The physical line of the file where the record starts (1-based)' }),
      row: z
        .number()
        .int()
        .meta({ description: 'The data row number (1-based; the header is not counted, blank records are)' }),
      sheetRow: z.number().int().nullable().meta({
        description:
          'The row number a spreadsheet (Excel, Google Sheets, Numbers) shows the record on when the file is opened in it: the sheet row of an XLSX; for a CSV, every record counts one row (the header, lines above it and blank lines included; a value with line breaks in quotes does not add rows; Excel’s `sep=` line is not a row). null for entries of imports made before it was recorded',
      }),
      column: z
        .string()
        .nullable()
        .meta({ description: 'The column (header) the problem is in, when there is one' }),
      rejected: z
        .boolean()
        .meta({
          description:
            'true: the row was not imported; false: the row was imported, without the value this entry names',
        }),
      code: z.enum(rejectCodes),
      message: z.string(),
      raw: z
        .array(z.string())
        .meta({ description: 'The record’s fields as read (each at most 2,000 characters)' }),
    })
    .meta({ id: 'ImportRowError' }),
);
export type ImportRowError = ResponseOf<typeof importRowErrorSchema>;
