import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { applyCounterChanges, parseCounterChange } from '../../domain/inbox/unread-totals.service';
import { getCoreDeps } from '../shared/deps';

/**
 * Unread counter changes (the mapping's filter) to their users' totals. The batch is applied as a
 * whole, grouped per user: a failure fails the batch, and its retry skips what was applied (receipts).
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const changes = event.Records.map((record) =>
    parseCounterChange(record.eventID, record.dynamodb?.NewImage, record.dynamodb?.OldImage),
  );
  await applyCounterChanges(getCoreDeps(), changes);
  return { batchItemFailures: [] };
}
