/**
 * A classifier's failure. `retryable`: trying again later may work (throttling, a timeout, the model
 * busy or not ready), so the job's run throws and SQS retries it with backoff; otherwise (access denied,
 * an unknown model, an answer that is not a classification) the job fails at once with `code`.
 */
export class QualifierError extends Error {
  constructor(
    readonly code: 'qualifier_unavailable' | 'qualifier_refused' | 'classification_invalid',
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QualifierError';
  }
}
