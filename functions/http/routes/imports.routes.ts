import * as z from 'zod';
import { jobSchema } from '../../../domain/jobs/jobs.schemas';
import {
  createImportUploadInput,
  importContentTypes,
  importJobParams,
  importTemplateQuery,
  importUploadSchema,
  listImportErrorsQuery,
  startImportInput,
} from '../../../domain/imports/imports.schemas';
import { importRowErrorSchema } from '../../../domain/imports/import-writer.schemas';
import { exportContactsInput } from '../../../domain/exports/exports.schemas';
import { route, pageOf, type RouteDefinition } from '../route-definition';

const imports = { group: 'imports', tag: 'Imports and exports', auth: true } as const;

export const importsRoutes = {
  createImportUpload: route({
    ...imports,
    method: 'POST',
    path: '/v1/imports/uploads',
    summary: 'Start an import upload: declare the file, get a presigned URL to PUT its bytes to',
    description:
      'Declare the file’s name and exact size (and `format` when the name has no .csv or .xlsx extension); PUT the bytes to `uploadUrl` with `uploadHeaders` within an hour, then start the import with `POST /v1/imports` naming `uploadId`. Files up to 512 MiB and 1,048,576 data rows.',
    creates: true,
    body: createImportUploadInput,
    refusals: {
      422: '`limit_exceeded`: `sizeBytes` is over 512 MiB (`limit` 536870912); `unprocessable`: not a .csv or .xlsx file (a legacy .xls must be saved as .xlsx or .csv)',
    },
    response: { status: 201, description: 'Where to upload the file', schema: importUploadSchema },
  }),
  startImport: route({
    ...imports,
    method: 'POST',
    path: '/v1/imports',
    summary: 'Import contacts from an uploaded CSV or XLSX file, as a background job',
    description:
      'The file is checked before the job is made: its real format, encoding and header, and the column plan (recognised headers of the usual CRM and address-book exports, and `mapping`). Then an `import_contacts` job is queued (its id is the `uploadId`); follow it with `GET /v1/jobs/{jobId}`. Rows sharing an email or phone, within the file or with existing contacts, are one contact. The result counts every row: `rowsRead` = `blank` + `rejected` + `created` + `updated` + `unchanged` + `skipped` + `merged`. Rejected rows are listed by `GET /v1/imports/{jobId}/errors` and in the job’s `errors.csv` file.',
    creates: true,
    body: startImportInput,
    refusals: {
      403: 'a member naming another user as `ownerId`',
      409: '`already_exists`: this upload was already imported',
      422: '`invalid_reference`: nothing was uploaded for `uploadId` (or the upload expired), `ownerId` is no active user of the workspace, or a `mapping` target `custom:<key>` names no contact custom field; `limit_exceeded`: the file is over 512 MiB; `unprocessable` with `reason`: `not_csv`, `not_xlsx`, `binary`, `empty`, `unreadable`, `sheet_not_found`, `no_channel_column` (no email or phone column), `unknown_column` (the mapping names a column the file lacks)',
    },
    response: { status: 201, description: 'The queued import job', schema: jobSchema },
  }),
  listImportErrors: route({
    ...imports,
    method: 'GET',
    path: '/v1/imports/{jobId}/errors',
    summary: 'The rows an import rejected, in row order: line, row, column, reason code and the raw record',
    description:
      'Codes: `no_channel`, `invalid_email`, `invalid_phone`, `too_long`, `too_many_channels`, `unknown_owner`, `invalid_custom_field`, `channel_conflict`, `malformed_record`, `not_permitted`, `already_exists`, `too_many_tags`, `invalid_tag`, `invalid_channel`; values left out of an imported row are listed too, with `rejected: false` (an invalid email, phone or profile beside a valid one, an owner who is no user here as `unknown_owner`, a phone’s extension or a second value for a one-value field as `value_not_kept`). The same list is the job’s `errors.csv` file once it has finished.',
    params: importJobParams,
    query: listImportErrorsQuery,
    response: { status: 200, description: 'A page of rejected rows', schema: pageOf(importRowErrorSchema, 'ImportRowErrorPage') },
  }),
  getImportTemplate: route({
    ...imports,
    method: 'GET',
    path: '/v1/imports/template',
    summary: 'The import template: the columns an import recognises, as CSV or XLSX',
    description: 'The canonical header (what an export writes, so an export re-imports as it is), and a `Custom: <key>` column per custom field of contacts.',
    query: importTemplateQuery,
    response: {
      status: 200,
      description: 'The template file (CSV in UTF-8 with a BOM, or XLSX), as an attachment',
      schema: z.string().meta({ format: 'binary' }),
      contentType: [importContentTypes.csv, importContentTypes.xlsx],
    },
  }),
  startExport: route({
    ...imports,
    method: 'POST',
    path: '/v1/exports',
    summary: 'Export contacts to a CSV or XLSX file, as a background job',
    description:
      'The contact list’s filters (owner, tag, company, archived, suppressed, created and updated ranges) and the columns (default: every contact column and every custom field, as `Custom: <key>`). An `export_contacts` job is queued; when it has succeeded, its `result.rows` is the number of contacts matched and written, and `GET /v1/jobs/{jobId}/files/contacts.csv` (or `.xlsx`) gives a download link, valid 5 minutes and re-issued on request. The file re-imports as it is. A file that would be short fails the job with its reason, never silently.',
    creates: true,
    body: exportContactsInput,
    refusals: { 422: '`invalid_reference`: a `Custom:` column names no contact custom field' },
    response: { status: 201, description: 'The queued export job', schema: jobSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
