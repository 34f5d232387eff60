import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { responseSchema } from '../../domain/shared/response-schema';
import {
  conflictCodes,
  DomainError,
  type ConflictCode,
  type DomainErrorCode,
  type FieldIssue,
} from '../../domain/shared/errors';

/** Every 409 has its own code (see `conflictCodes`); the other codes map one to one. */
export const statusByCode: Record<DomainErrorCode, number> = {
  validation_failed: 400,
  invalid_cursor: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  ...(Object.fromEntries(conflictCodes.map((code) => [code, 409])) as Record<ConflictCode, 409>),
  precondition_failed: 412,
  idempotency_key_reused: 422,
  limit_exceeded: 422,
  invalid_reference: 422,
  unprocessable: 422,
  payload_too_large: 413,
  record_too_large: 413,
  unsupported_media_type: 415,
  precondition_required: 428,
  rate_limited: 429,
};

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const problemSchema = responseSchema(() =>
  z
    .object({
      type: z.string(),
      title: z.string(),
      status: z.number().int(),
      detail: z.string(),
      code: z.string(),
      instance: z.string().optional(),
      requestId: z.string().optional(),
      errors: z
        .array(z.object({ field: z.string(), message: z.string(), code: z.string().optional() }))
        .optional()
        .meta({ description: 'Field-level validation errors' }),
    })
    .meta({ id: 'Problem', description: 'RFC 9457 problem details' }),
);

export interface ProblemContext {
  requestId: string;
  path: string;
}

/** An RFC 9457 problem+json response. */
export function problemResponse(
  status: number,
  code: string,
  detail: string,
  context: ProblemContext,
  extra: { errors?: FieldIssue[]; headers?: Record<string, string>; [key: string]: unknown } = {},
): APIGatewayProxyStructuredResultV2 {
  const { headers, ...rest } = extra;
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': context.requestId, ...headers },
    body: JSON.stringify({
      type: `https://crm.dev/problems/${code.replaceAll('_', '-')}`,
      title: titles[status] ?? 'Error',
      status,
      detail,
      code,
      instance: context.path,
      requestId: context.requestId,
      ...rest,
    }),
  };
}

/** A DomainError as problem+json; `retryAfterSeconds` in its details becomes the Retry-After header. */
export function domainErrorResponse(
  error: DomainError,
  context: ProblemContext,
  headers: Record<string, string> = {},
) {
  const { fields, retryAfterSeconds, ...details } = error.details;
  const retryAfter: Record<string, string> =
    typeof retryAfterSeconds === 'number' ? { 'retry-after': String(retryAfterSeconds) } : {};
  return problemResponse(statusByCode[error.code], error.code, error.message, context, {
    ...details,
    ...(fields ? { errors: fields } : {}),
    headers: { ...retryAfter, ...headers },
  });
}

/** zod issues under a request part (`body`, `query`, `params`, `headers`) as field errors. */
export function zodFieldIssues(part: string, error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const at = [part, ...issue.path.map(String)];
    // A strict object's unknown keys: each named where it is, as the body check names a top-level one.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'Not a field of this request: check its name', code: issue.code }));
    }
    return [{ field: at.join('.'), message: issue.message, code: issue.code }];
  });
}
