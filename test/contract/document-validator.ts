import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export arrives wrapped under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;

/** Response headers a client reads and acts on (the rest, content-type and transport headers, are HTTP's). */
const contractHeaders = ['etag', 'location', 'idempotent-replayed', 'retry-after', 'www-authenticate', 'allow', 'content-disposition', 'link'];

export interface ObservedResponse {
  status: number;
  headers: Record<string, string>;
  /** The raw body text. */
  body: string;
}

interface ResponseObject {
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, unknown>;
}

interface OperationObject {
  operationId: string;
  /** A response, or a reference to one of `components.responses` (`{ $ref }`). */
  responses: Record<string, ResponseObject & { $ref?: string }>;
}

const pointer = (...tokens: string[]) =>
  tokens.map((token) => encodeURIComponent(token.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/');

/**
 * Checks real responses against the served OpenAPI document with an independent JSON Schema validator
 * (Ajv, draft 2020-12 as OpenAPI 3.1 uses): the status must be declared for the operation, the content
 * type one it declares (or no body where it declares none), every required header present, and the
 * body valid against the declared schema.
 */
export function createDocumentValidator(document: {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { responses?: Record<string, ResponseObject> };
}) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(document as object, 'doc');
  const compiled = new Map<string, ValidateFunction>();
  const byOperationId = new Map<string, { path: string; method: string; operation: OperationObject }>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item))
      byOperationId.set(operation.operationId, { path, method, operation });
  }

  /** The declared response and the JSON pointer tokens to it (a shared one's, when referenced). */
  const declaredResponse = (path: string, method: string, operation: OperationObject, status: string) => {
    const declared = operation.responses[status];
    const shared = declared?.$ref?.match(/^#\/components\/responses\/(.+)$/)?.[1];
    if (shared) return { declared: document.components?.responses?.[shared], at: ['components', 'responses', shared] };
    return { declared, at: ['paths', path, method, 'responses', status] };
  };

  const schemaValidator = (at: string[], contentType: string) => {
    const ref = `doc#/${pointer(...at, 'content', contentType, 'schema')}`;
    let validate = compiled.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      compiled.set(ref, validate);
    }
    return validate;
  };

  return {
    operations: byOperationId,
    /** Every way the response departs from the document; empty when it conforms. */
    check(operationId: string, response: ObservedResponse): string[] {
      const found = byOperationId.get(operationId);
      if (!found) return [`${operationId} is not in the document`];
      const { path, method, operation } = found;
      const { declared, at } = declaredResponse(path, method, operation, String(response.status));
      if (!declared)
        return [
          `status ${response.status} is not declared (declared: ${Object.keys(operation.responses).join(', ')})`,
        ];
      const problems: string[] = [];
      const headers = Object.fromEntries(
        Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      for (const [name, spec] of Object.entries(declared.headers ?? {})) {
        if (spec.required && headers[name.toLowerCase()] === undefined)
          problems.push(`required header ${name} is missing`);
      }
      // The headers a client acts on are part of the contract: one sent must be declared for that status.
      const declaredNames = new Set(Object.keys(declared.headers ?? {}).map((name) => name.toLowerCase()));
      for (const name of contractHeaders) {
        if (headers[name] !== undefined && !declaredNames.has(name)) problems.push(`header ${name} is sent but not declared`);
      }
      const contentTypes = Object.keys(declared.content ?? {});
      if (contentTypes.length === 0) {
        if (response.body !== '')
          problems.push(`a body where none is declared: ${response.body.slice(0, 200)}`);
        return problems;
      }
      const contentType = (headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!contentTypes.includes(contentType)) {
        problems.push(`content type "${contentType}" is not declared (${contentTypes.join(', ')})`);
        return problems;
      }
      // A file (CSV, XLSX, HTML...): its declared content type is the contract; it must not be empty.
      if (!/^application\/([\w.+-]+\+)?json$/.test(contentType)) {
        if (!response.body) problems.push(`an empty ${contentType} body`);
        return problems;
      }
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        problems.push(`the body is not JSON: ${response.body.slice(0, 200)}`);
        return problems;
      }
      const validate = schemaValidator(at, contentType);
      if (!validate(body)) {
        problems.push(
          ...(validate.errors ?? []).map(
            (error) => `body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`,
          ),
        );
      }
      return problems;
    },
  };
}
