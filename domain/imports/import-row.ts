import type { ChannelKind } from '../contacts/channels';

/**
 * What one record of an import file becomes once read and normalised (domain/imports/row-*.ts), and
 * what the writer (domain/imports/import-writer.ts) dedupes and stores. The reader knows the file; the
 * writer knows the table: rules that need the table (owner, custom fields, existing contacts) are the
 * writer's.
 */

/** Where a record sits in its file: both numbers are 1-based. */
export interface RowPosition {
  /** Data row number: the header is not counted, blank records are. */
  row: number;
  /** Physical line where the record starts (a quoted field may span lines). */
  line: number;
  /**
   * The row a spreadsheet shows the record on: the sheet row (XLSX); for a CSV, the record's place
   * among all the file's records, the lines above the header and blank ones included, a record with
   * quoted line breaks counted once, Excel's `sep=` line not counted (Excel reads it as a setting).
   */
  sheetRow?: number;
}

/** The contact fields an import column can fill (besides name, channels, tags, owner, custom fields). */
export const importableTextFields = ['jobTitle', 'role', 'segment', 'city', 'state', 'country', 'companyName'] as const;
export type ImportableTextField = (typeof importableTextFields)[number];

export interface ImportCandidate extends RowPosition {
  /** As given, or the first valid channel value when the row has no name. */
  name: string;
  /** Whether `name` came from the file (false: derived from a channel). */
  named: boolean;
  /** Normalised values, deduplicated, in file order; at least one email or phone. */
  channels: { kind: ChannelKind; value: string }[];
  fields: Partial<Record<ImportableTextField, string>>;
  /** Raw text by custom field key; the writer validates it against the workspace's catalogue. */
  customFields: Record<string, string>;
  /** Custom field key → the header of the column its value came from, for the report. */
  customFieldColumns?: Record<string, string>;
  /** Tags from the row's tag columns (the job's tags are the writer's to add). */
  tags: string[];
  /** An owner named in the row (a user's email or id); the writer resolves it. */
  owner?: string;
  /** The header of the column `owner` came from, for the report. */
  ownerColumn?: string;
  /** The record's fields as read, for the error report. */
  raw: string[];
  /**
   * Channel values of the row that are not valid while another email or phone is: the contact is
   * imported without them, and the report lists them (a row is rejected only when it has no valid
   * email or phone at all).
   */
  dropped?: DroppedValue[];
}

/**
 * A value of an imported row that the contact does not get (or not all of): an invalid channel value
 * beside a valid one, a phone's extension, an owner who is no user of the workspace. The report lists
 * it with `code` and `rejected: false`.
 */
export interface DroppedValue {
  code: RejectCode;
  column: string;
  value: string;
  message: string;
}

/**
 * Why a row was not imported. Documented in the README; every rejected row carries exactly one.
 * - `no_channel`: no email or phone at all;
 * - `invalid_email` / `invalid_phone`: the row's only email / phone values are not valid;
 * - `too_long`: a value exceeds its field's limit;
 * - `too_many_channels`: more channel values than a contact may hold;
 * - `unknown_owner`: the owner column names no active user of the workspace;
 * - `invalid_custom_field`: a value the custom field's type does not accept;
 * - `channel_conflict`: the row's values belong to different existing contacts that it may not join;
 * - `malformed_record`: the record could not be parsed (e.g. an unclosed quote), or has more fields
 *   than the header;
 * - `too_many_tags`: the contact would have more tags than a contact may hold;
 * - `invalid_tag`: a tag that is not a valid tag name, or one being deleted;
 * - `not_permitted`: the job's creator may not do what the row asks (a member updating a contact
 *   claimed by someone else, giving another user as owner, or setting a `bot:` tag);
 * - `already_exists` (mode `create_only`): the row's values belong to a contact that existed before;
 * - `invalid_channel`: a WhatsApp, Telegram or LinkedIn value that is not valid;
 * - `record_too_large`: the contact the row would make (or its change's event) is past the 400 KB a
 *   DynamoDB item may hold (long custom field values, usually);
 * - `value_not_kept` (never a rejection): a value the contact has no place for: a phone's extension,
 *   or a second, different value for a field that holds one (two company columns, say).
 * A row imported without some of its values (`ImportCandidate.dropped`) is not rejected: each value
 * left out is listed in the error report with `invalid_email`, `invalid_phone`, `invalid_channel`,
 * `unknown_owner` or `value_not_kept`, and `rejected: false`.
 */
export const rejectCodes = [
  'no_channel',
  'invalid_email',
  'invalid_phone',
  'too_long',
  'too_many_channels',
  'unknown_owner',
  'invalid_custom_field',
  'channel_conflict',
  'malformed_record',
  'too_many_tags',
  'invalid_tag',
  'not_permitted',
  'already_exists',
  'invalid_channel',
  'record_too_large',
  'value_not_kept',
] as const;
export type RejectCode = (typeof rejectCodes)[number];

export interface RowRejection extends RowPosition {
  code: RejectCode;
  /** The column (header text) the problem is in, when there is one. */
  column?: string;
  message: string;
  raw: string[];
}

export type NormalisedRow =
  | { kind: 'blank'; position: RowPosition }
  | { kind: 'candidate'; candidate: ImportCandidate }
  | { kind: 'rejected'; rejection: RowRejection };
