import recorded from './openapi-examples.json' with { type: 'json' };

export interface OperationExample {
  /** The body of a request that succeeded. */
  request?: unknown;
  /** Its answer. */
  response?: { status: number; body: unknown };
}

/**
 * One real request and answer per operation, recorded from the contract test's successful calls
 * (`npm run openapi:examples`); the contract test checks each against the document.
 */
export const operationExamples: Record<string, OperationExample | undefined> = recorded;
