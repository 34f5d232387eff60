import * as z from 'zod';
import { recordId } from '../shared/ids';
import { listContactsQuery } from '../contacts/contacts.schemas';
import { booleanQuery, pageQuerySchema } from '../shared/pagination';
import { maxDomainsPerCompany } from './company-domains';
import { companySizes } from './company-record';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export { companySizes };

const text = (max: number) => z.string().trim().max(max);
const optionalText = (max: number) => text(max).nullable().optional();
const id = z.string().min(1).max(64);

const domains = z.array(z.string().max(300)).max(maxDomainsPerCompany).meta({
  description:
    'Web domains of the company, unique per workspace: `acme.com` (a URL or `www.` is reduced to its domain; IDNs are stored in punycode). Free mailbox domains (gmail.com, ...) are refused. Contacts created with an email on one of them are linked to the company.',
});

const companyFields = {
  website: optionalText(500).meta({
    description: 'Home page; `https://` is assumed when no scheme is given',
  }),
  industry: optionalText(200),
  size: z.enum(companySizes).nullable().optional().meta({ description: 'Head count band' }),
  city: optionalText(200),
  state: optionalText(200),
  country: optionalText(100),
};

export const createCompanyInput = z
  .object({
    name: text(200).min(1),
    domains: domains.default([]),
    ...companyFields,
    ownerId: id
      .nullable()
      .optional()
      .meta({ description: 'The owning user; a member may only give themselves' }),
  })
  .meta({ id: 'CreateCompanyInput' });
export type CreateCompanyInput = z.infer<typeof createCompanyInput>;

export const updateCompanyInput = z
  .object({
    name: text(200).min(1).optional(),
    domains: domains.optional().meta({ description: 'Replaces the whole set of domains when given' }),
    ...companyFields,
    ownerId: id.nullable().optional().meta({
      description:
        'A user id, or null to release; a member may only take an unclaimed company or release their own',
    }),
  })
  .meta({ id: 'UpdateCompanyInput' });
export type UpdateCompanyInput = z.infer<typeof updateCompanyInput>;

export const companySchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      domains: z.array(z.string()),
      website: z.string().nullable(),
      industry: z.string().nullable(),
      size: z.enum(companySizes).nullable(),
      city: z.string().nullable(),
      state: z.string().nullable(),
      country: z.string().nullable(),
      ownerId: z.string().nullable().meta({ description: 'The owning user; null when unclaimed' }),
      status: z.enum(['active', 'archived']),
      archivedAt: z.string().nullable(),
      mergedInto: z
        .string()
        .nullable()
        .meta({ description: 'The company this one was merged into (it is then archived)' }),
      createdBy: z.string(),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Company' }),
);
export type Company = ResponseOf<typeof companySchema>;

export const companyIdParams = z.object({ companyId: recordId('co', 'a company') });

export const listCompaniesQuery = pageQuerySchema.extend({
  archived: booleanQuery(false).meta({ description: 'true lists archived companies instead of active ones' }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .meta({
      description:
        'Finds companies by the beginning of their name or of any later word of it, case- and accent-insensitive, punctuation ignored (`agricole` finds Crédit Agricole; German umlauts may be spelled out: `mueller`). Those whose name begins with it come first, by name; then those matched by a later word, in the order of those words. Each company comes once; a page may hold fewer than `limit` companies while `nextCursor` is not null',
    }),
});
export type ListCompaniesQuery = z.infer<typeof listCompaniesQuery>;

/**
 * The contacts list of a company: the contact list's options, the company taken from the path (a tag
 * or segment filter is not one of them: the contact list serves one of tag, segment or company).
 */
export const listCompanyContactsQuery = listContactsQuery.omit({ companyId: true, tag: true, segment: true });
export type ListCompanyContactsQuery = z.infer<typeof listCompanyContactsQuery>;

export const mergeCompaniesInput = z
  .object({
    sourceCompanyIds: z
      .array(id)
      .min(1)
      .max(10)
      .meta({ description: 'The companies to merge into this one; they end archived with `mergedInto` set' }),
  })
  .meta({ id: 'MergeCompaniesInput' });
export type MergeCompaniesInput = z.infer<typeof mergeCompaniesInput>;

export const mergeResultSchema = responseSchema(() =>
  z
    .object({
      status: z
        .enum(['completed', 'in_progress'])
        .meta({ description: '`in_progress` (HTTP 202): repeat the same request to move the rest' }),
      company: companySchema().meta({ description: 'The target company as it is now' }),
      contactsMoved: z.number().int().meta({ description: 'Contacts moved to the target by this request' }),
      sources: z.array(
        z.object({
          id: z.string(),
          status: z
            .enum(['merged', 'moving'])
            .meta({ description: '`moving`: some of its records are still to move' }),
        }),
      ),
    })
    .meta({ id: 'CompanyMergeResult' }),
);
export type MergeResult = ResponseOf<typeof mergeResultSchema>;
