import * as z from 'zod';
import { countryCode } from '../contacts/contacts.schemas';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { columnMappingSchema } from './column-mapping';
import { importLimits } from './import-file-error';
import { importWriteOptions } from './import-writer.schemas';
import { responseSchema, type ResponseOf } from '../shared/response-schema';
import { importFormats, type ImportFormat } from './import-formats';

export { importFormats };
export type ImportFileFormat = ImportFormat;

/** The formats of the empty import template (a vCard file has no header to fill in). */
export const importTemplateFormats = ['csv', 'xlsx'] as const;
export type ImportTemplateFormat = (typeof importTemplateFormats)[number];

export const importContentTypes: Record<ImportFileFormat, string> = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  vcf: 'text/vcard',
  xls: 'application/vnd.ms-excel',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
};

// Control characters and path separators: a file name is a name, never a path.
const unsafeFileNameChars = /[\u0000-\u001f\u007f-\u009f/\\]/;

export const createImportUploadInput = z
  .object({
    fileName: z
      .string()
      .min(1)
      .max(255)
      .refine((name) => !unsafeFileNameChars.test(name), 'No path separators (/ \\) or control characters')
      .meta({
        description: 'The file’s name; its extension (.csv, .tsv, .txt, .xlsx, .xls, .ods, .vcf, .vcard) gives the format unless `format` is set',
        example: 'contacts.csv',
      }),
    sizeBytes: z
      .number()
      .int()
      .min(1)
      .meta({
        description: `The file’s exact size in bytes: at most ${importLimits.maxBytes} (512 MiB; more is a 422 \`limit_exceeded\`)`,
      }),
    format: z
      .enum(importFormats)
      .optional()
      .meta({
        description:
          'CSV (any delimiter; UTF-8, UTF-16 or a legacy code page such as Windows-1252 or Mac Roman), XLSX, vCard (.vcf: versions 2.1, 3.0 and 4.0, one contact per card), XLS (an Excel 97-2003 workbook, or the HTML table or Excel 2003 XML spreadsheet web apps save as .xls; at most 32 MiB) or ODS (OpenDocument; at most 32 MiB)',
      }),
  })
  .strict()
  .meta({ id: 'CreateImportUploadInput' });
export type CreateImportUploadInput = z.infer<typeof createImportUploadInput>;

export const importUploadSchema = responseSchema(() =>
  z
    .object({
      uploadId: z
        .string()
        .meta({
          description:
            'Name it in `POST /v1/imports` once the file is uploaded (the same user: to another the upload is unknown); it becomes the import job’s id',
        }),
      format: z.enum(importFormats),
      uploadUrl: z
        .string()
        .meta({ description: 'PUT the file’s bytes here, with `uploadHeaders`, before `uploadExpiresAt`' }),
      uploadMethod: z.literal('PUT'),
      uploadHeaders: z
        .object({ 'content-type': z.string() })
        .meta({
          description: 'Headers the PUT must carry as given; its body must be exactly `sizeBytes` bytes',
        }),
      uploadExpiresAt: z.string(),
    })
    .meta({ id: 'ImportUpload' }),
);
export type ImportUpload = ResponseOf<typeof importUploadSchema>;

export const uploadId = recordId('job', 'an import upload');

export const startImportInput = z
  .object({
    uploadId,
    format: z.enum(importFormats).meta({ description: 'As given (or found) when the upload was created' }),
    sheet: z
      .string()
      .min(1)
      .max(31)
      .optional()
      .meta({ description: 'XLSX, XLS, ODS: the sheet to import (default: the first visible one with contacts)' }),
    mapping: columnMappingSchema.optional().meta({
      description:
        'Column header → target (`name`, `firstName`, `middleName`, `lastName`, `email`, `phone`, `whatsapp`, `telegram`, `linkedin`, `company`, `jobTitle`, `role`, `segment`, `city`, `state`, `country`, `tags`, `owner`, `custom:<key>`, `ignore`), over the recognised headers',
    }),
    defaultCountry: countryCode.optional(),
    ...importWriteOptions.shape,
  })
  .strict()
  .meta({ id: 'StartImportInput' });
export type StartImportInput = z.output<typeof startImportInput>;

export const importTemplateQuery = z.object({
  format: z.enum(importTemplateFormats).default('csv'),
});

export const importJobParams = z.object({ jobId: recordId('job', 'an import job') });
export const listImportErrorsQuery = pageQuerySchema;
