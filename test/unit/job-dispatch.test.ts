import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { dispatchJobChange, messageFor, parseJobChange } from '../../domain/jobs/job-dispatch';
import { checkedFiles, endEventOf, progressAt } from '../../domain/jobs/job-record';
import { fakeJobQueue } from '../support/fakes';

const image = (fields: Record<string, unknown> = {}) =>
  marshall({
    __edb_e__: 'job',
    workspaceId: 'ws_1',
    jobId: 'job_1',
    kind: 'export_contacts',
    status: 'queued',
    dispatchSeq: 1,
    input: {},
    files: {},
    ...fields,
  });

describe('job dispatch (the outbox read from the stream)', () => {
  it('sends a new job’s first step to its kind’s queue', async () => {
    const queue = fakeJobQueue();

    const sent = await dispatchJobChange(queue, parseJobChange(image(), undefined));

    expect(sent).toEqual({ workspaceId: 'ws_1', jobId: 'job_1', seq: 1 });
    expect(queue.sent).toEqual([expect.objectContaining({ queue: 'export_contacts', body: sent })]);
  });

  it('sends again only when dispatchSeq moved and the job may still run', () => {
    const change = (before: Record<string, unknown>, after: Record<string, unknown>) =>
      messageFor(parseJobChange(image(after), image(before)));
    // A run continues itself, or a failed job is retried
    expect(change({ status: 'running', dispatchSeq: 1 }, { status: 'running', dispatchSeq: 2 })).toMatchObject({ seq: 2 });
    expect(change({ status: 'failed', dispatchSeq: 4 }, { status: 'queued', dispatchSeq: 5 })).toMatchObject({ seq: 5 });
    // Progress saves, starts and endings leave the step alone
    expect(change({ status: 'running', dispatchSeq: 2 }, { status: 'running', dispatchSeq: 2 })).toBeUndefined();
    expect(change({ status: 'queued', dispatchSeq: 1 }, { status: 'running', dispatchSeq: 1 })).toBeUndefined();
    expect(change({ status: 'running', dispatchSeq: 3 }, { status: 'succeeded', dispatchSeq: 3 })).toBeUndefined();
    expect(change({ status: 'running', dispatchSeq: 3 }, { status: 'canceled', dispatchSeq: 3 })).toBeUndefined();
  });

  it('refuses a record that is not a job', () => {
    expect(() => parseJobChange(undefined, undefined)).toThrow(/NewImage/);
    expect(() => parseJobChange(marshall({ __edb_e__: 'contact', workspaceId: 'ws_1' }), undefined)).toThrow();
  });
});

describe('job progress', () => {
  const started = { rateFrom: { at: '2026-01-15T09:00:00.000Z', processed: 100 }, progress: { processed: 100, total: 1100 } };

  it('gives the rate since the job started running and the time left at it', () => {
    expect(progressAt(started, { processed: 300 }, Date.parse('2026-01-15T09:00:10.000Z'))).toEqual({
      processed: 300,
      total: 1100,
      ratePerSecond: 20,
      estimatedSecondsLeft: 40,
    });
  });

  it('gives no rate before any time or work, and no estimate without a total', () => {
    expect(progressAt(started, { processed: 100 }, Date.parse('2026-01-15T09:00:10.000Z'))).toEqual({ processed: 100, total: 1100 });
    expect(progressAt({ progress: { processed: 0 } }, { processed: 5 }, 0)).toEqual({ processed: 5 });
    expect(
      progressAt({ rateFrom: started.rateFrom, progress: { processed: 100 } }, { processed: 130 }, Date.parse('2026-01-15T09:00:03.000Z')),
    ).toEqual({ processed: 130, ratePerSecond: 10 });
  });
});

describe('job end events', () => {
  it('are the import’s and the export’s own, and job.finished for other kinds', () => {
    expect(endEventOf('import_contacts')).toBe('import.finished');
    expect(endEventOf('export_contacts')).toBe('export.finished');
    expect(endEventOf('deliver_message')).toBe('job.finished');
  });
});

describe('job files', () => {
  it('takes names a file link can address, and refuses paths, blanks and hidden names', () => {
    expect(checkedFiles({ 'contacts.csv': 'exports/ws/jobs/job_1/contacts.csv', 'errors_2.csv': 'k' })).toHaveProperty('errors_2.csv');
    expect(checkedFiles(undefined)).toEqual({});
    for (const name of ['../x.csv', 'a/b.csv', 'my file.csv', '.env', '']) expect(() => checkedFiles({ [name]: 'k' }), name).toThrow();
  });
});
