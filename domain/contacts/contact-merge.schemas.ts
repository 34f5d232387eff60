import * as z from 'zod';

/** At most this many contacts are merged into one per request. */
export const maxMergeSources = 10;

export const mergeContactsInput = z
  .object({
    sourceContactIds: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(maxMergeSources)
      .superRefine((ids, context) => {
        ids.forEach((id, index) => {
          if (ids.indexOf(id) !== index) {
            context.addIssue({ code: 'custom', path: [index], message: `${id} is given twice` });
          }
        });
      })
      .meta({
        description: `1 to ${maxMergeSources} distinct contacts to merge into this one; they end archived with \`mergedInto\` set to it`,
      }),
  })
  .meta({ id: 'MergeContactsInput' });
export type MergeContactsInput = z.infer<typeof mergeContactsInput>;
