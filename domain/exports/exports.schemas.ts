import * as z from 'zod';
import { recordId } from '../shared/ids';
import { customFieldHeaderPrefix } from '../imports/column-mapping';
import { exportColumns } from './contact-rows';
import { maxCustomFieldsPerEntityType } from '../custom-fields/custom-field.entity';
import { isoTime } from '../shared/iso-time';
import { tagName } from '../tags/tag-names';

export const exportFormats = ['csv', 'xlsx', 'vcf'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export const exportField = z
  .union([
    z.enum(exportColumns),
    z
      .string()
      .regex(/^Custom: [a-z][a-z0-9_]{0,39}$/, 'A custom field column: `Custom: ` and the field key, e.g. `Custom: plan`'),
  ])
  .meta({ description: 'A column: one of the contact columns, or `Custom: <key>` for a contact custom field' });

/** The contact list's filters (GET /v1/contacts), as a JSON object. */
export const exportContactsFilters = z
  .object({
    archived: z.boolean().default(false).meta({ description: 'true exports archived contacts instead of active ones' }),
    ownerId: z.string().min(1).max(64).optional().meta({ description: 'A user id, or `none` for unclaimed contacts' }),
    companyId: z.string().min(1).max(64).optional().meta({ description: "A company's contacts" }),
    tag: tagName.optional().meta({ description: 'Contacts with this tag (not with companyId; sorted by name)' }),
    suppressed: z.boolean().optional(),
    segment: recordId('seg', 'a segment').optional().meta({ description: 'The members of this segment (sorted by name; not with tag, companyId or an updated range)' }),
    createdFrom: isoTime.optional(),
    createdTo: isoTime.optional(),
    updatedFrom: isoTime.optional(),
    updatedTo: isoTime.optional(),
    sort: z
      .enum(['name', 'created', 'updated'])
      .optional()
      .meta({ description: 'Row order, ascending. Default: created with a created range, else updated with an updated range, else name' }),
  })
  .superRefine((filters, ctx) => {
    if (filters.tag !== undefined && filters.companyId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['companyId'], message: 'Filter by tag or by company, not both at once' });
    }
    if (filters.segment !== undefined) {
      for (const other of ['tag', 'companyId', 'updatedFrom', 'updatedTo'] as const) {
        if (filters[other] !== undefined) ctx.addIssue({ code: 'custom', path: [other], message: `Not with segment` });
      }
      if (filters.sort !== undefined && filters.sort !== 'name') ctx.addIssue({ code: 'custom', path: ['sort'], message: 'A segment’s contacts are sorted by name' });
    }
    if (filters.tag !== undefined && filters.sort !== undefined && filters.sort !== 'name') {
      ctx.addIssue({ code: 'custom', path: ['sort'], message: 'A tag’s contacts are sorted by name: leave out sort, or use name, with tag' });
    }
    for (const range of ['created', 'updated'] as const) {
      const from = filters[`${range}From`];
      const to = filters[`${range}To`];
      if (from !== undefined && to !== undefined && from > to) {
        ctx.addIssue({ code: 'custom', path: [`${range}To`], message: `${range}To is before ${range}From` });
      }
    }
  })
  .meta({ id: 'ExportContactsFilters' });
export type ExportContactsFilters = z.infer<typeof exportContactsFilters>;

/** The input of an `export_contacts` job. */
export const exportContactsInput = z
  .object({
    format: z
      .enum(exportFormats)
      .default('csv')
      .meta({
        description:
          'csv (UTF-8 with BOM, CRLF), xlsx (one sheet), or vcf (vCard 3.0, one card per contact, for address books: the columns become its properties; see the README)',
      }),
    fields: z
      .array(exportField)
      .min(1)
      .max(exportColumns.length + maxCustomFieldsPerEntityType)
      .refine((fields) => new Set(fields).size === fields.length, 'A column appears twice')
      .optional()
      .meta({
        description: `The columns, in this order. Default: every contact column, then \`${customFieldHeaderPrefix}<key>\` for every active contact custom field in creation order`,
      }),
    filters: exportContactsFilters.prefault({}),
  })
  .meta({ id: 'ExportContactsInput' });
export type ExportContactsInput = z.infer<typeof exportContactsInput>;
