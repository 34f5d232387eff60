import * as z from 'zod';
import { recordId } from '../shared/ids';
import { booleanQuery, pageQuerySchema } from '../shared/pagination';
import { tagName } from '../tags/tag-names';
import { channelKinds, maxChannelsPerContact } from './channels';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

const text = (max: number) => z.string().trim().max(max);
const optionalText = (max: number) => text(max).nullable().optional();

export const channelInput = z
  .object({
    kind: z.enum(channelKinds),
    value: z.string().trim().min(1).max(320).meta({
      description:
        'The email address, phone number, LinkedIn profile URL or Telegram username or chat id, as written (WhatsApp: the number, or the business-scoped user id Meta gives a user with a username, e.g. `US.13491208655302741918`); it is kept normalised: an email lower-cased (of `mailto:ana@example.com` or `Ana <ana@example.com>`, the address), a phone in E.164 (a leading 00 is +; without either, the defaultCountry), invisible characters dropped',
    }),
    label: optionalText(50).meta({
      description: 'e.g. work, personal. In a PATCH: left out, a channel the contact has keeps its label; null or empty clears it',
    }),
    primary: z
      .boolean()
      .optional()
      .meta({ description: 'The preferred channel of its kind; the first of a kind is primary by default' }),
  })
  .meta({ id: 'ChannelInput' });
export type ChannelInput = z.infer<typeof channelInput>;

export const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, 'An ISO 3166-1 alpha-2 country code, e.g. GB')
  .meta({ description: 'Country for phone numbers written without a +country code' });

const personFields = {
  jobTitle: optionalText(200),
  role: optionalText(200),
  segment: optionalText(200),
  city: optionalText(200),
  state: optionalText(200),
  country: optionalText(100),
  companyName: optionalText(200).meta({
    description: 'The company as written; linked to a Company record when one matches',
  }),
  companyId: z
    .string()
    .min(1)
    .max(64)
    .nullable()
    .optional()
    .meta({
      description:
        'Link to a company of the workspace (companyName then takes its name); null unlinks. Without it, a contact whose primary email domain belongs to a company is linked to it',
    }),
  customFields: z.record(z.string(), z.unknown()).optional(),
};

export const createContactInput = z
  .object({
    name: text(200).min(1),
    ...personFields,
    channels: z.array(channelInput).max(maxChannelsPerContact).default([]),
    ownerId: z
      .string()
      .min(1)
      .max(64)
      .nullable()
      .optional()
      .meta({ description: 'Owner (claimed by); a member may only give themselves' }),
    defaultCountry: countryCode.optional(),
  })
  .meta({ id: 'CreateContactInput' });
export type CreateContactInput = z.infer<typeof createContactInput>;

export const updateContactInput = z
  .object({
    name: text(200).min(1).optional(),
    ...personFields,
    channels: z
      .array(channelInput)
      .max(maxChannelsPerContact)
      .optional()
      .meta({ description: 'Replaces the whole set of channels when given' }),
    defaultCountry: countryCode.optional(),
  })
  .meta({ id: 'UpdateContactInput' });
export type UpdateContactInput = z.infer<typeof updateContactInput>;

export const addChannelInput = channelInput
  .extend({ defaultCountry: countryCode.optional() })
  .meta({ id: 'AddChannelInput' });

export const channelSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      kind: z.enum(channelKinds),
      value: z.string().meta({ description: 'As entered (display form)' }),
      normalized: z.string().meta({ description: 'Canonical form: unique per workspace and kind' }),
      label: z.string().nullable(),
      primary: z.boolean(),
    })
    .meta({ id: 'Channel' }),
);

/** Seed 001 ContactScore: the contact's latest 1–5 score (its history: GET /v1/contacts/{id}/scores). */
export const currentScoreSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      value: z.number().int().min(1).max(5),
      source: z.string().meta({ description: '`manual`, `ai` or a custom key' }),
      userId: z.string().meta({ description: 'Who gave it: a user id, or `system`' }),
      at: z.string(),
    })
    .meta({ id: 'CurrentScore' }),
);

/** Seed 001 ContactQualification: the contact's latest qualification (the last write wins, a user's or the AI's). */
export const currentQualificationSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      kind: z.string().meta({ description: 'e.g. lead, prospect, customer, not_a_fit, or a custom key' }),
      score: z.number().int().min(1).max(5).nullable(),
      source: z.enum(['manual', 'ai']),
      confidence: z
        .number()
        .nullable()
        .meta({ description: 'How sure the classifier was, 0 to 1; null for a user’s' }),
      userId: z.string(),
      at: z.string(),
    })
    .meta({ id: 'CurrentQualification' }),
);

/** What a contact merged into this one brought, kept on the target so nothing is lost. */
export const mergedFromSchema = responseSchema(() =>
  z
    .object({
      contactId: z
        .string()
        .meta({ description: 'The merged contact (archived, with `mergedInto` set to this one)' }),
      name: z.string(),
      mergedAt: z.string(),
      channels: z
        .array(z.object({ kind: z.enum(channelKinds), normalized: z.string() }))
        .meta({ description: 'Its channels, now this contact’s' }),
      tags: z
        .array(z.string())
        .meta({ description: 'The tags it had (the ones this contact lacked were added)' }),
      fields: z
        .array(z.string())
        .meta({
          description:
            'The fields it filled here because this contact had none (`city`, `customFields.<key>`, ...)',
        }),
      mergedContactIds: z
        .array(z.string())
        .meta({
          description: 'Contacts merged into it earlier; their events are listed with this contact’s too',
        }),
    })
    .meta({ id: 'MergedFrom' }),
);

