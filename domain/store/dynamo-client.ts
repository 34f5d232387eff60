import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClientOptions {
  /** Set only for DynamoDB Local; on AWS the SDK resolves the regional endpoint. */
  endpoint?: string;
  region?: string;
}

export function createDynamoClient(options: DynamoClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          retryStrategy: dynamoDbLocalRetryStrategy,
        }
      : {}),
  });
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

type RetryStrategyV2 = Extract<NonNullable<DynamoDBClientConfig['retryStrategy']>, { refreshRetryTokenForRetry: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;

/** Attempts in all, and the backoff between them (full jitter, doubling from the base to the cap). */
export const dynamoDbLocalRetry = { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 2_000 };

const retryToken = (retryCount: number): RetryToken => ({ getRetryCount: () => retryCount, getRetryDelay: () => 0 });

/**
 * How a client of DynamoDB Local retries. Under concurrent writes DynamoDB Local answers some with a
 * 500, "This action timed out because it took too long waiting for a lock. This request will succeed
 * in actual DynamoDB API". The SDK's standard strategy retries a 500 twice, and only while its retry
 * quota lasts, which a burst of such answers empties: requests then failed with 500s that AWS would
 * never give. Here every server error, throttle and connection error is retried up to 10 attempts,
 * with no quota; a client error (a failed condition, a cancelled transaction, validation) never is.
 */
export const dynamoDbLocalRetryStrategy: RetryStrategyV2 = {
  acquireInitialRetryToken: async () => retryToken(0),
  refreshRetryTokenForRetry: async (token, error) => {
    const retries = token.getRetryCount() + 1;
    if (error.errorType === 'CLIENT_ERROR' || retries >= dynamoDbLocalRetry.maxAttempts) {
      throw new Error('No retry token available');
    }
    const ceiling = Math.min(dynamoDbLocalRetry.maxDelayMs, dynamoDbLocalRetry.baseDelayMs * 2 ** retries);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
    return retryToken(retries);
  },
  recordSuccess: () => undefined,
};
