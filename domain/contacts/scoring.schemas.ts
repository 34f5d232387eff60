import * as z from 'zod';
import { storableFraction } from '../shared/storable-numbers';
import { pageQuerySchema } from '../shared/pagination';
import { contactSchema } from './contacts.schemas';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

const key = (what: string) =>
  z.string().regex(/^[a-z0-9_]{1,40}$/, `A ${what} key: 1 to 40 of a-z, 0-9 and _`);

export const qualificationSources = ['manual', 'ai'] as const;

const rating = z.number().int().min(1).max(5);

/** How sure a classifier is of a qualification, 0 to 1 (null: a user's, or a classifier that did not say). */
export const confidenceValue = storableFraction();
/** The evidence a classifier gave: a few short sentences a user can check against the conversation. */
export const reasonsValue = z.array(z.string().min(1).max(300)).max(5);

export const addScoreInput = z
  .object({
    value: rating.meta({ description: 'A rating from 1 to 5' }),
    source: key('source')
      .default('manual')
      .meta({ description: '`manual` (default), `ai`, or a custom key such as `webinar_form`' }),
  })
  .meta({ id: 'AddScoreInput' });
export type AddScoreInput = z.infer<typeof addScoreInput>;

export const setQualificationInput = z
  .object({
    kind: key('qualification').meta({
      description: '`lead`, `prospect`, `customer`, `not_a_fit`, or a custom key',
    }),
    score: rating.optional().meta({ description: 'How strongly the kind applies, 1 to 5' }),
    source: z
      .enum(qualificationSources)
      .default('manual')
      .meta({ description: '`manual` (default) for a user; the AI classifier writes `ai`' }),
    confidence: confidenceValue
      .optional()
      .meta({
        description:
          'How sure a classifier is, 0 to 1 (for an `ai` qualification written by your own classifier)',
      }),
    reasons: reasonsValue
      .optional()
      .meta({ description: 'The evidence a classifier went by (at most 5 short sentences)' }),
  })
  .meta({ id: 'SetQualificationInput' });
export type SetQualificationInput = z.infer<typeof setQualificationInput>;

export const contactScoreSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      contactId: z.string(),
      value: z.number().int(),
      source: z.string(),
      userId: z.string().meta({ description: 'Who gave it: a user id, or `system`' }),
      createdAt: z.string(),
      mergedFrom: z
        .string()
        .optional()
        .meta({ description: 'Present on a copy made by a merge: the contact it was given to' }),
    })
    .meta({ id: 'ContactScore' }),
);
export type ContactScore = ResponseOf<typeof contactScoreSchema>;

export const contactQualificationSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      contactId: z.string(),
      kind: z.string(),
      score: z.number().int().nullable(),
      source: z.enum(qualificationSources),
      confidence: z
        .number()
        .nullable()
        .meta({ description: 'How sure the classifier was, 0 to 1; null for a user’s' }),
      reasons: z
        .array(z.string())
        .meta({ description: 'The evidence the classifier went by; empty for a user’s' }),
      userId: z.string(),
      createdAt: z.string(),
      mergedFrom: z
        .string()
        .optional()
        .meta({ description: 'Present on a copy made by a merge: the contact it was given to' }),
    })
    .meta({ id: 'ContactQualification' }),
);
export type ContactQualification = ResponseOf<typeof contactQualificationSchema>;

export const scoredContactSchema = responseSchema(() =>
  z
    .object({ score: contactScoreSchema(), contact: contactSchema() })
    .meta({ id: 'ScoredContact', description: 'The new score and the contact carrying it' }),
);

export const qualifiedContactSchema = responseSchema(() =>
  z
    .object({ qualification: contactQualificationSchema(), contact: contactSchema() })
    .meta({ id: 'QualifiedContact', description: 'The latest qualification and the contact carrying it' }),
);

export const qualificationQuery = pageQuerySchema;

export const qualificationViewSchema = responseSchema(() =>
  z
    .object({
      current: contactQualificationSchema()
        .nullable()
        .meta({ description: 'The latest qualification; null when never qualified' }),
      history: z.array(contactQualificationSchema()).meta({ description: 'Newest first, one page' }),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass as `cursor` for the next page of history; null on the last page' }),
    })
    .meta({ id: 'QualificationView' }),
);
export type QualificationView = ResponseOf<typeof qualificationViewSchema>;
