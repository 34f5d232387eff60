import { isManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { forbidden, invalidReference, limitExceeded, notFound, unprocessable } from '../shared/errors';
import type { Page } from '../shared/pagination';
import type { BlobStore } from '../shared/ports';
import { loadCustomFieldDefinitions } from '../custom-fields/custom-fields.service';
import { assertActiveUser } from '../users/active-user';
import { createJob, newJobId, visibleJob } from '../jobs/jobs.service';
import type { Job } from '../jobs/jobs.schemas';
import { openImportFile } from './import-file';
import { ImportFileError, importLimits } from './import-file-error';
import { importUploadKey, type ImportJobInput } from './import-job';
import { listImportErrors } from './import-report';
import { importTemplate } from './import-template';
import { maxLegacyWorkbookBytes } from './legacy-workbook';
import type { ImportRowError } from './import-writer.schemas';
import {
  importContentTypes,
  type CreateImportUploadInput,
  type ImportFileFormat,
  type ImportTemplateFormat,
  type ImportUpload,
  type StartImportInput,
} from './imports.schemas';

type BlobDeps = CoreDeps & { blobs: BlobStore };

/** How long the upload URL of an import is valid. */
const uploadUrlSeconds = 60 * 60;

const formatOfName = (fileName: string): ImportFileFormat | undefined => {
  const extension = fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (extension === 'csv' || extension === 'txt' || extension === 'tsv') return 'csv';
  if (extension === 'xlsx') return 'xlsx';
  if (extension === 'vcf' || extension === 'vcard') return 'vcf';
  if (extension === 'xls') return 'xls';
  if (extension === 'ods') return 'ods';
  return undefined;
};

/**
 * Reserves an import upload: the file's format (from `format` or the name's extension) and size (at
 * most 512 MiB, refused up front) and a presigned PUT URL pinned to that size. The upload id is the id
 * the import job will have, and the object's key is made of the workspace, that id and the caller, so an
 * upload can only ever be imported into its own workspace, once, by the user who declared it.
 */
export async function createImportUpload(deps: BlobDeps, caller: CallerContext, input: CreateImportUploadInput): Promise<ImportUpload> {
  const format = input.format ?? formatOfName(input.fileName);
  if (!format) {
    throw unprocessable('Not a CSV, XLSX, XLS, ODS or vCard file name: give `format` (csv, xlsx, xls, ods or vcf)', {
      fields: [{ field: 'body.fileName', message: 'Expected a .csv, .xlsx, .xls, .ods or .vcf file', code: 'unsupported_format' }],
    });
  }
  if (input.sizeBytes > importLimits.maxBytes) {
    throw limitExceeded('body.sizeBytes', `An import file may have at most ${importLimits.maxBytes} bytes (512 MiB)`, importLimits.maxBytes);
  }
  if ((format === 'xls' || format === 'ods') && input.sizeBytes > maxLegacyWorkbookBytes) {
    throw limitExceeded(
      'body.sizeBytes',
      `An .${format} file is read whole and may have at most ${maxLegacyWorkbookBytes} bytes (32 MiB): save it as .xlsx or CSV, which may have 512 MiB`,
      maxLegacyWorkbookBytes,
    );
  }
  const uploadId = newJobId(deps);
  const contentType = importContentTypes[format];
  const uploadUrl = await deps.blobs.uploadUrl(importUploadKey(caller.workspaceId, uploadId, format, caller.userId), contentType, uploadUrlSeconds, {
    sizeBytes: input.sizeBytes,
  });
  return {
    uploadId,
    format,
    uploadUrl,
    uploadMethod: 'PUT',
    uploadHeaders: { 'content-type': contentType },
    uploadExpiresAt: new Date(deps.clock.nowMs() + uploadUrlSeconds * 1000).toISOString(),
  };
}

/**
 * Starts the import of an uploaded file. The file is opened first (its size, its real format, its
 * header and the column plan), so a file that cannot be imported is refused here with its reason and
 * no job is made: `upload_missing`, `not_csv`, `not_xlsx`, `binary`, `empty`, `sheet_not_found`,
 * `no_channel_column`, `unknown_column`, ... Then the job is queued (its id is the upload's); a second
 * start of the same upload is a 409. Only the user who declared the upload starts it: the file is looked
 * for under the caller's key, so another user's upload answers as an unknown one (422
 * `invalid_reference`), as another workspace's does. A member imports as themselves: only they may be
 * the owner given.
 */
export async function startImport(deps: BlobDeps, caller: CallerContext, input: StartImportInput): Promise<Job> {
  if (!isManager(caller) && input.ownerId && input.ownerId !== caller.userId) {
    throw forbidden('A member may only import contacts owned by themselves or unclaimed');
  }
  // The owner given for the whole import is checked now, not row by row in the job: an id that is no
  // active user of the workspace (unknown, deactivated, another workspace's) is a 422 and no job.
  if (input.ownerId) await assertActiveUser(deps, caller.workspaceId, input.ownerId, 'body.ownerId');
  await assertMappedCustomFieldsExist(deps, caller, input.mapping);
  const key = importUploadKey(caller.workspaceId, input.uploadId, input.format, caller.userId);
  try {
    const file = await openImportFile(deps.blobs, key, {
      claimedFormat: input.format,
      ...(input.sheet ? { sheet: input.sheet } : {}),
      ...(input.mapping ? { mapping: input.mapping } : {}),
      ...(input.defaultCountry ? { defaultCountry: input.defaultCountry as never } : {}),
    });
    await file.close();
  } catch (error) {
    if (!(error instanceof ImportFileError)) throw error;
    if (error.code === 'not_found') {
      throw invalidReference(
        'body.uploadId',
        'Nothing was uploaded for this upload id by you (or it expired): PUT the file to its uploadUrl first; an upload is imported by the user who declared it',
      );
    }
    if (error.code === 'too_large') {
      const { maxBytes } = error.details as { maxBytes?: number };
      throw limitExceeded('body.uploadId', error.message, maxBytes ?? importLimits.maxBytes);
    }
    throw unprocessable(error.message, { reason: error.code, ...error.details });
  }
  const jobInput: ImportJobInput = {
    format: input.format,
    ...(input.sheet ? { sheet: input.sheet } : {}),
    ...(input.mapping ? { mapping: input.mapping } : {}),
    ...(input.defaultCountry ? { defaultCountry: input.defaultCountry } : {}),
    options: { mode: input.mode, tags: input.tags, overwrite: input.overwrite, ...(input.ownerId !== undefined ? { ownerId: input.ownerId } : {}) },
    role: caller.role,
  };
  return createJob(deps, caller, {
    kind: 'import_contacts',
    jobId: input.uploadId,
    input: jobInput,
    files: { upload: key },
  });
}

/**
 * A mapping that sends a column to `custom:<key>` names a contact custom field of the workspace: an
 * unknown key (another workspace's, a typo) is a 422 now rather than every row rejected in the job.
 * Columns recognised from their `Custom: <key>` header are left to the rows (a file may carry more).
 */
async function assertMappedCustomFieldsExist(deps: CoreDeps, caller: CallerContext, mapping: StartImportInput['mapping']) {
  const mapped = Object.entries(mapping ?? {}).filter(([, target]) => target.startsWith('custom:'));
  if (mapped.length === 0) return;
  const keys = new Set((await loadCustomFieldDefinitions(deps, caller.workspaceId, 'contact')).map((field) => field.key));
  const unknown = mapped.find(([, target]) => !keys.has(target.slice('custom:'.length)));
  if (unknown) {
    throw invalidReference(`body.mapping.${unknown[0]}`, `No contact custom field has the key ${unknown[1].slice('custom:'.length)}: define it first`);
  }
}

/** An import job the caller may see (another kind of job is not an import: 404). */
async function visibleImport(deps: CoreDeps, caller: CallerContext, jobId: string) {
  const item = await visibleJob(deps, caller, jobId);
  if (item.kind !== 'import_contacts') throw notFound('Import');
  return item;
}

/** The rows an import rejected, in row order, a page at a time. */
export async function listImportRowErrors(
  deps: CoreDeps,
  caller: CallerContext,
  jobId: string,
  page: { limit: number; cursor?: string },
): Promise<Page<ImportRowError>> {
  await visibleImport(deps, caller, jobId);
  return listImportErrors(deps, { workspaceId: caller.workspaceId, jobId }, page);
}

/** The import template: the canonical header and a column per active custom field of contacts. */
export async function contactImportTemplate(deps: CoreDeps, caller: CallerContext, format: ImportTemplateFormat) {
  const fields = await loadCustomFieldDefinitions(deps, caller.workspaceId, 'contact');
  const keys = fields.filter((field) => !field.archived).map((field) => field.key);
  return { bytes: await importTemplate(format, keys), contentType: importContentTypes[format], fileName: `contacts-template.${format}` };
}
