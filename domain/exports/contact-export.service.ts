import { once } from 'node:events';
import { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type ExcelJS from 'exceljs';
import * as z from 'zod';
import {
  planContactList,
  readContactListEntries,
  type ContactListEntry,
  type ContactListPlan,
} from '../contacts/contact-lists.service';
import type { ContactItem } from '../contacts/contact-record';
import { loadCustomFieldDefinitions } from '../custom-fields/custom-fields.service';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { JobCanceled } from '../jobs/job-kind';
import { DomainError, invalidReference } from '../shared/errors';
import { loadExcelJs } from '../shared/exceljs';
import { multipartLimits, type BlobStore } from '../shared/ports';
import { customFieldHeader } from '../imports/column-mapping';
import { contactRow, customColumnKey, exportColumns } from './contact-rows';
import { contactVcard } from './contact-vcards';
import type { ExportContactsFilters, ExportContactsInput, ExportFormat } from './exports.schemas';
import { MultipartSink, PartLimitReached } from '../files/multipart-sink';

/**
 * The contact export (issue 13, `export_contacts`): the contacts a list filter matches, as CSV, XLSX or vCard,
 * streamed into an S3 multipart upload. Never silently short: every entry the list yields becomes a
 * row, a listed contact that cannot be read fails the export, and the stored object's size is checked
 * against the bytes written. A job step calls `exportContactsStep` until it is done.
 */

export type ExportDeps = CoreDeps & { blobs: BlobStore };

export interface ExportControl {
  /** True when the run should hand over to a continuation (see `exportContactsStep` for how soon it does). */
  deadlineReached(): boolean;
  /**
   * True when the run is about to be killed (Lambda's remaining time under a margin). An XLSX export,
   * which cannot continue in another run, then fails with `export_too_large` rather than be killed and
   * retried in vain. Absent: XLSX runs to the end.
   */
  outOfTime?(): boolean;
  /**
   * Records how far the export has got (absent: nothing is recorded). CSV calls it after each part it
   * uploads, with the state that resumes right after that part (saved, a run that dies resumes there);
   * XLSX, which cannot resume, after each page of rows, without a state. It may throw to stop the run:
   * `JobCanceled` (the job was canceled) aborts the upload, so a canceled export leaves nothing behind.
   */
  recordProgress?(progress: { processed: number }, state?: ExportState): Promise<void>;
}

export interface ExportOptions {
  /** The object to write, e.g. `exportObjectKey(workspaceId, jobId, format)`. */
  key: string;
  /** Bytes per part but the last: at least S3's 5 MiB (the default); tests may go lower with a store that allows it. */
  partBytes?: number;
  /** List entries per Query (default 1,000). */
  pageSize?: number;
  /** XLSX only: the most contacts a file takes (default and most: `maxXlsxRows`); tests lower it. */
  maxXlsxRows?: number;
}

export const exportContentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  vcf: 'text/vcard; charset=utf-8',
};

/** Where a job's export goes: under the bucket's `exports/` prefix (expired by its lifecycle rule). */
export const exportObjectKey = (workspaceId: string, jobId: string, format: ExportFormat) =>
  `exports/${workspaceId}/jobs/${jobId}/contacts.${format}`;

/** An XLSX sheet holds 1,048,576 rows: the header and this many contacts. */
export const maxXlsxRows = 1_048_575;

/** Where a CSV or vCard export continues: its upload, the parts sent, and the list position they reach. */
export const exportStateSchema = z.object({
  v: z.literal(1),
  format: z.enum(['csv', 'vcf']),
  key: z.string(),
  uploadId: z.string(),
  /** The columns, fixed by the first run (custom fields defined later do not shift them). */
  columns: z.array(z.string()),
  /** The list plan's fingerprint: a state is only resumed under the filters it was made with. */
  plan: z.string(),
  /** Sort key of the last list entry whose row (if it matched) is in an uploaded part. */
  position: z.string().nullable(),
  /** List entries that matched the filters, and rows written for them: always equal. */
  matched: z.number().int(),
  rows: z.number().int(),
  parts: z.array(z.object({ partNumber: z.number().int(), etag: z.string(), bytes: z.number().int() })),
});
export type ExportState = z.infer<typeof exportStateSchema>;