export const contactSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      jobTitle: z.string().nullable(),
      role: z.string().nullable(),
      segment: z.string().nullable(),
      city: z.string().nullable(),
      state: z.string().nullable(),
      country: z.string().nullable(),
      companyId: z.string().nullable(),
      companyName: z.string().nullable(),
      ownerId: z
        .string()
        .nullable()
        .meta({ description: 'The user who claimed the contact; null when unclaimed' }),
      status: z.enum(['active', 'archived']),
      archivedAt: z.string().nullable(),
      mergedInto: z.string().nullable(),
      mergedFrom: z
        .array(mergedFromSchema())
        .meta({
          description: 'The contacts merged into this one (POST /v1/contacts/{id}/merge), oldest first',
        }),
      suppressed: z.boolean().meta({ description: 'Outbound messages to a suppressed contact are refused' }),
      suppressedAt: z.string().nullable(),
      suppressedReason: z.string().nullable(),
      email: z.string().nullable().meta({ description: 'The primary email' }),
      phone: z.string().nullable().meta({ description: 'The primary phone (E.164)' }),
      channels: z.array(channelSchema()),
      tags: z.array(z.string()),
      customFields: z.record(z.string(), z.unknown()),
      score: currentScoreSchema()
        .nullable()
        .meta({ description: 'The latest score; null when never scored' }),
      qualification: currentQualificationSchema()
        .nullable()
        .meta({ description: 'The latest qualification; null when never qualified' }),
      fitScores: z
        .record(z.string(), z.number().int())
        .meta({
          description:
            'productId → the fit score for that product, 0–100 (`GET /v1/contacts/{id}/fit/{productId}` for its criteria)',
        }),
      createdBy: z.string(),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Contact' }),
);
export type Contact = ResponseOf<typeof contactSchema>;

export const contactSummarySchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      companyName: z.string().nullable(),
      ownerId: z.string().nullable(),
      status: z.enum(['active', 'archived']),
      suppressed: z.boolean(),
      email: z.string().nullable(),
      phone: z.string().nullable(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'ContactSummary' }),
);
export type ContactSummary = ResponseOf<typeof contactSummarySchema>;

export const contactSearchHitSchema = responseSchema(() =>
  contactSummarySchema()
    .omit({ updatedAt: true })
    .meta({
      id: 'ContactSearchHit',
      description:
        'A contact summary as search finds it (without updatedAt: GET the contact for everything else)',
    }),
);
export type ContactSearchHit = ResponseOf<typeof contactSearchHitSchema>;

export const contactIdParams = z.object({ contactId: recordId('ct', 'a contact') });
export const channelIdParams = contactIdParams.extend({ channelId: recordId('ch', 'a channel') });

const isoDateTime = z.iso.datetime({ offset: true });

export const listContactsQuery = pageQuerySchema.extend({
  sort: z.enum(['name', 'created', 'updated']).default('name'),
  order: z.enum(['asc', 'desc']).optional().meta({ description: 'Default: asc for name, desc for dates' }),
  archived: booleanQuery(false).meta({ description: 'true lists archived contacts instead of active ones' }),
  ownerId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'A user id, or `none` for unclaimed contacts' }),
  companyId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .meta({ description: "A company's contacts (its own list); with ownerId, filtered to that owner" }),
  tag: tagName
    .optional()
    .meta({
      description:
        'Contacts with this tag (its own list, sorted by name only: `sort` must be name); with ownerId, filtered to that owner',
    }),
  suppressed: booleanQuery().optional(),
  segment: recordId('seg', 'a segment')
    .optional()
    .meta({
      description:
        'The members of this segment, by name (`sort` must be name); with archived, ownerId or suppressed, filtered. A page may come back short, with a cursor',
    }),
  createdFrom: isoDateTime.optional(),
  createdTo: isoDateTime.optional(),
  updatedFrom: isoDateTime.optional(),
  updatedTo: isoDateTime.optional(),
});
export type ListContactsQuery = z.infer<typeof listContactsQuery>;

export const searchContactsQuery = pageQuerySchema.extend({
  q: z
    .string()
    .trim()
    .min(2)
    .max(100)
    .meta({
      description: 'A prefix of a name, email, phone number or company; accents and case do not matter',
    }),
  archived: booleanQuery(false),
  ownerId: z.string().min(1).max(64).optional(),
  suppressed: booleanQuery().optional(),
});
export type SearchContactsQuery = z.infer<typeof searchContactsQuery>;

export const lookupContactQuery = z.object({
  kind: z.enum(channelKinds),
  value: z.string().trim().min(1).max(320),
  defaultCountry: countryCode.optional(),
});

export const assignOwnerInput = z
  .object({ ownerId: z.string().min(1).max(64) })
  .meta({ id: 'AssignOwnerInput' });
export const suppressInput = z.object({ reason: text(500).optional() }).meta({ id: 'SuppressInput' });
