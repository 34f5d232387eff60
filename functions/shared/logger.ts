import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { mapStackText } from './source-mapped-stacks';

type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/**
 * Powertools' own log shape, with the stack and location of each error logged pointing at the
 * TypeScript source rather than the minified bundle (functions/shared/source-mapped-stacks.ts).
 */
class SourceMappedLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_arn: attributes.lambdaContext?.invokedFunctionArn,
        function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additional);
  }

  override formatError(error: Error): LogAttributes {
    const formatted = super.formatError(error);
    if (typeof error.stack !== 'string') return formatted;
    const stack = mapStackText(error.stack);
    return { ...formatted, location: this.getCodeLocation(stack), stack: Array.isArray(formatted.stack) ? stack.split('\n') : stack };
  }
}

/** Structured JSON logs. Never log a header, a body or a token: log ids and outcomes. */
export const logger = new Logger({
  serviceName: 'crm',
  logLevel: (process.env.LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? 'INFO',
  logFormatter: new SourceMappedLogFormatter(),
});
