import * as z from 'zod';
import { countryCode } from '../contacts/contacts.schemas';
import type { CallerContext } from '../shared/context';
import { JobFailure, type JobDeps, type JobKindDefinition, type RunningJob } from '../jobs/job-kind';
import { throwIfCanceled, type JobReport } from '../jobs/job-record';
import { jobFileKey } from '../jobs/jobs.service';
import { columnMappingSchema } from './column-mapping';
import { importFormats, type ImportFormat } from './import-formats';
import { importCursorSchema, openImportFile, type ImportCursor, type ImportFileInfo } from './import-file';
import { ImportFileError } from './import-file-error';
import type { NormalisedRow } from './import-row';
import { tallyImportRows, writeErrorReportCsv } from './import-report';
import { addImportCounts, emptyImportCounts, writeImportChunk, type ImportJobRef } from './import-writer';
import { importCountsSchema, importWriteOptions, type ImportCounts } from './import-writer.schemas';
import { uploadStream } from '../files/upload-stream';

/** Rows handed to the writer at once: its transactions run 16 at a time within a chunk. */
export const importChunkRows = 500;
/** The chunk size of a run: `IMPORT_CHUNK_ROWS` when set (tests use small chunks), else `importChunkRows`. */
const chunkRows = () => Number(process.env.IMPORT_CHUNK_ROWS) || importChunkRows;

/** What an import job is told: the file, how to read it, and how to write its rows. */
export const importJobInput = z.object({
  format: z.enum(importFormats),
  sheet: z.string().optional(),
  mapping: columnMappingSchema.optional(),
  defaultCountry: countryCode.optional(),
  options: importWriteOptions,
  /**
   * The caller's role when the import started (shown on the job). The rows are written under the rules
   * of the role the user has when each chunk is written (`currentStarter`), not this one.
   */
  role: z.enum(['owner', 'admin', 'member']),
});
export type ImportJobInput = z.output<typeof importJobInput>;

const importJobCursor = z.object({
  /** Where the file resumes; absent before the first row was handled. */
  file: importCursorSchema.optional(),
  /** The data rows of the file, from the first run's count. */
  total: z.number().int().nonnegative(),
  counts: importCountsSchema,
});
type ImportJobCursor = z.infer<typeof importJobCursor>;

/** The file as the job read it, in its result (what was recognised and what was left out). */
const fileSummary = (info: ImportFileInfo) => ({
  format: info.format,
  sizeBytes: info.sizeBytes,
  ...(info.encoding ? { encoding: info.encoding } : {}),
  ...(info.delimiter ? { delimiter: info.delimiter } : {}),
  ...(info.sheet ? { sheet: info.sheet } : {}),
  /** Where the header was found: a report's title lines may sit above it. */
  headerLine: info.headerLine,
  headers: info.headers,
  columns: info.columns.map((column) => ({ header: column.header, target: column.target, source: column.source })),
  skippedColumns: info.skippedColumns,
  ...(info.footer ? { footer: info.footer } : {}),
});

/**
 * What the import says once about the file as a whole (not about a row): the report footer it
 * skipped. `code` for programs, `message` for people.
 */
function fileNotes(info: ImportFileInfo): { code: 'report_footer_skipped'; message: string }[] {
  const { footer } = info;
  if (!footer) return [];
  const span = (from: number, to: number) => (from === to ? `${from}` : `${from}–${to}`);
  const where = info.format === 'csv' ? `Lines ${span(footer.fromLine, footer.toLine)}` : `Rows ${span(footer.fromLine, footer.toLine)}`;
  const shown = info.format === 'csv' && footer.fromSheetRow !== footer.fromLine ? ` (rows ${span(footer.fromSheetRow, footer.toSheetRow)} in a spreadsheet)` : '';
  const quoted = footer.lines.map((line) => `"${line.length > 60 ? `${line.slice(0, 60)}…` : line}"`).join(', ');
  return [
    {
      code: 'report_footer_skipped',
      message: `${where}${shown} are the footer a report export adds after its rows (${quoted}): skipped, not imported and not counted as rows`,
    },
  ];
}

/** The names of an import job's files. */
export const importFiles = { upload: 'upload', errors: 'errors.csv' } as const;

/**
 * The upload's key: made of the workspace, the job id and the user who declared the upload, so an upload
 * is imported only into its own workspace, once, and only by that user (another finds no file there).
 */
export const importUploadKey = (workspaceId: string, jobId: string, format: ImportFormat, uploadedBy: string) =>
  jobFileKey('uploads', workspaceId, jobId, `${uploadedBy}/upload.${format}`);

