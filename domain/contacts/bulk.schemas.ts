import * as z from 'zod';
import { recordId } from '../shared/ids';
import { maxTagsPerContact, tagName } from '../tags/tag-names';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export const bulkActions = [
  'claim',
  'release',
  'assign',
  'tag',
  'untag',
  'archive',
  'unarchive',
  'suppress',
  'unsuppress',
] as const;
export type BulkAction = (typeof bulkActions)[number];

export const bulkOutcomes = [
  'changed',
  'unchanged',
  'forbidden',
  'not_found',
  'conflict',
  'invalid',
  'error',
] as const;
export type BulkOutcome = (typeof bulkOutcomes)[number];

/** At most this many contacts per request: 500 single writes at 8 at a time fit well inside a Lambda's run. */
export const maxBulkContacts = 500;

export const bulkContactsInput = z
  .object({
    action: z.enum(bulkActions),
    contactIds: z
      // Not shape-checked: a bulk request reports an unknown or odd id as that item's `not_found`.
      .array(z.string().min(1).max(64))
      .min(1)
      .max(maxBulkContacts)
      .optional()
      .meta({
        description: `1 to ${maxBulkContacts} contact ids; repeated ids count once. Or \`segmentId\``,
      }),
    segmentId: recordId('seg', 'a segment')
      .optional()
      .meta({
        description: `The members of this segment, ${maxBulkContacts} a request: repeat with the answer's \`nextCursor\` as \`cursor\` until it is null`,
      }),
    cursor: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .meta({ description: 'With segmentId: the `nextCursor` of the previous request, unchanged' }),
    ownerId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .meta({ description: 'assign: the user who becomes the owner' }),
    tags: z
      .array(tagName)
      .min(1)
      .max(maxTagsPerContact)
      .optional()
      .meta({ description: 'tag / untag: the tags to add or remove' }),
    reason: z.string().trim().max(500).optional().meta({ description: 'suppress: why' }),
  })
  .superRefine((input, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const tagging = input.action === 'tag' || input.action === 'untag';
    if ((input.contactIds === undefined) === (input.segmentId === undefined))
      issue('contactIds', 'Give contactIds or segmentId (one of them)');
    if (input.cursor !== undefined && input.segmentId === undefined)
      issue('cursor', 'cursor continues a segmentId request');
    if (input.action === 'assign' && input.ownerId === undefined)
      issue('ownerId', 'assign needs the ownerId of the new owner');
    if (input.action !== 'assign' && input.ownerId !== undefined)
      issue('ownerId', 'ownerId is only used by assign');
    if (tagging && input.tags === undefined) issue('tags', `${input.action} needs the tags`);
    if (!tagging && input.tags !== undefined) issue('tags', 'tags are only used by tag and untag');
    if (input.action !== 'suppress' && input.reason !== undefined)
      issue('reason', 'reason is only used by suppress');
  })
  .meta({ id: 'BulkContactsInput' });
export type BulkContactsInput = z.infer<typeof bulkContactsInput>;

export const bulkItemResultSchema = responseSchema(() =>
  z
    .object({
      contactId: z.string(),
      outcome: z.enum(bulkOutcomes).meta({
        description:
          '`changed` / `unchanged` (already as asked); failures: `forbidden` (the caller may not change this contact), `not_found`, `conflict` (e.g. claimed by someone else, or changed concurrently twice), `invalid` (e.g. too many tags), `error` (unexpected: retry the item)',
      }),
      version: z.number().int().optional().meta({ description: 'The contact’s version after the operation' }),
      message: z.string().optional().meta({ description: 'Why it failed' }),
    })
    .meta({ id: 'BulkItemResult' }),
);
export type BulkItemResult = ResponseOf<typeof bulkItemResultSchema>;

export const bulkContactsResult = responseSchema(() =>
  z
    .object({
      results: z
        .array(bulkItemResultSchema())
        .meta({ description: 'One per distinct contact id, in the order given' }),
      counts: z.object({ changed: z.number().int(), unchanged: z.number().int(), failed: z.number().int() }),
      nextCursor: z
        .string()
        .nullable()
        .meta({
          description:
            'With segmentId: more members are left; send the same request with it as `cursor`. Null when done (and always with contactIds)',
        }),
    })
    .meta({ id: 'BulkContactsResult' }),
);
export type BulkContactsResult = ResponseOf<typeof bulkContactsResult>;
