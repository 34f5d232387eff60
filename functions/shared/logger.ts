import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs. Never log a header, a body or a token: log ids and outcomes. */
export const logger = new Logger({
  serviceName: 'crm',
  logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? (process.env.VITEST ? 'SILENT' : 'INFO'),
});
