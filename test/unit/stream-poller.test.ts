import { describe, expect, it } from 'vitest';
import { shardIsReadable, toLambdaRecord } from '../../local/stream-poller';

const arn = 'arn:aws:dynamodb:ddblocal:000000000000:table/crm/stream/2026-01-15T09:00:00.000';

describe('toLambdaRecord', () => {
  it('shapes a GetRecords record as Lambda delivers it: epoch seconds, base64 binaries, source ARN', () => {
    const record = toLambdaRecord(
      {
        eventID: 'e-1',
        eventName: 'MODIFY',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2026-01-15T09:00:01.900Z'),
          Keys: { pk: { S: 'a' }, sk: { S: 'b' } },
          NewImage: {
            pk: { S: 'a' },
            blob: { B: new Uint8Array([1, 2, 3]) },
            nested: { M: { list: { L: [{ N: '1' }, { BS: [new Uint8Array([255])] }, { NULL: true }] } } },
            flag: { BOOL: false },
          },
          OldImage: { pk: { S: 'a' }, tags: { SS: ['x'] } },
          SequenceNumber: '000000000000000000042',
          SizeBytes: 64,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
      arn,
      'eu-west-1',
    );
    expect(record).toEqual({
      eventID: 'e-1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      dynamodb: {
        ApproximateCreationDateTime: 1768467601,
        Keys: { pk: { S: 'a' }, sk: { S: 'b' } },
        NewImage: {
          pk: { S: 'a' },
          blob: { B: 'AQID' },
          nested: { M: { list: { L: [{ N: '1' }, { BS: ['/w=='] }, { NULL: true }] } } },
          flag: { BOOL: false },
        },
        OldImage: { pk: { S: 'a' }, tags: { SS: ['x'] } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 64,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: arn,
    });
  });

  it('leaves out the images a REMOVE does not have, and keeps a TTL deletion’s userIdentity', () => {
    const record = toLambdaRecord(
      {
        eventID: 'e-2',
        eventName: 'REMOVE',
        dynamodb: {
          Keys: { pk: { S: 'a' } },
          OldImage: { pk: { S: 'a' } },
          SequenceNumber: '7',
          SizeBytes: 9,
        },
        userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
      },
      arn,
      'us-east-1',
    );
    expect(record.dynamodb).not.toHaveProperty('NewImage');
    expect(record.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
  });

  it('gives back the empty map the SDK deserialises to `{}` (a contact with no custom fields)', () => {
    const record = toLambdaRecord(
      { eventID: 'e-3', eventName: 'INSERT', dynamodb: { NewImage: { pk: { S: 'a' }, customFields: {} as never, tags: { L: [] } }, SequenceNumber: '8' } },
      arn,
      'us-east-1',
    );
    expect(record.dynamodb!.NewImage).toEqual({ pk: { S: 'a' }, customFields: { M: {} }, tags: { L: [] } });
  });
});

describe('shardIsReadable (lineage)', () => {
  const shards = new Map([
    ['parent', { finished: false }],
    ['done', { finished: true }],
  ]);

  it('reads a child only after its parent is read to its end, or when the parent is gone', () => {
    expect(shardIsReadable({ finished: false, parentShardId: 'parent' }, shards)).toBe(false);
    expect(shardIsReadable({ finished: false, parentShardId: 'done' }, shards)).toBe(true);
    expect(shardIsReadable({ finished: false, parentShardId: 'trimmed-away' }, shards)).toBe(true);
    expect(shardIsReadable({ finished: false }, shards)).toBe(true);
    expect(shardIsReadable({ finished: true }, shards)).toBe(false);
  });
});
