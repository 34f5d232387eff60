/** The formats an import file can claim to be (the upload's choice, or its file name's extension). */
export const importFormats = ['csv', 'xlsx', 'vcf', 'xls', 'ods'] as const;
export type ImportFormat = (typeof importFormats)[number];
