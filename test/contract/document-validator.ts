import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export arrives wrapped under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;

export interface ObservedResponse {
  status: number;
  headers: Record<string, string>;
  /** The raw body text. */
  body: string;
}

interface OperationObject {
  operationId: string;
  responses: Record<
    string,
    { headers?: Record<string, { required?: boolean }>; content?: Record<string, unknown> }
  >;
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

  const schemaValidator = (path: string, method: string, status: string, contentType: string) => {
    const ref = `doc#/${pointer('paths', path, method, 'responses', status, 'content', contentType, 'schema')}`;
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
      const declared = operation.responses[String(response.status)];
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
      const validate = schemaValidator(path, method, String(response.status), contentType);
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
