import * as z from 'zod';
import { tagPathParam } from '../tags/tag-path-ref';
import { maxTagsPerContact, tagName } from '../tags/tag-names';
import { contactIdParams } from './contacts.schemas';

export const addTagsInput = z
  .object({
    tags: z
      .array(tagName)
      .min(1)
      .max(maxTagsPerContact)
      .meta({
        description: `Tags to add; ones the contact already has (in any case) change nothing. A contact has at most ${maxTagsPerContact} tags`,
      }),
  })
  .meta({ id: 'AddTagsInput' });
export type AddTagsInput = z.infer<typeof addTagsInput>;

export const tagParams = contactIdParams.extend({
  tag: tagPathParam.pipe(tagName).meta({
    description:
      'The tag name, URL-encoded, matched case- and accent-insensitively; a name with `/`, `?`, `#`, `%` or `\\` as its `~` reference (the tag’s `ref`, or `~` and the base64url of any spelling)',
  }),
});