/**
 * Contact writes within a chunk between two looks at the job and its user: a cancel or a deactivation
 * stops the import within about this many rows (and those in flight).
 */
const watchEveryWrites = 25;

/** The user who started the import is deactivated, or no longer a user of the workspace: the import stops. */
class StarterInactive extends Error {
  readonly code = 'user_deactivated';
  constructor(userId: string, gone: boolean) {
    super(
      `The user who started the import (${userId}) ${gone ? 'is no longer a user of the workspace' : 'was deactivated'}: ` +
        'the import stopped; its result counts the rows written before, and errors.csv lists those rejected',
    );
  }
}

/** The starter's role changed while a chunk was written: the chunk is written again (its rows done are kept) by the new role's rules. */
class StarterRoleChanged extends Error {}

/** Who the import writes as: the user who started it, with the role they have now; `StarterInactive` when they are not active. */
async function currentStarter(deps: JobDeps, job: Pick<RunningJob<unknown, unknown>, 'workspaceId' | 'createdBy'>): Promise<CallerContext> {
  const { data } = await deps.db.entities.user.get({ workspaceId: job.workspaceId, userId: job.createdBy }).go({ consistent: true });
  if (!data || data.status !== 'active') throw new StarterInactive(job.createdBy, !data);
  return { workspaceId: job.workspaceId, userId: job.createdBy, role: data.role };
}

/** The upload of a job: the key its start recorded (a job started before keys named their user has the old one). */
const uploadKeyOf = (job: RunningJob<ImportJobInput, unknown>) =>
  job.files[importFiles.upload] ?? importUploadKey(job.workspaceId, job.jobId, job.input.format, job.createdBy);

/** Opens the job's upload as its input says to read it, from `cursor` when given. */
const openUpload = (deps: JobDeps, job: RunningJob<ImportJobInput, unknown>, cursor?: ImportCursor) =>
  openImportFile(deps.blobs, uploadKeyOf(job), {
    claimedFormat: job.input.format,
    ...(job.input.sheet ? { sheet: job.input.sheet } : {}),
    ...(job.input.mapping ? { mapping: job.input.mapping } : {}),
    ...(job.input.defaultCountry ? { defaultCountry: job.input.defaultCountry as never } : {}),
    ...(cursor ? { cursor } : {}),
  });

/**
 * What the import has written, from its rows' recorded outcomes (so exact whenever it stopped): the
 * counts, the error report (`errors.csv`, when a row was rejected or a value left out) and the file as
 * read (when known).
 */
async function importReport(deps: JobDeps, job: ImportJobRef, info: ImportFileInfo | undefined) {
  const counts = await tallyImportRows(deps, job);
  const files: Record<string, string> = {};
  // The report lists rejected rows and the values left out of imported ones.
  if (counts.rejected > 0 || counts.droppedValues > 0) {
    const errorsKey = jobFileKey('exports', job.workspaceId, job.jobId, importFiles.errors);
    await uploadStream(deps.blobs, errorsKey, 'text/csv; charset=utf-8', writeErrorReportCsv(deps, job, info ? { header: info.headers } : {}));
    files[importFiles.errors] = errorsKey;
  }
  return { counts, files, result: { counts, ...(info ? { file: fileSummary(info), notes: fileNotes(info) } : {}) } };
}

/**
 * `import_contacts`: reads the uploaded file from where the last run stopped, hands rows to the writer
 * a chunk at a time, and saves the file cursor with the running counts after each chunk. The writer
 * records each row's outcome with its write, so a chunk run again (a redelivered message, a run that
 * died before saving) counts the same: the counts are exact. The first run counts the file's rows (the
 * progress total, and `too_many_rows` before anything is written). At the end the counts are checked
 * against a recount of the rows' recorded outcomes, and the rejected rows are written as a CSV report.
 */
