import * as z from 'zod';
import { booleanQuery } from '../shared/pagination';
import {
  customFieldEntityTypes,
  customFieldTypes,
  maxCustomFieldsPerEntityType,
} from './custom-field.entity';
import { responseSchema, type ResponseOf } from '../shared/response-schema';

export { maxCustomFieldsPerEntityType };
export const maxSelectOptions = 100;

export const customFieldKeySchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,39}$/,
    'Use 1 to 40 lowercase letters, digits or underscores, starting with a letter',
  )
  .meta({ description: 'The immutable API name, unique per workspace and entity type' });

export const customFieldEntityTypeSchema = z
  .enum(customFieldEntityTypes)
  .meta({ description: 'The kind of record the field belongs to' });

export const customFieldTypeSchema = z.enum(customFieldTypes).meta({
  description:
    'text (up to 10,000 characters), number (finite), date (`YYYY-MM-DD`), boolean, select (one of `options`). Fixed at creation.',
});

export const selectOptionSchema = z
  .object({
    value: z.string().trim().min(1).max(100).meta({ description: 'Stored on records; never changes' }),
    label: z.string().trim().min(1).max(200),
  })
  .meta({ id: 'SelectOption' });
export type SelectOption = z.infer<typeof selectOptionSchema>;

const label = z.string().trim().min(1).max(200);

const options = z
  .array(selectOptionSchema)
  .min(1)
  .max(maxSelectOptions)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((option, index) => {
      if (seen.has(option.value)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'value'],
          message: `The value "${option.value}" appears twice`,
        });
      }
      seen.add(option.value);
    });
  });

export const customFieldSchema = responseSchema(() =>
  z
    .object({
      entityType: customFieldEntityTypeSchema,
      key: z.string(),
      label: z.string(),
      type: customFieldTypeSchema,
      options: z
        .array(selectOptionSchema)
        .meta({ description: 'The choices of a select field; empty for other types' }),
      required: z
        .boolean()
        .meta({ description: 'Records must carry a value when created, and cannot clear it' }),
      archived: z
        .boolean()
        .meta({ description: 'Hidden from lists by default; values sent for it are ignored' }),
      position: z.number().int().meta({ description: 'Creation order, from 1' }),
      version: z.number().int(),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'CustomField' }),
);
export type CustomField = ResponseOf<typeof customFieldSchema>;

export const customFieldListSchema = responseSchema(() =>
  z.object({ items: z.array(customFieldSchema()) }).meta({
    id: 'CustomFieldList',
    description: 'Every definition of the entity type (at most 100), in creation order',
  }),
);

export const listCustomFieldsQuery = z.object({
  entityType: customFieldEntityTypeSchema,
  includeArchived: booleanQuery(false).meta({ description: 'Also list archived fields' }),
});
export type ListCustomFieldsQuery = z.infer<typeof listCustomFieldsQuery>;

export const customFieldParams = z.object({
  entityType: customFieldEntityTypeSchema,
  key: customFieldKeySchema,
});

export const createCustomFieldInput = z
  .object({
    entityType: customFieldEntityTypeSchema,
    key: customFieldKeySchema,
    label,
    type: customFieldTypeSchema,
    options: options
      .optional()
      .meta({ description: 'Select fields only: 1 to 100 options with distinct values' }),
    required: z.boolean().default(false),
  })
  .superRefine((input, ctx) => {
    if (input.type === 'select' && input.options === undefined) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'A select field needs 1 to 100 options' });
    }
    if (input.type !== 'select' && input.options !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'Only select fields have options' });
    }
  })
  .meta({ id: 'CreateCustomFieldInput' });
export type CreateCustomFieldInput = z.infer<typeof createCustomFieldInput>;

export const updateCustomFieldInput = z
  .strictObject({
    label: label.optional(),
    required: z.boolean().optional(),
    archived: z.boolean().optional(),
    options: options.optional().meta({
      description:
        'Select fields only: the full new list. Every existing value must stay (relabel or reorder it); new values are added. Options are never removed.',
    }),
    type: customFieldTypeSchema
      .optional()
      .meta({ description: 'Accepted only if unchanged: a type never changes' }),
  })
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    message: 'Give at least one of label, required, archived, options',
  })
  .meta({ id: 'UpdateCustomFieldInput', minProperties: 1 });
export type UpdateCustomFieldInput = z.infer<typeof updateCustomFieldInput>;
