import { handler as fitRules } from './fit-rules.handler';
import { handler as jobDispatch } from './job-dispatch.handler';
import { handler as segments } from './segments.handler';
import { streamReaders } from './stream-consumers';
import { createStreamReader, routedConsumers } from './stream-reader';
import { handler as tagUsage } from './tag-usage.handler';
import { handler as unreadTotals } from './unread-totals.handler';

const reader = streamReaders.find((candidate) => candidate.name === 'record-changes')!;

/** The consumers of record changes (contacts, jobs, unread counters), each with its filter patterns. */
export const recordChangesConsumers = routedConsumers(reader, {
  'tag-usage': tagUsage,
  segments,
  'fit-rules': fitRules,
  'unread-totals': unreadTotals,
  'job-dispatch': jobDispatch,
});

/** The `record-changes` reader: one mapping on the stream for the five consumers above. */
export const handler = createStreamReader(reader.name, recordChangesConsumers);