export const importContactsJob: JobKindDefinition<ImportJobInput, ImportJobCursor, Record<string, unknown>> = {
  kind: 'import_contacts',
  queue: 'import_contacts',
  inputSchema: importJobInput,
  async step(deps, job, control) {
    const { input } = job;
    const ref: ImportJobRef = { workspaceId: job.workspaceId, jobId: job.jobId };
    const open = (cursor?: ImportCursor) => openUpload(deps, job, cursor).catch(fileFailure);
    /** A deactivated starter fails the job, with what it wrote before. */
    const starterFailure = async (error: StarterInactive, info: ImportFileInfo | undefined): Promise<never> => {
      const { result, files, counts } = await importReport(deps, ref, info);
      throw new JobFailure(error.code, error.message, { result, files, progress: { processed: counts.rowsRead } });
    };
    // A starter deactivated while the job was queued (or between runs) stops it before it reads the file.
    await currentStarter(deps, job).catch((error: unknown) => {
      if (error instanceof StarterInactive) return starterFailure(error, undefined);
      throw error;
    });

    let state = job.cursor ? importJobCursor.parse(job.cursor) : undefined;
    if (!state) {
      const counting = await open();
      const { rows } = await counting.count().catch(fileFailure);
      state = { total: rows, counts: emptyImportCounts() };
      await control.saveProgress(state, { processed: 0, total: rows });
    }

    /**
     * Before every `watchEveryWrites`-th contact write of a chunk: a cancel or a deactivation stops it
     * there (the writes in flight settle first), a role change starts it over under the new rules.
     */
    const watch = (caller: CallerContext) => async (index: number) => {
      if (index === 0 || index % watchEveryWrites !== 0) return;
      await throwIfCanceled(deps, job.workspaceId, job.jobId);
      if ((await currentStarter(deps, job)).role !== caller.role) throw new StarterRoleChanged();
    };
    const file = await open(state.file);
    let chunk: NormalisedRow[] = [];
    let chunkEnd: ImportCursor | undefined;
    const flush = async () => {
      if (chunk.length === 0) return;
      let outcome: ImportCounts | undefined;
      while (!outcome) {
        // The rules of the starter's role as it is when the chunk is written (a demoted admin's rows go as a member's).
        const caller = await currentStarter(deps, job);
        const writer = { ...ref, caller, options: input.options };
        outcome = await writeImportChunk(deps, writer, chunk, { beforeTransaction: watch(caller) }).catch((error: unknown) => {
          if (error instanceof StarterRoleChanged) return undefined;
          throw error;
        });
      }
      state = { ...state!, file: chunkEnd, counts: addImportCounts(state!.counts, outcome) };
      chunk = [];
      await control.saveProgress(state, { processed: state.counts.rowsRead, total: state.total });
    };
    try {
      for await (const { row, cursor } of file.rows()) {
        chunk.push(row);
        chunkEnd = cursor;
        if (chunk.length >= chunkRows()) {
          await flush();
          if (control.deadlineReached()) {
            return { done: false, cursor: state, progress: { processed: state.counts.rowsRead, total: state.total } };
          }
        }
      }
      await flush();
    } catch (error) {
      if (error instanceof StarterInactive) await starterFailure(error, file.info);
      fileFailure(error);
    } finally {
      await file.close();
    }

    const { counts: recount, files, result } = await importReport(deps, ref, file.info);
    // The report is never wrong: the running counts must equal the rows' recorded outcomes.
    if (!sameCounts(recount, state.counts)) {
      throw new Error(
        `Import counts ${JSON.stringify(state.counts)} differ from the rows' recorded outcomes ${JSON.stringify(recount)}`,
      );
    }
    return { done: true, result, progress: { processed: recount.rowsRead, total: recount.rowsRead }, files };
  },

  /** A canceled import reports what it wrote: its counts, its error report, and the file as read. */
  async reportCanceled(deps, job): Promise<JobReport> {
    const info = await openUpload(deps, job).then(
      async (file) => {
        await file.close();
        return file.info;
      },
      // A file gone since (or that no longer reads) leaves out only the file's summary.
      () => undefined,
    );
    const { result, files, counts } = await importReport(deps, job, info);
    return { result, files, progress: { processed: counts.rowsRead } };
  },
};

function sameCounts(a: ImportCounts, b: ImportCounts): boolean {
  const codes = new Set([...Object.keys(a.rejectedByCode), ...Object.keys(b.rejectedByCode)]);
  const byCode = [...codes].every(
    (code) => (a.rejectedByCode as Record<string, number>)[code] === (b.rejectedByCode as Record<string, number>)[code],
  );
  return (
    byCode &&
    (['rowsRead', 'blank', 'rejected', 'created', 'updated', 'unchanged', 'skipped', 'merged'] as const).every(
      (field) => a[field] === b[field],
    )
  );
}

/** A file that cannot be read fails the job at once, with the reader's code and reason (no retries). */
function fileFailure(error: unknown): never {
  if (error instanceof ImportFileError) throw new JobFailure(error.code, error.message);
  throw error;
}