export interface ExportResult {
  format: ExportFormat;
  key: string;
  contentType: string;
  /** Rows written, the header not counted: the contacts matched. */
  rows: number;
  /** The file's size, as stored. */
  bytes: number;
  parts: number;
  columns: string[];
}

/**
 * Why an export failed (the job fails with it, never retried: trying again would meet the same):
 * - `export_incomplete`: the file would not hold every matched contact (a listed contact missing or
 *   another workspace's, a count or size that does not add up);
 * - `export_too_large`: more rows than an XLSX sheet holds, or more parts than S3 takes;
 * - `invalid_input`: a column names no custom field, a continuation state is not this export's.
 */
export type ExportFailureCode = 'export_incomplete' | 'export_too_large' | 'invalid_input';

export type ExportStepOutcome =
  | { status: 'done'; result: ExportResult }
  | { status: 'continue'; state: ExportState; progress: { processed: number } }
  | { status: 'failed'; error: { code: ExportFailureCode; message: string }; progress: { processed: number } };

class ExportFailure extends Error {
  constructor(
    readonly code: ExportFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExportFailure';
  }
}

const defaultPageSize = 1_000;
/** Contacts per BatchGetItem (its maximum), and BatchGetItems in flight at once (a page's worth). */
const batchGetSize = 100;
const batchGetsInFlight = 10;
const maxBatchRounds = 5;

/**
 * The columns of an export: the ones asked for, in their order, or every contact column then every
 * active contact custom field (`Custom: <key>`, in creation order). A `Custom:` column naming no
 * contact custom field is a 422 `invalid_reference` on `body.fields`. The route creating the job calls
 * it to refuse such an input up front; the export's first run calls it to fix its columns.
 */
export async function resolveExportColumns(
  deps: Pick<CoreDeps, 'db'>,
  caller: CallerContext,
  fields: ExportContactsInput['fields'],
): Promise<string[]> {
  const definitions = await loadCustomFieldDefinitions(deps, caller.workspaceId, 'contact');
  if (!fields) return [...exportColumns, ...definitions.filter((field) => !field.archived).map((field) => customFieldHeader(field.key))];
  const known = new Set(definitions.map((field) => field.key));
  fields.forEach((column, index) => {
    const key = customColumnKey(column);
    if (key !== undefined && !known.has(key)) {
      throw invalidReference(`body.fields.${index}`, `No contact custom field has the key ${key}`);
    }
  });
  return [...fields];
}

/**
 * One run of an export. `state` is undefined on the first run, else what the previous run returned.
 *
 * CSV (UTF-8 with BOM, CRLF, RFC 4180 quoting) and vCard (contact-vcards.ts) continue across runs: rows are read a page of list
 * entries at a time and sent in parts of at least `partBytes`; once `control.deadlineReached()` is
 * true, the run returns `continue` after its next part (so it overruns the deadline by at most the time
 * to fill one part: 5 MiB of rows), with a state that resumes right after that part. A repeated run
 * from the same state overwrites the same part numbers: nothing is duplicated.
 *
 * Between parts, `control.recordProgress` gets the rows written and the state (the state is consistent
 * exactly at a part's end), so progress shows and a run that dies resumes from its last part.
 *
 * XLSX cannot resume (a zip entry is one deflate stream): it runs start to end in one call, ignoring
 * `deadlineReached` and recording its rows (no state) after each page, up to `maxXlsxRows` rows;
 * beyond, or when `outOfTime()` says the run is about to be killed, it fails with `export_too_large`
 * (export CSV instead). Measured (test/bench/README.md):
 * ~800–2,500 rows/s on DynamoDB Local, so up to ~700k–1M rows in a 15-minute Lambda run.
 *
 * Returns `done` with the result once the object is complete and its size checked; `failed` with a
 * code and reason (the upload aborted, a completed file of the wrong size deleted) when the file would
 * be wrong. `JobCanceled` from `recordProgress` aborts the upload and passes through. Other errors
 * (DynamoDB, S3) are thrown for the job's retry: a CSV run then resumes from its last recorded or
 * returned state (the upload kept), an XLSX run starts again (its upload aborted).
 */
