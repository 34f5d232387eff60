import { Logger } from '@aws-lambda-powertools/logger';

type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** Structured JSON logs. Never log a header, a body or a token: log ids and outcomes. */
export const logger = new Logger({
  serviceName: 'crm',
  logLevel: (process.env.LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? 'INFO',
});
