import * as z from 'zod';
import type { CallerContext } from '../shared/context';
import { JobFailure, type JobKindDefinition } from '../jobs/job-kind';
import {
  abandonContactExport,
  exportContactsStep,
  exportObjectKey,
  exportStateSchema,
  type ExportState,
} from './contact-export.service';
import { exportContactsInput, exportFormats, type ExportFormat } from './exports.schemas';

/** What an export job is told: the list's filters, the columns, the format, and its creator's role. */
export const exportJobInput = exportContactsInput.extend({ role: z.enum(['owner', 'admin', 'member']) });
export type ExportJobInput = z.output<typeof exportJobInput>;

/** The name of an export job's file. */
export const exportFileName = (format: ExportFormat) => `contacts.${format}`;

/** List entries per page: `EXPORT_PAGE_SIZE` when set (tests use small pages to get many parts), else the export's default. */
const pageSize = () => Number(process.env.EXPORT_PAGE_SIZE) || undefined;

/**
 * `export_contacts`: the contacts the filters match, read with the rights of the job's creator and
 * streamed into one S3 object. A CSV export continues across runs from its state (its multipart upload
 * and list position), saved after each part it uploads (its progress); an XLSX export runs in one go,
 * its progress shown after each page. A file that would not hold every matched contact fails the job
 * with its reason (`export_incomplete`, `export_too_large`), never short. A canceled export leaves
 * nothing: its run aborts the upload at its next save, and `release` aborts it, or deletes the file
 * completed for a job canceled before it could succeed.
 */
export const exportContactsJob: JobKindDefinition<ExportJobInput, ExportState, Record<string, unknown>> = {
  kind: 'export_contacts',
  queue: 'export_contacts',
  inputSchema: exportJobInput,
  async step(deps, job, control) {
    const { role, ...input } = job.input;
    const caller: CallerContext = { workspaceId: job.workspaceId, userId: job.createdBy, role };
    const key = exportObjectKey(job.workspaceId, job.jobId, input.format);
    const pages = pageSize();
    const run = (state: ExportState | undefined) =>
      exportContactsStep(
        deps,
        caller,
        input,
        state,
        {
          deadlineReached: () => control.deadlineReached(),
          // XLSX cannot continue in another run: when this run must stop, it fails rather than be killed.
          outOfTime: () => control.deadlineReached(),
          recordProgress: (progress, resumeAt) => (resumeAt ? control.saveProgress(resumeAt, progress) : control.reportProgress(progress)),
        },
        { key, ...(pages ? { pageSize: pages } : {}) },
      );
    const saved = job.cursor ? exportStateSchema.parse(job.cursor) : undefined;
    // A retried export whose upload was aborted (its failure aborts it; S3 drops stale ones) starts over.
    const outcome = await run(saved).catch((error: unknown) => {
      if (saved && (error as { name?: string }).name === 'NoSuchUpload') return run(undefined);
      throw error;
    });
    if (outcome.status === 'failed') throw new JobFailure(outcome.error.code, outcome.error.message);
    if (outcome.status === 'continue') return { done: false, cursor: outcome.state, progress: outcome.progress };
    const { result } = outcome;
    return {
      done: true,
      result: { format: result.format, rows: result.rows, bytes: result.bytes, columns: result.columns, file: exportFileName(result.format) },
      progress: { processed: result.rows, total: result.rows },
      files: { [exportFileName(result.format)]: result.key },
    };
  },
  async release(deps, { workspaceId, jobId, cursor, files }) {
    const state = exportStateSchema.safeParse(cursor);
    const formats = exportFormats;
    // A file a run completed is at its job's key, and named in `files` when the run returned it.
    const keys = [
      ...formats.map((format) => exportObjectKey(workspaceId, jobId, format)),
      ...formats.flatMap((format) => files[exportFileName(format)] ?? []),
    ];
    await abandonContactExport(deps, { ...(state.success ? { state: state.data } : {}), keys });
  },
};