export async function exportContactsStep(
  deps: ExportDeps,
  caller: CallerContext,
  input: ExportContactsInput,
  state: ExportState | undefined,
  control: ExportControl,
  options: ExportOptions,
): Promise<ExportStepOutcome> {
  const partBytes = options.partBytes ?? multipartLimits.minPartBytes;
  const pageSize = options.pageSize ?? defaultPageSize;
  const plan = planContactList(listFilters(input.filters));
  const reader = new ContactPageReader(deps, caller.workspaceId, plan, pageSize);
  const run = input.format === 'xlsx' ? runXlsx : runStreamed;
  return run({ deps, caller, input, state, control, options, partBytes, plan, reader });
}

/**
 * Removes what an export that will not succeed holds (its job was canceled): the upload under way of
 * its saved `state`, and the objects at `keys` and at the state's key (a file completed by a run whose
 * job was canceled before it could succeed). Safe to call more than once.
 */
export async function abandonContactExport(
  deps: Pick<ExportDeps, 'blobs'>,
  held: { state?: ExportState; keys?: readonly string[] },
): Promise<void> {
  const { state, keys = [] } = held;
  if (state) await deps.blobs.abortMultipartUpload(state.key, state.uploadId);
  for (const key of new Set([...(state ? [state.key] : []), ...keys])) await deps.blobs.delete(key);
}

interface Run {
  deps: ExportDeps;
  caller: CallerContext;
  input: ExportContactsInput;
  state: ExportState | undefined;
  control: ExportControl;
  options: ExportOptions;
  partBytes: number;
  plan: ContactListPlan;
  reader: ContactPageReader;
}

/** The export's filters as the contact list takes them; the sort follows a date range when not given. */
function listFilters(filters: ExportContactsFilters) {
  const sort =
    filters.sort ??
    (filters.tag !== undefined || filters.segment !== undefined
      ? 'name'
      : filters.createdFrom || filters.createdTo
        ? 'created'
        : filters.updatedFrom || filters.updatedTo
          ? 'updated'
          : 'name');
  return {
    sort,
    order: 'asc' as const,
    archived: filters.archived,
    ownerId: filters.ownerId,
    companyId: filters.companyId,
    tag: filters.tag,
    suppressed: filters.suppressed,
    segment: filters.segment,
    createdFrom: filters.createdFrom,
    createdTo: filters.createdTo,
    updatedFrom: filters.updatedFrom,
    updatedTo: filters.updatedTo,
  };
}

const bom = Buffer.from([0xef, 0xbb, 0xbf]);
const csvOptions = { record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;
const csvLines = (rows: string[][]) => Buffer.from(stringify(rows, csvOptions), 'utf8');

/** CSV and vCard: text written a contact at a time, sent in parts, continued across runs. */
async function runStreamed(run: Run): Promise<ExportStepOutcome> {
  const { deps, caller, input, options, plan } = run;
  const format = input.format === 'vcf' ? 'vcf' : 'csv';
  let state = run.state;
  if (state && (state.format !== format || state.key !== options.key || state.plan !== plan.fingerprint)) {
    return failed(new ExportFailure('invalid_input', 'The saved export state belongs to another export'), state.rows);
  }
  let startedHere: string | undefined;
  if (!state) {
    let columns: string[];
    try {
      columns = await resolveExportColumns(deps, caller, input.fields);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'invalid_reference') return failed(new ExportFailure('invalid_input', error.message), 0);
      throw error;
    }
    const { uploadId } = await deps.blobs.startMultipartUpload(options.key, exportContentTypes[format]);
    startedHere = uploadId;
    state = { v: 1, format, key: options.key, uploadId, columns, plan: plan.fingerprint, position: null, matched: 0, rows: 0, parts: [] };
  }
  return continueStreamed(run, state, startedHere);
}

