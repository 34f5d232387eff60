import * as z from 'zod';
import { tagPathParam } from './tag-path-ref';
import { pageQuerySchema } from '../shared/pagination';
import { tagName } from './tag-names';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

/** A tag colour: `#rrggbb`, stored lower-case. */
export const tagColor = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, 'Use a hex colour `#rrggbb`')
  .transform((value) => value.toLowerCase())
  .meta({ description: 'A hex colour `#rrggbb`' });

export const maxTagDescriptionLength = 500;
const tagDescription = z
  .string()
  .trim()
  .max(maxTagDescriptionLength, `At most ${maxTagDescriptionLength} characters`)
  .refine(
    (text) => !/[\u0000-\u0008\u000b-\u001f\u007f]/u.test(text),
    'No control characters other than line breaks and tabs',
  );

export const tagSchema = responseSchema(() =>
  z
    .object({
      key: z.string().meta({ description: 'The folded name: what contacts’ tags match on' }),
      ref: z.string().meta({
        description:
          'How the tag’s routes address it (`{key}`): the key itself, or, when the key holds `/`, `?`, `#`, `%` or `\\` (which API Gateway decodes before routing), `~` and the base64url of the key',
      }),
      name: z.string().meta({ description: 'The display name contacts carry' }),
      color: z.string().nullable(),
      description: z.string().nullable(),
      system: z
        .boolean()
        .meta({ description: '`bot:` tags: set or removed only by an owner/admin or the system' }),
      usageCount: z.number().int().meta({
        description:
          'Contacts (active or archived) carrying the tag; kept from the change stream, so it trails a change by a moment',
      }),
      status: z.enum(['active', 'renaming', 'deleting']).meta({
        description: '`renaming` / `deleting`: a rename or delete is under way; repeat it to go on',
      }),
      renamingTo: z.string().nullable().meta({ description: 'While renaming: the new key' }),
      createdBy: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      version: z.number().int(),
    })
    .meta({ id: 'Tag' }),
);
export type Tag = ResponseOf<typeof tagSchema>;

export const tagKeyParams = z.object({
  // Looser than a name: a key may be longer than its name (folding turns ß into ss).
  key: tagPathParam.pipe(z.string().max(200)).meta({
    description:
      'The tag’s `ref`, its key, or any spelling of its name, URL-encoded; matched by key. A name with `/`, `?`, `#`, `%` or `\\` must be given as its `ref`: API Gateway decodes paths before routing them',
  }),
});

export const listTagsQuery = pageQuerySchema.extend({
  q: tagName
    .optional()
    .meta({ description: 'Only tags whose key begins with this (folded); `q=bot:` lists the system tags' }),
});
export type ListTagsQuery = z.infer<typeof listTagsQuery>;

export const createTagInput = z
  .object({
    name: tagName,
    color: tagColor.optional(),
    description: tagDescription.optional(),
  })
  .strict()
  .meta({ id: 'CreateTagInput' });
export type CreateTagInput = z.infer<typeof createTagInput>;

export const updateTagInput = z
  .object({
    name: tagName.optional().meta({
      description: 'A new name: every tagged contact follows, a bounded number per request (202 until done)',
    }),
    color: tagColor.nullable().optional().meta({ description: 'null clears it' }),
    description: tagDescription.nullable().optional().meta({ description: 'null or empty clears it' }),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, {
    message: 'Give at least one of name, color, description',
  })
  .meta({ id: 'UpdateTagInput', minProperties: 1 });
export type UpdateTagInput = z.infer<typeof updateTagInput>;

/** What a rename or delete request did when work is left (HTTP 202: repeat the same request). */
export const tagProgressSchema = responseSchema(() =>
  z
    .object({
      status: z.literal('in_progress'),
      operation: z.enum(['rename', 'delete']),
      processed: z.number().int().meta({ description: 'Contacts changed by this request' }),
      tag: tagSchema().meta({ description: 'The tag being renamed or deleted, as it is now' }),
    })
    .meta({ id: 'TagProgress' }),
);
export type TagProgress = ResponseOf<typeof tagProgressSchema>;