async function continueStreamed(run: Run, state: ExportState, startedHere: string | undefined): Promise<ExportStepOutcome> {
  const { deps, control, partBytes, reader } = run;
  const sink = new MultipartSink(deps.blobs, state.key, state.uploadId, [...state.parts]);
  // Nothing uploaded yet: the file starts here (a run that stopped before its first part left nothing).
  // A CSV starts with its BOM and header; a vCard file with its first card.
  if (sink.parts.length === 0 && state.format === 'csv') {
    sink.add(bom);
    sink.add(csvLines([state.columns]));
  }
  const written = (items: ContactItem[]) =>
    state.format === 'vcf'
      ? Buffer.from(items.map((item) => contactVcard(item, state.columns, reader.ownerEmails)).join(''), 'utf8')
      : csvLines(items.map((item) => contactRow(item, state.columns, reader.ownerEmails)));
  let { position, matched, rows } = state;
  const saved = () => ({ ...state, position, matched, rows, parts: [...sink.parts] });
  /** The upload while no saved state names it: a failed run aborts it, and its retry starts another. */
  let unsaved = startedHere;
  try {
    for await (const page of reader.pages(position)) {
      const items = page.rows.map((row) => row.item);
      if (items.length > 0) sink.add(written(items));
      matched += page.rows.length;
      rows += items.length;
      position = page.position ?? position;
      if (page.more && sink.pending >= partBytes) {
        await sink.flush();
        if (control.deadlineReached()) return { status: 'continue', state: saved(), progress: { processed: rows } };
        if (control.recordProgress) {
          await control.recordProgress({ processed: rows }, saved());
          unsaved = undefined;
        }
      }
    }
    return await finish(deps, sink, { format: state.format, matched, rows, columns: state.columns });
  } catch (error) {
    if (error instanceof ExportFailure || error instanceof PartLimitReached) {
      await deps.blobs.abortMultipartUpload(state.key, state.uploadId);
      return failed(error, rows);
    }
    // Canceled: the upload goes, whichever run started it. Otherwise an upload no saved state names
    // would be left behind (the retry starts a new one); one a state names is the retry's to go on with.
    const discard = error instanceof JobCanceled ? state.uploadId : unsaved;
    if (discard) await deps.blobs.abortMultipartUpload(state.key, discard).catch(() => undefined);
    throw error;
  }
}

async function runXlsx(run: Run): Promise<ExportStepOutcome> {
  const { deps, caller, input, options, partBytes, reader } = run;
  if (run.state) return failed(new ExportFailure('invalid_input', 'An XLSX export runs in one go: it has no state to continue from'), 0);
  const excel = await loadExcelJs();
  const rowLimit = Math.min(options.maxXlsxRows ?? maxXlsxRows, maxXlsxRows);
  let columns: string[];
  try {
    columns = await resolveExportColumns(deps, caller, input.fields);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'invalid_reference') return failed(new ExportFailure('invalid_input', error.message), 0);
    throw error;
  }
  const { uploadId } = await deps.blobs.startMultipartUpload(options.key, exportContentTypes.xlsx);
  const sink = new MultipartSink(deps.blobs, options.key, uploadId);
  // The zip writer's output: held until a part is full; a slow upload holds the writer back.
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      sink.add(chunk);
      if (sink.pending < partBytes) return callback();
      sink.flush().then(() => callback(), callback);
    },
  });
  // A failed part upload errors the output, which the zip writer then stops feeding: the loop and the
  // commit below must see it rather than wait for a file that will never finish.
  let outputError: unknown;
  const outputFailed = new Promise<never>((_resolve, reject) => {
    output.on('error', (error) => {
      outputError ??= error;
      reject(error);
    });
  });
  outputFailed.catch(() => undefined);
  const workbook = new excel.stream.xlsx.WorkbookWriter({ stream: output, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet('Contacts');
  let matched = 0;
  let rows = 0;
  try {
    sheet.addRow(columns).commit();
    for await (const page of reader.pages(null)) {
      matched += page.rows.length;
      if (matched > rowLimit) {
        throw new ExportFailure('export_too_large', `An XLSX sheet holds at most ${rowLimit} contacts and more match: export them as CSV, or narrow the filters`);
      }
      for (const { item } of page.rows) {
        sheet.addRow(contactRow(item, columns, reader.ownerEmails)).commit();
        rows += 1;
      }
      await Promise.race([sheetDrained(sheet), outputFailed]);
      if (outputError) throw outputError;
      if (page.more && run.control.outOfTime?.()) {
        throw new ExportFailure('export_too_large', `An XLSX export is written in one run, and this one ran out of time after ${rows} contacts: export them as CSV, which continues across runs, or narrow the filters`);
      }
      if (page.more) await run.control.recordProgress?.({ processed: rows });
    }
    sheet.commit();
    await Promise.race([workbook.commit(), outputFailed]);
    return await finish(deps, sink, { format: 'xlsx', matched, rows, columns });
  } catch (error) {
    await deps.blobs.abortMultipartUpload(options.key, uploadId).catch(() => undefined);
    if (error instanceof ExportFailure || error instanceof PartLimitReached) return failed(error, rows);
    throw error;
  }
}

/**
 * Waits until the zip writer has taken in the rows given so far. exceljs pipes a sheet into the zip
 * without heeding backpressure (its StreamBuf writes on whatever `write` returns), so rows made faster
 * than they are compressed and uploaded would pile up in memory: ~30 MB per 100k rows, measured.
 * Reads exceljs 4.4's internals (`sheet.stream.pipes[0]`); without them it only yields.
 */
async function sheetDrained(sheet: ExcelJS.Worksheet): Promise<void> {
  const target = (sheet as unknown as { stream?: { pipes?: unknown[] } }).stream?.pipes?.[0] as
    | (NodeJS.EventEmitter & { _writableState?: { length: number; highWaterMark: number } })
    | undefined;
  const pending = target?._writableState;
  while (target && pending && pending.length > pending.highWaterMark) await once(target, 'drain');
  await new Promise((resolve) => setImmediate(resolve));
}

async function finish(
  deps: ExportDeps,
  sink: MultipartSink,
  file: { format: ExportFormat; matched: number; rows: number; columns: string[] },
): Promise<ExportStepOutcome> {
  if (file.rows !== file.matched) {
    throw new ExportFailure('export_incomplete', `${file.matched} contacts matched but ${file.rows} rows were written`);
  }
  await sink.flush(); // the last part, however small
  const bytes = sink.uploadedBytes;
  await sink.complete();
  const stored = await deps.blobs.head(sink.key);
  if (stored?.sizeBytes !== bytes) {
    // Completed: there is no upload left to abort; the wrong file goes, and the job fails naming none.
    await deps.blobs.delete(sink.key).catch(() => undefined);
    return failed(
      new ExportFailure('export_incomplete', `The stored file holds ${stored?.sizeBytes ?? 'no'} bytes where ${bytes} were written`),
      file.rows,
    );
  }
  return {
    status: 'done',
    result: {
      format: file.format,
      key: sink.key,
      contentType: exportContentTypes[file.format],
      rows: file.rows,
      bytes,
      parts: sink.parts.length,
      columns: file.columns,
    },
  };
}

const failed = (error: ExportFailure | PartLimitReached, processed: number): ExportStepOutcome => ({
  status: 'failed',
  error: { code: error instanceof PartLimitReached ? 'export_too_large' : error.code, message: error.message },
  progress: { processed },
});

interface ContactPage {
  /** The matching entries of the page, each with its contact, in list order. */
  rows: { entry: ContactListEntry; item: ContactItem }[];
  /** The sort key of the page's last entry (matching or not); undefined for an empty page. */
  position: string | undefined;
  more: boolean;
}

/**
 * Reads a list a page at a time: one Query of up to `pageSize` entries, then the matching entries'
 * contacts by consistent BatchGetItem (the entries carry a summary only: no other channels, tags or
 * custom fields), and the owners' emails not met before. A listed contact that is missing or not the
 * workspace's fails the export: the list and the contacts disagree, and a row would be lost.
 */
class ContactPageReader {
  /** Owner user id → email, filled as owners turn up (one BatchGetItem per page with new owners). */
  readonly ownerEmails = new Map<string, string>();

  constructor(
    private readonly deps: CoreDeps,
    private readonly workspaceId: string,
    private readonly plan: ContactListPlan,
    private readonly pageSize: number,
  ) {}

  /**
   * The pages from after `position` to the end of the list, each read while the one before is being
   * written (one page ahead; a consumer that stops early leaves at most that one read unused).
   */
  async *pages(position: string | null): AsyncGenerator<ContactPage> {
    let next = this.read(position);
    for (;;) {
      const page = await next;
      if (page.more) {
        position = page.position ?? position;
        next = this.read(position);
        next.catch(() => undefined); // awaited on the next turn; unheard of if the consumer stops
      }
      yield page;
      if (!page.more) return;
    }
  }

  async read(position: string | null | undefined): Promise<ContactPage> {
    const page = await readContactListEntries(this.deps, this.workspaceId, this.plan, {
      position: position ?? undefined,
      limit: this.pageSize,
    });
    const matching = page.entries.filter((entry) => this.plan.matches(entry.summary));
    const contacts = await this.contacts(matching.map((entry) => entry.contactId));
    const rows = matching.map((entry) => {
      const item = contacts.get(entry.contactId);
      if (!item) {
        throw new ExportFailure('export_incomplete', `The list names contact ${entry.contactId}, which cannot be read: the export stopped rather than leave it out`);
      }
      if (item.workspaceId !== this.workspaceId || item.contactId !== entry.contactId) {
        throw new ExportFailure('export_incomplete', `The list entry of contact ${entry.contactId} leads to another record: the export stopped rather than write it`);
      }
      return { entry, item };
    });
    await this.resolveOwners(rows.map(({ item }) => item.ownerId));
    return { rows, position: page.lastPosition ?? page.entries.at(-1)?.sortKey, more: page.more };
  }

  /** The contacts by id; consistent reads, so a contact its list entry shows is never missed. */
  private async contacts(contactIds: string[]): Promise<Map<string, ContactItem>> {
    const found = new Map<string, ContactItem>();
    const batches: string[][] = [];
    for (let i = 0; i < contactIds.length; i += batchGetSize) batches.push(contactIds.slice(i, i + batchGetSize));
    const getBatch = async (ids: string[]) => {
      let keys = ids.map((contactId) => ({ workspaceId: this.workspaceId, contactId }));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round === maxBatchRounds) throw new Error(`BatchGetItem left ${keys.length} contacts unprocessed`);
        const { data, unprocessed } = await this.deps.db.entities.contact.get(keys).go({ consistent: true });
        for (const item of data as ContactItem[]) found.set(item.contactId, item);
        keys = unprocessed as typeof keys;
      }
    };
    for (let i = 0; i < batches.length; i += batchGetsInFlight) {
      await Promise.all(batches.slice(i, i + batchGetsInFlight).map(getBatch));
    }
    return found;
  }

  private async resolveOwners(ownerIds: (string | undefined)[]): Promise<void> {
    const unknown = [...new Set(ownerIds.filter((id): id is string => id !== undefined && !this.ownerEmails.has(id)))];
    if (unknown.length === 0) return;
    let keys = unknown.map((userId) => ({ workspaceId: this.workspaceId, userId }));
    for (let round = 0; keys.length > 0; round += 1) {
      if (round === maxBatchRounds) throw new Error(`BatchGetItem left ${keys.length} users unprocessed`);
      const { data, unprocessed } = await this.deps.db.entities.user.get(keys).go();
      for (const user of data) this.ownerEmails.set(user.userId, user.email);
      keys = unprocessed as typeof keys;
    }
    // A user that is not found keeps its id in the Owner column (the import takes an id too).
    for (const id of unknown) if (!this.ownerEmails.has(id)) this.ownerEmails.set(id, id);
  }
}
